import subprocess
import sys

from tests.utils import REPO


def test_simclr_and_moco_v2_on_2_workers_equal_one_process():
    """MultiWorkerMirroredStrategy, 2 worker processes on 127.0.0.1: SimCLR
    and MoCo v2 fit and evaluate losses, final weights and MoCo's queue
    (keys of the whole global batch, global order) equal one process on the
    same global batches (1e-5). The script bounds each worker to 300 s."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "distribute_multi_worker_check.py")],
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    assert "ALL OK" in result.stdout
