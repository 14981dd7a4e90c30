import keras
import numpy as np
import pytest

import keras_ssl
from keras_ssl import augmentation


def crops(augmenter):
    return [
        next(l for l in pipeline if isinstance(l, augmentation.RandomResizedCrop))
        for pipeline in augmenter.pipelines
    ]


def find(pipeline, kind):
    """Layers of `kind`, directly or wrapped in RandomApply, with their rate."""
    found = []
    for layer in pipeline:
        inner = layer.layer if isinstance(layer, augmentation.RandomApply) else layer
        if isinstance(inner, kind):
            found.append(layer.rate if isinstance(layer, augmentation.RandomApply) else 1.0)
    return found


def test_swav_multicrop_imagenet_recipe():
    augmenter = augmentation.swav_multicrop(224)
    assert isinstance(augmenter, augmentation.MultiCrop)
    assert (augmenter.num_global_crops, augmenter.num_local_crops) == (2, 6)
    assert augmenter.output_sizes == [(224, 224)] * 2 + [(96, 96)] * 6
    assert [c.scale for c in crops(augmenter)] == [(0.14, 1.0)] * 2 + [(0.05, 0.14)] * 6
    for pipeline in augmenter.pipelines:
        assert find(pipeline, augmentation.GaussianBlur) == [0.5]
        assert find(pipeline, augmentation.ColorJitter) == [0.8]
        assert find(pipeline, augmentation.RandomGrayscale) == [1.0]
        jitter = next(l.layer for l in pipeline if isinstance(l, augmentation.RandomApply) and isinstance(l.layer, augmentation.ColorJitter))
        assert jitter.get_config()["brightness"] == pytest.approx(0.8)


def test_swav_multicrop_cifar_variant():
    augmenter = augmentation.swav_multicrop(32)
    assert augmenter.output_sizes == [(32, 32)] * 2 + [(16, 16)] * 6
    for pipeline in augmenter.pipelines:
        assert find(pipeline, augmentation.GaussianBlur) == []
    jitter = next(l.layer for l in augmenter.pipelines[0] if isinstance(l, augmentation.RandomApply) and isinstance(l.layer, augmentation.ColorJitter))
    assert jitter.get_config()["brightness"] == pytest.approx(0.4)  # strength 0.5


def test_dino_multicrop_recipe():
    augmenter = augmentation.dino_multicrop(224)
    assert (augmenter.num_global_crops, augmenter.num_local_crops) == (2, 8)
    assert augmenter.output_sizes == [(224, 224)] * 2 + [(96, 96)] * 8
    assert [c.scale for c in crops(augmenter)] == [(0.4, 1.0)] * 2 + [(0.05, 0.4)] * 8
    global_1, global_2, local = augmenter.pipelines[:3]
    assert find(global_1, augmentation.GaussianBlur) == [1.0]
    assert find(global_1, augmentation.Solarize) == []
    assert find(global_2, augmentation.GaussianBlur) == [0.1]
    assert find(global_2, augmentation.Solarize) == [0.2]
    assert find(local, augmentation.GaussianBlur) == [0.5]
    cifar = augmentation.dino_multicrop(32, num_local=2)
    assert cifar.output_sizes == [(32, 32)] * 2 + [(16, 16)] * 2
    assert all(find(p, augmentation.GaussianBlur) == [] for p in cifar.pipelines)


def test_views_have_their_sizes_and_config_round_trips():
    (x, _), _ = keras_ssl.data.load_sample()
    augmenter = augmentation.swav_multicrop(32, num_local=3, local_size=12, seed=3)
    views = augmenter(x[:4])
    assert [tuple(v.shape) for v in views] == [(4, 32, 32, 3)] * 2 + [(4, 12, 12, 3)] * 3
    assert all(0 <= float(np.min(v)) and float(np.max(v)) <= 255 for v in views)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(augmenter))
    assert isinstance(clone, augmentation.MultiCrop)
    assert (clone.num_global_crops, clone.num_local_crops) == (2, 3)
    assert clone.output_sizes == augmenter.output_sizes


def test_errors():
    crop = augmentation.RandomResizedCrop
    with pytest.raises(ValueError, match="global_pipelines"):
        augmentation.MultiCrop([], [[crop(8, 8)]])
    with pytest.raises(ValueError, match="All global crops must have one size"):
        augmentation.MultiCrop([[crop(16, 16)], [crop(12, 12)]])
    with pytest.raises(ValueError, match="local_size"):
        augmentation.swav_multicrop(32, local_size=48)
    with pytest.raises(ValueError, match="num_local"):
        augmentation.dino_multicrop(32, num_local=-1)
    with pytest.raises(ValueError, match="size"):
        augmentation.swav_multicrop(0)
