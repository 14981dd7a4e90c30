"""The view presets: each view's layers and their paper numbers."""

import numpy as np
import pytest

from keras_ssl import augmentation


def names(pipeline):
    return [
        type(getattr(layer, "layer", layer)).__name__ + ("?" if hasattr(layer, "rate") else "")
        for layer in pipeline
    ]


def jitter(pipeline):
    layer = next(l for l in pipeline if "ColorJitter" in names([l])[0])
    layer = getattr(layer, "layer", layer)
    return (layer.brightness, layer.contrast, layer.saturation, layer.hue)


def test_moco_v1_views():
    for pipeline in augmentation.moco_v1_views(224).pipelines:
        assert names(pipeline) == [
            "RandomResizedCrop", "RandomGrayscale?", "ColorJitter", "RandomFlip"
        ]
        assert pipeline[0].scale == (0.2, 1.0) and jitter(pipeline) == (0.4, 0.4, 0.4, 0.4)


@pytest.mark.parametrize("size, blur", [(224, True), (32, False)])
def test_moco_v2_views(size, blur):
    for pipeline in augmentation.moco_v2_views(size).pipelines:
        assert pipeline[0].scale == (0.2, 1.0) and jitter(pipeline) == (0.4, 0.4, 0.4, 0.1)
        assert pipeline[2].rate == pytest.approx(0.8)
        assert ("GaussianBlur?" in names(pipeline)) == blur
        if blur:
            assert pipeline[-1].rate == pytest.approx(0.5)


def test_byol_views_are_asymmetric_and_run():
    view_1, view_2 = augmentation.byol_views(64, cifar=False, seed=0).pipelines
    assert names(view_1)[-1] == "GaussianBlur"  # probability 1
    assert names(view_2)[-2:] == ["GaussianBlur?", "Solarize?"]
    assert view_2[-2].rate == pytest.approx(0.1) and view_2[-1].rate == pytest.approx(0.2)
    assert jitter(view_1) == (0.4, 0.4, 0.2, 0.1) and view_1[0].scale == (0.08, 1.0)
    cifar_1, cifar_2 = augmentation.byol_views(32, min_scale=0.2).pipelines
    assert "GaussianBlur" not in str(names(cifar_1) + names(cifar_2))
    assert names(cifar_2)[-1] == "Solarize?" and cifar_1[0].scale == (0.2, 1.0)
    images = np.random.default_rng(0).integers(0, 255, (4, 40, 40, 3)).astype("uint8")
    for view in augmentation.byol_views(32, seed=1)(images):
        assert view.shape == (4, 32, 32, 3) and view.dtype == "float32"
    with pytest.raises(ValueError, match="min_scale"):
        augmentation.byol_views(32, min_scale=0.0)


@pytest.mark.parametrize("size, cells", [(224, (64, 85)), (32, (24, 32))])
def test_pirl_views(size, cells):
    image, (jigsaw,) = augmentation.pirl_views(size).pipelines
    assert names(image) == ["RandomResizedCrop", "RandomFlip", "ColorJitter?", "RandomGrayscale?"]
    assert image[0].scale == (0.08, 1.0) and jitter(image) == (0.4, 0.4, 0.4, 0.2)
    assert image[2].rate == pytest.approx(0.8) and image[3].rate == pytest.approx(0.2)
    assert (jigsaw.patch_size, jigsaw.cell_size) == cells


def test_cpc_and_clip_views():
    (pipeline,) = augmentation.cpc_views(32).pipelines
    assert names(pipeline) == ["RandomResizedCrop", "RandomFlip", "ColorJitter?", "RandomGrayscale?"]
    assert pipeline[0].scale == (0.3, 1.0) and jitter(pipeline) == (0.4, 0.4, 0.4, 0.1)
    ((crop,),) = augmentation.clip_views(32).pipelines
    assert crop.scale == (0.5, 1.0) and tuple(crop.ratio) == (1.0, 1.0)
