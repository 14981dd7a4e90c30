import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from keras_ssl.data import CIFAR10_CLASSES
from keras_ssl.data import load_sample
from keras_ssl.data.make_sample import make_sample
from keras_ssl.data.sample import SAMPLE_PATH

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CIFAR10_DIR = SHARED / "datasets" / "cifar10"
needs_cifar10 = pytest.mark.skipif(
    not CIFAR10_DIR.is_dir(),
    reason=f"CIFAR-10 image folder not found at {CIFAR10_DIR}",
)


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def test_class_names():
    assert CIFAR10_CLASSES == (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    )


def test_shapes_dtypes_and_balance(sample):
    (x_train, y_train), (x_test, y_test) = sample
    assert x_train.shape == (4000, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (1000, 32, 32, 3) and x_test.dtype == np.uint8
    assert y_train.shape == (4000,) and y_train.dtype == np.int32
    assert y_test.shape == (1000,) and y_test.dtype == np.int32
    np.testing.assert_array_equal(np.bincount(y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [100] * 10)
    assert 0 < x_train.std() and 0 < x_test.std()


def test_archive_format():
    assert os.path.getsize(SAMPLE_PATH) <= 5_000_000
    with np.load(SAMPLE_PATH, allow_pickle=False) as archive:
        for split, n in (("train", 4000), ("test", 1000)):
            jpeg = archive[f"{split}_jpeg"]
            offsets = archive[f"{split}_offsets"]
            assert jpeg.dtype == np.uint8 and jpeg.ndim == 1
            assert offsets.dtype == np.int64 and offsets.shape == (n + 1,)
            assert offsets[0] == 0 and offsets[-1] == jpeg.size
            assert archive[f"{split}_labels"].dtype == np.int32
            # Every image starts with the JPEG start-of-image marker.
            np.testing.assert_array_equal(jpeg[offsets[:-1]], 0xFF)
            np.testing.assert_array_equal(jpeg[offsets[:-1] + 1], 0xD8)


def _index_files(split_dir):
    """Map the SHA-1 of each JPEG file to its (class index, path)."""
    index = {}
    for label, name in enumerate(CIFAR10_CLASSES):
        for path in sorted((split_dir / name).glob("*.jpg")):
            index[hashlib.sha1(path.read_bytes()).digest()] = (label, path)
    return index


@needs_cifar10
@pytest.mark.parametrize("split", ["train", "test"])
def test_sample_is_original_files(sample, split):
    (x, y) = sample[0] if split == "train" else sample[1]
    index = _index_files(CIFAR10_DIR / split)
    with np.load(SAMPLE_PATH) as archive:
        jpeg = archive[f"{split}_jpeg"]
        offsets = archive[f"{split}_offsets"]
    sources = []
    for i in range(len(y)):
        digest = hashlib.sha1(jpeg[offsets[i] : offsets[i + 1]]).digest()
        assert digest in index, f"{split} image {i} is not an original file"
        label, path = index[digest]
        assert label == y[i]
        sources.append(path)
    assert len(set(sources)) == len(sources)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(y), size=20, replace=False):
        original = tf.io.decode_jpeg(tf.io.read_file(str(sources[i]))).numpy()
        np.testing.assert_array_equal(x[i], original)


@needs_cifar10
def test_make_sample_is_reproducible(tmp_path):
    path = make_sample(str(CIFAR10_DIR), str(tmp_path / "sample.npz"))
    with np.load(path) as rebuilt, np.load(SAMPLE_PATH) as bundled:
        assert sorted(rebuilt.files) == sorted(bundled.files)
        for name in bundled.files:
            np.testing.assert_array_equal(rebuilt[name], bundled[name])
