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
    model = keras_ssl.VICReg(keras_ssl.backbones.small_cnn((size, size, 3)), **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, weight_decay=5e-4))
    return model


def test_construction_defaults_and_attributes():
    model = keras_ssl.VICReg(keras_ssl.backbones.small_cnn((32, 32, 3)))
    assert model.projection_dims == (2048, 2048, 2048)  # CIFAR
    weights = (model.invariance_weight, model.variance_weight, model.covariance_weight)
    assert weights == (25.0, 25.0, 1.0) and not model.paper_form
    last = model.projector.layers[-1]
    assert isinstance(last, keras.layers.Dense) and not last.use_bias
    with pytest.raises(ValueError, match="weights must be >= 0"):
        make_model(variance_weight=-1.0)


@pytest.mark.parametrize("paper_form", [False, True])
def test_loss_and_terms_equal_reference(paper_form):
    model = make_model(paper_form=paper_form)
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (8, 16, 16, 3)).astype("float32") for _ in range(2))
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    z_a, z_b = (np.asarray(z) for z in outputs["projections"])
    assert float(loss) == pytest.approx(reference.vicreg(z_a, z_b, paper_form=paper_form), rel=1e-4)
    invariance = reference.vicreg(z_a, z_b, weights=(1, 0, 0), paper_form=paper_form)
    assert float(model.invariance.result()) == pytest.approx(invariance, rel=1e-4)


def test_fit_on_real_images_lowers_the_loss(images):
    history = checks.check_fit_lowers_the_loss(
        make_model(), images[:32], margin=0.5, evaluate=False
    )
    assert set(history) >= {"loss", "invariance", "variance", "covariance"}
