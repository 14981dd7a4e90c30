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
