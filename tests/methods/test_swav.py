import keras
import numpy as np
import pytest

import keras_ssl
from tests import reference
from tests.methods import checks


@pytest.fixture(scope="module")
def images():
    (x, _), _ = keras_ssl.data.load_sample()
    return x[:64]


def make_model(**kwargs):
    keras.utils.set_random_seed(1)
    kwargs.setdefault("projection_dims", (64, 32))
    kwargs.setdefault("num_prototypes", 20)
    kwargs.setdefault("augmenter", keras_ssl.augmentation.swav_multicrop(16, num_local=2, local_size=8))
    backbone = keras_ssl.backbones.small_cnn((None, None, 3))
    model = keras_ssl.SwAV(backbone, input_shape=(16, 16, 3), **kwargs)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, weight_decay=5e-4))
    return model


def random_views(model, n=8, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(
        rng.uniform(0, 255, (n, h, w, 3)).astype("float32") for h, w in model.augmenter.output_sizes
    )


def test_construction_defaults_and_attributes():
    backbone = keras_ssl.backbones.small_cnn((None, None, 3))
    model = keras_ssl.SwAV(backbone, input_shape=(32, 32, 3))
    assert model.projection_dims == (2048, 128) and model.num_prototypes == 3000
    assert (model.temperature, model.epsilon, model.sinkhorn_iterations) == (0.1, 0.05, 3)
    assert model.freeze_prototypes_epochs == 1 and model.queue is None
    assert model.num_views == 2 and model.assign_crops == (0, 1)  # CIFAR: 2 crops
    assert model.augmenter.output_sizes == [(32, 32), (32, 32)]
    large = keras_ssl.SwAV(backbone, input_shape=(96, 96, 3), num_prototypes=10)
    assert large.num_views == 8 and large.augmenter.output_sizes[1:3] == [(96, 96), (41, 41)]
    assert model.encoder.input_shape == (None, None, None, 3)  # takes every crop size
    kernel = np.asarray(model.prototypes.kernel)
    assert kernel.shape == (128, 3000)
    np.testing.assert_allclose(np.linalg.norm(kernel, axis=0), 1.0, atol=1e-5)
    queued = make_model(queue_size=40)
    assert tuple(queued.queue.shape) == (2, 40, 32) and not queued.queue.trainable


def test_backbone_that_rejects_a_crop_size_raises_naming_it():
    backbone = keras.Sequential(
        [keras.Input((16, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(8)]
    )
    with pytest.raises(ValueError, match="fails on 8x8 crops"):
        keras_ssl.SwAV(backbone, augmenter=keras_ssl.augmentation.swav_multicrop(16, local_size=8))
    with pytest.raises(ValueError, match="temperature"):
        make_model(temperature=0.0)
    with pytest.raises(ValueError, match="epsilon"):
        make_model(epsilon=0.0)


def test_loss_equals_reference_on_scores():
    model = make_model()
    views = random_views(model)
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    scores = [np.asarray(s) for s in outputs["scores"]]
    assert len(scores) == 4
    assert float(loss) == pytest.approx(reference.swav(scores), rel=1e-5)
    z = np.concatenate([np.asarray(e) for e in outputs["embeddings"]])
    np.testing.assert_allclose(z @ np.asarray(model.prototypes.kernel), np.concatenate(scores), atol=1e-5)


def test_initial_loss_is_near_ln_k(images):
    # METHODS.md 11: random unit embeddings and prototypes (K = 3000, d = 128)
    # give about 8.39 against ln K = 8.006 (codes are sharper than predictions).
    model = make_model(projection_dims=(256, 128), num_prototypes=3000)
    views = tuple(v[:, :, :] for v in model.augmenter(images[:32], training=True))
    loss = float(model.compute_loss(x=views, y_pred=model(views, training=True)))
    assert abs(loss - np.log(3000)) < 0.1 * np.log(3000), loss


def test_queue_rows_join_sinkhorn_once_active_and_full():
    model = make_model(queue_size=8, queue_start_epoch=1)
    rng = np.random.default_rng(0)
    queue = reference.l2n(rng.normal(size=(2, 8, 32))).astype("float32")
    model.queue.assign(queue)
    views = random_views(model, n=4)
    outputs = model(views, training=False)  # inference mode: no state touched
    outputs = model.forward(views, training=False)
    scores = [np.asarray(s) for s in outputs["scores"]]
    kernel = np.asarray(model.prototypes.kernel)
    assert float(model.compute_ssl_loss(outputs, training=False)) == pytest.approx(
        reference.swav(scores), rel=1e-5
    )  # epoch 0 < queue_start_epoch: queue not used
    model.epoch.assign(1)
    expected = 0.0
    for a in range(2):
        codes = reference.sinkhorn(np.concatenate([queue[a] @ kernel, scores[a]]))[8:]
        for v in range(4):
            if v != a:
                logits = scores[v] / 0.1
                expected += np.mean(-np.sum(codes * (logits - reference.logsumexp(logits)[:, None]), 1))
    value = float(model.compute_ssl_loss(outputs, training=True))
    assert value == pytest.approx(expected / 6, rel=1e-5)
    # Enqueue: the batch's embeddings of each global crop first, oldest dropped.
    new = np.asarray(model.queue)
    for a in range(2):
        np.testing.assert_allclose(new[a, :4], np.asarray(outputs["embeddings"][a]), atol=1e-6)
        np.testing.assert_allclose(new[a, 4:], queue[a, :4], atol=1e-6)


def test_prototypes_frozen_in_the_first_epoch_then_unit_norm_after_every_update(images):
    model = make_model()
    norms = []

    class RecordNorms(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            norms.append(np.linalg.norm(np.asarray(self.model.prototypes.kernel), axis=0))

    import tensorflow as tf

    views = checks.premade_views(model, images[:32])
    data = tf.data.Dataset.from_tensor_slices((views,)).batch(16)
    start = np.asarray(model.prototypes.kernel)
    model.fit(data, epochs=1, verbose=0, callbacks=[RecordNorms()])
    # Frozen phase (epoch 0), SGD with momentum and weight decay: no movement.
    np.testing.assert_allclose(np.asarray(model.prototypes.kernel), start, atol=1e-6)
    model.fit(data, epochs=2, initial_epoch=1, verbose=0, callbacks=[RecordNorms()])
    assert int(model.epoch) == 1 and int(model.step) == 4
    assert np.abs(np.asarray(model.prototypes.kernel) - start).max() > 1e-4  # now learning
    assert len(norms) == 4
    np.testing.assert_allclose(np.stack(norms), 1.0, atol=1e-5)


def test_fit_on_premade_multisize_views_lowers_the_loss(images):
    model = make_model(freeze_prototypes_epochs=0)
    checks.check_fit_lowers_the_loss(model, images[:32], margin=0.05, evaluate=False)


@pytest.mark.backend_specific
def test_save_load_resumes_with_queue_and_epoch(tmp_path):
    # The registry's SwAV has no queue: the contract's round trip with one.
    model = make_model(queue_size=24)
    model.run_eagerly = True
    model.epoch.assign(2)
    batches = [(random_views(model, seed=seed), None) for seed in range(3)]
    loaded = checks.check_save_load_resumes(
        model, batches, str(tmp_path / "swav.keras"), state_names=("queue",)
    )
    assert int(loaded.epoch) == 2


def test_mixed_bfloat16_keeps_scores_and_loss_in_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = make_model()
        views = random_views(model)
        outputs = model(views, training=True)
        loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert keras.backend.standardize_dtype(outputs["scores"][0].dtype) == "float32"
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    assert np.isfinite(float(loss))


def test_fit_on_raw_images_makes_multisize_crops_in_the_step(images):
    # Crop-only MultiCrop: the in-graph view path without the color ops' trace.
    crop = keras_ssl.augmentation.RandomResizedCrop
    augmenter = keras_ssl.augmentation.MultiCrop(
        [[crop(16, 16)] for _ in range(2)], [[crop(8, 8)] for _ in range(2)]
    )
    (_, y), _ = keras_ssl.data.load_sample()
    model = make_model(augmenter=augmenter, num_classes=10)
    history = model.fit(images[:32], y[:32], batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "probe_accuracy" in history.history
    assert int(model.step) == 2 and int(model.epoch) == 0
    with pytest.raises(ValueError, match="holds 2 views"):
        model.fit((images[:16, :16, :16], images[:16, :8, :8]), epochs=1, verbose=0)
