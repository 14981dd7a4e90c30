import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ssl.optimizers import WarmupCosineDecay

SETTINGS = [
    dict(initial_learning_rate=0.0, decay_steps=7, alpha=0.0, warmup_target=0.3, warmup_steps=3),
    dict(initial_learning_rate=0.01, decay_steps=5, alpha=0.1, warmup_target=0.2, warmup_steps=4),
    dict(initial_learning_rate=0.0, decay_steps=6, alpha=0.01, warmup_target=0.5, warmup_steps=0),
    dict(initial_learning_rate=0.4, decay_steps=6, alpha=0.0),
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_learning_rates_equal_keras_cosine_decay(settings):
    ours = WarmupCosineDecay(**settings)
    keras_schedule = keras.optimizers.schedules.CosineDecay(**settings)
    for step in range(14):  # warm-up, decay and past the end
        np.testing.assert_allclose(
            float(ours(step)), float(keras_schedule(step)), rtol=1e-6, atol=1e-9, err_msg=step
        )


def test_config_round_trip():
    schedule = WarmupCosineDecay(**SETTINGS[1])
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert type(restored) is WarmupCosineDecay
    assert restored.get_config() == schedule.get_config()


def conditionals(schedule):
    """The conditional ops of one traced AdamW step of a 6-weight model."""
    model = keras.Sequential([keras.Input((4,))] + [keras.layers.Dense(4) for _ in range(3)])
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=0.05)
    optimizer.build(model.trainable_variables)

    @tf.function
    def step():
        grads = [tf.ones_like(v) for v in model.trainable_variables]
        optimizer.apply_gradients(zip(grads, model.trainable_variables))

    graph = step.get_concrete_function().graph
    return [op for op in graph.get_operations() if op.type in ("If", "StatelessIf")]


def test_a_traced_adamw_step_holds_no_conditional():
    # AdamW evaluates the learning rate once per weight for its decoupled
    # decay: Keras's schedule puts a conditional in the step each time.
    settings = SETTINGS[0]
    assert len(conditionals(keras.optimizers.schedules.CosineDecay(**settings))) >= 6
    assert conditionals(WarmupCosineDecay(**settings)) == []
