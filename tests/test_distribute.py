"""Every method on 2 devices equals one device on the same global batch.

Each check is a script of tests/distribute/, run in its own process
(`python -m tests.distribute.<name>` from the repository root: logical
devices and the JAX device count are fixed before the backend starts); it
prints ALL OK and exits non-zero on a mismatch.
"""

import os
import subprocess
import sys

import pytest

from tests.utils import REPO

# name: (what it checks, time limit in seconds)
CHECKS = {
    "mirrored": (
        "SimCLR under MirroredStrategy: loss, gradients and a fit step equal one "
        "device (1e-5); steps_per_execution > 1 raises",
        600,
    ),
    "momentum": (
        "BYOL, MoCo v3, DINO losses and weights (center included); MoCo v2's queue "
        "gets the global batch's keys in order, shuffling BN gives one device's keys",
        900,
    ),
    "masked": (
        "MAE and I-JEPA losses and weights (EMA target included) after two fit steps",
        600,
    ),
    "redundancy": (
        "Barlow Twins, VICReg, SwAV: Sinkhorn codes, losses, gradients and a fit "
        "step (SwAV's queue included)",
        600,
    ),
    "supervised": (
        "CLIP (gathered image and text embeddings) and SupCon (gathered views and "
        "labels): loss, gradients and a fit step",
        600,
    ),
    "guard": (
        "the non-finite guard: a NaN pixel (SimCLR, MoCo v2, BYOL, DINO, PIRL) or a CLIP "
        "token id out of range in one replica's share stops fit at that step, and every "
        "variable on both replicas equals its value before it",
        600,
    ),
    "multi_worker": (
        "MultiWorkerMirroredStrategy, 2 worker processes on 127.0.0.1: SimCLR and "
        "MoCo v2 fit and evaluate losses, weights, MoCo's queue in global order "
        "(each worker bounded to 300 s)",
        420,
    ),
    "data_parallel": (
        "JAX DataParallel on 2 CPU devices: SimCLR, MoCo v2, BYOL, SwAV, DINO "
        "losses, weights, queue and center",
        600,
    ),
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_two_devices_equal_one_device(name):
    if name == "data_parallel":
        pytest.importorskip("jax", reason="the JAX backend is the `jax` extra")
    what, timeout = CHECKS[name]
    result = subprocess.run(
        [sys.executable, "-m", f"tests.distribute.{name}"],
        cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout[-6000:] + result.stderr[-4000:]
    assert result.returncode == 0, f"{what}\n{output}"
    assert "ALL OK" in result.stdout, f"{what}\n{output}"
