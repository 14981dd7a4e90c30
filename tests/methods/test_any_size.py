"""Methods that run the backbone on several input sizes (DINO, SwAV, PIRL,
CPC) train a fixed-size backbone rebuilt on an any-size input, with the
user's own variables; a backbone that cannot be rebuilt gets a clear error."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from keras_ssl.methods.any_size import with_any_input_size

SIZE = 32


@pytest.fixture(scope="module")
def images():
    (x, _), _ = keras_ssl.data.load_sample()
    return x[::100][:8]  # the sample is sorted by class


def batches(images):
    return tf.data.Dataset.from_tensor_slices(images).batch(4)


def fixed_backbone():
    return keras_ssl.backbones.small_cnn((SIZE, SIZE, 3))


def flatten_dense():
    # A layer that needs the size it was built for: cannot take any size.
    return keras.Sequential(
        [keras.Input((SIZE, SIZE, 3)), keras.layers.Flatten(), keras.layers.Dense(8)]
    )


def variable_ids(weights):
    return {id(v) for v in weights}


def check_trains_the_users_backbone(model, backbone, data):
    """`model.backbone` is the user's network, the encoder runs its very
    variables, and two steps of `fit` move them."""
    assert model.backbone is backbone and model.needs_any_size
    assert model.image_shape == (SIZE, SIZE, 3)  # the view size: the backbone's
    assert variable_ids(backbone.weights) <= variable_ids(model.encoder.weights)
    before = [np.asarray(w) for w in backbone.trainable_weights]
    model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)  # XLA compile: slow
    history = model.fit(data, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all() and int(model.step) == 2
    moved = [not np.allclose(b, np.asarray(w)) for b, w in zip(before, backbone.trainable_weights)]
    assert all(moved)


def test_rebuild_shares_the_layers_and_takes_any_size():
    backbone = fixed_backbone()
    rebuilt = with_any_input_size(backbone)
    assert rebuilt.input_shape == (None, None, None, 3)
    assert [id(v) for v in rebuilt.weights] == [id(v) for v in backbone.weights]
    x = np.random.default_rng(0).uniform(size=(2, SIZE, SIZE, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(backbone(x)), rtol=1e-6)
    assert tuple(rebuilt(x[:, :16, :16]).shape) == (2, 256)
    any_size = keras_ssl.backbones.small_cnn((None, None, 3))
    assert with_any_input_size(any_size) is any_size
    sequential = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.GlobalMaxPooling2D()]
    )
    assert tuple(with_any_input_size(sequential)(x).shape) == (2, 4)


def test_dino_trains_a_fixed_size_backbone_with_no_other_argument(images):
    keras.utils.set_random_seed(1)
    backbone = fixed_backbone()
    model = keras_ssl.DINO(backbone)
    assert (16, 16) in model.augmenter.output_sizes  # local crops: not the backbone's size
    # Pre-made views: tracing the ten crops' augmentation would dominate the test.
    views = tuple(np.asarray(v) for v in model.augmenter(images, training=True))
    data = tf.data.Dataset.from_tensor_slices(views).batch(4).map(lambda *v: (v,))
    check_trains_the_users_backbone(model, backbone, data)
    # The teacher is a copy, not the user's variables.
    assert not variable_ids(backbone.weights) & variable_ids(model.target_encoder.weights)


def test_pirl_trains_a_fixed_size_backbone_with_no_other_argument(images):
    keras.utils.set_random_seed(1)
    backbone = fixed_backbone()
    model = keras_ssl.PIRL(backbone, num_items=len(images))
    assert model.jigsaw.patch_size == 24
    data = keras_ssl.data.with_index(images).batch(4)
    check_trains_the_users_backbone(model, backbone, data)


def test_cpc_trains_a_fixed_size_backbone_with_no_other_argument_and_saves(images, tmp_path):
    keras.utils.set_random_seed(1)
    backbone = fixed_backbone()
    model = keras_ssl.CPC(backbone)
    assert (model.patch_size, model.stride, model.grid) == (8, 4, 7)
    check_trains_the_users_backbone(model, backbone, batches(images))
    path = str(tmp_path / "cpc.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.backbone.input_shape == (None, SIZE, SIZE, 3)  # as the user built it
    assert variable_ids(loaded.backbone.weights) <= variable_ids(loaded.encoder.weights)
    assert int(loaded.step) == 2
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=b.path)
    x = images.astype("float32")
    np.testing.assert_allclose(
        np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-5
    )


def test_a_backbone_that_cannot_take_other_sizes_gets_the_clear_error():
    crops = keras_ssl.augmentation.swav_multicrop(SIZE, num_local=2, local_size=16)
    with pytest.raises(ValueError, match="(?s)fails on 16x16 crops.*Flatten"):
        keras_ssl.SwAV(flatten_dense(), augmenter=crops)
    with pytest.raises(ValueError, match="(?s)fails on 16x16 crops.*Flatten"):
        keras_ssl.DINO(flatten_dense(), augmenter=crops)
    with pytest.raises(ValueError, match="(?s)24x24 jigsaw patches.*Flatten"):
        keras_ssl.PIRL(flatten_dense(), num_items=8)
    with pytest.raises(ValueError, match="(?s)8x8 patches.*Flatten"):
        keras_ssl.CPC(flatten_dense())
    with pytest.raises(ValueError, match="input_shape"):
        keras_ssl.CPC(keras_ssl.backbones.small_cnn((None, None, 3)))

    class Subclassed(keras.Model):
        def call(self, images):
            return keras.ops.mean(images, axis=(1, 2))

    with pytest.raises(ValueError, match="Could not rebuild .*functional or Sequential"):
        with_any_input_size(Subclassed())
