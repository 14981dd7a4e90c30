"""Shared fixtures of the momentum-method tests: tiny models and fixed views."""

import keras
import numpy as np
import tensorflow as tf

import keras_ssl

SIZE = 16
HEADS = dict(projection_dims=(32, 16), prediction_dims=(32, 16))


def sample_images(n=64):
    (x, y), _ = keras_ssl.data.load_sample()
    return x[:n], y[:n]


def build(cls, lr=0.05, **kwargs):
    keras.utils.set_random_seed(1)
    model = cls(keras_ssl.backbones.small_cnn((SIZE, SIZE, 3)), **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9))
    return model


def fixed_views(model, images, batches=4, batch_size=8, seed=0):
    """A dataset of `batches` pre-made view tuples (deterministic)."""
    keras.utils.set_random_seed(seed)
    views = model.augmenter(images[: batches * batch_size], training=True)
    views = tuple(np.asarray(v) for v in views)
    return tf.data.Dataset.from_tensor_slices(views).batch(batch_size).map(lambda *v: (v,))


def online_and_target(model):
    """Paired (online, target) weights of encoder + projector, as numpy."""
    online = model.encoder.weights + model.projector.weights
    target = model.target_encoder.weights + model.target_projector.weights
    return online, target
