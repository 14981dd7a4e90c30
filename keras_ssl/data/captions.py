"""Templated captions and their tokenizer for CLIP-style training on labelled
images."""

import keras
import numpy as np

# Prompt templates in the style of CLIP's zero-shot prompts (Radford et al.
# 2021, https://arxiv.org/abs/2103.00020, prompt engineering and ensembling).
CAPTION_TEMPLATES = (
    "a photo of a {}.",
    "a blurry photo of a {}.",
    "a low resolution photo of a {}.",
    "a photo of the small {}.",
    "a close-up photo of a {}.",
    "a bright photo of the {}.",
    "a dark photo of a {}.",
    "a pixelated photo of the {}.",
)


def class_captions(labels, class_names, templates=CAPTION_TEMPLATES, seed=None):
    """One caption per label: a random template filled with the class name.

    Args:
        labels: `(N,)` integer class ids.
        class_names: sequence of class names, indexed by label.
        templates: format strings with one `{}` for the class name.
        seed: seed of the template draw (None: NumPy's global state).

    Returns:
        `(N,)` NumPy array of strings.

    Example:
    >>> class_captions([0, 1], ["cat", "dog"], ["a photo of a {}."])
    array(['a photo of a cat.', 'a photo of a dog.'], dtype='<U17')
    """
    labels = np.asarray(labels).reshape(-1)
    if not templates or any("{}" not in t for t in templates):
        raise ValueError(
            "`templates` must be a non-empty sequence of strings with one `{}`. "
            f"Received: templates={templates!r}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise ValueError(
            f"`labels` must be in [0, {len(class_names)}) to index `class_names`. "
            f"Received values in [{labels.min()}, {labels.max()}]."
        )
    rng = np.random.default_rng(seed)
    choice = rng.integers(0, len(templates), labels.size)
    return np.array(
        [templates[t].format(class_names[y]) for t, y in zip(choice, labels)]
    )


def caption_tokenizer(captions, sequence_length=16):
    """A `keras.layers.TextVectorization` adapted to the captions.

    Lower-cases, strips punctuation, splits on whitespace and maps words to
    ids (0 padding, 1 out-of-vocabulary), padded or cut to
    `sequence_length`. Use it in `tf.data` or on arrays; its
    `vocabulary_size()` sizes the text encoder's embedding.

    Args:
        captions: sequence of strings to build the vocabulary from.
        sequence_length: length of the token id sequences.

    Returns:
        The adapted `TextVectorization` layer, strings -> int `(B, L)`.

    Example:
    >>> tokenizer = caption_tokenizer(["a photo of a cat.", "a photo of a dog."], 8)
    >>> tokenizer(["a photo of a cat."])  # [[2, 3, 4, 2, 6, 0, 0, 0]]
    """
    if not isinstance(sequence_length, int) or sequence_length <= 0:
        raise ValueError(
            f"`sequence_length` must be a positive int. Received: {sequence_length!r}"
        )
    tokenizer = keras.layers.TextVectorization(
        output_mode="int", output_sequence_length=sequence_length
    )
    tokenizer.adapt(np.asarray(captions))
    return tokenizer


def prompt_tokens(tokenizer, class_names, templates=CAPTION_TEMPLATES):
    """int32 `(classes, templates, L)`: every template filled with every
    class name, tokenized."""
    prompts = [[template.format(name) for template in templates] for name in class_names]
    tokens = tokenizer(np.asarray(prompts).reshape(-1))
    return np.asarray(tokens, "int32").reshape(len(class_names), len(templates), -1)


def with_captions(data, tokenizer, class_names, templates=CAPTION_TEMPLATES):
    """Pairs labelled image batches with captions, as CLIP trains on them.

    Each image's caption is one of `templates` filled with its class name,
    the template drawn anew every time the dataset is iterated.

    Args:
        data: a batched `tf.data.Dataset` of `(images, labels)`.
        tokenizer: from `caption_tokenizer`.
        class_names: class names, indexed by label.
        templates: format strings with one `{}` for the class name.

    Returns:
        The dataset of `{"images": images, "tokens": int32 (B, L)}` batches.
    """
    import tensorflow as tf

    table = tf.constant(prompt_tokens(tokenizer, class_names, templates))

    def pair(images, labels):
        labels = tf.cast(labels, tf.int32)
        template = tf.random.uniform(tf.shape(labels), 0, table.shape[1], tf.int32)
        tokens = tf.gather_nd(table, tf.stack([labels, template], axis=1))
        return {"images": images, "tokens": tokens}

    return data.map(pair, num_parallel_calls=tf.data.AUTOTUNE)
