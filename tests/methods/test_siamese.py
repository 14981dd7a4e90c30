import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from tests import reference


@pytest.fixture(scope="module")
def images():
    (x, y), _ = keras_ssl.data.load_sample()
    return x[::50], y[::50]  # the sample is sorted by class: 80 mixed images


def make_model(**kwargs):
    keras.utils.set_random_seed(1)
    model = keras_ssl.SiameseContrastive(keras_ssl.backbones.small_cnn((32, 32, 3)), **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_construction_defaults_and_attributes():
    model = make_model()
    assert model.margin == 1.0 and model.embedding_dim == 128 and model.num_negatives == 1
    assert model.projector.output_shape == (None, 128)
    assert model.num_views == 2 and model.count_params() > 0
    with pytest.raises(ValueError, match="margin"):
        make_model(margin=0.0)
    with pytest.raises(ValueError, match="num_negatives"):
        make_model(num_negatives=0)


def test_self_supervised_pairing_equals_reference():
    model = make_model(num_negatives=2)
    rng = np.random.default_rng(0)
    views = tuple(rng.uniform(0, 255, (5, 32, 32, 3)).astype("float32") for _ in range(2))
    outputs = model(views, training=True)
    loss = model.compute_loss(x=views, y_pred=outputs, training=True)
    e1, e2 = (np.asarray(e) for e in outputs["embeddings"])
    a = np.concatenate([e1, e1, e1])
    b = np.concatenate([e2, np.roll(e2, 1, axis=0), np.roll(e2, 2, axis=0)])
    similar = np.concatenate([np.ones(5), np.zeros(10)])
    assert float(loss) == pytest.approx(reference.contrastive_margin(a, b, similar, 1.0), rel=1e-5)


def test_labelled_pairs_loss_equals_reference(images):
    model = make_model()
    pairs = keras_ssl.data.make_pairs(images, 0.5, num_pairs=6, seed=0)
    views = (
        pairs["first"].astype("float32"), pairs["second"].astype("float32"), pairs["is_similar"]
    )
    outputs = model.forward(views, training=True)
    loss = model.compute_ssl_loss(outputs, training=True)
    e1, e2 = (np.asarray(e) for e in outputs["embeddings"])
    expected = reference.contrastive_margin(e1, e2, pairs["is_similar"], 1.0)
    assert float(loss) == pytest.approx(expected, rel=1e-5)



def test_energy_loss_equals_reference_on_both_pairings(images):
    model = make_model(objective="energy", q=4.0, num_negatives=2)
    pairs = keras_ssl.data.make_pairs(images, 0.5, num_pairs=6, seed=0)
    views = (
        pairs["first"].astype("float32"), pairs["second"].astype("float32"), pairs["is_similar"]
    )
    outputs = model.forward(views, training=False)
    e1, e2 = (np.asarray(e) for e in outputs["embeddings"])
    expected = reference.siamese_energy(e1, e2, pairs["is_similar"], 4.0)
    assert float(model.compute_ssl_loss(outputs, training=False)) == pytest.approx(expected, rel=1e-5)
    # Self-supervised pairing: each first view against the second views rolled by 0, 1, 2.
    outputs = model.forward((*views[:2], None), training=False)
    a = np.concatenate([e1] * 3)
    b = np.concatenate([e2, np.roll(e2, 1, axis=0), np.roll(e2, 2, axis=0)])
    similar = np.concatenate([np.ones(6), np.zeros(12)])
    expected = reference.siamese_energy(a, b, similar, 4.0)
    assert float(model.compute_ssl_loss(outputs, training=False)) == pytest.approx(expected, rel=1e-5)
    restored = keras_ssl.SiameseContrastive.from_config(model.get_config())
    assert (restored.objective, restored.q) == ("energy", 4.0)
    with pytest.raises(ValueError, match="objective='hinge'"):
        make_model(objective="hinge")
    with pytest.raises(ValueError, match="q=0"):
        make_model(objective="energy", q=0)

def test_fit_on_labelled_pairs_lowers_the_loss(images):
    model = make_model()
    pairs = keras_ssl.data.make_pairs(images, 0.5, num_pairs=32, seed=0)
    ds = tf.data.Dataset.from_tensors(pairs)
    losses = model.fit(ds.repeat(5), epochs=2, verbose=0).history["loss"]
    assert losses[-1] < losses[0], losses
    assert model.embed(pairs["first"][:3]).shape == (3, 128)
    with pytest.raises(ValueError, match="keys"):
        model.fit({"first": pairs["first"], "second": pairs["second"]}, verbose=0)


def test_self_supervised_fit_lowers_the_loss(images):
    model = make_model()
    views = tuple(np.asarray(v) for v in model.augmenter(images[0][:32], training=True))
    ds = tf.data.Dataset.from_tensors((views,))
    losses = model.fit(ds.repeat(5), epochs=2, verbose=0).history["loss"]
    assert losses[-1] < losses[0], losses
