import keras
import numpy as np
import pytest

import keras_ssl
from tests import reference


@pytest.fixture(scope="module")
def images():
    (x, _), _ = keras_ssl.data.load_sample()
    return x[::50][:48]  # the sample is sorted by class


def patch_encoder():
    # LayerNorm, no BatchNorm: patches of one image must not share statistics.
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same")(inputs)
    x = keras.layers.LayerNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def make_model(**kwargs):
    keras.utils.set_random_seed(1)
    model = keras_ssl.CPC(
        patch_encoder(), input_shape=(32, 32, 3), context_width=32, target_dim=16, **kwargs
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_construction_defaults_and_attributes():
    model = make_model()
    assert (model.patch_size, model.stride, model.grid) == (8, 4, 7)
    assert model.offsets == (1, 2, 3) and model.prediction_scale == 0.1
    assert model.grid_encoder.output_shape == (None, 7, 7, 32)
    assert model.encoder.output_shape == (None, 32)
    assert len(model.prediction_heads) == 3 and model.num_views == 1
    big = keras_ssl.CPC(patch_encoder(), input_shape=(224, 224, 3))
    assert (big.patch_size, big.stride, big.grid) == (56, 28, 7)
    with pytest.raises(ValueError, match="input_shape"):
        keras_ssl.CPC(patch_encoder())
    with pytest.raises(ValueError, match="offsets"):
        make_model(offsets=(7,))
    flatten_dense = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(8)]
    )
    with pytest.raises(ValueError, match="8x8 patches"):
        keras_ssl.CPC(flatten_dense)


def test_context_never_sees_the_rows_it_predicts():
    model = make_model()
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2, 7, 7, 32)).astype("float32")
    context = np.asarray(model.context(z))
    for row in range(1, 7):
        perturbed = z.copy()
        perturbed[:, row:] += rng.normal(size=perturbed[:, row:].shape).astype("float32")
        changed = np.asarray(model.context(perturbed))
        np.testing.assert_allclose(changed[:, :row], context[:, :row], atol=1e-6)
        assert not np.allclose(changed[:, row], context[:, row], atol=1e-4)


def test_loss_equals_reference_on_the_outputs(images):
    model = make_model()
    views = (images[:4].astype("float32"),)
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    targets = np.asarray(outputs["targets"])
    expected = np.mean(
        [reference.cpc(np.asarray(p), targets, k) for k, p in zip((1, 2, 3), outputs["predictions"])]
    )
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    # predictions come from the context: 0.1 * head_k(c)[:, :G - k]
    head = np.asarray(model.prediction_heads[1](outputs["context"]))
    np.testing.assert_allclose(np.asarray(outputs["predictions"][1]), 0.1 * head[:, :5], atol=1e-6)


def test_fit_on_real_images_lowers_the_loss(images):
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    losses = model.fit(images[:32], batch_size=16, epochs=5, verbose=0).history["loss"]
    # from chance, ln(16 * 49) = 6.66, downwards
    assert losses[-1] < losses[0] - 0.1 and losses[0] < np.log(16 * 49) + 0.1, losses


def test_features_are_the_mean_of_the_patch_grid(images):
    model = make_model()
    model.run_eagerly = True
    expected = model.predict(images[:8], verbose=0)
    grid = np.asarray(model.grid_encoder(images[:8].astype("float32")))
    np.testing.assert_allclose(expected, grid.mean(axis=(1, 2)), atol=1e-5)
