"""MoCo v1/v2/v3: defaults, queue, loss against NumPy, learning."""

import keras
import numpy as np
import pytest

import keras_ssl
from tests import reference
from tests.utils import is_zero
from tests.utils import variable_gradients
from tests.methods.momentum_utils import SIZE
from tests.methods.momentum_utils import build
from tests.methods.momentum_utils import fixed_views
from tests.methods.momentum_utils import sample_images

V3_HEADS = dict(projection_dims=(32, 16), prediction_dims=(32, 16))


@pytest.fixture(scope="module")
def images():
    return sample_images(128)[0]


def test_defaults_per_version_and_image_size():
    small = keras_ssl.backbones.small_cnn((32, 32, 3))
    v1 = keras_ssl.MoCo(small, version=1)
    assert (v1.queue_size, v1.temperature, v1.base_momentum) == (4096, 0.1, 0.99)
    assert v1.projection_dims == (128,) and v1.momentum_schedule == "constant"
    assert v1.queue.keys.shape == (4096, 128)
    split = [l for l in v1.target_encoder._flatten_layers() if "Split" in type(l).__name__]
    assert len(split) == 4 and split[0].num_splits == 8  # shuffling BN, one device
    assert not any("Split" in type(l).__name__ for l in v1.encoder._flatten_layers())
    big = keras_ssl.backbones.small_cnn((96, 96, 3))
    v2 = keras_ssl.MoCo(big, version=2)
    assert (v2.queue_size, v2.temperature, v2.base_momentum) == (65536, 0.2, 0.999)
    assert v2.projection_dims == (256, 128)
    assert keras_ssl.MoCo(big, version=1).temperature == 0.07
    v3 = keras_ssl.MoCo(big, version=3)
    assert v3.queue is None and v3.temperature == 1.0 and v3.momentum_schedule == "cosine"
    assert v3.projection_dims == (4096, 256) and v3.predictor.output_shape == (None, 256)
    last_bn = v3.projector.layers[-1]
    assert isinstance(last_bn, keras.layers.BatchNormalization) and not last_bn.trainable_weights
    assert not any(getattr(l, "use_bias", False) for l in v3.projector.layers)
    vit = keras_ssl.backbones.vit(
        (32, 32, 3), patch_size=8, width=32, depth=1, num_heads=2, freeze_patch_embedding=True
    )
    v3_vit = keras_ssl.MoCo(vit, version=3, **V3_HEADS)
    assert v3_vit.temperature == 0.2
    assert v3_vit.augmenter.pipelines[0][0].scale == (0.08, 1.0)
    # The official ViT recipe: a 3-layer projector, BN after every layer.
    v3_vit = keras_ssl.MoCo(vit, version=3, prediction_dims=(16, 256))
    assert v3_vit.projection_dims == (4096, 4096, 256)
    kinds = [type(l).__name__ for l in v3_vit.projector.layers]
    assert kinds.count("Dense") == 3 and sum("BatchNormalization" in k for k in kinds) == 3


def test_bad_arguments_raise(images):
    small = keras_ssl.backbones.small_cnn((SIZE, SIZE, 3))
    with pytest.raises(ValueError, match="version"):
        keras_ssl.MoCo(small, version=4)
    with pytest.raises(ValueError, match="no queue"):
        keras_ssl.MoCo(small, version=3, queue_size=64)
    with pytest.raises(ValueError, match="temperature"):
        keras_ssl.MoCo(small, temperature=0.0)
    model = build(keras_ssl.MoCo, version=2, queue_size=16, symmetric=True)
    with pytest.raises(ValueError, match="queue_size=16"):
        model.fit(images[:32], batch_size=16, verbose=0)
    assert int(model.step.numpy()) == 0 and int(model.queue.pointer.numpy()) == 0
    model.fit(images[:32], batch_size=8, verbose=0)  # 2 x 8 keys fit
    assert int(model.queue.pointer.numpy()) == 0  # 4 steps x 16 keys, wrapped


def test_version_3_builds_a_moco_v3_and_arguments_that_do_not_apply_raise():
    small = keras_ssl.backbones.small_cnn((SIZE, SIZE, 3))
    v3 = keras_ssl.MoCo(small, version=3, **V3_HEADS)
    assert type(v3) is keras_ssl.MoCoV3 and isinstance(v3, keras_ssl.MoCo)
    assert keras_ssl.MoCo(small, 3, queue_size=0, **V3_HEADS).queue is None
    assert "queue_size" not in v3.get_config() and "symmetric" not in v3.get_config()
    assert type(keras_ssl.MoCo(small, version=1, queue_size=16)) is keras_ssl.MoCo
    with pytest.raises(ValueError, match="needs a queue.*queue_size=0"):
        keras_ssl.MoCo(small, version=2, queue_size=0)
    with pytest.raises(ValueError, match="no predictor.*prediction_dims"):
        keras_ssl.MoCo(small, version=1, queue_size=16, prediction_dims=(8, 4))
    with pytest.raises(ValueError, match="symmetric"):
        keras_ssl.MoCo(small, version=3, symmetric=True, **V3_HEADS)
    with pytest.raises(ValueError, match="version=2"):
        keras_ssl.MoCoV3(small, version=2)


def test_key_encoder_weights_are_the_same_with_or_without_split_bn():
    # The replicas at construction pick SplitBatchNormalization (one device)
    # or BatchNormalization (a strategy) in the key encoder: the weights are
    # the same, so a model saved under one count loads under another.
    split = keras_ssl.MoCo(keras_ssl.backbones.small_cnn((SIZE, SIZE, 3)), queue_size=16)
    plain = keras_ssl.MoCo(
        keras_ssl.backbones.small_cnn((SIZE, SIZE, 3)), queue_size=16, shuffle_bn=False
    )
    assert split._split_bn and not plain._split_bn
    def layout(model):
        return [(w.name, tuple(w.shape)) for w in model.weights]

    assert layout(split) == layout(plain)
    plain.set_weights(split.get_weights())
    for a, b in zip(plain.weights, split.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_queue_holds_the_last_keys_in_order_and_wraps(images):
    # momentum 1: the key encoder never moves, so keys are reproducible.
    model = build(keras_ssl.MoCo, version=2, queue_size=24, momentum=1.0)
    data = fixed_views(model, images, batches=4, batch_size=8)
    initial = np.asarray(model.queue.keys).copy()
    expected_keys = [
        reference.l2n(np.asarray(model.target(views[1], training=True)))
        for (views,) in data
    ]
    model.fit(data, verbose=0)
    keys = np.asarray(model.queue.keys)
    assert int(model.queue.pointer.numpy()) == 32 % 24
    # rows 0..7 were written by batch 0 then overwritten by batch 3 (wrap)
    np.testing.assert_allclose(keys[0:8], expected_keys[3], atol=1e-5)
    np.testing.assert_allclose(keys[8:16], expected_keys[1], atol=1e-5)
    np.testing.assert_allclose(keys[16:24], expected_keys[2], atol=1e-5)
    assert not np.allclose(keys[8:16], initial[8:16])


def test_v2_loss_equals_numpy_infonce_against_the_queue(images):
    model = build(keras_ssl.MoCo, version=2, queue_size=32, momentum=1.0, temperature=0.2)
    (views,) = next(iter(fixed_views(model, images)))
    queue = np.asarray(model.queue.keys).copy()
    key = np.asarray(model.target(views[1], training=True))
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    query = np.asarray(outputs["queries"][0])
    assert float(loss) == pytest.approx(reference.info_nce(query, key, queue, 0.2), rel=1e-5)
    np.testing.assert_allclose(np.asarray(model.queue.keys)[:8], reference.l2n(key), atol=1e-5)
    # Keys are stop-gradient: nothing reaches the key encoder; the queue is
    # state the optimizer never sees.
    online, keys = model.trainable_weights, model.target_encoder.weights
    grads = variable_gradients(
        lambda: model.compute_loss(x=views, y_pred=model(views, training=True), training=True),
        online + keys,
    )
    assert not any(is_zero(g) for g in grads[: len(online)])
    assert all(is_zero(g) for g in grads[len(online) :])
    assert all(w is not model.queue.keys for w in online)


def test_symmetric_v2_and_v3_losses_equal_references(images):
    model = build(keras_ssl.MoCo, version=2, queue_size=32, momentum=1.0, symmetric=True)
    (views,) = next(iter(fixed_views(model, images)))
    queue = np.asarray(model.queue.keys).copy()
    keys = [np.asarray(model.target(v, training=True)) for v in views]
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    q1, q2 = (np.asarray(q) for q in outputs["queries"])
    expected = (
        reference.info_nce(q1, keys[1], queue, 0.1) + reference.info_nce(q2, keys[0], queue, 0.1)
    ) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert int(model.queue.pointer.numpy()) == 16

    v3 = build(keras_ssl.MoCo, version=3, momentum=1.0, **V3_HEADS)
    keys = [np.asarray(v3.target(v, training=True)) for v in views]
    outputs = v3(views, training=True)
    loss = v3.compute_loss(x=views, y_pred=outputs, training=True)
    q1, q2 = (np.asarray(q) for q in outputs["queries"])
    assert float(loss) == pytest.approx(reference.moco_v3(q1, q2, *keys, 0.2), rel=1e-5)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_short_run_on_real_images_lowers_the_loss(images, version):
    # v1/v2: a queue of two batches and 2 BN groups of 16 keys (8 groups of
    # 4 would make the keys mostly noise at this batch size).
    if version < 3:
        kwargs = dict(queue_size=64, bn_splits=2, temperature=0.2, lr=0.03, momentum=0.99)
    else:
        kwargs = dict(lr=0.1, momentum=0.9, **V3_HEADS)
    model = build(keras_ssl.MoCo, version=version, **kwargs)
    data = fixed_views(model, images[:128], batches=4, batch_size=32)
    losses = model.fit(data, epochs=6, verbose=0).history["loss"]
    # Epoch 1 starts with a random queue; from epoch 2 it holds real keys.
    assert losses[-1] < losses[1] - 0.3, losses
