import re

import keras
import numpy as np
import pytest

from keras_ssl import backbones

# torchvision's parameter counts minus the 1000-way classifier (512 * 1000 + 1000 for
# ResNet-18/34, 2048 * 1000 + 1000 for ResNet-50): 11,689,512, 21,797,672 and
# 25,557,032 in torchvision. The CIFAR stem trades the 7x7x3x64 stem convolution
# (9,408) for a 3x3x3x64 one (1,728). Keras also counts BatchNormalization moving
# statistics, which PyTorch keeps as buffers, so the counts compare trainable weights.
PARAM_COUNTS = [
    ("resnet18_imagenet", 11_176_512),
    ("resnet18_cifar", 11_168_832),
    ("resnet34_imagenet", 21_284_672),
    ("resnet50_imagenet", 23_508_032),
    # 3 * 3 * (3 * 32 + 32 * 64 + 64 * 128 + 128 * 256) kernels + 2 * 480 BN weights.
    ("small_cnn", 388_896),
]
FEATURE_DIMS = {
    "resnet18_imagenet": 512,
    "resnet18_cifar": 512,
    "resnet34_imagenet": 512,
    "resnet50_imagenet": 2048,
    "small_cnn": 256,
}
BUILDERS = {
    "resnet18_imagenet": lambda: backbones.resnet18(input_shape=(32, 32, 3)),
    "resnet18_cifar": lambda: backbones.resnet18(stem="cifar"),
    "resnet34_imagenet": lambda: backbones.resnet34(input_shape=(32, 32, 3)),
    "resnet50_imagenet": lambda: backbones.resnet50(input_shape=(32, 32, 3)),
    "small_cnn": lambda: backbones.small_cnn(),
}


@pytest.fixture(scope="module")
def models():
    return {key: build() for key, build in BUILDERS.items()}


def _images(size=32, batch=2):
    rng = np.random.default_rng(0)
    return rng.normal(size=(batch, size, size, 3)).astype("float32")


def _trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("key", list(BUILDERS))
def test_output_shape(models, key):
    features = keras.ops.convert_to_numpy(models[key](_images()))
    assert features.shape == (2, FEATURE_DIMS[key])
    assert features.dtype == np.float32
    assert np.all(np.isfinite(features))


@pytest.mark.parametrize("key, count", PARAM_COUNTS)
def test_trainable_parameter_count(models, key, count):
    assert _trainable_count(models[key]) == count


def test_variable_input_size(models):
    for model in (models["resnet18_cifar"], backbones.small_cnn((None, None, 3))):
        dim = model.output_shape[-1]
        for size in (32, 24):
            assert tuple(model(_images(size)).shape) == (2, dim)


def test_stem_downsampling():
    # Feature maps match torchvision's (padding k // 2 on strided convolutions):
    # 225 px -> 113 (stem conv) -> 57 (max-pool) -> 57, 29, 15, 8.
    def stage_sizes(model):
        names = [f"stage{stage}_block2_out" for stage in range(1, 5)]
        return [model.get_layer(name).output.shape[1] for name in names]

    imagenet = backbones.resnet18(input_shape=(225, 225, 3))
    assert stage_sizes(imagenet) == [57, 29, 15, 8]
    cifar = backbones.resnet18(input_shape=(32, 32, 3), stem="cifar")
    assert stage_sizes(cifar) == [32, 16, 8, 4]
    assert "stem_pool" not in [layer.name for layer in cifar.layers]


@pytest.mark.parametrize(
    "builder", [backbones.resnet18, backbones.resnet34, backbones.resnet50]
)
def test_invalid_stem_raises(builder):
    with pytest.raises(ValueError, match=r"stem.*'cifar10'") as error:
        builder(stem="cifar10")
    assert "imagenet" in str(error.value) and "'cifar'" in str(error.value)


def _block_gammas(model):
    """{block name: [gamma of bn1, bn2, ...]} for the residual branch of each block."""
    blocks = {}
    for layer in model.layers:
        match = re.fullmatch(r"(stage\d_block\d+)_bn(\d)", layer.name)
        if match:
            gamma = keras.ops.convert_to_numpy(layer.gamma)
            blocks.setdefault(match[1], {})[int(match[2])] = gamma
    return {block: [bns[i] for i in sorted(bns)] for block, bns in blocks.items()}


@pytest.mark.parametrize(
    "builder, num_blocks, num_bns",
    [(backbones.resnet18, 8, 2), (backbones.resnet50, 16, 3)],
)
def test_zero_init_residual(builder, num_blocks, num_bns):
    blocks = _block_gammas(builder(input_shape=(32, 32, 3), zero_init_residual=True))
    assert len(blocks) == num_blocks
    for gammas in blocks.values():
        assert len(gammas) == num_bns
        assert np.all(gammas[-1] == 0.0)
        assert all(np.all(gamma == 1.0) for gamma in gammas[:-1])


def test_zero_init_residual_off_by_default(models):
    for gammas in _block_gammas(models["resnet18_imagenet"]).values():
        assert all(np.all(gamma == 1.0) for gamma in gammas)


def test_resnet_batch_norm_matches_pytorch_defaults(models):
    for layer in models["resnet18_imagenet"].layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            assert layer.momentum == 0.9 and layer.epsilon == 1e-5
        if isinstance(layer, keras.layers.Conv2D):
            assert not layer.use_bias


def test_small_cnn_structure(models):
    model = models["small_cnn"]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [conv.filters for conv in convs] == [32, 64, 128, 256]
    assert [conv.strides for conv in convs] == [(1, 1), (2, 2), (2, 2), (2, 2)]
    assert all(conv.kernel_size == (3, 3) and conv.padding == "same" for conv in convs)
    assert not any(conv.use_bias for conv in convs)
    norms = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert len(norms) == 4
    assert isinstance(model.layers[-1], keras.layers.GlobalAveragePooling2D)
    assert model.output_shape == (None, 256)


def test_keras_application_is_a_backbone():
    model = keras.applications.MobileNetV2(
        input_shape=(32, 32, 3),
        include_top=False,
        pooling="avg",
        weights=None,
        alpha=0.35,
    )
    dim = model.output_shape[-1]
    features = model(_images())
    assert len(model.output_shape) == 2 and dim is not None
    assert tuple(features.shape) == (2, dim)
