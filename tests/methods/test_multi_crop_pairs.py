"""Multi-crop for the two-view methods (`methods/crop_pairs.py`): two crops
give the two-view loss, 2 + 4 crops train."""

import keras
import numpy as np
import pytest
from keras import ops

import keras_ssl
from keras_ssl import losses
from keras_ssl.methods import crop_pairs
from tests import reference
from tests import tiny_methods

METHODS = ("simclr", "moco_v3", "byol", "simsiam", "barlow_twins", "vicreg", "nnclr", "supcon")


def two_view_loss(name, model, outputs, views, labels):
    """Today's two-view loss of each method, from its loss function."""
    if name in ("simclr", "barlow_twins", "vicreg", "supcon"):
        z1, z2 = outputs["projections"]
        if name == "simclr":
            return ops.mean(losses.nt_xent_loss(z1, z2, model.temperature))
        if name == "barlow_twins":
            return losses.barlow_twins_loss(z1, z2, model.lambda_)
        if name == "vicreg":
            return ops.sum(ops.stack(losses.vicreg_terms(z1, z2)) * ops.array([25.0, 25.0, 1.0]))
        return ops.mean(losses.supcon_loss(ops.stack([z1, z2], axis=1), labels, model.temperature))
    if name == "moco_v3":
        k1, k2 = (model.target(v, training=False) for v in views)
        return ops.mean(losses.moco_v3_loss(*outputs["queries"], k1, k2, model.temperature))
    if name == "byol":
        z1, z2 = (model.target(v, training=False) for v in views)
        return ops.mean(losses.byol_loss(*outputs["predictions"], z1, z2))
    if name == "simsiam":
        return ops.mean(losses.simsiam_loss(*outputs["predictions"], *outputs["projections"]))
    z1, z2 = outputs["projections"]
    p1, p2 = outputs["predictions"]
    return ops.mean(losses.nnclr_loss(z1, z2, p1, p2, model.queue.keys.value, model.temperature))


@pytest.mark.parametrize("name", METHODS)
def test_two_crops_give_the_two_view_loss(name):
    model = tiny_methods.build(name)
    views, labels = tiny_methods.batch(model, name)
    outputs = model.forward(views, training=False)
    if model.uses_labels:
        outputs = dict(outputs, labels=labels)
    loss = model.compute_ssl_loss(outputs, training=False)
    expected = two_view_loss(name, model, outputs, views, labels)
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-6, atol=1e-6)


def test_crop_pairs():
    assert crop_pairs.crop_pairs(2, 2) == ((0, 1), (1, 0))
    assert crop_pairs.crop_pairs(2, 2, symmetric=True) == ((0, 1),)
    assert crop_pairs.crop_pairs(4, 2) == ((0, 1), (0, 2), (0, 3), (1, 0), (1, 2), (1, 3))
    assert crop_pairs.crop_pairs(4, 2, symmetric=True) == ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3))
    with pytest.raises(ValueError, match="reduction"):
        crop_pairs.over_crop_pairs(lambda t, v: 0.0, 2, 2, reduction="max")


def multicrop_model(name, num_local=4):
    keras.utils.set_random_seed(1)
    augmenter = keras_ssl.augmentation.swav_multicrop(
        tiny_methods.SIZE, num_local=num_local, local_size=8
    )
    model = tiny_methods.METHODS[name]()
    config = model.get_config()
    config["augmenter"] = augmenter
    model = type(model).from_config(config)
    # Eager: one step of a tiny model, cheaper than tracing it.
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), run_eagerly=True)
    return model


def test_multicrop_byol_and_simsiam_losses_are_their_pair_references():
    rng = np.random.default_rng(0)
    for name in ("byol", "simsiam"):
        model = multicrop_model(name)
        assert model.encoder.input_shape == (None, None, None, 3)
        views = tuple(
            rng.uniform(0, 255, (8, h, w, 3)).astype("float32")
            for h, w in model.augmenter.output_sizes
        )
        outputs = model.forward(views, training=False)
        loss = float(model.compute_ssl_loss(outputs, training=False))
        p = [np.asarray(x) for x in outputs["predictions"]]
        if name == "byol":
            z = [np.asarray(model.target(v, training=False)) for v in views[:2]]
            # reference.byol sums two directions: one direction is half of it.
            pairs = [reference.byol(p[v], p[v], z[t], z[t]) / 2 for t in range(2) for v in range(6) if v != t]
            expected = np.sum(pairs)
        else:
            z = [np.asarray(x) for x in outputs["projections"]]
            pairs = [reference.simsiam(p[v], p[v], z[t], z[t]) for t in range(2) for v in range(6) if v != t]
            expected = np.mean(pairs)
        assert loss == pytest.approx(expected, rel=1e-5, abs=1e-5), name


@pytest.mark.parametrize("name", METHODS)
def test_two_plus_four_crops_train(name):
    model = multicrop_model(name)
    assert model.num_views == 6 and model.multi_crop
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, tiny_methods.SIZE, tiny_methods.SIZE, 3)).astype("uint8")
    y = rng.integers(0, 3, 8).astype("int32") if model.uses_labels else None
    before = [np.array(w) for w in model.backbone.trainable_weights]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    after = model.backbone.trainable_weights
    assert any(not np.allclose(b, np.asarray(a)) for b, a in zip(before, after))


def test_other_methods_keep_fixed_size_encoders():
    model = tiny_methods.build("moco_v2")
    augmenter = keras_ssl.augmentation.swav_multicrop(tiny_methods.SIZE, num_local=2, local_size=8)
    assert not model.accepts_multi_crop
    config = model.get_config()
    config["augmenter"] = augmenter
    assert not type(model).from_config(config).multi_crop
    with pytest.raises(ValueError, match="at least 2"):
        keras_ssl.SimCLR(
            tiny_methods.backbone(),
            augmenter=keras_ssl.augmentation.ViewAugmenter([[keras.layers.Identity()]]),
            **tiny_methods.SHAPE,
        )
