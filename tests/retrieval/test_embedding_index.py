import numpy as np
import pytest

from keras_ssl.retrieval import EmbeddingIndex
from keras_ssl.retrieval import faiss_available


def brute_force(bank, queries, k, metric):
    """Exact neighbours by a double loop in float64."""
    bank = np.asarray(bank, np.float64)
    queries = np.asarray(queries, np.float64)
    if metric == "cosine":
        bank = bank / np.linalg.norm(bank, axis=1, keepdims=True)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    scores = np.zeros((len(queries), len(bank)))
    for i, q in enumerate(queries):
        for j, b in enumerate(bank):
            scores[i, j] = q @ b if metric == "cosine" else np.sqrt(np.sum((q - b) ** 2))
    order = np.argsort(-scores if metric == "cosine" else scores, axis=1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), order


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 12)).astype(np.float32), rng.normal(size=(40, 12))


BACKENDS = ["exact"] + (["faiss"] if faiss_available() else [])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_search_matches_brute_force(vectors, backend, metric):
    bank, queries = vectors
    index = EmbeddingIndex(12, metric=metric, backend=backend)
    index.add(bank[:100]).add(bank[100:])  # two adds, positions continue
    assert len(index) == 300 and index.backend == backend
    scores, ids = index.search(queries, k=7, batch_size=16)
    expected_scores, expected_ids = brute_force(bank, queries, 7, metric)
    assert scores.shape == ids.shape == (40, 7) and scores.dtype == np.float32
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(not faiss_available(), reason="faiss-cpu (keras_ssl[faiss]) not installed")
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_faiss_and_exact_agree(vectors, metric):
    bank, queries = vectors
    results = []
    for backend in ("exact", "faiss"):
        index = EmbeddingIndex(12, metric=metric, backend=backend)
        index.add(bank, ids=np.arange(300) * 10)
        results.append(index.search(queries, k=20))
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-4, atol=1e-4)
    assert EmbeddingIndex(12).backend == "faiss"  # auto picks faiss when installed


@pytest.mark.parametrize("backend", BACKENDS)
def test_save_load_round_trip(vectors, tmp_path, backend):
    bank, queries = vectors
    names = np.array([f"img_{i:03d}.jpg" for i in range(300)])
    index = EmbeddingIndex(12, metric="l2", metadata={"encoder": "simclr-v1"})
    index.add(bank, ids=names)
    path = str(tmp_path / "index.npz")
    index.save(path)
    loaded = EmbeddingIndex.load(path, backend=backend)
    assert (loaded.dim, loaded.metric, loaded.metadata) == (12, "l2", {"encoder": "simclr-v1"})
    scores, ids = index.search(queries, k=3)
    loaded_scores, loaded_ids = loaded.search(queries, k=3)
    np.testing.assert_array_equal(ids, loaded_ids)
    np.testing.assert_allclose(scores, loaded_scores, rtol=1e-5)
    assert ids.dtype.kind == "U" and ids[0, 0].startswith("img_")


def test_bad_input(vectors):
    bank, queries = vectors
    index = EmbeddingIndex(12, backend="exact")
    with pytest.raises(ValueError, match="index is empty"):
        index.search(queries, k=1)
    with pytest.raises(ValueError, match=r"shape \(N, dim=12\), got shape \(300, 5\)"):
        index.add(bank[:, :5])
    index.add(bank[:10])
    with pytest.raises(ValueError, match=r"`queries` must have shape \(N, dim=12\)"):
        index.search(queries[:, :3], k=1)
    with pytest.raises(ValueError, match=r"`k` must be an integer in \[1, 10\].*k=11"):
        index.search(queries, k=11)
    with pytest.raises(ValueError, match="one per vector"):
        index.add(bank[:3], ids=[1, 2])
    with pytest.raises(ValueError, match="metric='dot'"):
        EmbeddingIndex(12, metric="dot")
    with pytest.raises(ValueError, match="dim=0"):
        EmbeddingIndex(0)
    with pytest.raises(ValueError, match="backend='annoy'"):
        EmbeddingIndex(12, backend="annoy")
