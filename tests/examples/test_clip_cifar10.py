import subprocess
import sys

from tests.utils import REPO

SCRIPT = str(REPO / "examples" / "clip_cifar10.py")


def run(*flags):
    return subprocess.run(
        [sys.executable, SCRIPT, *flags], capture_output=True, text=True, timeout=300,
        cwd=str(REPO), env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2",
                            "KERAS_BACKEND": "tensorflow", "PATH": "/usr/bin:/bin"},
    )


def test_help():
    result = run("--help")  # absl prints the usage and exits with status 1
    assert "--embedding_dim" in result.stdout + result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_tiny_run_on_the_bundled_sample(tmp_path):
    result = run(
        "--epochs=1", "--max_train=128", "--batch_size=64", "--text_layers=1",
        "--text_width=32", "--embedding_dim=16", f"--output_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "Zero-shot accuracy on 1000 test images" in result.stdout
    for tower in ("image", "text"):
        assert (tmp_path / "towers" / tower / "saved_model.pb").exists()
