"""Timing helpers shared by the benchmarks: steps timed inside `fit`, the
augmentation alone, a matrix product, and the supervised baseline of the same
encoder with its forward-only step.

Every figure is per step of one batch of source images, warm-up excluded;
the scripts take medians over steps and interleave their variants over rounds
so that drift of a shared machine hits all variants alike.
"""

import time

import keras
import numpy as np
import tensorflow as tf

import keras_ssl

# Backbone names of the benchmarks -> builder of a backbone for an image shape.
BACKBONES = {
    "small_cnn": keras_ssl.backbones.small_cnn,
    "resnet18": lambda shape: keras_ssl.backbones.resnet18(shape, stem="cifar"),
    # The ImageNet stem (7x7/2 convolution, 3x3/2 max-pool), for 224 px views.
    "resnet18_imagenet": lambda shape: keras_ssl.backbones.resnet18(shape, stem="imagenet"),
    "resnet50_imagenet": lambda shape: keras_ssl.backbones.resnet50(shape, stem="imagenet"),
    # ViT-Tiny with 4 px patches: an 8 x 8 grid at 32 px (MAE, I-JEPA).
    "vit_tiny": lambda shape: keras_ssl.backbones.vit_tiny(shape, patch_size=4),
}


def make_backbone(name, input_shape):
    """A fresh `name` backbone (see `BACKBONES`) for images of `input_shape`."""
    if name not in BACKBONES:
        raise ValueError(
            f"`backbone` must be one of {sorted(BACKBONES)}. Received: backbone={name!r}"
        )
    return BACKBONES[name](tuple(input_shape))


class StepTimer(keras.callbacks.Callback):
    """Wall time of each training step inside `fit`, warm-up steps excluded."""

    def __init__(self, warmup=3):
        super().__init__()
        self.warmup = warmup
        self.times = []
        self._last = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self._last is not None and batch >= self.warmup:
            self.times.append(now - self._last)
        self._last = now


def fit_step_seconds(model, dataset, steps, warmup=3):
    """Per-step seconds of `steps` steps of `model.fit` on a repeated dataset,
    after `warmup` (at least 1) untimed steps.

    A second call on the same model reuses its traced train function, so only
    the first call pays for tracing; the warm-up steps of every call absorb
    the start of the dataset iterator.
    """
    timer = StepTimer(warmup)
    model.fit(
        dataset.repeat().prefetch(2),
        steps_per_epoch=steps + max(warmup, 1),
        epochs=1,
        verbose=0,
        callbacks=[timer],
    )
    return timer.times


def compile_function(function):
    """`function` compiled for the Keras backend: `tf.function` on
    TensorFlow, `jax.jit` on JAX."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    return tf.function(function)


def function_seconds(function, inputs, steps, warmup=2):
    """Per-call seconds of `function(inputs)` compiled for the backend
    (`compile_function`), its outputs (a list of tensors) copied to the host,
    after `warmup` untimed calls."""
    compiled = compile_function(function)
    inputs = keras.tree.map_structure(keras.ops.convert_to_tensor, inputs)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        [keras.ops.convert_to_numpy(o) for o in compiled(inputs)]
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def matmul_seconds(shape, steps, warmup=2, seed=0):
    """Per-call seconds of a float32 matrix product of `shape` =
    `(rows, depth, columns)`, written as NNCLR's support-set search writes it
    (queries `(rows, depth)` times the transpose of `(columns, depth)`), on
    random inputs. The product is reduced to its maximum on the device, so
    only a scalar is copied to the host (the search's argmax reads the
    product once, as this does)."""
    rows, depth, columns = shape
    rng = np.random.default_rng(seed)
    queries = rng.standard_normal((rows, depth), dtype="float32")
    support = rng.standard_normal((columns, depth), dtype="float32")
    return function_seconds(
        lambda pair: [keras.ops.max(keras.ops.matmul(pair[0], keras.ops.transpose(pair[1])))],
        [queries, support],
        steps,
        warmup,
    )


def augmentation_seconds(augmenter, images, steps, warmup=2):
    """Per-call seconds of `augmenter(images, training=True)` compiled for
    the backend, the views copied to the host (as `fit` would consume
    them)."""
    return function_seconds(lambda batch: augmenter(batch, training=True), images, steps, warmup)


def supervised_model(input_shape, backbone="small_cnn", jit_compile="auto"):
    """The SSL encoder (CIFAR-10 normalization + `backbone`) with a linear
    classifier, compiled for a cross-entropy step with the protocol's SGD."""
    mean, std = keras_ssl.methods.base.NORMALIZATION["cifar10"]
    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Normalization(mean=mean, variance=np.square(std)),
            make_backbone(backbone, input_shape),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=5e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model


def forward_only_model(input_shape, backbone="small_cnn", jit_compile="auto"):
    """`supervised_model` with every variable non-trainable: its `fit` step
    is the forward pass alone (BatchNorm in training mode, its moving
    statistics updated, the loss computed; no gradient, no update), which is
    what a momentum target's pass costs. Variables, not layers, are frozen:
    Keras runs a non-trainable layer in inference mode."""
    model = supervised_model(input_shape, backbone, jit_compile)
    for variable in model.weights:
        variable.trainable = False
    return model
