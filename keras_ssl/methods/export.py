"""Exporting an encoder as a SavedModel and loading it back for inference."""

import json
import os

import keras
import numpy as np

from keras_ssl.io_utils import atomic_directory

METADATA_FILE = "keras_ssl_encoder.json"


def export_encoder(encoder, path, method=None, verbose=False):
    """Writes `encoder` as a TensorFlow SavedModel with a serving signature.

    The SavedModel takes float32 images `(None, H, W, C)` in [0, 255] (H, W
    None when the backbone takes any size) and returns `(None, D)` features.
    A small JSON file beside it records the input shape, the feature width and
    the method, so `load_encoder` can rebuild a `keras.Model` around it.
    Everything is written to a temporary directory beside `path` and moved
    into place at the end, so an export that fails leaves a previous export
    at `path` as it was. A previous export is replaced whole; any other
    non-empty directory at `path` is refused.

    Args:
        encoder: a functional `keras.Model` from raw images to features.
        path: the SavedModel directory to write.
        method: name of the method that trained the encoder (metadata).
        verbose: print Keras's export summary.
    """
    path = os.fspath(path)
    if os.path.isdir(path) and os.listdir(path) and not _is_export(path):
        raise ValueError(
            f"path={path!r} is a directory that holds something other than an "
            "exported encoder; `export_encoder` replaces the whole directory. "
            "Choose a new or empty directory."
        )
    options = {}
    if keras.backend.backend() == "jax":
        # An inference export: jax2tf cannot differentiate convolutions over
        # a polymorphic image size (backbones built for (None, None, C)).
        options["jax2tf_kwargs"] = {"with_gradient": False}
    metadata = {
        "input_shape": list(encoder.input_shape[1:]),
        "input_dtype": keras.backend.standardize_dtype(encoder.inputs[0].dtype),
        "feature_dim": int(encoder.output_shape[-1]),
        "method": method,
        "keras_version": keras.__version__,
    }
    with atomic_directory(path) as temporary:
        encoder.export(temporary, format="tf_saved_model", verbose=verbose, **options)
        with open(os.path.join(temporary, METADATA_FILE), "w") as f:
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

    A SavedModel is a program: loading one runs the TensorFlow graph it
    holds, which can read and write files. Load only exports you trust. To
    share an encoder with people who should not have to trust you, save it
    as a `.keras` file (`model.encoder.save("encoder.keras")`) and load it
    with `keras.models.load_model("encoder.keras")`, whose default
    `safe_mode=True` refuses to deserialize Python code (Lambda layers).

    Args:
        path: a directory written by `SSLModel.export_encoder`.
        input_shape: `(H, W, C)`; read from the export's metadata when omitted.

    Returns:
        A `keras.Model` (TensorFlow backend) or an `ExportedEncoder` from
        float32 images in [0, 255] to features.

    Raises:
        ValueError: naming `path` and what is wrong, when it is not an
            export (no directory, no `saved_model.pb`, a missing or malformed
            metadata file, a SavedModel that does not load).
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise ValueError(f"No exported encoder at path={path!r}.")
    if all(os.path.isdir(os.path.join(path, tower)) for tower in ("image", "text")):
        raise ValueError(
            f"{path!r} holds CLIP's two towers: load `{os.path.join(path, 'image')}` "
            "or both with `keras_ssl.methods.load_clip_towers(path)`."
        )
    if not _is_export(path):
        raise ValueError(
            f"{path!r} is not an exported encoder: it has no saved_model.pb. "
            "Write one with `model.export_encoder(path)`."
        )
    metadata = _read_metadata(path, required=input_shape is None)
    if input_shape is None:
        input_shape = metadata["input_shape"]
    _check_input_shape(input_shape, f"`input_shape` for {path!r}")
    dtype = metadata.get("input_dtype", "float32")
    try:
        if keras.backend.backend() != "tensorflow":
            return ExportedEncoder(path, input_shape, dtype)
        name = "tokens" if "int" in dtype else "images"
        inputs = keras.Input(tuple(input_shape), dtype=dtype, name=name)
        features = keras.layers.TFSMLayer(path, call_endpoint="serve")(inputs)
    except Exception as error:  # TensorFlow raises many types on a bad SavedModel
        raise ValueError(
            f"{path!r} is not a loadable exported encoder: {type(error).__name__}: {error}"
        ) from error
    return keras.Model(inputs, features, name="exported_encoder")


def _is_export(path):
    return os.path.isfile(os.path.join(path, "saved_model.pb"))


def _read_metadata(path, required):
    """An export's metadata dict (`{}` when absent and not `required`), or
    `ValueError` naming the file and what is wrong with it."""
    metadata_path = os.path.join(path, METADATA_FILE)
    if not os.path.isfile(metadata_path):
        if required:
            raise ValueError(f"{path!r} has no {METADATA_FILE}: pass `input_shape=` (H, W, C).")
        return {}
    try:
        with open(metadata_path, encoding="utf-8") as f:
            metadata = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"{metadata_path!r} is not valid JSON ({error}): re-export the encoder "
            "or pass `input_shape=` (H, W, C)."
        ) from error
    if not isinstance(metadata, dict) or (required and "input_shape" not in metadata):
        raise ValueError(
            f"{metadata_path!r} has no `input_shape` entry: re-export the encoder "
            "or pass `input_shape=` (H, W, C)."
        )
    return metadata


def _check_input_shape(shape, where):
    # (H, W, C) for images; (L,) for CLIP's token tower.
    valid = isinstance(shape, (list, tuple)) and len(shape) in (1, 3) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape
    )
    if not valid:
        raise ValueError(
            f"{where} must be (H, W, C) (or (L,) for tokens), positive ints or None. Received: {shape!r}"
        )


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
