"""Each augmentation layer on one image (rank 3, the path `tf.data` maps per
file) draws as a batch of one: same seed, same output."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ssl import augmentation

LAYERS = {
    "crop": lambda: augmentation.RandomResizedCrop(24, 20, seed=3),
    "blur": lambda: augmentation.GaussianBlur(9, seed=3),
    "blur wider than the image": lambda: augmentation.GaussianBlur(81, seed=3),
    "jitter": lambda: augmentation.ColorJitter(0.8, 0.8, 0.8, 0.2, seed=3),
    "jitter without hue": lambda: augmentation.ColorJitter(0.8, 0.8, 0.0, 0.0, seed=5),
    "flip": lambda: augmentation.RandomFlip("horizontal", seed=3),
    "grayscale": lambda: augmentation.RandomGrayscale(1.0, seed=3),
    "apply": lambda: augmentation.RandomApply(augmentation.ColorJitter(seed=1), 0.5, seed=4),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_one_image_equals_a_batch_of_one(name):
    image = np.random.default_rng(0).uniform(0, 255, (37, 53, 3)).astype("float32")
    one = LAYERS[name]()
    batch = LAYERS[name]()
    # Successive draws stay in step, except under RandomApply: on one image
    # its layer draws only when it applies.
    for _ in range(1 if name == "apply" else 3):
        a = keras.ops.convert_to_numpy(one(image))
        b = keras.ops.convert_to_numpy(batch(image[None]))[0]
        assert a.shape == b.shape == one.compute_output_shape(image.shape)
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)


def test_views_of_one_image_in_tf_data():
    image = np.random.default_rng(1).uniform(0, 255, (4, 40, 30, 3)).astype("float32")
    augmenter = augmentation.simclr_views(32, seed=0)
    ds = tf.data.Dataset.from_tensor_slices(image).map(augmenter).batch(4)
    views = next(iter(ds))
    assert [tuple(v.shape) for v in views] == [(4, 32, 32, 3)] * 2
    assert not np.allclose(views[0], views[1])


@pytest.mark.parametrize("static", [True, False])
def test_blur_in_tf_data_on_images_smaller_and_larger_than_the_kernel(static):
    rng = np.random.default_rng(2)
    sizes = [(9, 9)] * 2 if static else [(40, 30), (9, 9), (13, 50)]
    images = [rng.uniform(0, 255, (h, w, 3)).astype("float32") for h, w in sizes]
    layer = augmentation.GaussianBlur(23, seed=5)
    batch = augmentation.GaussianBlur(23, seed=5)
    if static:
        ds = tf.data.Dataset.from_tensor_slices(np.stack(images))
    else:
        ds = tf.data.Dataset.from_generator(
            lambda: iter(images), output_signature=tf.TensorSpec((None, None, 3), tf.float32)
        )
    outputs = list(ds.map(lambda x: layer(x, training=True)).as_numpy_iterator())
    for output, image in zip(outputs, images, strict=True):
        expected = keras.ops.convert_to_numpy(batch(image[None]))[0]
        np.testing.assert_allclose(output, expected, atol=1e-4, rtol=0)
