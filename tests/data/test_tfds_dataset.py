"""`keras_ssl.data.tfds_dataset` and `fit` on TFDS's native elements, with a
TFDS dataset built locally (`tfds.folder_dataset.ImageFolder`): no download."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import keras_ssl
from keras_ssl.data import tfds_dataset
from tests import tiny_methods
from tests.data.image_folders import write_image

SIZE = 16


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    """`train/{cat,dog}/`: 24 JPEGs of 20 to 60 px per class, pixel value
    50 + 100 * label."""
    root = tmp_path_factory.mktemp("tfds")
    rng = np.random.default_rng(0)
    for label, name in enumerate(("cat", "dog")):
        for i in range(24):
            h, w = rng.integers(20, 61, 2)
            write_image(root / "train" / name / f"{i}.jpg", np.full((h, w, 3), 50 + 100 * label))
    return tfds.folder_dataset.ImageFolder(str(root))


def _simclr(**kwargs):
    keras.utils.set_random_seed(0)
    model = keras_ssl.SimCLR(
        tiny_methods.backbone(), projection_dims=(16, 8), input_shape=(SIZE, SIZE, 3), **kwargs
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    return model


def test_streams_batches_and_labels(builder):
    ds = tfds_dataset(builder, "train", SIZE, 8, labels="inferred", crop="center", seed=0)
    assert ds.cardinality() == 48 // 8
    for images, labels in ds:
        assert images.dtype == tf.uint8 and images.shape == (8, SIZE, SIZE, 3)
        np.testing.assert_array_equal(np.mean(images, axis=(1, 2, 3)) > 100, labels == 1)
    indexed = tfds_dataset(builder, "train", SIZE, 16, with_index=True, shuffle=False)
    index = np.concatenate([b["index"] for b in indexed])
    np.testing.assert_array_equal(np.sort(index), np.arange(48))


def test_fit_through_tfds_dataset_with_probe(builder):
    model = _simclr(num_classes=2)
    history = model.fit(tfds_dataset(builder, "train", SIZE, 8, labels="inferred"), verbose=0)
    assert "probe_accuracy" in history.history and int(model.step.numpy()) == 6


def _native(builder):
    """TFDS's own elements, {"image", "label", "image/filename"}, batched."""
    ds = builder.as_dataset(split="train", shuffle_files=True)
    ds = ds.map(lambda e: dict(e, image=tf.cast(tf.image.resize(e["image"], (SIZE, SIZE)), tf.uint8)))
    return ds.batch(8, drop_remainder=True)


def test_fit_on_native_dict_elements(builder):
    # With `num_classes`, "label" trains the probe ...
    model = _simclr(num_classes=2)
    history = model.fit(_native(builder), verbose=0).history
    assert history["probe_accuracy"][-1] > 0 and np.isfinite(history["loss"]).all()
    assert model.evaluate(_native(builder), verbose=0, return_dict=True)["probe_loss"] > 0
    # ... without, it is ignored (no probe, no error).
    model = _simclr()
    history = model.fit(_native(builder), verbose=0).history
    assert set(history) == {"loss"}
    assert model.predict(_native(builder), verbose=0).shape == (48, 256)


def test_from_tfds_elements_leaves_method_dicts_alone():
    from keras_ssl.data import from_tfds_elements

    images = np.zeros((4, SIZE, SIZE, 3), "uint8")
    pirl = tf.data.Dataset.from_tensor_slices({"images": images, "index": np.arange(4)})
    assert from_tfds_elements(pirl)[0] is pirl
    x, y = from_tfds_elements({"image": images, "label": np.arange(4)})
    assert x is images and list(y) == [0, 1, 2, 3]
    assert from_tfds_elements({"image": images, "label": np.arange(4)}, keep_labels=False)[1] is None


def test_dict_of_other_keys_is_a_clear_error():
    ds = tf.data.Dataset.from_tensor_slices({"img": np.zeros((8, SIZE, SIZE, 3), "uint8")})
    with pytest.raises(ValueError, match=r"TFDS's \{'image'.*keys \['img'\]"):
        _simclr().fit(ds.batch(4))


def test_errors(builder):
    with pytest.raises(ValueError, match="no feature 'picture'"):
        tfds_dataset(builder, "train", SIZE, 8, image_key="picture")
    with pytest.raises(ValueError, match="labels"):
        tfds_dataset(builder, "train", SIZE, 8, labels=True)
    with pytest.raises(ValueError, match="`name` must be"):
        tfds_dataset(3, "train", SIZE, 8)
