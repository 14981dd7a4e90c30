"""`keras_ssl.data.image_dataset`: files streamed into `fit`, unreadable
files skipped and reported, crops, labels, indices, shards, cache."""

import re
import shutil
import time
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from keras_ssl import augmentation
from keras_ssl.data import decoding
from keras_ssl.data import image_dataset
from tests import tiny_methods
from tests.data.image_folders import BAD_FILES
from tests.data.image_folders import mixed_folder
from tests.data.image_folders import write_image

SIZE, BATCH = 16, 32


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    return root, mixed_folder(root)


def _unreadable_warning(record):
    messages = [str(w.message) for w in record if "unreadable" in str(w.message)]
    assert len(messages) == 1, messages
    return messages[0]


def _labels_from_pixels(images):
    return (np.asarray(images, "float32").mean(axis=(1, 2, 3)) > 100).astype("int32")


def test_one_pass_streams_every_file_and_reports_bad_ones_once(folder):
    root, good = folder
    ds = image_dataset(str(root), SIZE, BATCH, labels="inferred", seed=0)
    assert ds.cardinality() == (len(good) + len(BAD_FILES)) // BATCH  # known length
    with pytest.warns(UserWarning) as record:
        batches = list(ds)
        second = list(ds)
    message = _unreadable_warning(record)
    assert f"Skipped {len(BAD_FILES)} unreadable image files of {len(good) + 3}" in message
    for bad in BAD_FILES:
        assert bad in message
    assert len(batches) == len(second) == ds.cardinality()
    for images, labels in batches:
        assert images.dtype == tf.uint8 and images.shape == (BATCH, SIZE, SIZE, 3)
        np.testing.assert_array_equal(_labels_from_pixels(images), labels)


def test_every_file_once_without_drop_remainder(folder):
    root, good = folder
    ds = image_dataset(
        str(root), SIZE, 64, with_index=True, shuffle=False, drop_remainder=False
    )
    with pytest.warns(UserWarning, match="unreadable"):
        index = np.concatenate([b["index"].numpy() for b in ds])
    paths, _, _ = keras_ssl.data.list_image_files(str(root))
    kept = sorted(paths[i].removeprefix(str(root) + "/") for i in index)
    assert kept == good  # each readable file exactly once, in order
    np.testing.assert_array_equal(index, np.sort(index))


def _fit(model, ds, steps=None):
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
    return model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0).history


def test_fit_simclr_moco_dino_pirl(folder):
    root, good = folder
    backbone = tiny_methods.backbone
    shape = dict(input_shape=(SIZE, SIZE, 3))
    keras.utils.set_random_seed(0)
    # SimCLR: one full pass, labels to the online probe; the bad files are
    # reported and the pass completes.
    simclr = keras_ssl.SimCLR(backbone(), projection_dims=(16, 8), num_classes=2, **shape)
    with pytest.warns(UserWarning, match="Skipped 3 unreadable"):
        history = _fit(simclr, image_dataset(str(root), SIZE, BATCH, labels="inferred"))
    assert np.isfinite(history["loss"][0]) and "probe_accuracy" in history
    assert int(simclr.step.numpy()) == (len(good) + 3) // BATCH
    endless = dict(repeat=True, seed=1)
    moco = keras_ssl.MoCo(backbone(), version=2, projection_dims=(16, 8), queue_size=64, **shape)
    assert np.isfinite(_fit(moco, image_dataset(str(root), SIZE, BATCH, **endless), 2)["loss"])
    dino = keras_ssl.DINO(
        backbone(), projection_dims=(16, 16, 8), num_prototypes=20,
        augmenter=augmentation.dino_multicrop(SIZE, num_local=2, local_size=8), **shape,
    )
    assert np.isfinite(_fit(dino, image_dataset(str(root), SIZE, BATCH, **endless), 2)["loss"])
    pirl = keras_ssl.PIRL(
        backbone(), num_items=len(good) + 3, embedding_dim=8, num_negatives=16,
        augmenter=augmentation.ViewAugmenter(
            [[augmentation.RandomResizedCrop(SIZE, SIZE)], [augmentation.Jigsaw(4, 5)]]
        ),
        **shape,
    )
    ds = image_dataset(str(root), SIZE, BATCH, with_index=True, **endless)
    before = keras.ops.convert_to_numpy(pirl.memory_bank.bank)
    assert np.isfinite(_fit(pirl, ds, 2)["loss"])
    # The bank rows of the 2 x 32 indices seen were written, no others.
    changed = np.any(keras.ops.convert_to_numpy(pirl.memory_bank.bank) != before, axis=1)
    assert 0 < changed.sum() <= 2 * BATCH


def test_sources_glob_list_and_labels(folder):
    root, good = folder
    pngs = sorted(str(root / p) for p in good if p.endswith(".png"))
    by_glob = image_dataset(str(root / "**" / "*.png"), SIZE, 8, shuffle=False, drop_remainder=False)
    by_list = image_dataset(pngs, SIZE, 8, shuffle=False, drop_remainder=False)
    np.testing.assert_array_equal(np.concatenate(list(by_glob)), np.concatenate(list(by_list)))
    assert sum(len(b) for b in by_list) == len(pngs)
    labels = [int("/dog/" in p) for p in pngs]
    ds = image_dataset(pngs, SIZE, 8, labels=labels, seed=3)
    for images, y in ds:
        np.testing.assert_array_equal(_labels_from_pixels(images), y)
    # A subset of classes, in the given label order.
    ds = image_dataset(str(root), SIZE, 16, labels="inferred", class_names=["dog"], seed=0)
    with pytest.warns(UserWarning, match="Skipped 2 unreadable"):
        assert all(set(y.numpy()) == {0} for _, y in ds)


def test_listing_decodes_nothing():
    # 200,000 paths that do not exist: nothing is read until iteration.
    paths = [f"/nonexistent/{i}.jpg" for i in range(200_000)]
    start = time.perf_counter()
    ds = image_dataset(paths, 224, 256)
    assert time.perf_counter() - start < 10
    assert ds.cardinality() == 200_000 // 256
    assert ds.element_spec.shape.as_list() == [256, 224, 224, 3]


def test_shards_split_the_files(folder):
    root, good = folder
    common = dict(with_index=True, shuffle=False, drop_remainder=False)
    parts, skipped = [], 0
    for index in range(3):
        ds = image_dataset(str(root), SIZE, 64, shard=(3, index), **common)
        options = ds.options().experimental_distribute.auto_shard_policy
        assert options == tf.data.experimental.AutoShardPolicy.OFF
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            parts.append(np.concatenate([b["index"].numpy() for b in ds]))
        skipped += sum(int(re.search(r"Skipped (\d+)", str(w.message))[1]) for w in record)
    assert skipped == len(BAD_FILES)  # each worker reports its own
    assert all(np.all(p % 3 == i) for i, p in enumerate(parts))
    assert sorted(np.concatenate(parts)) == sorted(set(np.concatenate(parts)))
    assert sum(map(len, parts)) == len(good)


def test_auto_shard_follows_tf_config(monkeypatch):
    from keras_ssl.data import streaming

    cluster = {"chief": ["a:1"], "worker": ["b:1", "c:1"]}
    monkeypatch.setenv("TF_CONFIG", f'{{"cluster": {cluster}, "task": {{"type": "worker", "index": 1}}}}'.replace("'", '"'))
    assert streaming.worker_shard("auto") == (3, 2)
    assert streaming.worker_shard(None) is None
    monkeypatch.delenv("TF_CONFIG")
    assert streaming.worker_shard("auto") is None


def test_cache_in_memory_and_file(folder, tmp_path):
    # The second pass reads the cache, not the files (deleted in between);
    # whole passes (no remainder dropped) hold exactly the readable items.
    for cache in ("memory", str(tmp_path / "cache")):
        root = shutil.copytree(folder[0], tmp_path / "photos")
        ds = image_dataset(
            str(root), SIZE, 64, cache=cache, seed=0, with_index=True, drop_remainder=False
        )
        with pytest.warns(UserWarning, match="unreadable"):
            first = np.concatenate([x["index"] for x in ds])
        shutil.rmtree(root)
        second = np.concatenate([x["index"] for x in ds])
        assert sorted(first) == sorted(second) == sorted(set(first))
        assert len(first) == len(folder[1])
        assert not np.array_equal(first, second)  # reshuffled from the cache
    assert any(p.name.startswith("cache") for p in tmp_path.iterdir())


def _image(tmp_path, h=48, w=80):
    """A random image written as PNG; returns it and its JPEG encoding."""
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    write_image(tmp_path / "image.png", image)
    return image, tf.io.encode_jpeg(image, quality=95)


def test_center_crop_matches_numpy(tmp_path):
    image, _ = _image(tmp_path)
    contents = tf.io.read_file(str(tmp_path / "image.png"))
    # The center square of a 48x80 image: columns 16..64, at its own size.
    np.testing.assert_array_equal(decoding.decode(contents, (48, 48), "center"), image[:, 16:64])
    # Aspect 2 (24x48): rows 4..44 of the full width.
    window = decoding.crop_window(tf.constant([48, 80]), (24, 48), "center", None)
    np.testing.assert_array_equal(window, [4, 0, 40, 80])


def test_fused_jpeg_crop_equals_decode_then_crop(tmp_path):
    _, contents = _image(tmp_path)
    crop = ((0.08, 1.0), (3 / 4, 4 / 3))
    for i in range(5):
        seed = tf.constant([i, 7], tf.int64)
        fused = decoding.decode(contents, (16, 16), crop, seed, fused=True)
        plain = decoding.decode(contents, (16, 16), crop, seed, fused=False)
        # Chroma upsampling differs at the window's edges: a few pixels by a few levels.
        difference = np.abs(np.int32(fused) - np.int32(plain))
        assert difference.max() <= 8 and difference.mean() < 0.5


def test_random_crop_windows_follow_scale_and_ratio():
    crop = ((0.25, 0.5), (0.5, 2.0))
    areas, ratios = [], []
    for i in range(200):
        y, x, h, w = decoding.crop_window(
            tf.constant([300, 400]), (16, 16), crop, tf.constant([i, 0], tf.int64)
        ).numpy()
        assert 0 <= y and y + h <= 300 and 0 <= x and x + w <= 400
        areas.append(h * w / 120_000)
        ratios.append(w / h)
    assert 0.24 <= min(areas) and max(areas) <= 0.51 and max(areas) - min(areas) > 0.15
    assert 0.49 <= min(ratios) and max(ratios) <= 2.05


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(image_size=0), "image_size"),
        (dict(image_size=(16,)), "image_size"),
        (dict(batch_size=0), "batch_size"),
        (dict(crop="random"), "crop"),
        (dict(crop=((0.5, 0.2), (1, 1))), "scale"),
        (dict(cache=True), "cache"),
        (dict(cache="memory", crop=((0.2, 1.0), (0.75, 1.33))), "freeze"),
        (dict(shard=(2, 2)), "shard"),
        (dict(repeat=0), "repeat"),
        (dict(labels="folders"), "labels"),
        (dict(labels=[0, 1]), "one label per file"),
        (dict(source="/no/such/folder"), "neither an existing folder"),
        (dict(source="/no/such/*.jpg"), re.escape("No images (.jpg, .jpeg, .png, .bmp, .gif, .webp")),
        (dict(source=["a.jpg", "b.txt"]), "b.txt"),
    ],
)
def test_argument_errors(folder, kwargs, match):
    root, _ = folder
    args = dict(source=str(root), image_size=SIZE, batch_size=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        image_dataset(**args)


def test_inferred_labels_need_class_folders(tmp_path):
    write_image(tmp_path / "cat" / "a.png", np.zeros((8, 8, 3)))
    write_image(tmp_path / "loose.png", np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="directly in"):
        image_dataset(str(tmp_path), SIZE, 2, labels="inferred")
    ds = image_dataset(str(tmp_path), SIZE, 2, drop_remainder=False)  # unlabelled: all
    assert sum(len(b) for b in ds) == 2


def test_views_made_per_image_feed_fit(folder):
    root, good = folder
    augmenter = augmentation.simclr_views(SIZE, seed=0)
    (views,) = next(iter(image_dataset(str(root), None, BATCH, seed=0, augmenter=augmenter)))
    resized, labels = next(iter(image_dataset(
        str(root), 24, BATCH, labels="inferred", seed=0, augmenter=augmenter)))
    for batch in (views, resized):
        assert [(v.dtype, tuple(v.shape)) for v in batch] == [(tf.float32, (BATCH, SIZE, SIZE, 3))] * 2
    assert labels.shape == (BATCH,) and set(labels.numpy()) <= {0, 1}
    model = keras_ssl.SimCLR(
        tiny_methods.backbone(), projection_dims=(16, 8), input_shape=(SIZE, SIZE, 3)
    )
    ds = image_dataset(str(root), None, BATCH, seed=1, repeat=True, augmenter=augmenter)
    assert np.isfinite(_fit(model, ds, 2)["loss"][0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(image_size=None), "None only with an `augmenter`"),
        (dict(augmenter=augmentation.simclr_views(SIZE), with_index=True), "with_index"),
        (dict(augmenter=augmentation.simclr_views(SIZE), image_size=None, crop="center"),
         "needs an `image_size`"),
        (dict(augmenter="simclr"), "augmenter="),
    ],
)
def test_augmenter_errors(folder, kwargs, match):
    root, _ = folder
    args = dict(source=str(root), image_size=SIZE, batch_size=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        image_dataset(**args)
