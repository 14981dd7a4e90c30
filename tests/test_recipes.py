"""keras_ssl.recipes: the table, the 64 px threshold, the learning-rate
arithmetic (against METHODS.md section 3's formula) and the constructors'
defaults."""

import inspect
import math

import keras
import numpy as np
import pytest

import keras_ssl
from keras_ssl import recipes
from keras_ssl.augmentation import presets
from tests import tiny_methods

OPTIMIZERS = {
    "sgd": keras_ssl.optimizers.SGD,
    "lars": keras_ssl.optimizers.LARS,
    "adamw": keras.optimizers.AdamW,
}


@pytest.mark.parametrize("name", recipes.NAMES)
def test_every_recipe_has_both_regimes(name):
    small, large = recipes.get(name, 32), recipes.get(name, 224)
    for recipe in (small, large):
        assert recipe.name == name
        assert recipe.optimizer in OPTIMIZERS
        assert recipe.learning_rate > 0 and recipe.weight_decay >= 0
        assert recipe.source
    assert small.small and not large.small
    with pytest.raises(TypeError):
        small.model["anything"] = 1  # read-only


def test_every_method_names_a_recipe():
    assert set(tiny_methods.METHODS) | {"moco_v3_vit"} == set(recipes.NAMES)
    assert set(recipes.METHODS) == set(recipes.NAMES)
    with pytest.raises(ValueError, match="No recipe named 'nope'"):
        recipes.get("nope", 32)


def test_threshold_is_64_px_exactly_everywhere():
    assert recipes.SMALL_IMAGE_SIZE == 64
    assert recipes.is_small(64) and not recipes.is_small(65)
    assert not recipes.is_small(None)  # a backbone of any size: the larger regime
    assert recipes.get("simclr", 64).model["temperature"] == 0.5
    assert recipes.get("simclr", 65).model["temperature"] == 0.1
    # The augmentation presets and the encoder's normalization read it too.
    assert presets._is_cifar(64, None) and not presets._is_cifar(65, None)
    for size, statistics in ((64, "cifar10"), (65, "imagenet")):
        layer = keras_ssl.SSLModel._preprocessing_layer("auto", (size, size, 3))
        mean = keras_ssl.methods.base.NORMALIZATION[statistics][0]
        np.testing.assert_allclose(np.ravel(layer.input_mean), mean, rtol=1e-6)


def reference_learning_rate(k, peak, warmup, total, end):
    """METHODS.md section 3: linear warm-up from 0 over W steps, then cosine
    from the peak to `end` at step Kt."""
    if k < warmup:
        return peak * k / warmup
    return end + (peak - end) * (1 + math.cos(math.pi * (k - warmup) / (total - warmup))) / 2


@pytest.mark.parametrize("name", ["barlow_twins", "moco_v2", "clip"])
def test_optimizer_scales_the_base_rate_and_follows_the_schedule(name):
    recipe = recipes.get(name, 224)
    batch, epochs, steps_per_epoch = 512, 20, 300
    optimizer = recipes.optimizer(recipe, batch, epochs, steps_per_epoch)
    assert type(optimizer) is OPTIMIZERS[recipe.optimizer]
    schedule = optimizer._learning_rate
    peak = recipe.learning_rate * 2  # batch 512 = 2 x 256
    total = epochs * steps_per_epoch
    # Warm-up: the recipe's, at most a tenth of the 6000 steps.
    expected_warmup = {"barlow_twins": 600, "moco_v2": 0, "clip": 600}[name]
    assert schedule.warmup_steps == expected_warmup
    assert schedule.warmup_target == pytest.approx(peak)
    end = recipe.final_learning_rate * peak
    for k in (0, 1, expected_warmup // 2, expected_warmup, 3000, total - 1, total, total + 10):
        expected = reference_learning_rate(min(k, total), peak, expected_warmup, total, end)
        assert float(schedule(k)) == pytest.approx(expected, rel=1e-5, abs=1e-9)
    decay = optimizer.weight_decay if name == "clip" else optimizer.coupled_weight_decay
    assert decay == pytest.approx(recipe.weight_decay)
    if recipe.optimizer == "lars":
        assert optimizer.eta == recipe.optimizer_args["eta"]
    if name == "clip":
        assert optimizer.beta_2 == 0.98


def test_warmup_in_epochs_and_its_cap():
    recipe = recipes.get("simclr", 32)  # 10 warm-up epochs
    assert recipes.warmup_steps(recipe, epochs=200, steps_per_epoch=50) == 500
    assert recipes.warmup_steps(recipe, epochs=20, steps_per_epoch=50) == 100  # a tenth
    assert recipes.peak_learning_rate(recipe, 128) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at least one step"):
        recipes.optimizer(recipe, 128, 0, 10)


def construct(name, size, **overrides):
    """The method of recipe `name` (`recipes.METHODS`) on a tiny backbone
    with default arguments."""
    keras.utils.set_random_seed(0)
    class_name, arguments = recipes.METHODS[name]
    backbone = keras_ssl.backbones.small_cnn((None, None, 3))
    if name in ("moco_v3_vit", "mae", "ijepa"):
        backbone = keras_ssl.backbones.vit(
            (size, size, 3), patch_size=8, width=16, depth=1, num_heads=2
        )
    if name == "cpc":
        backbone = tiny_methods.patch_encoder()
    args = [backbone]
    if name == "clip":
        args.append(
            keras_ssl.backbones.text_transformer(20, 6, width=16, num_layers=1, num_heads=2)
        )
    if name == "pirl":
        arguments = dict(arguments, num_items=16)
    method = getattr(keras_ssl, class_name)
    return method(*args, input_shape=(size, size, 3), **arguments, **overrides)


def normalized(value):
    return list(value) if isinstance(value, (tuple, list)) else value


# Heads too large for a quick test at the larger size (8192-wide projectors).
LARGE_OVERRIDES = {
    "barlow_twins": dict(projection_dims=(16, 16, 16)),
    "vicreg": dict(projection_dims=(16, 16, 16)),
}


def regimes(name):
    """(name, size) for the small regime, and for the larger one where its
    model or augmentation defaults differ."""
    small, large = recipes.get(name, 32), recipes.get(name, 72)
    differ = (small.model, small.augmentation_args) != (large.model, large.augmentation_args)
    return [(name, 32)] + ([(name, 72)] if differ else [])


@pytest.mark.parametrize("name, size", [case for n in recipes.NAMES for case in regimes(n)])
def test_constructor_defaults_equal_the_recipe(name, size):
    overrides = {} if size <= 64 else LARGE_OVERRIDES.get(name, {})
    model = construct(name, size, **overrides)
    recipe = recipes.get(name, size)
    assert model.recipe_name == name and model.recipe == recipe
    config = model.get_config()
    for key, value in recipe.model.items():
        if key not in overrides:
            assert normalized(config[key]) == normalized(value), key
    if recipe.augmentation is not None:
        preset = getattr(keras_ssl.augmentation, recipe.augmentation)
        expected = preset(size, **recipe.augmentation_args)
        assert type(model.augmenter) is type(expected)
        assert model.augmenter.output_sizes == expected.output_sizes


@pytest.mark.parametrize("name", recipes.NAMES)
def test_signatures_leave_the_recipe_values_to_the_table(name):
    # An argument the table holds defaults to None ("the recipe's value") in
    # every constructor that declares it: no number written twice.
    cls = getattr(keras_ssl, recipes.METHODS[name][0])
    for key in recipes.get(name, 32).model:
        defaults = [
            inspect.signature(c.__init__).parameters[key].default
            for c in cls.__mro__
            if key in inspect.signature(c.__init__).parameters
        ]
        assert defaults and all(d is None for d in defaults), (name, key, defaults)


def test_capability_attributes():
    assert keras_ssl.PIRL.needs_indices and not keras_ssl.SimCLR.needs_indices
    assert keras_ssl.CLIP.needs_tokens and not keras_ssl.MoCo.needs_tokens
    assert keras_ssl.SupCon.uses_labels and not keras_ssl.BYOL.uses_labels
    assert keras_ssl.SwAV.multi_crop and keras_ssl.DINO.multi_crop
    assert not keras_ssl.SimSiam.multi_crop
