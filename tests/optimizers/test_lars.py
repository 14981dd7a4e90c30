"""LARS against a NumPy implementation of METHODS.md's update rule."""

import keras
import numpy as np
import pytest

import keras_ssl


def reference(weights, gradients, lr, momentum, weight_decay, eta, clip_lr):
    """NumPy LARS over a sequence of gradients for one variable."""
    w, mu = weights.astype("float64"), np.zeros_like(weights, "float64")
    for g in gradients:
        g = g.astype("float64")
        if w.ndim > 1:
            g = g + weight_decay * w
            w_norm, g_norm = np.linalg.norm(w), np.linalg.norm(g)
            q = eta * w_norm / g_norm if w_norm > 0 and g_norm > 0 else 1.0
            if clip_lr:
                q = min(q / lr, 1.0)
            g = q * g
        mu = momentum * mu + g
        w = w - lr * mu
    return w


@pytest.mark.parametrize("clip_lr", [False, True])
def test_three_steps_equal_the_reference(clip_lr):
    rng = np.random.default_rng(0)
    kernel = keras.Variable(rng.normal(size=(4, 3)).astype("float32"))
    bias = keras.Variable(rng.normal(size=(3,)).astype("float32"))
    zero = keras.Variable(np.zeros((2, 2), "float32"))  # ||w|| = 0: ratio 1
    initial = [np.asarray(v) for v in (kernel, bias, zero)]
    steps = [[rng.normal(size=v.shape).astype("float32") for v in initial] for _ in range(3)]
    settings = dict(momentum=0.9, weight_decay=1e-2, eta=0.02, clip_lr=clip_lr)
    optimizer = keras_ssl.optimizers.LARS(0.3, **settings)
    for gradients in steps:
        optimizer.apply(gradients, [kernel, bias, zero])
    for variable, start, i in zip((kernel, bias, zero), initial, range(3)):
        expected = reference(start, [s[i] for s in steps], 0.3, **settings)
        np.testing.assert_allclose(np.asarray(variable), expected, rtol=1e-5, atol=1e-6)


def test_trust_ratio_example_of_methods_md():
    """||w|| = 5, ||g|| = 0.05, eta = 0.001: q = 0.1, so the first step moves
    w by lr * 0.1 * g."""
    w = np.zeros((2, 2), "float32")
    w[0, 0] = 5.0
    g = np.zeros((2, 2), "float32")
    g[1, 1] = 0.05
    variable = keras.Variable(w)
    keras_ssl.optimizers.LARS(1.0, momentum=0.0, eta=0.001).apply([g], [variable])
    np.testing.assert_allclose(np.asarray(variable), w - 0.1 * g, atol=1e-7)


def test_config_round_trip_and_bad_arguments():
    optimizer = keras_ssl.optimizers.LARS(0.3, weight_decay=1e-4, eta=0.02, clip_lr=True)
    config = optimizer.get_config()
    clone = keras_ssl.optimizers.LARS.from_config(config)
    assert (clone.coupled_weight_decay, clone.eta, clone.clip_lr) == (1e-4, 0.02, True)
    with pytest.raises(ValueError, match="eta"):
        keras_ssl.optimizers.LARS(eta=-1.0)


def test_fit_lowers_a_tiny_regression_loss():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = x @ rng.normal(size=(8, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras_ssl.optimizers.LARS(1.0, eta=0.05), loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=64, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
