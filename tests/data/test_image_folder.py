import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from keras_ssl.data import load_image_folder
from keras_ssl.data import load_tfds
from keras_ssl.data import with_views


def _write(path, image):
    image = tf.constant(image, dtype=tf.uint8)
    if path.suffix.lower() == ".png":
        data = tf.io.encode_png(image)
    else:
        data = tf.io.encode_jpeg(image, quality=95)
    path.write_bytes(data.numpy())


@pytest.fixture
def folder(tmp_path):
    """Two classes of 8x8 PNG images; pixel value = 10 * label + index."""
    for label, name in enumerate(["ant", "bee"]):
        (tmp_path / name).mkdir()
        for i in range(3):
            ext = ".PNG" if i == 2 else ".png"
            image = np.full((8, 8, 3), 10 * label + i)
            _write(tmp_path / name / f"{i}{ext}", image)
        (tmp_path / name / "notes.txt").write_text("not an image")
    return tmp_path


def test_load_sorted_classes(folder):
    images, labels, class_names = load_image_folder(str(folder))
    assert class_names == ("ant", "bee")
    assert images.shape == (6, 8, 8, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(images[:, 0, 0, 0], [0, 1, 2, 10, 11, 12])


def test_class_names_order_and_subset(folder):
    images, labels, class_names = load_image_folder(
        str(folder), class_names=["bee", "ant"]
    )
    assert class_names == ("bee", "ant")
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(images[:, 0, 0, 0], [10, 11, 12, 0, 1, 2])
    images, labels, _ = load_image_folder(str(folder), class_names=["bee"])
    np.testing.assert_array_equal(images[:, 0, 0, 0], [10, 11, 12])


def test_max_per_class_and_shuffle(folder):
    images, labels, _ = load_image_folder(str(folder), max_per_class=2)
    np.testing.assert_array_equal(images[:, 0, 0, 0], [0, 1, 10, 11])
    first = load_image_folder(str(folder), shuffle=True, seed=3)
    second = load_image_folder(str(folder), shuffle=True, seed=3)
    np.testing.assert_array_equal(first[0], second[0])
    # Labels follow their images through the shuffle.
    np.testing.assert_array_equal(first[0][:, 0, 0, 0] // 10, first[1])
    assert sorted(first[0][:, 0, 0, 0]) == [0, 1, 2, 10, 11, 12]


def test_resize_mixed_sizes_and_formats(tmp_path):
    (tmp_path / "a").mkdir()
    _write(tmp_path / "a" / "big.jpg", np.full((40, 20, 3), 200))
    _write(tmp_path / "a" / "small.png", np.full((4, 4, 3), 50))
    images, labels, _ = load_image_folder(str(tmp_path), image_size=16)
    assert images.shape == (2, 16, 16, 3) and images.dtype == np.uint8
    np.testing.assert_allclose(images[0], 200, atol=2)
    np.testing.assert_array_equal(images[1], 50)
    with pytest.raises(ValueError, match="different sizes"):
        load_image_folder(str(tmp_path))


def test_errors(tmp_path, folder):
    with pytest.raises(ValueError, match="not a directory"):
        load_image_folder(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="No images"):
        load_image_folder(str(empty))
    (empty / "cls").mkdir()
    with pytest.raises(ValueError, match="No images"):
        load_image_folder(str(empty))
    with pytest.raises(ValueError, match="'wasp' not found"):
        load_image_folder(str(folder), class_names=["ant", "wasp"])


def test_unreadable_files_are_skipped_and_named(folder):
    (folder / "ant" / "empty.jpg").write_bytes(b"")
    (folder / "bee" / "text.jpg").write_text("not a jpeg")
    (folder / "bee" / "sub" / "deep").mkdir(parents=True)
    _write(folder / "bee" / "sub" / "deep" / "9.png", np.full((8, 8, 3), 19))
    with pytest.warns(UserWarning, match=r"Skipped 2 unreadable .*empty\.jpg.*text\.jpg"):
        images, labels, _ = load_image_folder(str(folder), image_size=8)
    # Nested class folders are read; labels stay with their images.
    np.testing.assert_array_equal(images[:, 0, 0, 0], [0, 1, 2, 10, 11, 12, 19])
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1, 1])


def test_load_tfds_unknown_dataset(tmp_path):
    with pytest.raises(ValueError, match="not_a_dataset"):
        load_tfds("not_a_dataset", data_dir=str(tmp_path))


def _two_views(images, training=False):
    assert training
    images = tf.cast(images, "float32")
    return images, 255.0 - images


def test_with_views_images_only():
    x = np.random.default_rng(0).integers(0, 256, (10, 4, 4, 3), dtype=np.uint8)
    ds = with_views(tf.data.Dataset.from_tensor_slices(x).batch(4), _two_views)
    elements = list(ds)
    assert len(elements) == 3
    (views,) = elements[0]
    assert isinstance(views, tuple) and len(views) == 2
    np.testing.assert_array_equal(views[0], x[:4])
    np.testing.assert_array_equal(views[1], 255.0 - x[:4])
    assert elements[-1][0][0].shape == (2, 4, 4, 3)


class ThreeViews(keras.layers.Layer):
    def call(self, images, training=None):
        images = tf.cast(images, "float32")
        return (images, images + 1.0, images * 0.0)


def test_with_views_labelled_keras_layer():
    x = np.zeros((6, 4, 4, 3), dtype=np.uint8)
    y = np.arange(6, dtype=np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(3)
    views, labels = next(iter(with_views(ds, ThreeViews())))
    assert len(views) == 3
    np.testing.assert_array_equal(views[1], np.ones((3, 4, 4, 3)))
    np.testing.assert_array_equal(labels, [0, 1, 2])


def test_with_views_errors():
    x = np.zeros((6, 4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="must be batched"):
        with_views(tf.data.Dataset.from_tensor_slices(x), _two_views)
    with pytest.raises(ValueError, match="tuple of views"):
        with_views(
            tf.data.Dataset.from_tensor_slices(x).batch(2),
            lambda images, training: images,
        )


def test_with_views_needs_the_tensorflow_backend_for_keras_layers(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 8, 8, 3), "uint8")).batch(2)
    with pytest.raises(ValueError, match="needs the TensorFlow backend"):
        with_views(ds, keras_ssl.augmentation.simclr_views(8))
    with_views(ds, _two_views)  # a plain function is fine
