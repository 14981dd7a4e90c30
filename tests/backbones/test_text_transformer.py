import keras
import numpy as np
import pytest

import keras_ssl


def make(**kwargs):
    keras.utils.set_random_seed(0)
    return keras_ssl.backbones.text_transformer(20, 6, width=16, num_layers=2, num_heads=2, **kwargs)


def test_shape_and_last_token_pooling():
    encoder = make()
    tokens = np.array([[2, 3, 4, 0, 0, 0], [5, 6, 7, 8, 9, 10]], "int32")
    assert encoder(tokens).shape == (2, 16)
    # The pooled token is the last non-padding one: a shorter caption padded
    # further gives the vector of its own last word.
    hidden = keras.Model(encoder.input, encoder.get_layer("final_ln").output)
    np.testing.assert_allclose(encoder(tokens)[0], hidden(tokens)[0, 2], atol=1e-6)
    np.testing.assert_allclose(encoder(tokens)[1], hidden(tokens)[1, 5], atol=1e-6)
    longer = tokens.copy()
    longer[0, 3] = 11  # one more word: a different sentence vector
    assert not np.allclose(encoder(tokens)[0], encoder(longer)[0], atol=1e-4)


def test_causal_mask_hides_later_tokens():
    encoder = make()
    hidden = keras.Model(encoder.input, encoder.get_layer("final_ln").output)
    tokens = np.array([[2, 3, 4, 5, 6, 7]], "int32")
    changed = tokens.copy()
    changed[0, 4] = 9
    a, b = np.asarray(hidden(tokens)), np.asarray(hidden(changed))
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:], atol=1e-4)


def test_save_load_round_trip(tmp_path):
    encoder = make()
    path = str(tmp_path / "text.keras")
    encoder.save(path)
    tokens = np.array([[2, 3, 0, 0, 0, 0]], "int32")
    np.testing.assert_allclose(keras.models.load_model(path)(tokens), encoder(tokens), atol=1e-6)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="divisible"):
        keras_ssl.backbones.text_transformer(20, 6, width=15, num_heads=2)
    with pytest.raises(ValueError, match="vocabulary_size"):
        keras_ssl.backbones.text_transformer(0, 6)
