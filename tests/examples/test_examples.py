"""Every example runs with --help and with tiny settings on the bundled sample,
and writes valid PNGs."""

import os
import subprocess
import sys

import keras
import pytest

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


def run_example(name, *flags, returncode=0):
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / f"{name}.py"), *flags],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == returncode, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


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
    output = run_example(
        "retrieval", f"--encoder_dir={encoder_dir}", f"--output_dir={tmp_path}", "--map_size=60"
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
