"""Shared checks of the masked image modeling tests (MAE, I-JEPA)."""

import keras
import numpy as np

import keras_ssl

SIZE = 16


def tiny_vit():
    return keras_ssl.backbones.vit((SIZE, SIZE, 3), patch_size=4, width=16, depth=1, num_heads=2)


def build(cls, lr=1e-3, **kwargs):
    keras.utils.set_random_seed(1)
    model = cls(tiny_vit(), seed=0, **kwargs)
    model.compile(optimizer=keras.optimizers.AdamW(lr))
    return model


def raw_images(n=32):
    (x, _), _ = keras_ssl.data.load_sample()
    return x[:n, :SIZE, :SIZE]


def record_encoder_inputs(model):
    """A list that receives the shape of every token batch the model's
    encoder (`model.vit.encode`) gets from now on."""
    seen = []
    encode = model.vit.encode

    def recording(tokens, training=None):
        seen.append(tuple(tokens.shape))
        return encode(tokens, training)

    model.vit.encode = recording
    return seen


def check_save_load_resumes_and_export(model, tmp_path):
    """After a fit, a `.keras` round trip resumes with the same next losses
    and weights (masks and views included); the SavedModel equals predict."""
    images = raw_images(16)
    model.fit(images, epochs=1, batch_size=8, shuffle=False, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    histories = [
        m.fit(images, epochs=1, batch_size=8, shuffle=False, verbose=0).history["loss"]
        for m in (model, loaded)
    ]
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-6)
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    model.export_encoder(str(tmp_path / "encoder"))
    encoder = keras_ssl.load_encoder(str(tmp_path / "encoder"))
    x = images[:4].astype("float32")
    np.testing.assert_allclose(
        np.asarray(encoder(x)), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5
    )
