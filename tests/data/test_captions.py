import numpy as np
import pytest

import keras_ssl


def test_class_captions_fill_templates_with_class_names():
    captions = keras_ssl.data.class_captions([0, 1, 1], ["cat", "dog"], ["a {}.", "the {}!"], seed=0)
    assert len(captions) == 3
    for caption, name in zip(captions, ["cat", "dog", "dog"]):
        assert caption in (f"a {name}.", f"the {name}!")
    all_templates = keras_ssl.data.class_captions([0] * 200, ["cat"], seed=1)
    assert len(set(all_templates)) == len(keras_ssl.data.CAPTION_TEMPLATES)
    with pytest.raises(ValueError, match="labels"):
        keras_ssl.data.class_captions([2], ["cat", "dog"])
    with pytest.raises(ValueError, match="templates"):
        keras_ssl.data.class_captions([0], ["cat"], ["no placeholder"])


def test_caption_tokenizer_pads_with_zero():
    tokenizer = keras_ssl.data.caption_tokenizer(["a photo of a cat.", "a photo of a dog."], 8)
    tokens = np.asarray(tokenizer(["a photo of a cat.", "a dog"]))
    assert tokens.shape == (2, 8)
    assert tokens[0, 0] == tokens[0, 3] == tokens[1, 0]  # "a"
    assert (tokens[0, 5:] == 0).all() and (tokens[1, 2:] == 0).all()
    assert tokenizer.vocabulary_size() == 7  # padding, [UNK], 5 words
    with pytest.raises(ValueError, match="sequence_length"):
        keras_ssl.data.caption_tokenizer(["a"], 0)
