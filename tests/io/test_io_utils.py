import os

import pytest

from keras_ssl.io_utils import atomic_directory
from keras_ssl.io_utils import atomic_write


def test_atomic_write_replaces_on_success(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with atomic_write(str(path), "w") as f:
        f.write("new")
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_atomic_write_keeps_previous_file_on_failure(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"previous")
    with pytest.raises(TypeError):
        with atomic_write(str(path)) as f:
            f.write(b"partial")
            raise TypeError("serializer failed")
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_atomic_write_mode():
    with pytest.raises(ValueError, match="mode"):
        with atomic_write("x", "a"):
            pass


def test_atomic_directory(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "old").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_directory(str(target)) as tmp:
            open(os.path.join(tmp, "half"), "w").close()
            raise RuntimeError
    assert os.listdir(target) == ["old"]
    with atomic_directory(str(target)) as tmp:
        open(os.path.join(tmp, "new"), "w").close()
    assert os.listdir(target) == ["new"]
    assert os.listdir(tmp_path) == ["export"]
