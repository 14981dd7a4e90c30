import keras
import numpy as np
import pytest

from keras_ssl.layers import FeatureQueue


def unit_rows(rng, n, d):
    x = rng.normal(size=(n, d)).astype("float32")
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_initial_rows_are_unit_norm_float32_non_trainable():
    queue = FeatureQueue(16, 4)
    keys = np.asarray(queue.keys)
    assert keys.shape == (16, 4) and keys.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(keys, axis=1), 1.0, rtol=1e-6)
    assert int(queue.pointer) == 0
    assert not queue.trainable_weights and len(queue.non_trainable_weights) == 2
    # State variables (distribute.add_state_variable): the first replica's
    # value, saved under the names models were saved with.
    assert [(v.path, v.aggregation, v.dtype) for v in FeatureQueue(4, 2, name="q").variables] == [
        ("q/keys", "only_first_replica", "float32"),
        ("q/pointer", "only_first_replica", "int32"),
    ]


def test_holds_the_last_keys_in_fifo_order_and_wraps():
    rng = np.random.default_rng(0)
    queue = FeatureQueue(12, 3)
    initial = np.asarray(queue.keys).copy()
    batches = [unit_rows(rng, 4, 3) for _ in range(5)]
    expected = initial.copy()
    pointer = 0
    for n, batch in enumerate(batches, start=1):
        queue.enqueue(batch)
        expected[(pointer + np.arange(4)) % 12] = batch
        pointer = (pointer + 4) % 12
        assert int(queue.pointer) == pointer
        np.testing.assert_allclose(np.asarray(queue.keys), expected, atol=1e-7)
    # After 5 batches of 4 in a queue of 12: rows 8..11 hold batch 3 (wrap at 12).
    np.testing.assert_allclose(np.asarray(queue.keys)[8:], batches[2], atol=1e-7)
    np.testing.assert_allclose(np.asarray(queue.keys)[:4], batches[3], atol=1e-7)


def test_short_batch_wraps_modulo_size_and_keys_are_normalized():
    queue = FeatureQueue(8, 2)
    queue.pointer.assign(6)
    queue.enqueue(np.array([[3.0, 4.0], [0.0, 2.0], [5.0, 0.0]], "float32"))
    keys = np.asarray(queue.keys)
    np.testing.assert_allclose(keys[6], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(keys[7], [0.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(keys[0], [1.0, 0.0], rtol=1e-6)
    assert int(queue.pointer) == 1


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="size"):
        FeatureQueue(0, 4)
    with pytest.raises(ValueError, match="dim"):
        FeatureQueue(8, 2.5)
    queue = FeatureQueue(4, 2)
    with pytest.raises(ValueError, match="at least the global batch"):
        queue.enqueue(np.ones((5, 2), "float32"))
    with pytest.raises(ValueError, match="width 2"):
        queue.enqueue(np.ones((2, 3), "float32"))
    assert int(queue.pointer) == 0


def test_float32_under_mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        queue = FeatureQueue(8, 4)
        queue.enqueue(keras.ops.ones((4, 4), dtype="bfloat16"))
        assert queue.keys.dtype == "float32"
        assert keras.ops.convert_to_tensor(queue(None)).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
