"""Every method trains under `mixed_bfloat16` with a float32 loss and float32
state (queues, memory bank, center, momentum, counters stay as built)."""

import keras
import numpy as np
import pytest

from tests import tiny_methods


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", list(tiny_methods.METHODS))
def test_trains_with_float32_loss_and_state(name, mixed_bfloat16):
    model = tiny_methods.build(name)
    assert model.encoder.compute_dtype == "bfloat16", model.encoder.compute_dtype
    x, y = tiny_methods.batch(model, name)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"]), logs
    loss = model.compute_loss(x, y, model(x, training=True), training=False)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32", loss.dtype
    for variable in model.weights:  # trainable and non-trainable state
        assert variable.dtype in ("float32", "int32", "int64"), (variable.path, variable.dtype)
    assert int(model.step) == 1
