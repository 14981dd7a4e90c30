"""Shared checks of the masked image modeling tests (MAE, I-JEPA)."""

import keras

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
