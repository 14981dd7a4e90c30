import subprocess
import sys

from tests.utils import REPO


def test_clip_and_supcon_mirrored_2_replicas_equal_single_device():
    """CLIP (gathered image and text embeddings) and SupCon (gathered views and
    labels): loss, gradients and a fit step on 2 logical CPUs equal one device
    (1e-5). Own process: logical devices are set before TensorFlow starts."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "distribute_supervised_check.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert "ALL OK" in result.stdout
