"""Backbones at real resolution, checked cheaply: ResNet-50's ImageNet stem,
the ViTs' 224 px patch grid, a `keras.applications` model as a method's
backbone. The 224 px training sweep is `benchmarks/backbones_224.py`
(docs/backbones.md)."""

import keras
import numpy as np

import keras_ssl
from keras_ssl import backbones


def test_resnet50_imagenet_stem_downsamples_by_four_and_gives_2048_features():
    model = backbones.resnet50((64, 64, 3))  # the ImageNet stem is the default
    conv = model.get_layer("stem_conv")
    pool = model.get_layer("stem_pool")
    assert (conv.kernel_size, conv.strides, conv.filters) == ((7, 7), (2, 2), 64)
    assert isinstance(pool, keras.layers.MaxPooling2D)
    assert (pool.pool_size, pool.strides) == ((3, 3), (2, 2))
    assert pool.output.shape[1:3] == (16, 16)  # 224 px -> 56, as torchvision
    assert model.get_layer("stage4_block3_out").output.shape[1:] == (2, 2, 2048)
    assert model.output_shape == (None, 2048)
    features = model(np.zeros((2, 64, 64, 3), "float32"))
    assert tuple(features.shape) == (2, 2048)


def test_vit_at_224_px_cuts_a_14x14_grid_of_16_px_patches():
    model = backbones.vit((224, 224, 3), patch_size=16, width=16, depth=1, num_heads=2)
    assert model.get_layer("patch_embedding").output.shape[1:] == (14, 14, 16)
    assert tuple(model(np.zeros((2, 224, 224, 3), "float32")).shape) == (2, 16)


def test_vit_base_has_the_vit_b_16_size():
    model = backbones.vit_base()
    count = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    # timm's vit_base_patch16_224 (86,567,656) has a 1000-way head and a
    # learned position embedding (197 x 768) on top.
    assert count == 85_647_360 == 86_567_656 - (768 * 1000 + 1000) - 197 * 768
    assert model.output_shape == (None, 768)


def test_a_keras_application_trains_as_a_simclr_backbone():
    # MobileNetV3 rescales raw pixels itself: no preprocessing of ours.
    application = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, pooling="avg", weights=None, minimalistic=True
    )
    model = keras_ssl.SimCLR(application, preprocessing=None, projection_dims=(32, 16))
    assert model.feature_dim == application.output_shape[-1]
    model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32") for _ in range(2))
    before = [np.asarray(w) for w in application.trainable_weights]
    loss = model.train_on_batch(views, return_dict=True)["loss"]
    assert np.isfinite(loss) and int(model.step) == 1
    after = application.trainable_weights
    assert any(not np.allclose(b, np.asarray(a)) for b, a in zip(before, after))
