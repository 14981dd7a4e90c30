import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from keras_ssl import augmentation
from tests import reference


@pytest.fixture(scope="module")
def images():
    (x, _), _ = keras_ssl.data.load_sample()
    return x[::50][:64]  # the sample is sorted by class


def small_augmenter():
    # 16 px image views and 9 patches of 8 px: fast on a CPU.
    return augmentation.ViewAugmenter(
        [
            [augmentation.RandomResizedCrop(16, 16, seed=0), augmentation.RandomFlip(seed=1)],
            [augmentation.Jigsaw(patch_size=8, cell_size=10, seed=2)],
        ]
    )


def make_model(**kwargs):
    keras.utils.set_random_seed(1)
    kwargs.setdefault("num_items", 2048)
    kwargs.setdefault("num_negatives", 64)
    model = keras_ssl.PIRL(
        keras_ssl.backbones.small_cnn((None, None, 3)),
        input_shape=(16, 16, 3),
        augmenter=small_augmenter(),
        **kwargs,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def indexed(x, batch_size=16):
    return keras_ssl.data.with_index(x).batch(batch_size)


def test_construction_defaults_and_attributes():
    model = keras_ssl.PIRL(
        keras_ssl.backbones.small_cnn((None, None, 3)), num_items=100, input_shape=(32, 32, 3)
    )
    assert (model.temperature, model.jigsaw_weight, model.objective) == (0.07, 0.5, "nce")
    assert model.num_negatives == 4096 and model.embedding_dim == 128
    assert model.jigsaw.patch_size == 24 and model.jigsaw.cell_size == 32
    assert model.memory_bank.bank.shape == (100, 128) and float(model.normalizer) == 0.0
    assert model.jigsaw_head.input_shape == (None, 9 * 128)
    flatten_dense = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(8)]
    )
    with pytest.raises(ValueError, match="24x24 jigsaw patches"):
        keras_ssl.PIRL(flatten_dense, num_items=100)
    with pytest.raises(ValueError, match="objective"):
        make_model(objective="triplet")


def test_loss_equals_reference_then_only_the_batch_rows_move(images):
    model = make_model(num_items=64, num_negatives=8)
    x = {"images": images[:6], "index": np.array([3, 10, 11, 40, 41, 63], "int32")}
    bank = np.asarray(model.memory_bank.bank)
    sampler = np.asarray(model.memory_bank.sampler.state)
    outputs = model(x, training=True)
    loss = model.compute_loss(x=x, y_pred=outputs, training=True)
    # The same draw of negatives from a copy of the sampler's state:
    probe = keras_ssl.layers.MemoryBank(64, 128)
    probe.sampler.state.assign(sampler)
    negatives = bank[np.asarray(probe.sample(8))]
    f = np.asarray(outputs["image_embeddings"])
    g = np.asarray(outputs["jigsaw_embeddings"])
    positives = bank[x["index"]]
    z = reference.nce_normalizer(f, positives, negatives, 64, 0.07)
    expected = 0.5 * reference.pirl_nce(g, positives, negatives, 64, z, 0.07) + 0.5 * (
        reference.pirl_nce(f, positives, negatives, 64, z, 0.07)
    )
    assert float(loss) == pytest.approx(expected, rel=1e-4)
    assert float(model.normalizer) == pytest.approx(z, rel=1e-5)
    after = np.asarray(model.memory_bank.bank)
    np.testing.assert_allclose(
        after[x["index"]], reference.l2n(0.5 * positives + 0.5 * f), atol=1e-6
    )
    others = np.setdiff1d(np.arange(64), x["index"])
    np.testing.assert_array_equal(after[others], bank[others])
    # evaluate writes no state
    sampler = np.asarray(model.memory_bank.sampler.state)
    model.compute_loss(x=x, y_pred=None, training=False)  # 32 px: no inference pass
    np.testing.assert_array_equal(np.asarray(model.memory_bank.bank), after)
    np.testing.assert_array_equal(np.asarray(model.memory_bank.sampler.state), sampler)
    assert int(model.step) == 1


def test_data_without_index_raises_clearly(images):
    model = make_model()
    with pytest.raises(ValueError, match="with_index"):
        model.fit(images, batch_size=16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="with_index"):
        model.fit(tf.data.Dataset.from_tensor_slices(images).batch(16), epochs=1, verbose=0)
    assert int(model.step) == 0
    model.fit(indexed(images[:16]), epochs=1, verbose=0)
    assert int(model.step) == 1


@pytest.mark.parametrize("objective", ["nce", "info_nce"])
def test_fit_on_real_images_lowers_the_loss(images, objective):
    model = make_model(objective=objective)
    history = model.fit(indexed(images[:32]).repeat(5), epochs=2, verbose=0).history["loss"]
    assert history[-1] < history[0], history


def test_a_compiled_loss_leaves_the_objective_alone(images):
    # `objective` was `loss`, which Keras's compile overwrote with the
    # compiled loss: PIRL then ran its InfoNCE branch and saved "mse".
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(indexed(images[:16]), epochs=1, verbose=0)
    assert float(model.normalizer) > 0  # only the NCE objective sets it
    config = model.get_config()
    assert config["objective"] == "nce" and "loss" not in config

