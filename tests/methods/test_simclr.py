import keras
import numpy as np
import pytest

import keras_ssl
from tests import reference
from tests.utils import is_zero
from tests.utils import variable_gradients


@pytest.fixture(scope="module")
def images():
    (x, y), _ = keras_ssl.data.load_sample()
    return x[:64], y[:64]


def make_model(size=32, **kwargs):
    keras.utils.set_random_seed(1)
    model = keras_ssl.SimCLR(keras_ssl.backbones.small_cnn((size, size, 3)), **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, weight_decay=5e-4))
    return model


def test_construction_defaults_and_attributes():
    model = make_model()
    assert model.temperature == 0.5  # CIFAR setting for <= 64 px
    assert model.projection_dims == (256, 128)
    assert model.num_views == 2
    assert int(model.step) == 0
    assert model.projector.output_shape == (None, 128)
    assert model.encoder.output_shape == (None, 256)
    assert model.count_params() > 0  # built before fit
    big = keras_ssl.SimCLR(keras_ssl.backbones.small_cnn((96, 96, 3)))
    assert big.temperature == 0.1  # paper's ImageNet setting above 64 px


def test_inference_returns_encoder_features(images):
    model = make_model()
    x = images[0][:4]
    features = model.predict(x, verbose=0)
    assert features.shape == (4, 256)
    np.testing.assert_allclose(
        np.asarray(model(x.astype("float32"))), features, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("objective", ["nt_xent", "dcl", "dclw"])
def test_training_loss_equals_reference_on_projections(objective):
    model = make_model(objective=objective)
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (6, 32, 32, 3)).astype("float32") for _ in range(2))
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    z1, z2 = (np.asarray(z) for z in outputs["projections"])
    expected = {
        "nt_xent": lambda: reference.nt_xent(z1, z2, 0.5),
        "dcl": lambda: reference.dcl(z1, z2, 0.5),
        "dclw": lambda: reference.dcl(z1, z2, 0.5, sigma=0.5),
    }[objective]()
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert keras_ssl.SimCLR.from_config(model.get_config()).objective == objective
    assert int(model.step) == 1
    # evaluate-mode loss writes no state
    model.compute_loss(x=views, y_pred=model(views), training=False)
    assert int(model.step) == 1


def test_fit_on_real_images_lowers_the_loss(images):
    import tensorflow as tf

    x, _ = images
    model = make_model()
    views = tuple(np.asarray(v) for v in model.augmenter(x[:32], training=True))
    ds = tf.data.Dataset.from_tensors((views,))  # pre-made views, DESIGN's form
    before = model.evaluate(ds, verbose=0)
    losses = model.fit(ds.repeat(10), epochs=3, verbose=0).history["loss"]
    after = model.evaluate(ds, verbose=0)
    assert losses[-1] < losses[0] and after < before - 0.1, (before, losses, after)
    assert int(model.step) == 30


@pytest.mark.backend_specific
def test_fit_with_augmentation_and_online_probe(images):
    x, y = images
    model = make_model(num_classes=10)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert set(history.history) >= {"loss", "probe_loss", "probe_accuracy"}
    assert int(model.step) == 4
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    assert 0.0 <= logs["probe_accuracy"] <= 1.0
    assert int(model.step) == 4  # evaluate writes no state


def test_probe_never_changes_the_backbone():
    model = make_model(num_classes=10)
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32") for _ in range(2))

    def probe_only():
        outputs = model(views, training=True)
        return model._probe_loss(outputs["features"][0], np.array([0, 1, 2, -1]))

    grads = variable_gradients(probe_only, model.trainable_weights)
    for weight, grad in zip(model.trainable_weights, grads):
        assert is_zero(grad) != ("probe" in weight.path), weight.path


def test_a_batch_of_one_raises_and_writes_no_state():
    # Bad ranks, channels and dtypes: tests/methods/test_method_contract.py.
    model = make_model()
    weights = [np.asarray(w) for w in model.weights]
    with pytest.raises(ValueError, match="at least 2"):
        model.fit(np.zeros((1, 32, 32, 3), "uint8"), epochs=1, verbose=0)
    assert int(model.step) == 0
    for before, after in zip(weights, model.weights):
        np.testing.assert_array_equal(before, np.asarray(after))


def test_labels_without_num_classes_raise(images):
    x, y = images
    model = make_model()
    with pytest.raises(ValueError, match="num_classes"):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    with pytest.raises(ValueError, match="num_classes"):
        model.fit(ds, epochs=1, verbose=0)
    model.fit(x[:16], batch_size=16, epochs=1, verbose=0)
    assert int(model.step) == 1


def test_crop_larger_than_images_and_bad_arguments_raise(images):
    model = make_model(size=48)
    with pytest.raises(ValueError, match="crop size 48x48 is larger"):
        model.fit(images[0], batch_size=16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="temperature"):
        make_model(temperature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        make_model(temperature=-1.0)
    with pytest.raises(ValueError, match="preprocessing"):
        make_model(preprocessing="mnist")
    with pytest.raises(ValueError, match="input_shape"):
        keras_ssl.SimCLR(keras_ssl.backbones.small_cnn((None, None, 3)))


def test_keras_applications_backbone(images):
    backbone = keras.applications.MobileNetV2(
        input_shape=(32, 32, 3), include_top=False, pooling="avg", weights=None, alpha=0.35
    )
    model = keras_ssl.SimCLR(backbone, preprocessing=keras.layers.Rescaling(1 / 127.5, -1))
    model.compile(optimizer="sgd")
    history = model.fit(images[0][:16], batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(images[0][:2], verbose=0).shape == (2, backbone.output_shape[-1])


def test_backbone_of_any_size_needs_input_shape_for_the_default_augmenter():
    backbone = keras_ssl.backbones.small_cnn((None, None, 3))
    with pytest.raises(ValueError, match="needs the view size"):
        keras_ssl.SimCLR(backbone)
    assert keras_ssl.SimCLR(backbone, input_shape=(32, 32, 3)).num_views == 2


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="objective='info_nce'"):
        keras_ssl.SimCLR(keras_ssl.backbones.small_cnn((32, 32, 3)), objective="info_nce")
