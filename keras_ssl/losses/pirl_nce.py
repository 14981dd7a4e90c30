"""PIRL's noise-contrastive estimation loss against a memory bank (Misra and
van der Maaten 2019, "Self-Supervised Learning of Pretext-Invariant
Representations", https://arxiv.org/abs/1912.01991; NCE as in Wu et al. 2018,
https://arxiv.org/abs/1805.01978)."""

import math

from keras import ops

from keras_ssl.arg_checks import check_temperature
from keras_ssl.ops_utils import l2_normalize


def nce_normalizer(embeddings, positives, negatives, num_items, temperature=0.07):
    """The constant `Z = |D| * mean(exp(s / T))` over a batch's scores.

    PIRL and NPID estimate `Z` once, on the first batch, from the scores of
    the embeddings against their positive and negative bank rows, and keep
    it fixed afterwards (docs/methods.md, PIRL).

    Args:
        embeddings: `(N, d)` embeddings (l2-normalized here).
        positives: `(N, d)` their memory-bank rows.
        negatives: `(M, d)` bank rows drawn as noise.
        num_items: `|D|`, the number of bank rows.
        temperature: `T > 0`.

    Returns:
        A float32 scalar.
    """
    x = l2_normalize(embeddings)
    scores = ops.concatenate(
        [
            ops.sum(x * l2_normalize(positives), axis=-1, keepdims=True),
            ops.matmul(x, ops.transpose(l2_normalize(negatives))),
        ],
        axis=1,
    )
    return float(num_items) * ops.mean(ops.exp(ops.stop_gradient(scores) / temperature))


def pirl_nce_loss(embeddings, positives, negatives, num_items, normalizer, temperature=0.07):
    """Per-sample NCE loss of embeddings against memory-bank rows.

    With `P(m) = exp(x . m / T) / Z` and uniform noise of probability
    `M / |D|` for `M` negatives, `h(x, m) = P(m) / (P(m) + M / |D|)` and
    `L = -log h(x, m+) - sum_j log(1 - h(x, m_j))`, computed in log space
    (`logaddexp`) so it never overflows. Embeddings and bank rows are
    l2-normalized; gradients reach `embeddings` only when the bank rows come
    from a `MemoryBank` (they carry none).

    Args:
        embeddings: `(N, d)` embeddings `x` (e.g. `f(v)` or `g(v_jigsaw)`).
        positives: `(N, d)` the bank row `m_I` of each item.
        negatives: `(M, d)` bank rows drawn uniformly, shared by the batch.
        num_items: `|D|`, the number of bank rows.
        normalizer: the constant `Z` (`nce_normalizer` on the first batch).
        temperature: `T > 0`. Default 0.07 (PIRL, docs/methods.md, PIRL).

    Returns:
        `(N,)` float32 per-sample losses.

    Example:
    >>> z = nce_normalizer(f, bank.gather(i), bank.gather(j), 50000)  # once
    >>> loss = ops.mean(pirl_nce_loss(g, bank.gather(i), bank.gather(j), 50000, z))
    """
    check_temperature(temperature)
    x = l2_normalize(embeddings)
    positive_scores = ops.sum(x * l2_normalize(positives), axis=-1)
    negative_scores = ops.matmul(x, ops.transpose(l2_normalize(negatives)))
    log_z = ops.log(ops.cast(normalizer, "float32"))
    log_noise = math.log(negatives.shape[0] / num_items)

    def log_p(scores):
        return scores / temperature - log_z

    log_h_positive = log_p(positive_scores) - ops.logaddexp(log_p(positive_scores), log_noise)
    log_not_h_negative = log_noise - ops.logaddexp(log_p(negative_scores), log_noise)
    return -log_h_positive - ops.sum(log_not_h_negative, axis=1)
