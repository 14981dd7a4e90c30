import keras
import numpy as np
import pytest
from keras import ops

from keras_ssl import losses
from tests import reference
from tests.utils import value_and_gradients

FIXTURE_SCORES = np.float32([[0.9, 0.1, 0.0], [0.8, 0.2, 0.1], [0.7, 0.0, 0.3], [0.6, 0.5, 0.2]])
FIXTURE_CODES = [
    [0.992920, 0.001500, 0.005580],
    [0.719769, 0.059384, 0.220847],
    [0.008013, 0.000089, 0.991897],
    [0.000515, 0.935746, 0.063739],
]


def test_sinkhorn_methods_md_fixture():
    codes = np.asarray(losses.sinkhorn(FIXTURE_SCORES, 0.05, 3))
    np.testing.assert_allclose(codes, FIXTURE_CODES, atol=2e-6)
    np.testing.assert_allclose(codes.sum(1), 1.0, atol=1e-6)
    # Equipartition: every raw argmax is 0, the codes spread over prototypes.
    assert codes.argmax(1).tolist() == [0, 0, 2, 1]
    one = np.asarray(losses.sinkhorn(FIXTURE_SCORES, 0.05, 1))
    # METHODS.md counts rows from 1: "row 2" is the second row.
    np.testing.assert_allclose(one[1], [0.864715, 0.018258, 0.117026], atol=2e-6)
    np.testing.assert_allclose(codes, reference.sinkhorn(FIXTURE_SCORES), atol=1e-6)


def test_sinkhorn_marginals_are_uniform_after_the_iterations():
    rng = np.random.default_rng(0)
    z = reference.l2n(rng.normal(size=(64, 16)))
    prototypes = reference.l2n(rng.normal(size=(8, 16)))
    scores = np.float32(z @ prototypes.T)
    errors = []
    for num_iters in (3, 10, 50):
        codes = np.asarray(losses.sinkhorn(scores, 0.05, num_iters))
        # Rows (one sample each) sum to 1 after any number of iterations.
        np.testing.assert_allclose(codes.sum(1), 1.0, atol=1e-5)
        errors.append(np.abs(codes.sum(0) / (64 / 8) - 1).max())
        np.testing.assert_allclose(codes, reference.sinkhorn(scores, 0.05, num_iters), atol=1e-5)
    # Columns approach the uniform B / K; within 1e-3 once converged (3
    # iterations at epsilon 0.05 are the repo's trade-off, not convergence).
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-3, errors


def test_sinkhorn_runs_in_float32_under_mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        scores = ops.cast(FIXTURE_SCORES, "bfloat16")
        codes = losses.sinkhorn(scores)
        assert keras.backend.standardize_dtype(codes.dtype) == "float32"
        assert np.all(np.isfinite(np.asarray(codes)))
        np.testing.assert_allclose(np.asarray(codes).sum(1), 1.0, atol=1e-5)
        loss = losses.swav_loss([scores, scores])
        assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_sinkhorn_argument_errors():
    with pytest.raises(ValueError, match="epsilon"):
        losses.sinkhorn(FIXTURE_SCORES, epsilon=0.0)
    with pytest.raises(ValueError, match="num_iters"):
        losses.sinkhorn(FIXTURE_SCORES, num_iters=0)


@pytest.mark.parametrize("num_crops", [2, 4])
def test_swav_loss_matches_reference_and_codes_carry_no_gradient(num_crops):
    rng = np.random.default_rng(num_crops)
    scores = [np.tanh(rng.normal(size=(6, 5))) for _ in range(num_crops)]
    value, grads = value_and_gradients(
        lambda *s: ops.mean(losses.swav_loss(list(s))), *scores
    )
    assert value == pytest.approx(reference.swav(scores), rel=1e-5)
    for i in range(num_crops):

        def with_codes_fixed(s, i=i):
            moved = list(scores)
            moved[i] = s
            return reference.swav(moved, codes_from=scores)

        expected = reference.numerical_gradient(with_codes_fixed, scores[i])
        np.testing.assert_allclose(grads[i], expected, atol=1e-4)


def test_swav_loss_with_queue_prepends_rows_to_sinkhorn():
    rng = np.random.default_rng(7)
    scores = [np.float32(np.tanh(rng.normal(size=(4, 3)))) for _ in range(3)]
    queue = [np.float32(np.tanh(rng.normal(size=(6, 3)))) for _ in range(2)]
    value = float(ops.mean(losses.swav_loss(scores, queue_scores=queue)))
    codes = [reference.sinkhorn(np.concatenate([queue[a], scores[a]]))[6:] for a in range(2)]
    expected = 0.0
    for a in range(2):
        for v in range(3):
            if v != a:
                logits = scores[v] / 0.1
                log_p = logits - reference.logsumexp(logits)[:, None]
                expected += np.mean(-np.sum(codes[a] * log_p, axis=1))
    assert value == pytest.approx(expected / 4, rel=1e-5)


def test_uniform_scores_give_ln_k():
    scores = np.zeros((8, 30), np.float32)
    value = float(ops.mean(losses.swav_loss([scores, scores, scores])))
    assert value == pytest.approx(np.log(30), rel=1e-6)


def test_loss_class_and_errors():
    rng = np.random.default_rng(1)
    s1, s2 = np.tanh(rng.normal(size=(2, 6, 4))).astype(np.float32)
    loss = losses.SwAVLoss(temperature=0.2)
    assert float(loss(s1, s2)) == pytest.approx(reference.swav([s1, s2], 0.2), rel=1e-5)
    assert losses.SwAVLoss.from_config(loss.get_config()).temperature == 0.2
    with pytest.raises(ValueError, match="temperature"):
        losses.swav_loss([s1, s2], temperature=0.0)
    with pytest.raises(ValueError, match="assign_crops"):
        losses.swav_loss([s1, s2], assign_crops=(0, 2))
