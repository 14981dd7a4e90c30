"""Every example runs with --help and with tiny settings on the bundled sample,
and writes valid PNGs."""

import contextlib
import io
import runpy
import sys

import keras
import pytest
from absl import app
from absl import flags

import keras_ssl
from tests.utils import REPO


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    """An exported (untrained) SimCLR encoder: the examples only search it."""
    keras.utils.set_random_seed(0)
    model = keras_ssl.SimCLR(keras_ssl.backbones.small_cnn((32, 32, 3)))
    path = str(tmp_path_factory.mktemp("encoder") / "encoder")
    model.export_encoder(path)
    return path


def run_example(name, *argv, returncode=0):
    """Runs `examples/<name>.py` as `__main__` in this process (no second
    TensorFlow start-up) and returns what it printed. The flags the example
    defines are removed afterwards so that the next example can define its
    own."""
    path = str(REPO / "examples" / f"{name}.py")
    app.define_help_flags()  # absl's own --help flags stay defined
    known = set(flags.FLAGS)
    saved_argv = sys.argv
    sys.argv = [path, *argv]
    output = io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(output):
            runpy.run_path(path, run_name="__main__")
    except SystemExit as exit:
        code = exit.code or 0
    finally:
        sys.argv = saved_argv
        for flag in set(flags.FLAGS) - known:
            delattr(flags.FLAGS, flag)
        flags.FLAGS.unparse_flags()
    assert code == returncode, output.getvalue()[-3000:]
    return output.getvalue()


def assert_png(path):
    import numpy as np
    import tensorflow as tf

    with open(path, "rb") as f:
        data = f.read()
    image = tf.io.decode_png(data).numpy()
    assert image.ndim == 3 and min(image.shape[:2]) > 50
    assert np.asarray(image, np.float32).std() > 10, f"{path} looks blank"


@pytest.mark.parametrize("name", ["retrieval", "anomaly_detection", "recommend", "pretrain"])
def test_help(name):
    output = run_example(name, "--help", returncode=1)  # absl's usage exit
    assert "--output_dir" in output and "flags:" in output


def test_retrieval(encoder_dir, tmp_path):
    try:  # t-SNE's OpenMP threads spin against TensorFlow's on a small machine
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = contextlib.nullcontext
    with threadpool_limits(1):
        output = run_example(
            "retrieval", f"--encoder_dir={encoder_dir}", f"--output_dir={tmp_path}",
            "--map_size=60",
        )
    assert "recall@1" in output and "all" in output
    assert_png(tmp_path / "neighbours.png")
    pytest.importorskip("sklearn")
    assert_png(tmp_path / "embedding_map.png")


def test_anomaly_detection(encoder_dir, tmp_path):
    output = run_example("anomaly_detection", f"--encoder_dir={encoder_dir}", f"--output_dir={tmp_path}")
    assert "AUROC" in output and "mean" in output
    assert_png(tmp_path / "most_normal_and_anomalous.png")


def test_recommend(encoder_dir, tmp_path):
    output = run_example("recommend", f"--encoder_dir={encoder_dir}", f"--output_dir={tmp_path}")
    assert "Recommended:" in output
    assert_png(tmp_path / "recommendations.png")


def test_pretrain_tiny(tmp_path):
    output = run_example(
        "pretrain", "--epochs=1", "--max_per_class=13", "--batch_size=64", f"--output_dir={tmp_path}"
    )
    assert "kNN accuracy:" in output and "Random-init kNN accuracy (floor)" in output
    for png in ("augmentations.png", "neighbours.png", "training_curves.png"):
        assert_png(tmp_path / png)
    assert keras_ssl.load_encoder(str(tmp_path / "encoder")).output_shape == (None, 256)
