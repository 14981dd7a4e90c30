import keras
import numpy as np
import pytest

import keras_ssl
from keras_ssl import backbones
from keras_ssl.backbones.vit import ClassToken, SinCosPositionEmbedding2D
from tests import reference

WIDTH = 32


def tiny_vit(input_shape=(None, None, 3), **kwargs):
    keras.utils.set_random_seed(0)
    return backbones.vit(
        input_shape, patch_size=4, width=WIDTH, depth=2, num_heads=2, **kwargs
    )


def _images(height=32, width=None, batch=2):
    rng = np.random.default_rng(0)
    shape = (batch, height, width or height, 3)
    return rng.normal(size=shape).astype("float32")


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_output_shapes_at_several_sizes():
    model = tiny_vit()
    assert model.output_shape == (None, WIDTH)
    for height, width in ((32, 32), (16, 16), (16, 24)):
        features = _numpy(model(_images(height, width)))
        assert features.shape == (2, WIDTH)
        assert np.all(np.isfinite(features))


def test_output_is_final_layer_norm_class_token():
    model = tiny_vit((16, 16, 3))
    tokens = keras.Model(model.input, model.get_layer("final_ln").output)
    x = _images(16)
    assert tokens.output_shape == (None, 1 + 4 * 4, WIDTH)
    np.testing.assert_allclose(
        _numpy(model(x)), _numpy(tokens(x))[:, 0], rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("grid", [(4, 4), (3, 5), (8, 2)])
def test_position_embedding_matches_reference(grid):
    layer = SinCosPositionEmbedding2D()
    embedding = _numpy(layer(np.zeros((1, *grid, 64), "float32")))[0]
    expected = reference.sincos_position_embedding_2d(*grid, 64)
    np.testing.assert_allclose(
        embedding.reshape(-1, 64), expected[1:], rtol=1e-5, atol=1e-5
    )
    assert not layer.weights


def test_class_token_gets_no_position_embedding():
    # At init the patch projection's bias is zero, so black images give tokens
    # that are the position embedding, plus the class token in front.
    model = tiny_vit((16, 24, 3))
    tokens = keras.Model(model.input, model.get_layer("class_token").output)
    out = _numpy(tokens(np.zeros((1, 16, 24, 3), "float32")))[0]
    class_token = _numpy(model.get_layer("class_token").token)
    expected = reference.sincos_position_embedding_2d(4, 6, WIDTH)
    expected[0] = class_token
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert np.std(class_token) == pytest.approx(0.02, rel=0.5)


def test_frozen_patch_projection_keeps_its_weights():
    def train(model):
        classifier = keras.Sequential([model, keras.layers.Dense(3)])
        classifier.compile(
            optimizer=keras.optimizers.SGD(0.1),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        before = [_numpy(w) for w in model.weights]
        classifier.fit(
            _images(16, batch=8), np.arange(8) % 3, batch_size=4, epochs=2, verbose=0
        )
        return {
            w.path: not np.array_equal(b, _numpy(w))
            for w, b in zip(model.weights, before)
        }

    frozen = tiny_vit((16, 16, 3), freeze_patch_embedding=True)
    patch = frozen.get_layer("patch_embedding")
    assert not patch.trainable and not patch.trainable_weights
    moved = train(frozen)
    patch_paths = {w.path for w in patch.weights}
    assert not any(moved[path] for path in patch_paths)
    assert all(moved[path] for path in moved if path not in patch_paths)

    trained = tiny_vit((16, 16, 3))
    assert all(train(trained).values())


def test_patch_projection_init_is_xavier_uniform():
    kernel = _numpy(tiny_vit().get_layer("patch_embedding").kernel)
    limit = np.sqrt(6.0 / (4 * 4 * 3 + WIDTH))  # MoCo v3's vits.py
    assert kernel.shape == (4, 4, 3, WIDTH)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit


def test_save_load_round_trip(tmp_path):
    model = tiny_vit(freeze_patch_embedding=True)
    path = str(tmp_path / "vit.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert not loaded.get_layer("patch_embedding").trainable
    assert isinstance(loaded.get_layer("class_token"), ClassToken)
    for height, width in ((32, 32), (16, 24)):
        x = _images(height, width)
        np.testing.assert_allclose(
            _numpy(loaded(x)), _numpy(model(x)), rtol=1e-6, atol=1e-6
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (30, 32, 3)}, r"divisible by `patch_size`=4.*\(30, 32, 3\)"),
        ({"input_shape": (32, 18, 3)}, r"divisible by `patch_size`=4.*\(32, 18, 3\)"),
        ({"width": 34, "num_heads": 2}, r"`width` must be divisible by 4.*width=34"),
        ({"width": 32, "num_heads": 3}, r"`num_heads`.*width=32, num_heads=3"),
        ({"input_shape": (32, 32)}, r"input_shape.*\(32, 32\)"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    arguments = dict(input_shape=(32, 32, 3), patch_size=4, width=32, depth=1)
    arguments.update(num_heads=2)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        backbones.vit(**arguments)


def _trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# Per block 12 w^2 + 13 w: attention 4 (w^2 + w), MLP 8 w^2 + 5 w, two LayerNorms 4 w;
# plus the patch projection 16 * 16 * 3 * w + w, the class token w and the final
# LayerNorm 2 w. timm's vit_small_patch16_224 / vit_tiny_patch16_224 have 22,050,664 /
# 5,717,416 with their 1000-way head and a learned position embedding (197 * w).
@pytest.mark.parametrize(
    "builder, width, count",
    [(backbones.vit_tiny, 192, 5_486_592), (backbones.vit_small, 384, 21_590_016)],
)
def test_deit_sizes(builder, width, count):
    model = builder()
    assert model.output_shape == (None, width)
    assert _trainable_count(model) == count
    timm_head_and_position = 1000 * width + 1000 + 197 * width
    assert count + timm_head_and_position == {192: 5_717_416, 384: 22_050_664}[width]
    blocks = [layer for layer in model.layers if layer.name.endswith("_attention")]
    assert len(blocks) == 12
    assert blocks[0].num_heads == width // 64
    norms = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.LayerNormalization)
    ]
    assert len(norms) == 25 and all(norm.epsilon == 1e-6 for norm in norms)


def test_mixed_precision_output():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        model = tiny_vit()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    features = model(_images())
    assert keras.backend.standardize_dtype(features.dtype) == "bfloat16"
    assert np.all(np.isfinite(_numpy(keras.ops.cast(features, "float32"))))


def test_simclr_fit_step_on_tiny_vit():
    (x, _), _ = keras_ssl.data.load_sample()
    model = keras_ssl.SimCLR(tiny_vit(), input_shape=(32, 32, 3))
    model.compile(optimizer=keras.optimizers.AdamW(1e-3))
    history = model.fit(x[:16], batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    assert int(model.step) == 2
    assert model.predict(x[:4], verbose=0).shape == (4, WIDTH)
