"""Exporting an encoder as a SavedModel and loading it back for inference."""

import json
import os

import keras

METADATA_FILE = "keras_ssl_encoder.json"


def export_encoder(encoder, path, method=None, verbose=False):
    """Writes `encoder` as a TensorFlow SavedModel with a serving signature.

    The SavedModel takes float32 images `(None, H, W, C)` in [0, 255] (H, W
    None when the backbone takes any size) and returns `(None, D)` features.
    A small JSON file beside it records the input shape, the feature width and
    the method, so `load_encoder` can rebuild a `keras.Model` around it.

    Args:
        encoder: a functional `keras.Model` from raw images to features.
        path: the SavedModel directory to write.
        method: name of the method that trained the encoder (metadata).
        verbose: print Keras's export summary.
    """
    encoder.export(path, format="tf_saved_model", verbose=verbose)
    metadata = {
        "input_shape": list(encoder.input_shape[1:]),
        "feature_dim": int(encoder.output_shape[-1]),
        "method": method,
        "keras_version": keras.__version__,
    }
    with open(os.path.join(path, METADATA_FILE), "w") as f:
        json.dump(metadata, f, indent=2)


def load_encoder(path, input_shape=None):
    """Loads an exported encoder as a `keras.Model` for inference.

    The model wraps the SavedModel in a `keras.layers.TFSMLayer`, so it drops
    into `keras.Sequential([encoder, keras.layers.Dense(10)])` and into every
    `keras_ssl.evaluation` function. TensorFlow backend only.

    Args:
        path: a directory written by `SSLModel.export_encoder`.
        input_shape: `(H, W, C)`; read from the export's metadata when omitted.

    Returns:
        A `keras.Model` from float32 images in [0, 255] to features.
    """
    if not os.path.isdir(path):
        raise ValueError(f"No exported encoder at path={path!r}.")
    metadata_path = os.path.join(path, METADATA_FILE)
    if input_shape is None:
        if not os.path.exists(metadata_path):
            raise ValueError(
                f"{path!r} has no {METADATA_FILE}: pass `input_shape=` (H, W, C)."
            )
        with open(metadata_path) as f:
            input_shape = json.load(f)["input_shape"]
    inputs = keras.Input(tuple(input_shape), name="images")
    features = keras.layers.TFSMLayer(path, call_endpoint="serve")(inputs)
    return keras.Model(inputs, features, name="exported_encoder")
