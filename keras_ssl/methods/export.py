"""Exporting an encoder as a SavedModel and loading it back for inference."""

import json
import os

import keras
import numpy as np

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
    options = {}
    if keras.backend.backend() == "jax":
        # An inference export: jax2tf cannot differentiate convolutions over
        # a polymorphic image size (backbones built for (None, None, C)).
        options["jax2tf_kwargs"] = {"with_gradient": False}
    encoder.export(path, format="tf_saved_model", verbose=verbose, **options)
    metadata = {
        "input_shape": list(encoder.input_shape[1:]),
        "input_dtype": keras.backend.standardize_dtype(encoder.inputs[0].dtype),
        "feature_dim": int(encoder.output_shape[-1]),
        "method": method,
        "keras_version": keras.__version__,
    }
    with open(os.path.join(path, METADATA_FILE), "w") as f:
        json.dump(metadata, f, indent=2)


def load_encoder(path, input_shape=None):
    """Loads an exported encoder as a `keras.Model` for inference.

    On TensorFlow the model wraps the SavedModel in a
    `keras.layers.TFSMLayer`, so it drops into
    `keras.Sequential([encoder, keras.layers.Dense(10)])` and into every
    `keras_ssl.evaluation` function. Keras cannot wrap a SavedModel on other
    backends (JAX): there it returns an `ExportedEncoder`, which runs the
    SavedModel through TensorFlow on NumPy arrays (`predict`, `__call__`;
    `evaluation.embed`, `knn_accuracy` and `retrieval` take it).

    Args:
        path: a directory written by `SSLModel.export_encoder`.
        input_shape: `(H, W, C)`; read from the export's metadata when omitted.

    Returns:
        A `keras.Model` (TensorFlow backend) or an `ExportedEncoder` from
        float32 images in [0, 255] to features.
    """
    if not os.path.isdir(path):
        raise ValueError(f"No exported encoder at path={path!r}.")
    if all(os.path.isdir(os.path.join(path, tower)) for tower in ("image", "text")):
        raise ValueError(
            f"{path!r} holds CLIP's two towers: load `{os.path.join(path, 'image')}` "
            "or both with `keras_ssl.methods.load_clip_towers(path)`."
        )
    metadata_path = os.path.join(path, METADATA_FILE)
    metadata = {}
    if os.path.exists(metadata_path):
        with open(metadata_path) as f:
            metadata = json.load(f)
    if input_shape is None:
        if "input_shape" not in metadata:
            raise ValueError(
                f"{path!r} has no {METADATA_FILE}: pass `input_shape=` (H, W, C)."
            )
        input_shape = metadata["input_shape"]
    dtype = metadata.get("input_dtype", "float32")
    if keras.backend.backend() != "tensorflow":
        return ExportedEncoder(path, input_shape, dtype)
    name = "tokens" if "int" in dtype else "images"
    inputs = keras.Input(tuple(input_shape), dtype=dtype, name=name)
    features = keras.layers.TFSMLayer(path, call_endpoint="serve")(inputs)
    return keras.Model(inputs, features, name="exported_encoder")


class ExportedEncoder:
    """An exported encoder for inference on a backend other than TensorFlow.

    Calls the SavedModel's `serve` function through TensorFlow on float32
    images in [0, 255] (or the export's input dtype, e.g. CLIP's int32
    tokens) and returns NumPy features.

    Args:
        path: a directory written by `SSLModel.export_encoder`.
        input_shape: `(H, W, C)` of one image (None for any size).
        dtype: the SavedModel's input dtype.
    """

    def __init__(self, path, input_shape, dtype="float32"):
        import tensorflow as tf

        self._tf = tf
        self._saved_model = tf.saved_model.load(path)  # keeps its variables alive
        self.input_shape = (None, *input_shape)
        self.dtype = dtype

    def __call__(self, images):
        images = self._tf.constant(np.asarray(images, self.dtype))
        return np.asarray(self._saved_model.serve(images))

    def predict(self, x, batch_size=256, verbose=0):
        """Features of the images `x`, `batch_size` at a time."""
        del verbose
        return np.concatenate([self(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
