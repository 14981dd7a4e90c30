import atexit
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# JAX compiles every new model's step afresh, and the tests build the same
# tiny models many times (a `.keras` round trip compiles its copy again, each
# resume test fits four copies). One compilation cache for the run, shared by
# the xdist workers and the subprocesses, which inherit it: each program is
# compiled once. Made by the first process to import this file and removed
# when it exits, unless `JAX_COMPILATION_CACHE_DIR` is set (.ci/run shares
# one between its TensorFlow and JAX runs).
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    cache = tempfile.mkdtemp(prefix="keras_ssl_tests_jax_cache_")
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = cache
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


# The checks that run in processes of their own (the TF/JAX parity run, the
# 2-device checks) are the suite's longest tests: run first, so that neither
# xdist worker ends on one while the other idles. Running in their own
# processes, they do not change what the other tests see.
OWN_PROCESS_FILES = ("test_backends.py", "test_distribute.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in OWN_PROCESS_FILES)
