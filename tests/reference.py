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


def sincos_position_embedding_2d(grid_height, grid_width, dim, temperature=10000.0):
    """MoCo v3's fixed 2-D sin-cos position embedding (arXiv 2104.02057), one row
    per token: the class token (zeros) first, then the patches row by row. Patch
    (h, w) gets `[sin(h w_i), cos(h w_i)]` over `i < dim / 4`, then the same for `w`,
    with `w_i = 1 / temperature**(i / (dim / 4))`."""
    quarter = dim // 4
    embedding = np.zeros((1 + grid_height * grid_width, dim))
    for h in range(grid_height):
        for w in range(grid_width):
            row = embedding[1 + h * grid_width + w]
            for i in range(quarter):
                omega = 1.0 / temperature ** (i / quarter)
                row[i] = np.sin(h * omega)
                row[quarter + i] = np.cos(h * omega)
                row[2 * quarter + i] = np.sin(w * omega)
                row[3 * quarter + i] = np.cos(w * omega)
    return embedding
