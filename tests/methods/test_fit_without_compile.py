"""`fit` without `compile`: every method compiles itself with its recipe's
optimizer, read back here and compared with `keras_ssl.recipes`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from keras_ssl import recipes
from tests import tiny_methods

OPTIMIZERS = {
    "sgd": keras_ssl.optimizers.SGD,
    "lars": keras_ssl.optimizers.LARS,
    "adamw": keras.optimizers.AdamW,
}


def uncompiled(name, run_eagerly=False):
    keras.utils.set_random_seed(1)
    model = tiny_methods.METHODS[name]()
    model.run_eagerly = run_eagerly  # kept by the recipe's compile
    if name == "pirl":
        model.memory_bank.sample = tiny_methods.fixed_negatives(model.memory_bank)
    return model


def two_batches(model, name):
    """A dataset of 2 batches of the registry's inputs (dynamic batch size)."""
    batches = [tiny_methods.batch(model, name, seed) for seed in (0, 1)]
    x = keras.tree.map_structure(lambda *a: np.concatenate(a), *[b[0] for b in batches])
    if batches[0][1] is None:
        return tf.data.Dataset.from_tensor_slices((x,)).batch(tiny_methods.BATCH)
    y = np.concatenate([b[1] for b in batches])
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(tiny_methods.BATCH)


def weights_of(model):
    return [np.array(w) for w in model.trainable_weights]


def check_optimizer(model, recipe, batch, total_steps, warmup=0):
    optimizer = model.optimizer
    assert type(optimizer) is OPTIMIZERS[recipe.optimizer]
    schedule = optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert schedule.warmup_target == pytest.approx(recipe.learning_rate * batch / 256)
    assert schedule.warmup_steps == warmup
    assert schedule.decay_steps + schedule.warmup_steps == total_steps
    assert schedule.alpha == recipe.final_learning_rate
    if recipe.optimizer == "adamw":
        assert optimizer.weight_decay == pytest.approx(recipe.weight_decay)
    else:
        assert optimizer.coupled_weight_decay == pytest.approx(recipe.weight_decay)
        assert optimizer.momentum == recipe.optimizer_args["momentum"]


@pytest.mark.parametrize("name", list(tiny_methods.METHODS))
def test_fit_without_compile_trains_with_the_recipe(name, capsys):
    model = uncompiled(name, run_eagerly=True)  # 2 eager steps: no tracing time
    before = weights_of(model)
    history = model.fit(two_batches(model, name), epochs=1, verbose=0)
    check_optimizer(model, model.recipe, tiny_methods.BATCH, total_steps=2)
    assert int(model.optimizer.iterations) == 2
    assert np.isfinite(history.history["loss"]).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, weights_of(model)))
    assert model.run_eagerly
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and f"recipe {model.recipe_name!r}" in printed[0]


def test_arrays_give_ceil_n_over_batch_steps_and_a_resumable_compile(tmp_path):
    model = uncompiled("simclr")
    views, _ = tiny_methods.batch(model, "simclr")
    x = tuple(np.concatenate([v, v, v[:4]]) for v in views)  # 20 images
    model.fit(x, batch_size=8, epochs=2, verbose=0)
    check_optimizer(model, model.recipe, 8, total_steps=2 * 3)
    # The warm-up (10 epochs) is capped at a tenth of the 6 steps: 0.
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.compiled
    check_optimizer(loaded, loaded.recipe, 8, total_steps=6)
    loaded.run_eagerly = True
    loaded.fit(x, batch_size=8, epochs=3, initial_epoch=2, verbose=0)
    assert int(loaded.optimizer.iterations) == 9


def test_unknown_length_needs_steps_per_epoch_and_changes_nothing():
    model = uncompiled("byol", run_eagerly=True)
    data = two_batches(model, "byol").repeat()
    before = weights_of(model)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(data, epochs=1, verbose=0)
    assert not model.compiled and getattr(model, "optimizer", None) is None
    assert all(np.array_equal(a, b) for a, b in zip(before, weights_of(model)))
    assert int(model.step) == 0
    model.fit(data, epochs=2, steps_per_epoch=1, verbose=0)  # the next call works
    check_optimizer(model, model.recipe, tiny_methods.BATCH, total_steps=2)


def test_a_users_compile_wins():
    model = uncompiled("moco_v2")
    optimizer = keras.optimizers.Adam(1e-3)
    model.compile(optimizer=optimizer, run_eagerly=True)
    model.fit(two_batches(model, "moco_v2"), epochs=1, verbose=0)
    assert model.optimizer is optimizer
    assert int(optimizer.iterations) == 2


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute")
def test_under_a_strategy_the_optimizer_is_made_in_its_scope():
    # A model built in a strategy's scope and compiled outside it fails in
    # fit ("Mixing different tf.distribute.Strategy objects").
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = uncompiled("simclr", run_eagerly=True)
    views, _ = tiny_methods.batch(model, "simclr")
    model.fit(views, batch_size=8, epochs=1, verbose=0)
    for variable in (model.optimizer.iterations, model.optimizer.variables[-1]):
        assert isinstance(variable.value, tf.distribute.DistributedValues)
