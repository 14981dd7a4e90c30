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


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((8, 32, 32), "uint8"), "rank 3"),
        (np.zeros((8, 32, 32, 1), "uint8"), "3 channels"),
        (np.zeros((8, 32, 32, 3), "int64"), "uint8 or float"),
        (np.zeros((1, 32, 32, 3), "uint8"), "at least 2"),
    ],
)
def test_bad_input_raises_and_leaves_the_model_usable(images, bad, message):
    model = make_model()
    weights = [np.asarray(w) for w in model.weights]
    with pytest.raises(ValueError, match=message):
        model.fit(bad, epochs=1, verbose=0)
    assert int(model.step) == 0
    for before, after in zip(weights, model.weights):
        np.testing.assert_array_equal(before, np.asarray(after))
    history = model.fit(images[0][:16], batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and int(model.step) == 1


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


@pytest.mark.backend_specific
def test_save_load_resumes_with_the_same_next_step_loss(images, tmp_path):
    x, _ = images
    model = make_model(num_classes=10)
    model.fit(x[:32], images[1][:32], batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "simclr.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, keras_ssl.SimCLR)
    assert int(loaded.step) == int(model.step) == 2
    assert int(loaded.optimizer.iterations) == 2
    batch = x[32:48], images[1][32:48]
    loss_loaded = loaded.train_on_batch(*batch, return_dict=True)["loss"]
    loss_original = model.train_on_batch(*batch, return_dict=True)["loss"]
    assert loss_loaded == pytest.approx(loss_original, rel=1e-5)
    for w1, w2 in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(np.asarray(w1), np.asarray(w2), atol=1e-6, err_msg=w1.path)


@pytest.mark.backend_specific
def test_export_round_trip(images, tmp_path):
    import tensorflow as tf

    model = make_model()
    model.fit(images[0][:16], batch_size=16, epochs=1, verbose=0)
    x = images[0][:8]
    expected = model.predict(x, verbose=0)
    path = str(tmp_path / "encoder")
    model.export_encoder(path)
    reloaded = tf.saved_model.load(path)
    np.testing.assert_allclose(
        reloaded.serve(tf.constant(x, tf.float32)).numpy(), expected, atol=1e-5
    )
    encoder = keras_ssl.load_encoder(path)
    np.testing.assert_allclose(encoder.predict(x.astype("float32"), verbose=0), expected, atol=1e-5)
    if keras.backend.backend() == "tensorflow":  # a Keras layer only on TensorFlow
        classifier = keras.Sequential([encoder, keras.layers.Dense(10)])
        assert classifier(x.astype("float32")).shape == (8, 10)
    else:
        assert isinstance(encoder, keras_ssl.methods.export.ExportedEncoder)


@pytest.mark.backend_specific
def test_steps_per_execution_gives_the_same_state(images):
    x = images[0][:64]
    states = []
    for steps in (1, 4):
        model = make_model()
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), steps_per_execution=steps)
        model.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False)
        states.append([np.asarray(w) for w in model.weights])
    for a, b in zip(*states):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_backbone_of_any_size_needs_input_shape_for_the_default_augmenter():
    backbone = keras_ssl.backbones.small_cnn((None, None, 3))
    with pytest.raises(ValueError, match="needs the view size"):
        keras_ssl.SimCLR(backbone)
    assert keras_ssl.SimCLR(backbone, input_shape=(32, 32, 3)).num_views == 2


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="objective='info_nce'"):
        keras_ssl.SimCLR(keras_ssl.backbones.small_cnn((32, 32, 3)), objective="info_nce")
