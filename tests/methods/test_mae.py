"""MAE: the encoder sees only visible tokens, the loss in the model against
NumPy, visible patches ignored, learning."""

import numpy as np
import pytest

import keras_ssl
from tests import reference
from tests.methods.masked_utils import SIZE
from tests.methods.masked_utils import build
from tests.methods.masked_utils import raw_images
from tests.methods.masked_utils import record_encoder_inputs
from tests.methods.masked_utils import tiny_vit

TINY = dict(decoder_width=16, decoder_depth=1, decoder_num_heads=2)


def test_defaults_and_errors():
    model = keras_ssl.MAE(keras_ssl.backbones.vit_tiny((32, 32, 3), patch_size=4))
    assert model.mask_ratio == 0.75 and model.norm_pix_loss
    assert (model.decoder_width, model.decoder_depth, model.decoder_num_heads) == (192, 4, 3)
    assert (model.num_patches, model.num_visible) == (64, 16)
    crop, flip = model.augmenter.pipelines[0]
    assert crop.scale == (0.2, 1.0) and model.num_views == 1
    big = keras_ssl.MAE(keras_ssl.backbones.vit(
        (224, 224, 3), patch_size=16, width=32, depth=1, num_heads=2))
    assert (big.decoder_width, big.decoder_depth, big.decoder_num_heads) == (512, 8, 16)
    with pytest.raises(ValueError, match="mask_ratio"):
        keras_ssl.MAE(tiny_vit(), mask_ratio=1.0)
    with pytest.raises(ValueError, match="vit"):
        keras_ssl.MAE(keras_ssl.backbones.small_cnn((SIZE, SIZE, 3)))


def test_encoder_gets_only_visible_tokens_and_loss_matches_reference():
    model = build(keras_ssl.MAE, **TINY)
    seen = record_encoder_inputs(model)
    views = (raw_images(8).astype("float32"),)
    outputs = model(views, training=True)
    assert seen == [(8, 4, 16)]  # 16 patches, 75 % masked
    mask = np.asarray(outputs["mask"])
    assert mask.shape == (8, 16) and np.all(mask.sum(1) == 12)
    assert len({tuple(row) for row in mask}) > 1  # per-sample masks
    loss = float(model.compute_ssl_loss(outputs, training=True))
    expected = reference.mae(outputs["predictions"], outputs["targets"], mask).mean()
    assert loss == pytest.approx(expected, rel=1e-5)
    # The targets are the patches of the normalized view.
    mean, std = keras_ssl.methods.base.NORMALIZATION["cifar10"]
    normalized = (views[0] - np.float32(mean)) / np.float32(std)
    np.testing.assert_allclose(
        np.asarray(outputs["targets"])[3, 5],
        normalized[3, 4:8, 4:8].reshape(-1),
        rtol=1e-5, atol=1e-5,
    )
    # Changing the predictions of visible patches changes nothing.
    predictions = np.asarray(outputs["predictions"]).copy()
    predictions[mask == 0] = 1e3
    changed = float(model.compute_ssl_loss(dict(outputs, predictions=predictions), True))
    assert changed == loss


def test_short_run_lowers_the_loss():
    model = build(keras_ssl.MAE, lr=3e-3, **TINY)
    losses = model.fit(raw_images(64), epochs=6, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0] - 0.05, losses
