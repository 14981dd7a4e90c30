"""Float images in [0, 1] get one warning per model (the methods take pixels
in [0, 255]); [0, 255] floats and uint8 get none. Arrays are read directly,
a dataset for its first element."""

import warnings

import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from keras_ssl.methods.input_checks import check_pixel_range
from tests import tiny_methods


@pytest.fixture
def model():
    return keras_ssl.SimCLR(
        tiny_methods.backbone(), projection_dims=(16, 8), input_shape=(16, 16, 3)
    )


def images(high, dtype="float32"):
    rng = np.random.default_rng(0)
    return (rng.uniform(0, 1, (8, 16, 16, 3)) * high).astype(dtype)


def warnings_of(model, x, batch_size=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_pixel_range(model, x, batch_size)
    return [str(w.message) for w in caught if "[0, 1]" in str(w.message)]


@pytest.mark.parametrize(
    "data",
    [
        lambda x: x,
        lambda x: (x, x),  # pre-made views
        lambda x: tf.data.Dataset.from_tensor_slices(x).batch(4),
        lambda x: {"images": x, "tokens": np.zeros((8, 4), "int32")},  # CLIP
    ],
    ids=["array", "views", "dataset", "dict"],
)
def test_unit_range_floats_warn_once_per_model(model, data):
    first = warnings_of(model, data(images(1.0)))
    assert len(first) == 1
    assert "x * 255.0" in first[0] and "preprocessing=" in first[0]
    assert warnings_of(model, data(images(1.0))) == []  # once per model


@pytest.mark.parametrize("high, dtype", [(255.0, "float32"), (255.0, "uint8")])
def test_pixels_in_0_255_do_not_warn(model, high, dtype):
    assert warnings_of(model, images(high, dtype)) == []
    dataset = tf.data.Dataset.from_tensor_slices(images(high, dtype)).batch(4)
    assert warnings_of(model, dataset) == []


def test_only_the_first_batch_is_read(model):
    x = np.concatenate([images(1.0)[:4], images(255.0)])
    assert len(warnings_of(model, x, batch_size=4)) == 1


def test_fit_warns(model):
    model.compile(optimizer="sgd")
    x, _ = tiny_methods.batch(model, "simclr")
    with pytest.warns(UserWarning, match=r"lie within \[0, 1\]"):
        model.fit(tuple(v / 255.0 for v in x), batch_size=8, epochs=1, verbose=0)
