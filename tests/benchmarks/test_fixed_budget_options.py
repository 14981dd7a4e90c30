"""The fixed-budget protocol's evaluation and multi-crop options
(`benchmarks/fixed_budget.py`)."""

import numpy as np
import pytest

import keras_ssl
from benchmarks import fixed_budget


def test_loss_history_recovers_each_step_from_the_running_mean():
    losses = [4.0, 2.0, 3.0, 1.0, 5.0, 0.5, 2.5, 3.5, 1.5, 2.0, 6.0]
    history = fixed_budget.LossHistory()
    for step in range(len(losses)):
        history.on_train_batch_end(step, {"loss": np.mean(losses[: step + 1])})
    np.testing.assert_allclose(history.losses, losses, rtol=1e-6)
    summary = history.summary()
    assert summary["first_step"] == pytest.approx(4.0)
    assert summary["mean_last_tenth"] == pytest.approx(6.0)


def test_multi_crop_option_builds_the_crops_and_refuses_other_specs():
    augmenter = fixed_budget.multi_crop_augmenter("2,4", 32)
    assert [side for side, _ in augmenter.output_sizes] == [32, 32, 16, 16, 16, 16]
    for spec in ("3,4", "2", "two,four"):
        with pytest.raises(ValueError, match="multi_crop"):
            fixed_budget.multi_crop_augmenter(spec, 32)


def test_mean_patch_token_is_the_vit_tokens_averaged():
    backbone = keras_ssl.backbones.vit((16, 16, 3), patch_size=4, width=16, depth=1, num_heads=2)
    model = keras_ssl.MAE(backbone, decoder_width=16, decoder_depth=1, decoder_num_heads=2)
    extractors = fixed_budget.feature_extractors(model)
    assert sorted(extractors) == ["encoder", "encoder_mean_patch_token"]
    images = np.random.default_rng(0).uniform(0, 255, (3, 16, 16, 3)).astype("float32")
    x = model.encoder.layers[1](images)  # the method's input normalization
    tokens = model.vit.encode(model.vit.embed_patches(x), training=False)
    expected = np.mean(np.asarray(tokens)[:, 1:], axis=1)
    np.testing.assert_allclose(
        np.asarray(extractors["encoder_mean_patch_token"](images)), expected, atol=1e-5
    )
