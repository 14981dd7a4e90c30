import numpy as np
import pytest

from keras_ssl.retrieval import EmbeddingIndex
from keras_ssl.retrieval import auroc
from keras_ssl.retrieval import knn_anomaly_scores
from keras_ssl.retrieval import recall_at_k
from keras_ssl.retrieval import recommend


def test_knn_anomaly_scores_by_hand():
    bank = np.array([[1, 0], [0.6, 0.8], [0, 1]], np.float32)  # unit vectors
    index = EmbeddingIndex(2, backend="exact").add(bank)
    query = np.array([[0.8, 0.6]], np.float32)
    # cosine similarities to the bank: 0.8, 0.96, 0.6 -> nearest two 0.96, 0.8
    scores = knn_anomaly_scores(index, query, k=2)
    np.testing.assert_allclose(scores, [1 - (0.96 + 0.8) / 2], rtol=1e-5)
    # scoring the bank itself: skip the self match
    own = knn_anomaly_scores(index, bank, k=1, exclude_self=True)
    np.testing.assert_allclose(own, [1 - 0.6, 1 - 0.8, 1 - 0.8], rtol=1e-5)
    l2 = EmbeddingIndex(2, metric="l2", backend="exact").add(bank)
    np.testing.assert_allclose(
        knn_anomaly_scores(l2, query, k=1), [np.linalg.norm(query[0] - bank[1])], rtol=1e-5
    )


def reference_auroc(scores, positive):
    """All positive-negative pairs, ties counted one half."""
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


def test_auroc_against_pairs_and_sklearn():
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=200), 1)  # many ties
    positive = rng.random(200) < 0.3
    scores[positive] += 0.5
    assert auroc(scores, positive) == pytest.approx(reference_auroc(scores, positive))
    metrics = pytest.importorskip("sklearn.metrics")
    assert auroc(scores, positive) == pytest.approx(metrics.roc_auc_score(positive, scores))
    assert auroc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    with pytest.raises(ValueError, match="both classes"):
        auroc([1, 2], [1, 1])
    with pytest.raises(ValueError, match="same length"):
        auroc([1, 2, 3], [1, 0])


def test_recall_at_k():
    query = np.array([0, 1, 2])
    retrieved = np.array([[0, 1, 1], [2, 1, 0], [0, 0, 0]])
    assert recall_at_k(query, retrieved, 1) == pytest.approx(1 / 3)
    assert recall_at_k(query, retrieved, 2) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="k=4"):
        recall_at_k(query, retrieved, 4)
    with pytest.raises(ValueError, match=r"shape \(Q=3, K\)"):
        recall_at_k(query, retrieved[:2], 1)


def test_recommend_excludes_liked_items():
    catalogue = np.array([[1, 0], [0.9, 0.1], [0.8, 0.3], [0, 1], [0.95, -0.05]], np.float32)
    index = EmbeddingIndex(2, backend="exact").add(catalogue, ids=np.array(list("abcde")))
    scores, ids = recommend(index, catalogue[[0, 1]], k=2, exclude=["a", "b"])
    assert list(ids) == ["e", "c"]
    assert scores[0] >= scores[1]
    with pytest.raises(ValueError, match="liked"):
        recommend(index, np.zeros((0, 2)), k=2)


def test_one_class_aurocs():
    from keras_ssl.retrieval import one_class_aurocs

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 6)) * 3

    def split(n):
        labels = np.repeat(np.arange(3), n)
        return centres[labels] + rng.normal(size=(3 * n, 6)), labels

    train, test = split(30), split(20)
    aurocs, scores = one_class_aurocs(train, test, k=2, return_scores=True)
    assert set(aurocs) == {0, 1, 2} and all(value > 0.9 for value in aurocs.values())
    index = EmbeddingIndex(6, backend="exact").add(train[0][train[1] == 1])
    np.testing.assert_allclose(scores[1], knn_anomaly_scores(index, test[0], k=2), rtol=1e-5)
    assert aurocs[1] == pytest.approx(auroc(scores[1], test[1] != 1))
