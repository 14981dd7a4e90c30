"""I-JEPA: context without targets, loss in the model against NumPy, EMA,
learning."""

import keras
import numpy as np
import pytest

import keras_ssl
from keras_ssl import layers
from tests import reference
from tests.methods.masked_utils import SIZE
from tests.methods.masked_utils import build
from tests.methods.masked_utils import raw_images
from tests.methods.masked_utils import record_encoder_inputs
from tests.methods.masked_utils import tiny_vit

TINY = dict(predictor_width=8, predictor_depth=1)


def test_defaults_and_errors():
    model = keras_ssl.IJEPA(keras_ssl.backbones.vit_tiny((32, 32, 3), patch_size=4))
    assert model.base_momentum == 0.996 and model.momentum_schedule == "cosine"
    assert (model.predictor_width, model.predictor_depth, model.predictor_num_heads) == (96, 4, 3)
    assert model.num_targets == 4 and model.grid_size == (8, 8)
    assert model.num_context_patches == 19  # round(0.3 * 64)
    assert model.num_target_slots == 16  # 4 x 4 at scale 0.2, aspect 1
    (crop,) = model.augmenter.pipelines[0]
    assert crop.scale == (0.3, 1.0)
    with pytest.raises(ValueError, match="num_context_patches"):
        keras_ssl.IJEPA(tiny_vit(), num_context_patches=0)
    with pytest.raises(ValueError, match="target_aspect"):
        keras_ssl.IJEPA(tiny_vit(), target_aspect=(2.0, 1.0))
    with pytest.raises(ValueError, match="vit"):
        keras_ssl.IJEPA(keras_ssl.backbones.small_cnn((SIZE, SIZE, 3)))


def test_context_excludes_targets_and_loss_matches_reference():
    model = build(keras_ssl.IJEPA, **TINY)
    seen = record_encoder_inputs(model)
    keras.utils.set_random_seed(2)
    views = (raw_images(8).astype("float32"),)
    outputs = model(views, training=True)
    assert seen == [(8, model.num_context_patches, 16)]
    context_mask, target_masks = (np.asarray(m) for m in model.sample_masks(8))
    context, _ = layers.mask_indices(context_mask, model.num_context_patches)
    for row, targets in zip(np.asarray(context), target_masks):
        assert not np.any(targets.max(0)[row])
    m, slots = model.num_targets, model.num_target_slots
    assert outputs["predictions"].shape == (8, m, slots, 16)
    embeddings = np.asarray(model.target_embeddings(views[0]), np.float64)
    np.testing.assert_allclose(embeddings.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(embeddings.std(-1), 1, atol=1e-3)
    targets = embeddings[np.arange(8)[:, None, None], np.asarray(outputs["targets"])]
    expected = reference.ijepa(outputs["predictions"], targets, outputs["weights"]).mean()
    loss = float(model.compute_ssl_loss(outputs, training=False))
    assert loss == pytest.approx(expected, rel=1e-5)


def test_ema_of_the_online_encoder():
    model = build(keras_ssl.IJEPA, momentum=0.9, **TINY)
    images = raw_images(8)
    model.train_on_batch(images)
    online = [np.asarray(w) for w in model.encoder.weights]
    target = [np.asarray(w) for w in model.target_encoder.weights]
    model.train_on_batch(images)
    for o, t, w, new in zip(online, target, model.encoder.weights, model.target_encoder.weights):
        expected = 0.9 * t + 0.1 * o if w.trainable else t
        np.testing.assert_allclose(np.asarray(new), expected, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(o, t) for o, t in zip(online, target))
    assert int(model.step) == 2
    # The predictor is trained, not averaged: it has no target copy.
    assert not any("predictor" in w.path for w in model.target_encoder.weights)


def test_short_run_lowers_the_loss():
    model = build(keras_ssl.IJEPA, lr=3e-3, **TINY)
    losses = model.fit(raw_images(64), epochs=6, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0], losses
