"""TensorFlow and JAX give the same loss history for three steps of every
method (tests/tiny_methods.py), and the same weights and state after each
step: same initial weights, same pre-made inputs, no random op in the step,
each step from the state TensorFlow had there (tests/backend_loss_history.py).
Each backend runs in its own process."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests import tiny_methods
from tests.utils import REPO

pytest.importorskip("jax", reason="the JAX backend is the `jax` extra")


def run(backend, directory):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "backend_loss_history.py"), str(directory)],
        capture_output=True, text=True, timeout=900, env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    with open(directory / f"{backend}.json") as f:
        return json.load(f)


@pytest.mark.slow
def test_tensorflow_and_jax_loss_histories_agree(tmp_path):
    tensorflow = run("tensorflow", tmp_path)["losses"]
    jax_run = run("jax", tmp_path)
    jax = jax_run["losses"]
    assert set(tensorflow) == set(jax) == set(tiny_methods.METHODS)
    # After each step JAX's weights and state equal TensorFlow's (1e-5).
    assert not any(jax_run["mismatches"].values()), jax_run["mismatches"]
    for name in tiny_methods.METHODS:
        assert len(tensorflow[name]) == 3 and np.all(np.isfinite(tensorflow[name])), name
        np.testing.assert_allclose(jax[name], tensorflow[name], rtol=1e-5, atol=1e-5, err_msg=name)
