"""`EmbeddingIndex`: nearest-neighbour search over embeddings.

Retrieval with self-supervised features as in docs/methods.md, Downstream uses: embed
with the backbone, l2-normalize, search by inner product; exact search is
enough up to about a million vectors.
"""

import json
import os
import zipfile

import numpy as np
from keras import ops

from keras_ssl.evaluation.checks import check_finite
from keras_ssl.io_utils import atomic_write

METRICS = ("cosine", "l2")
BACKENDS = ("auto", "exact", "faiss")


def faiss_available():
    """Whether the optional `faiss` package (`keras_ssl[faiss]`) imports."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


class EmbeddingIndex:
    """A searchable set of embeddings with ids: add, search, save, load.

    Exact search runs batched matrix products in `keras.ops`; with
    `backend="faiss"` (the default when `faiss` is installed, `pip install
    keras_ssl[faiss]`) a flat faiss index does the search and returns the
    same neighbours.

    Args:
        dim: width `D` of the embeddings.
        metric: `"cosine"` (vectors and queries are l2-normalized, scores are
            cosine similarities, higher is nearer) or `"l2"` (scores are
            Euclidean distances, lower is nearer).
        backend: `"auto"` (faiss when installed, else exact), `"exact"` or
            `"faiss"`.
        metadata: a JSON-serializable dict stored with the index, e.g. the
            encoder's version (re-embed everything when the encoder changes).

    Ids are all integers or all strings (file names), checked by `add`, and
    `save` stores them without pickle, so `load` never runs code from a file.

    Example:

    ```python
    bank, labels = keras_ssl.evaluation.embed(encoder, (x_train, y_train))
    index = keras_ssl.retrieval.EmbeddingIndex(bank.shape[1])
    index.add(bank, ids=labels)
    scores, ids = index.search(queries, k=5)
    index.save("index.npz")
    index = keras_ssl.retrieval.EmbeddingIndex.load("index.npz")
    ```
    """

    def __init__(self, dim, metric="cosine", backend="auto", metadata=None):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"`dim` must be an integer >= 1, got dim={dim!r}.")
        if metric not in METRICS:
            raise ValueError(f"`metric` must be one of {METRICS}, got metric={metric!r}.")
        if backend not in BACKENDS:
            raise ValueError(
                f"`backend` must be one of {BACKENDS}, got backend={backend!r}."
            )
        if backend == "faiss" and not faiss_available():
            raise ValueError(
                "backend='faiss' needs the faiss package: pip install keras_ssl[faiss]"
            )
        if backend == "auto":
            backend = "faiss" if faiss_available() else "exact"
        self.dim = int(dim)
        self.metric = metric
        self.backend = backend
        self.metadata = dict(metadata or {})
        _config_json(self.dim, self.metric, self.metadata)
        self._vectors = np.zeros((0, self.dim), np.float32)
        self._ids = np.zeros((0,), np.int64)
        self._faiss = None
        if backend == "faiss":
            import faiss

            flat = faiss.IndexFlatIP if metric == "cosine" else faiss.IndexFlatL2
            self._faiss = flat(self.dim)

    def __len__(self):
        return len(self._vectors)

    @property
    def ids(self):
        """The ids of the stored vectors, in insertion order."""
        return self._ids

    @property
    def vectors(self):
        """The stored `(N, D)` float32 vectors (l2-normalized for cosine)."""
        return self._vectors

    def _prepare(self, name, vectors):
        vectors = np.asarray(vectors, np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(
                f"`{name}` must have shape (N, dim={self.dim}), got shape "
                f"{vectors.shape}."
            )
        check_finite(vectors, f"`{name}`")
        if self.metric == "cosine":
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return np.ascontiguousarray(vectors, np.float32)

    def add(self, vectors, ids=None):
        """Adds `(N, D)` vectors with their `(N,)` ids (default: positions
        `len(self), ..., len(self) + N - 1`). Ids are all integers or all
        strings (file names), of the kind the index already holds, and are
        returned by `search`."""
        vectors = self._prepare("vectors", vectors)
        if ids is None:
            ids = np.arange(len(self), len(self) + len(vectors), dtype=np.int64)
        ids = _check_ids(ids, len(vectors))
        if len(self._ids) and ids.dtype.kind != self._ids.dtype.kind:
            held, given = (("integer", "string") if self._ids.dtype.kind == "i"
                           else ("string", "integer"))
            raise ValueError(
                f"`ids` are {given}s but the index holds {held} ids; one index "
                f"takes one kind. Pass {held} ids, or give every add string ids "
                "(`ids=[str(i) for i in ids]`)."
            )
        self._vectors = np.concatenate([self._vectors, vectors])
        self._ids = np.concatenate([self._ids, ids]) if len(self._ids) else ids
        if self._faiss is not None:
            self._faiss.add(vectors)
        return self

    def search(self, queries, k=10, batch_size=1024):
        """The `k` nearest stored vectors of each query, nearest first.

        Args:
            queries: `(Q, D)` embeddings.
            k: neighbours per query, at most `len(self)`.
            batch_size: queries per matrix product (exact backend).

        Returns:
            `(scores, ids)`: float32 `(Q, k)` cosine similarities (or
            Euclidean distances for `"l2"`) and the `(Q, k)` ids.
        """
        if len(self) == 0:
            raise ValueError("The index is empty: `add` vectors before `search`.")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(self):
            raise ValueError(
                f"`k` must be an integer in [1, {len(self)}] (the index size), "
                f"got k={k!r}."
            )
        queries = self._prepare("queries", queries)
        if self._faiss is not None:
            scores, positions = self._faiss.search(queries, int(k))
            if self.metric == "l2":
                scores = np.sqrt(np.maximum(scores, 0))
        else:
            scores, positions = self._exact_search(queries, int(k), batch_size)
        return scores.astype(np.float32), self._ids[positions]

    def _exact_search(self, queries, k, batch_size):
        bank = ops.convert_to_tensor(self._vectors)
        bank_sq = ops.sum(ops.square(bank), axis=1)
        scores, positions = [], []
        for start in range(0, len(queries), batch_size):
            query = ops.convert_to_tensor(queries[start : start + batch_size])
            products = ops.matmul(query, ops.transpose(bank))
            if self.metric == "cosine":
                top, index = ops.top_k(products, k)
            else:
                query_sq = ops.sum(ops.square(query), axis=1, keepdims=True)
                squared = query_sq - 2.0 * products + bank_sq[None, :]
                top, index = ops.top_k(-squared, k)
                top = ops.sqrt(ops.maximum(-top, 0.0))
            scores.append(ops.convert_to_numpy(top))
            positions.append(ops.convert_to_numpy(index))
        return np.concatenate(scores), np.concatenate(positions)

    def save(self, path):
        """Writes the vectors, ids, metric and metadata to one `.npz` file.

        The file is written under a temporary name and moved onto `path`, so a
        save that fails leaves a previous file at `path` as it was.
        """
        config = _config_json(self.dim, self.metric, self.metadata)
        with atomic_write(path, "wb") as f:
            np.savez(f, vectors=self._vectors, ids=self._ids, config=config)

    @classmethod
    def load(cls, path, backend="auto"):
        """Reads an index written by `save`, searched with `backend`.

        The file's array headers are checked against its size before any
        array is read (no pickle is ever loaded); a file that is not an index
        raises a `ValueError` naming it and what is wrong.
        """
        arrays = _read_index_file(path)
        try:
            config = json.loads(str(arrays["config"]))
            dim, metric, metadata = config["dim"], config["metric"], config["metadata"]
            index = cls(dim, metric, backend, metadata)
            if len(arrays["vectors"]):
                index.add(arrays["vectors"], ids=arrays["ids"])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{path!r} is not a valid EmbeddingIndex file: {error}"
            ) from error
        return index


def _config_json(dim, metric, metadata):
    try:
        return json.dumps({"dim": dim, "metric": metric, "metadata": metadata})
    except (TypeError, ValueError) as error:
        raise ValueError(
            "`metadata` must be JSON-serializable (str, int, float, bool, None, "
            f"lists and dicts of them); convert NumPy values with `.item()`. "
            f"Received: metadata={metadata!r} ({error})"
        ) from error


def _check_ids(ids, count):
    """`ids` as an int64 or str array of shape `(count,)`, or `ValueError`."""
    # Lists are read as objects, so that NumPy does not turn [1, "a"] into strings.
    array = ids if isinstance(ids, np.ndarray) else np.asarray(ids, dtype=object)
    if array.shape != (count,):
        raise ValueError(
            f"`ids` must have shape ({count},), one per vector, got shape "
            f"{array.shape}."
        )
    if array.dtype.kind == "O":
        if all(isinstance(i, str) for i in array):
            array = array.astype(str)
        elif all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in array):
            array = array.astype(np.int64)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "U":
        return array
    kinds = sorted({type(i).__name__ for i in array.tolist()}) or [array.dtype.name]
    raise ValueError(
        "`ids` must be all integers or all strings (one kind per index), "
        f"got {' and '.join(kinds)} ids. Convert them, e.g. "
        "`ids=[str(path) for path in paths]` for file paths."
    )


# What `save` writes: member -> (allowed dtype kinds, rank).
_MEMBERS = {"vectors.npy": ("f", 2), "ids.npy": ("iU", 1), "config.npy": ("U", 0)}


def _read_index_file(path):
    """The arrays of an index file, after checking every array header against
    the file's size, so a crafted file cannot make `load` allocate more memory
    than the file holds."""
    if not os.path.isfile(path):
        raise ValueError(f"No EmbeddingIndex file at path={path!r}.")
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(archive.namelist())
            if names != sorted(_MEMBERS):
                raise ValueError(f"it holds {names}, expected {sorted(_MEMBERS)}")
            for name, (kinds, rank) in _MEMBERS.items():
                info = archive.getinfo(name)
                _check_member(archive, info, os.path.getsize(path), kinds, rank)
                with archive.open(info) as member:
                    arrays[name[: -len(".npy")]] = np.lib.format.read_array(
                        member, allow_pickle=False
                    )
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path!r} is not a valid EmbeddingIndex file: {error}") from error
    if arrays["vectors"].shape[0] != arrays["ids"].shape[0]:
        raise ValueError(
            f"{path!r} is not a valid EmbeddingIndex file: it holds "
            f"{arrays['vectors'].shape[0]} vectors but {arrays['ids'].shape[0]} ids."
        )
    return arrays


def _check_member(archive, info, file_size, kinds, rank):
    """Raises `ValueError` unless the `.npy` member is stored uncompressed
    within the file and its header declares exactly the bytes it holds."""
    if (
        info.compress_type != zipfile.ZIP_STORED
        or info.compress_size != info.file_size
        or info.header_offset + info.file_size > file_size
    ):
        raise ValueError(f"{info.filename} is compressed or larger than the file")
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in readers:
            raise ValueError(f"{info.filename} has .npy format version {version}")
        shape, _, dtype = readers[version](member)
        header_bytes = member.tell()
    if dtype.hasobject or dtype.kind not in kinds or len(shape) != rank:
        raise ValueError(f"{info.filename} holds {dtype} of shape {shape}")
    data_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if header_bytes + data_bytes != info.file_size:
        raise ValueError(
            f"{info.filename}'s header declares {data_bytes} bytes of data; the "
            f"file holds {info.file_size - header_bytes}"
        )
