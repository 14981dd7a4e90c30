import keras
import numpy as np
import pytest

import keras_ssl
from tests import reference
from tests.methods import checks


@pytest.fixture(scope="module")
def images():
    (x, _), _ = keras_ssl.data.load_sample()
    return x[:64]


def make_model(size=16, **kwargs):
    keras.utils.set_random_seed(1)
    kwargs.setdefault("projection_dims", (64, 64, 64))
    model = keras_ssl.BarlowTwins(keras_ssl.backbones.small_cnn((size, size, 3)), **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, weight_decay=5e-4))
    return model


def test_construction_defaults_and_attributes():
    model = keras_ssl.BarlowTwins(keras_ssl.backbones.small_cnn((32, 32, 3)))
    assert model.projection_dims == (2048, 2048, 2048)  # CIFAR
    assert model.lambda_ == 0.0051 and model.num_views == 2
    last = model.projector.layers[-1]
    assert isinstance(last, keras.layers.Dense) and not last.use_bias
    assert model.count_params() > 0 and int(model.step) == 0
    with pytest.raises(ValueError, match="lambda_"):
        make_model(lambda_=-1.0)
    with pytest.raises(ValueError, match="scale_loss"):
        make_model(scale_loss=0.0)


def test_loss_equals_reference_on_projections():
    model = make_model()
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (8, 16, 16, 3)).astype("float32") for _ in range(2))
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    z_a, z_b = (np.asarray(z) for z in outputs["projections"])
    assert float(loss) == pytest.approx(reference.barlow_twins(z_a, z_b), rel=1e-4)
    assert int(model.step) == 1


def test_scale_loss_scales_the_loss():
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (8, 16, 16, 3)).astype("float32") for _ in range(2))
    values = []
    for scale in (1.0, 0.1):
        model = make_model(scale_loss=scale)
        outputs = model(views, training=True)
        values.append(float(model.compute_loss(x=views, y_pred=outputs, training=True)))
    assert values[1] == pytest.approx(0.1 * values[0], rel=1e-5)
    assert keras_ssl.BarlowTwins.from_config(model.get_config()).scale_loss == 0.1


def test_fit_on_real_images_lowers_the_loss(images):
    checks.check_fit_lowers_the_loss(make_model(), images[:32], margin=1.0)
