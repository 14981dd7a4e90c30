import keras
import numpy as np
import pytest

from keras_ssl import layers
from tests import reference


def test_initial_rows_are_unit_norm_and_float32():
    bank = layers.MemoryBank(50, 8)
    assert bank.bank.dtype == "float32" and not bank.bank.trainable
    np.testing.assert_allclose(np.linalg.norm(bank.bank, axis=1), 1.0, rtol=1e-5)


def test_update_changes_only_the_batch_rows_by_the_momentum_rule():
    bank = layers.MemoryBank(20, 4, momentum=0.5)
    before = np.asarray(bank.bank)
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(3, 4)).astype("float32")
    indices = np.array([2, 7, 19])
    bank.update(indices, embeddings)
    after = np.asarray(bank.bank)
    expected = reference.l2n(0.5 * before[indices] + 0.5 * reference.l2n(embeddings))
    np.testing.assert_allclose(after[indices], expected, atol=1e-6)
    untouched = np.setdiff1d(np.arange(20), indices)
    np.testing.assert_array_equal(after[untouched], before[untouched])
    np.testing.assert_allclose(np.asarray(bank.gather(indices)), expected, atol=1e-6)


def test_sample_is_uniform_in_range():
    bank = layers.MemoryBank(10, 2, seed=0)
    draws = np.concatenate([np.asarray(bank.sample(1000)) for _ in range(5)])
    assert draws.min() == 0 and draws.max() == 9
    assert np.all(np.abs(np.bincount(draws) / len(draws) - 0.1) < 0.02)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="num_items"):
        layers.MemoryBank(0, 4)
    with pytest.raises(ValueError, match="momentum"):
        layers.MemoryBank(4, 4, momentum=1.0)
    with pytest.raises(ValueError, match="width 4"):
        layers.MemoryBank(4, 4).update(np.array([0]), np.zeros((1, 3), "float32"))


def test_config_round_trip():
    bank = layers.MemoryBank(6, 3, momentum=0.3, seed=2)
    clone = layers.MemoryBank.from_config(bank.get_config())
    assert (clone.num_items, clone.dim, clone.momentum, clone.seed) == (6, 3, 0.3, 2)
    assert isinstance(keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(bank)), layers.MemoryBank)
