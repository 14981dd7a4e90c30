"""keras_ssl.optimizers.SGD against a NumPy implementation of torch.optim.SGD's
update (weight decay added to the gradient, then momentum)."""

import keras
import numpy as np
import pytest

import keras_ssl


def reference(weights, gradients, learning_rates, momentum, weight_decay):
    w, mu = weights.astype("float64"), np.zeros_like(weights, "float64")
    for g, lr in zip(gradients, learning_rates):
        mu = momentum * mu + g.astype("float64") + weight_decay * w
        w = w - lr * mu
    return w


def test_three_steps_with_a_schedule_equal_the_reference():
    rng = np.random.default_rng(0)
    kernel = keras.Variable(rng.normal(size=(4, 3)).astype("float32"))
    bias = keras.Variable(rng.normal(size=(3,)).astype("float32"))
    initial = [np.asarray(v) for v in (kernel, bias)]
    steps = [[rng.normal(size=v.shape).astype("float32") for v in initial] for _ in range(3)]
    schedule = keras.optimizers.schedules.CosineDecay(0.3, 3)
    optimizer = keras_ssl.optimizers.SGD(schedule, momentum=0.9, weight_decay=0.05)
    for gradients in steps:
        optimizer.apply(gradients, [kernel, bias])
    rates = [float(schedule(i)) for i in range(3)]
    for i, (variable, start) in enumerate(zip((kernel, bias), initial)):
        expected = reference(start, [s[i] for s in steps], rates, 0.9, 0.05)
        np.testing.assert_allclose(np.asarray(variable), expected, rtol=1e-5, atol=1e-6)


def test_decay_alone_shrinks_like_the_coupled_rule():
    """Zero gradients: the coupled decay compounds through the momentum, ~10x
    Keras's decoupled decay at momentum 0.9 after many steps."""
    variable = keras.Variable(np.ones((2, 2), "float32"))
    optimizer = keras_ssl.optimizers.SGD(0.1, momentum=0.9, weight_decay=1e-2)
    for _ in range(2):
        optimizer.apply([np.zeros((2, 2), "float32")], [variable])
    # w1 = 1 - 0.1 * 0.01 = 0.999; mu1 = 0.01, mu2 = 0.9 * 0.01 + 0.01 * 0.999
    np.testing.assert_allclose(np.asarray(variable), 0.999 - 0.1 * (0.009 + 0.00999), rtol=1e-6)


def test_config_round_trip_bad_arguments_and_fit():
    optimizer = keras_ssl.optimizers.SGD(0.1, momentum=0.8, weight_decay=1e-4)
    clone = keras_ssl.optimizers.SGD.from_config(optimizer.get_config())
    assert (clone.momentum, clone.coupled_weight_decay) == (0.8, 1e-4)
    with pytest.raises(ValueError, match="weight_decay"):
        keras_ssl.optimizers.SGD(0.1, weight_decay=-1.0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras_ssl.optimizers.SGD(0.05, weight_decay=1e-4), loss="mse")
    x = np.random.default_rng(1).normal(size=(64, 3)).astype("float32")
    history = model.fit(x, x.sum(1, keepdims=True), epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
