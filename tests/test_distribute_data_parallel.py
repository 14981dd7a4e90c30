import os
import subprocess
import sys

import pytest

from tests.utils import REPO

pytest.importorskip("jax", reason="the JAX backend is the `jax` extra")


def test_data_parallel_2_devices_equals_single_device():
    """SimCLR, MoCo v2, BYOL, SwAV, DINO under JAX DataParallel on 2 CPU
    devices: losses, weights, queue and center equal one device (own process:
    the device count is set before JAX starts)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "distribute_data_parallel_check.py")],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "ALL OK" in result.stdout
