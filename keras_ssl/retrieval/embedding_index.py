"""`EmbeddingIndex`: nearest-neighbour search over embeddings.

Retrieval with self-supervised features as in METHODS.md section 2: embed
with the backbone, l2-normalize, search by inner product; exact search is
enough up to about a million vectors.
"""

import json

import numpy as np
from keras import ops

from keras_ssl.evaluation.checks import check_finite

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
        `len(self), ..., len(self) + N - 1`). Ids may be integers or strings
        (file names) and are returned by `search`."""
        vectors = self._prepare("vectors", vectors)
        if ids is None:
            ids = np.arange(len(self), len(self) + len(vectors), dtype=np.int64)
        ids = np.asarray(ids)
        if ids.shape != (len(vectors),):
            raise ValueError(
                f"`ids` must have shape ({len(vectors)},), one per vector, got "
                f"shape {ids.shape}."
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
        """Writes the vectors, ids, metric and metadata to one `.npz` file."""
        config = {"dim": self.dim, "metric": self.metric, "metadata": self.metadata}
        with open(path, "wb") as f:
            np.savez(f, vectors=self._vectors, ids=self._ids, config=json.dumps(config))

    @classmethod
    def load(cls, path, backend="auto"):
        """Reads an index written by `save`, searched with `backend`."""
        with np.load(path, allow_pickle=False) as data:
            config = json.loads(str(data["config"]))
            index = cls(config["dim"], config["metric"], backend, config["metadata"])
            if len(data["vectors"]):
                index.add(data["vectors"], ids=data["ids"])
        return index
