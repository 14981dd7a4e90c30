import subprocess
import sys

from tests.utils import REPO


def test_simclr_mirrored_2_replicas_equals_single_device():
    """Loss, gradients and a fit step on 2 logical CPUs equal one device (1e-5);
    steps_per_execution > 1 raises. Own process: logical devices must be
    configured before TensorFlow starts."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "distribute_mirrored_check.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert "ALL OK" in result.stdout


def test_momentum_methods_mirrored_2_replicas_equal_single_device():
    """BYOL, MoCo v3 losses and weights, MoCo v2 queue and shuffling BN on 2
    logical CPUs equal one device on the same global batch."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "distribute_momentum_check.py")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert "ALL OK" in result.stdout
