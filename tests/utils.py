"""Backend-aware helpers for tests (the references stay pure NumPy)."""

from pathlib import Path

import keras
import numpy as np

REPO = Path(__file__).resolve().parents[1]
CIFAR10_DIR = REPO.parent / "shared" / "datasets" / "cifar10"


def value_and_gradients(fn, *args):
    """Value of `fn(*args)` and its gradients with respect to each argument."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(a, dtype=tf.float32) for a in args]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            value = fn(*tensors)
        grads = tape.gradient(value, tensors)
        return float(value), [None if g is None else np.asarray(g) for g in grads]
    if keras.backend.backend() == "jax":
        import jax

        value, grads = jax.value_and_grad(fn, argnums=tuple(range(len(args))))(
            *[np.asarray(a, np.float32) for a in args]
        )
        return float(value), [np.asarray(g) for g in grads]
    raise NotImplementedError(keras.backend.backend())


def is_zero(gradient):
    """No gradient: None (TensorFlow, unconnected) or all zeros (JAX)."""
    return gradient is None or not np.any(gradient)


def variable_gradients(fn, variables):
    """Gradients of the scalar `fn()` with respect to Keras `variables`;
    `fn` may assign state (discarded on JAX, kept on TensorFlow)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        values = [v.value for v in variables]
        with tf.GradientTape() as tape:
            tape.watch(values)  # non-trainable ones too (targets, queues)
            value = fn()
        return [None if g is None else np.asarray(g) for g in tape.gradient(value, values)]
    if keras.backend.backend() == "jax":
        import jax

        def stateless_fn(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn()

        grads = jax.grad(stateless_fn)([v.value for v in variables])
        return [np.asarray(g) for g in grads]
    raise NotImplementedError(keras.backend.backend())
