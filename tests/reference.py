"""Independent NumPy references, written from the papers' formulas.

Nothing here imports keras_ssl: each function restates the formula in float64 so
that tests compare our keras.ops code against the paper, not against itself.
"""

import numpy as np


def l2n(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def logsumexp(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def nt_xent(z1, z2, temperature):
    """SimCLR NT-Xent, paper normalization: mean over the 2N anchors of
    `-s_i,p(i) + log sum_{k != i} exp(s_ik)`."""
    z = l2n(np.concatenate([z1, z2], axis=0))
    n = len(z1)
    s = z @ z.T / temperature
    partner = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    losses = []
    for i in range(2 * n):
        others = np.delete(s[i], i)
        losses.append(-s[i, partner[i]] + logsumexp(others))
    return float(np.mean(losses))


def info_nce(query, positive, negatives, temperature):
    """InfoNCE with shared negatives (M, d), per-query negatives (N, M, d), or
    in-batch negatives (None: the other rows' positives)."""
    q, k = l2n(query), l2n(positive)
    if negatives is None:
        logits = q @ k.T / temperature
        labels = np.arange(len(q))
    else:
        neg = l2n(negatives)
        pos = np.sum(q * k, axis=-1, keepdims=True)
        other = q @ neg.T if neg.ndim == 2 else np.einsum("nd,nmd->nm", q, neg)
        logits = np.concatenate([pos, other], axis=1) / temperature
        labels = np.zeros(len(q), dtype=int)
    rows = np.arange(len(q))
    return float(np.mean(logsumexp(logits) - logits[rows, labels]))


def numerical_gradient(fn, x, eps=1e-6):
    """Central-difference gradient of a scalar NumPy function at float64 `x`."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (fn(x + step) - fn(x - step)) / (2 * eps)
    return grad


def simsiam(p1, p2, z1, z2):
    """SimSiam: `D(p1, z2) / 2 + D(p2, z1) / 2` with `D(p, z) = -cos(p, z)`,
    mean over the batch."""

    def d(p, z):
        return -np.sum(l2n(p) * l2n(z), axis=-1)

    return float(np.mean(d(p1, z2) / 2 + d(p2, z1) / 2))


def barlow_twins(z_a, z_b, lambd=0.0051, eps=1e-5):
    """Barlow Twins: per-dimension batch standardization (biased variance),
    `C = za^T zb / N`, `sum (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2`."""

    def standardize(z):
        z = np.asarray(z, np.float64)
        return (z - z.mean(0)) / np.sqrt(z.var(0) + eps)

    c = standardize(z_a).T @ standardize(z_b) / len(z_a)
    on = sum((1 - c[i, i]) ** 2 for i in range(len(c)))
    off = sum(c[i, j] ** 2 for i in range(len(c)) for j in range(len(c)) if i != j)
    return float(on + lambd * off)


def vicreg(z_a, z_b, weights=(25.0, 25.0, 1.0), eps=1e-4, paper_form=False):
    """VICReg: invariance MSE, variance hinge on the unbiased std at 1,
    off-diagonal covariance squared / D; repo or paper normalization."""
    z_a, z_b = np.asarray(z_a, np.float64), np.asarray(z_b, np.float64)
    n, d = z_a.shape
    inv = np.mean((z_a - z_b) ** 2)

    def v(z):
        std = np.sqrt(z.var(0, ddof=1) + eps)
        return np.mean(np.maximum(0.0, 1.0 - std))

    def c(z):
        zc = z - z.mean(0)
        cov = zc.T @ zc / (n - 1)
        return (np.sum(cov**2) - np.sum(np.diag(cov) ** 2)) / d

    if paper_form:
        inv, var = inv * d, v(z_a) + v(z_b)
    else:
        var = (v(z_a) + v(z_b)) / 2
    return float(weights[0] * inv + weights[1] * var + weights[2] * (c(z_a) + c(z_b)))


def sinkhorn(scores, eps=0.05, iters=3):
    """SwAV's Sinkhorn-Knopp, transcribed from the repo's pseudo-code:
    `Q = exp(s / eps)^T`, normalise, then alternately rows (prototypes) to
    1/K and columns (samples) to 1/B; return `B * Q^T`."""
    q = np.exp(np.asarray(scores, np.float64) / eps).T  # (K, B)
    k, b = q.shape
    q /= q.sum()
    for _ in range(iters):
        q /= q.sum(axis=1, keepdims=True)
        q /= k
        q /= q.sum(axis=0, keepdims=True)
        q /= b
    return (q * b).T


def swav(scores, temperature=0.1, eps=0.05, iters=3, assign=(0, 1), codes_from=None):
    """SwAV swapped prediction: codes of each assignment crop (Sinkhorn of
    `codes_from`, default the scores themselves) predicted by every other
    crop's softmax(s / T); mean over assignment crops of the mean over the
    other V - 1 crops."""
    codes_from = scores if codes_from is None else codes_from
    v_crops = len(scores)
    total = 0.0
    for a in assign:
        q = sinkhorn(codes_from[a], eps, iters)
        for v in range(v_crops):
            if v == a:
                continue
            logits = np.asarray(scores[v], np.float64) / temperature
            log_p = logits - logsumexp(logits)[:, None]
            total += np.mean(-np.sum(q * log_p, axis=1))
    return float(total / (len(assign) * (v_crops - 1)))
