"""BYOL and RAFT: defaults, losses in the model against NumPy, learning."""

import numpy as np
import pytest

import keras_ssl
from tests import reference
from tests.methods.momentum_utils import HEADS
from tests.methods.momentum_utils import build
from tests.methods.momentum_utils import fixed_views
from tests.methods.momentum_utils import sample_images


@pytest.fixture(scope="module")
def images():
    return sample_images(144)[0]


def test_defaults_and_asymmetric_augmentation():
    model = keras_ssl.BYOL(keras_ssl.backbones.small_cnn((32, 32, 3)))
    assert model.projection_dims == (4096, 256) and model.prediction_dims == (4096, 256)
    assert model.base_momentum == 0.996 and model.momentum_schedule == "cosine"
    assert model.target_projector.output_shape == (None, 256)
    kinds = [[type(layer).__name__ for layer in p] for p in model.augmenter.pipelines]
    assert "RandomApply" in kinds[1][-1] and len(kinds[1]) == len(kinds[0]) + 1  # solarize
    big = keras_ssl.augmentation.byol_views(96)
    blur_1, blur_2 = big.pipelines[0][-1], big.pipelines[1][-2]
    assert type(blur_1).__name__ == "GaussianBlur"  # p = 1.0
    assert blur_2.rate == pytest.approx(0.1) and big.pipelines[1][-1].rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match="predictor"):
        keras_ssl.BYOL(keras_ssl.backbones.small_cnn((32, 32, 3)), prediction_dims=(8, 4))
    with pytest.raises(ValueError, match="beta"):
        keras_ssl.RAFT(keras_ssl.backbones.small_cnn((32, 32, 3)), beta=-1.0)


@pytest.mark.parametrize("method", ["byol", "raft"])
def test_loss_in_the_model_equals_the_numpy_reference(images, method):
    cls = keras_ssl.BYOL if method == "byol" else keras_ssl.RAFT
    extra = {} if method == "byol" else dict(alpha=0.5, beta=2.0)
    model = build(cls, momentum=1.0, **HEADS, **extra)
    (views,) = next(iter(fixed_views(model, images)))
    targets = [np.asarray(model.target(v, training=True)) for v in views]
    outputs = model(views, training=True)
    loss = float(model.compute_loss(x=views, y_pred=outputs, training=True))
    p1, p2 = (np.asarray(p) for p in outputs["predictions"])
    if method == "byol":
        expected = reference.byol(p1, p2, *targets)
    else:
        expected = reference.raft(p1, p2, *targets, 0.5, 2.0)
    assert loss == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_raft_alignment_without_the_predictor(images):
    model = build(keras_ssl.RAFT, momentum=1.0, predictor_in_alignment=False, alpha=0.5, beta=2.0, **HEADS)
    (views,) = next(iter(fixed_views(model, images)))
    targets = [np.asarray(model.target(v, training=True)) for v in views]
    outputs = model(views, training=True)
    loss = float(model.compute_loss(x=views, y_pred=outputs, training=True))
    p1, p2 = (np.asarray(p) for p in outputs["predictions"])
    z1, z2 = (np.asarray(z) for z in outputs["projections"])
    # reference.raft is alpha L_align(first pair) - beta L_cross(first pair, teachers).
    align = reference.raft(z1, z2, *targets, 1.0, 0.0)
    cross = -reference.raft(p1, p2, *targets, 0.0, 1.0)
    assert loss == pytest.approx(0.5 * align - 2.0 * cross, rel=1e-5, abs=1e-6)
    assert not keras_ssl.RAFT.from_config(model.get_config()).predictor_in_alignment

@pytest.mark.parametrize("cls", [keras_ssl.BYOL, keras_ssl.RAFT])
def test_short_run_on_real_images_lowers_the_loss(images, cls):
    model = build(cls, lr=0.1, momentum=0.9, **HEADS)
    data = fixed_views(model, images[:128], batches=8, batch_size=16)
    losses = model.fit(data, epochs=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0] - 0.05, losses
