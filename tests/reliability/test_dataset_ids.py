"""Ids out of range that arrive in a dataset (issue 25, point 8): `fit`
cannot read a dataset's values before its batches are drawn, so the training
step checks them (`SSLModel.id_inputs`): a CLIP token id or a PIRL index out
of range at step 2 stops `fit` with a `ValueError` naming the input, the
range of the batch's values and the fix, and every variable of the model and
its optimizer equals its value after step 1, guard on or off. Runs on the
backend of `KERAS_BACKEND` (rerun on JAX in CI: `backend_specific`).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests import tiny_methods
from tests.reliability.test_nonfinite import StateByStep
from tests.reliability.test_nonfinite import assert_same_state
from tests.reliability.test_nonfinite import state

BAD_STEP = 2

# name, key, bad value, guard, what the message must say.
CASES = [
    ("clip", "tokens", 25, True,
     r"Training step 2 .* `x\['tokens'\]` must hold token ids .* in \[0, 20\)\. "
     r"Received values in \[1, 25\]\. Tokenize with the vocabulary"),
    ("clip", "tokens", -1, False, r"Received values in \[-1, 19\]"),
    ("pirl", "index", 40, True,
     r"Training step 2 .* `x\['index'\]` must hold dataset indices below `num_items` .* "
     r"in \[0, 32\)\. Received values in \[\d+, 40\]\. .*`num_items` at least"),
]


def dataset(model, name, key, bad):
    """Three batches; the third (step 2) holds `bad` in its last row."""
    parts = [tiny_methods.batch(model, name, seed)[0] for seed in range(BAD_STEP + 1)]
    parts[BAD_STEP][key][-1] = bad
    x = keras.tree.map_structure(lambda *a: np.concatenate(a), *parts)
    return tf.data.Dataset.from_tensor_slices(x).batch(tiny_methods.BATCH)


@pytest.mark.backend_specific
@pytest.mark.parametrize("name, key, bad, guard, match", CASES)
def test_an_id_out_of_range_in_a_dataset_is_refused(name, key, bad, guard, match):
    model = tiny_methods.build(name)
    if not guard:
        # The id check does not depend on the non-finite guard.
        model = type(model).from_config({**model.get_config(), "nonfinite_guard": False})
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
    states = StateByStep()
    with pytest.raises(ValueError, match=match):
        model.fit(dataset(model, name, key, bad), verbose=0, callbacks=[states])
    assert int(model.step.numpy()) == BAD_STEP
    assert_same_state(state(model), states.states[BAD_STEP])
    # The good steps trained, and a good dataset trains on.
    moved = [p for (p, a), (_, b) in zip(states.states[1], states.states[0]) if not np.array_equal(a, b)]
    assert any(v.path in moved for v in model.trainable_variables), moved
    model.fit(dataset(model, name, key, 0), verbose=0)
    assert int(model.step.numpy()) == BAD_STEP + BAD_STEP + 1
