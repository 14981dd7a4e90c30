import keras
import numpy as np
import pytest

import keras_ssl
from tests import reference
from tests.utils import variable_gradients
from tests.methods import checks


@pytest.fixture(scope="module")
def images():
    (x, _), _ = keras_ssl.data.load_sample()
    return x[:64]


def make_model(size=16, **kwargs):
    keras.utils.set_random_seed(1)
    kwargs.setdefault("projection_dims", (64, 64))
    model = keras_ssl.SimSiam(keras_ssl.backbones.small_cnn((size, size, 3)), **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, weight_decay=5e-4))
    return model


def test_construction_defaults_and_attributes():
    model = keras_ssl.SimSiam(keras_ssl.backbones.small_cnn((32, 32, 3)))
    assert model.projection_dims == (2048, 2048)  # CIFAR: 2 layers
    assert model.prediction_dims == (512, 2048)  # bottleneck
    assert model.fix_predictor_lr and model.num_views == 2
    last_bn = model.projector.layers[-1]
    assert isinstance(last_bn, keras.layers.BatchNormalization)
    assert not last_bn.center and not last_bn.scale  # BN without affine
    assert model.predictor.output_shape == (None, 2048)
    assert not isinstance(model.predictor.layers[-1], keras.layers.BatchNormalization)
    assert model.count_params() > 0 and int(model.step) == 0
    big = keras_ssl.SimSiam(keras_ssl.backbones.small_cnn((96, 96, 3)), prediction_dims=(8, 2048))
    assert big.projection_dims == (2048, 2048, 2048)
    with pytest.raises(ValueError, match="prediction_dims"):
        make_model(prediction_dims=(16, 32))


def test_loss_equals_reference_and_logs_z_std():
    model = make_model()
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (8, 16, 16, 3)).astype("float32") for _ in range(2))
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    p1, p2 = (np.asarray(p) for p in outputs["predictions"])
    z1, z2 = (np.asarray(z) for z in outputs["projections"])
    assert float(loss) == pytest.approx(reference.simsiam(p1, p2, z1, z2), rel=1e-5)
    expected_std = np.mean(np.std(reference.l2n(z1), axis=0))
    assert float(model.z_std.result()) == pytest.approx(expected_std, rel=1e-4)
    assert int(model.step) == 1


def test_fixed_predictor_lr_scales_only_the_predictor_gradients():
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (8, 16, 16, 3)).astype("float32") for _ in range(2))
    grads = {}
    for fixed in (False, True):
        model = make_model(fix_predictor_lr=fixed)
        # lr(0) = 0.1, lr(step 1) = 0.05: the predictor's gradient doubles.
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay([0], [0.1, 0.05])
        model.compile(optimizer=keras.optimizers.SGD(schedule))
        model.step.assign(1)
        def loss():
            outputs = model(views, training=True)
            return model.compute_loss(x=views, y_pred=outputs, training=True)

        paths = [w.path for w in model.trainable_weights]
        grads[fixed] = variable_gradients(loss, model.trainable_weights)
    for path, g, g_fixed in zip(paths, grads[False], grads[True]):
        factor = 2.0 if path.startswith("predictor") else 1.0
        np.testing.assert_allclose(g_fixed, factor * np.asarray(g), rtol=1e-4, atol=1e-6, err_msg=path)


def test_fit_on_real_images_lowers_the_loss(images):
    model = make_model()
    checks.check_fit_lowers_the_loss(model, images[:32], margin=0.05, evaluate=False)
