"""Writing files so that a failure never leaves a half-written one behind."""

import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Opens a temporary file beside `path`; moves it onto `path` on success.

    If the body raises (a serializer that fails, an interrupted write), the
    temporary file is removed and a previous file at `path` stays as it was.
    The move is `os.replace`, atomic on POSIX within one file system.

    Args:
        path: the file to write.
        mode: `"wb"` (bytes) or `"w"` (text, UTF-8).

    Yields:
        The open temporary file.

    Example:
    >>> with atomic_write("ids.jsonl", "w") as f:
    ...     f.write(text)
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"`mode` must be 'w' or 'wb'. Received: mode={mode!r}")
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        encoding = None if mode == "wb" else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


@contextlib.contextmanager
def atomic_directory(path):
    """Yields a temporary directory beside `path`; moves it onto `path` on
    success, replacing a previous directory there only then.

    Example:
    >>> with atomic_directory("encoder/") as tmp:
    ...     model.export(tmp)
    """
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(dir=parent, prefix=".tmp-" + os.path.basename(path))
    try:
        yield temporary
        if os.path.isdir(path):
            previous = temporary + ".old"
            os.replace(path, previous)
            os.replace(temporary, path)
            shutil.rmtree(previous)
        else:
            os.replace(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
