import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from tests import reference

LENGTH = 8


@pytest.fixture(scope="module")
def pairs():
    (x, y), _ = keras_ssl.data.load_sample()
    x, y = x[:64], y[:64]
    captions = keras_ssl.data.class_captions(y, keras_ssl.data.CIFAR10_CLASSES, seed=0)
    tokenizer = keras_ssl.data.caption_tokenizer(captions, LENGTH)
    tokens = np.asarray(tokenizer(captions)).astype("int32")
    return {"images": x, "tokens": tokens}, tokenizer.vocabulary_size()


def make_model(vocabulary_size, **kwargs):
    keras.utils.set_random_seed(1)
    text = keras_ssl.backbones.text_transformer(
        vocabulary_size, LENGTH, width=32, num_layers=1, num_heads=2
    )
    model = keras_ssl.CLIP(
        keras_ssl.backbones.small_cnn((32, 32, 3)), text, embedding_dim=16, **kwargs
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def take(x, start, stop):
    return {key: value[start:stop] for key, value in x.items()}


def test_construction_defaults_and_attributes(pairs):
    model = make_model(pairs[1])
    assert float(model.logit_scale) == pytest.approx(math.log(1 / 0.07), rel=1e-6)
    assert model.logit_scale.trainable and model.embedding_dim == 16
    assert model.image_encoder is model.backbone
    assert model.image_projection.output_shape == (None, 16)
    assert model.text_projection.output_shape == (None, 16)
    assert model.num_views == 1 and int(model.step) == 0 and model.count_params() > 0
    x = take(pairs[0], 0, 4)
    images, texts = model.encode_images(x["images"]), model.encode_text(x["tokens"])
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, rtol=1e-5)
    assert model.predict(x["images"], verbose=0).shape == (4, 256)


def test_training_loss_equals_reference_with_the_learned_scale(pairs):
    model = make_model(pairs[1])
    x = take(pairs[0], 0, 8)
    outputs = model(x, training=True)
    loss = model.compute_loss(x=x, y_pred=outputs, training=True)
    expected = reference.clip(
        np.asarray(outputs["image_embeddings"]),
        np.asarray(outputs["text_embeddings"]),
        1 / 0.07,
    )
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert int(model.step) == 1


def test_fit_lowers_the_loss_and_the_scale_stays_clamped(pairs):
    x, vocabulary_size = pairs
    model = make_model(vocabulary_size)
    data = tf.data.Dataset.from_tensors(take(x, 0, 32))
    before = model.evaluate(data, verbose=0)
    losses = model.fit(data.repeat(8), epochs=2, verbose=0).history["loss"]
    after = model.evaluate(data, verbose=0)
    assert losses[-1] < losses[0] and after < before - 0.1, (before, losses, after)
    model.logit_scale.assign(4.6)
    model.compile(optimizer=keras.optimizers.SGD(10.0))
    model.fit(data, epochs=1, verbose=0)
    assert 0.0 <= float(model.logit_scale) <= math.log(100) + 1e-6


def test_bad_inputs_raise(pairs):
    x, vocabulary_size = pairs
    model = make_model(vocabulary_size)
    with pytest.raises(ValueError, match="dicts"):
        model.fit(x["images"], batch_size=16, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="integer token ids"):
        model.fit({"images": x["images"], "tokens": x["tokens"].astype("float32")}, verbose=0)
    with pytest.raises(ValueError, match="pairs"):
        model.fit({"images": x["images"], "tokens": x["tokens"][:10]}, verbose=0)
    with pytest.raises(ValueError, match="3 channels"):
        model.fit({"images": x["images"][..., :1], "tokens": x["tokens"]}, verbose=0)
    assert int(model.step) == 0
    model.fit(take(x, 0, 16), batch_size=16, epochs=1, verbose=0)
    assert int(model.step) == 1


def test_zero_shot_from_the_exported_towers_equals_the_model(tmp_path):
    (x, y), _ = keras_ssl.data.load_sample()
    x, y = x[::40].astype("float32"), y[::40]  # 100 images of every class
    classes = keras_ssl.data.CIFAR10_CLASSES
    templates = keras_ssl.data.CAPTION_TEMPLATES[:3]
    captions = [t.format(c) for c in classes for t in templates]
    tokenizer = keras_ssl.data.caption_tokenizer(captions, LENGTH)
    model = make_model(tokenizer.vocabulary_size())
    classifier = model.zero_shot_classifier(classes, templates, tokenizer=tokenizer)
    logits = classifier.predict(x, verbose=0)
    assert logits.shape == (len(x), len(classes))
    # Reference: cosine of each image with each class's mean prompt embedding.
    text = np.asarray(model.encode_text(np.asarray(tokenizer(captions)).astype("int32")))
    text = text.reshape(len(classes), len(templates), -1).mean(axis=1)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    scale = np.exp(float(model.logit_scale))
    expected = scale * np.asarray(model.encode_images(x)) @ text.T
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)

    model.export_encoder(str(tmp_path / "clip"))
    image_tower, text_tower = keras_ssl.methods.load_clip_towers(str(tmp_path / "clip"))
    weights = keras_ssl.methods.class_embeddings(text_tower, classes, templates, tokenizer)
    exported = np.argmax(np.asarray(image_tower(x)) @ weights.T, axis=1)
    in_memory = np.argmax(logits, axis=1)
    assert np.mean(exported == y) == np.mean(in_memory == y)
    np.testing.assert_array_equal(exported, in_memory)
    with pytest.raises(ValueError, match="tokenizer"):
        model.zero_shot_classifier(classes, templates)
    with pytest.raises(ValueError, match="templates"):
        model.zero_shot_classifier(classes, ["a photo"], tokenizer=tokenizer)
