import subprocess
import sys

from tests.utils import REPO


def test_barlow_vicreg_swav_mirrored_2_replicas_equal_single_device():
    """Sinkhorn codes, losses, gradients and a fit step (SwAV's queue included)
    on 2 logical CPUs equal one device on the same global batch. Own process:
    logical devices must be configured before TensorFlow starts."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "distribute_redundancy_check.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert "ALL OK" in result.stdout
