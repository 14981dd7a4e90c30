import subprocess
import sys

from tests.utils import REPO


def test_masked_image_modeling_mirrored_2_replicas_equal_single_device():
    """MAE and I-JEPA losses and weights (EMA target included) on 2 logical
    CPUs equal one device on the same global batch."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "distribute_masked_check.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert "ALL OK" in result.stdout
