import subprocess
import sys

from tests.utils import REPO


def test_guard_undoes_a_refused_step_on_every_replica_under_mirrored():
    """A NaN pixel (SimCLR, MoCo v2, BYOL, DINO, PIRL) or a CLIP token id out
    of range in one replica's share stops `fit` at that step, and every
    variable on both replicas equals its value before it. Own process:
    logical devices must be configured before TensorFlow starts."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "distribute_guard_check.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert "ALL OK" in result.stdout
