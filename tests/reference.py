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


def supcon(features, labels, temperature, base_temperature=None):
    """SupCon L_out (Khosla et al. 2020, eq. 2): anchors = all N*V views; for
    anchor i, A(i) = all other views, P(i) = those with i's label;
    `l_i = -1/|P(i)| sum_p log(exp(z_i.z_p/T) / sum_a exp(z_i.z_a/T))`, times
    T / T_base; mean over the anchors that have a positive."""
    base_temperature = base_temperature or temperature
    n, v, _ = np.shape(features)
    z = l2n(features).reshape(n * v, -1)
    y = np.repeat(np.asarray(labels), v)
    losses = []
    for i in range(n * v):
        others = [a for a in range(n * v) if a != i]
        positives = [p for p in others if y[p] == y[i]]
        if not positives:
            continue
        denominator = logsumexp(np.array([z[i] @ z[a] / temperature for a in others]))
        terms = [z[i] @ z[p] / temperature - denominator for p in positives]
        losses.append(-np.mean(terms) * temperature / base_temperature)
    return float(np.mean(losses))


def nnclr(z1, z2, p1, p2, support, temperature):
    """NNCLR (Dwibedi et al. 2021, eq. 2), symmetrised: the support-set row
    nearest (cosine) to z_v replaces it; CE of nn_v . p_other / T over the
    batch, label = own row."""
    s = l2n(support)

    def one_direction(z, p):
        nn = s[np.argmax(l2n(z) @ s.T, axis=1)]
        logits = nn @ l2n(p).T / temperature
        return np.mean([logsumexp(row) - row[i] for i, row in enumerate(logits)])

    return float((one_direction(z1, p2) + one_direction(z2, p1)) / 2)


def clip(image_embeddings, text_embeddings, logit_scale):
    """CLIP's symmetric loss (Radford et al. 2021, Figure 3 pseudocode):
    logits = scale * l2n(I) l2n(T)^T; mean of the row-wise and the
    column-wise cross-entropy with the diagonal as labels."""
    logits = logit_scale * l2n(image_embeddings) @ l2n(text_embeddings).T
    n = len(logits)
    rows = np.mean([logsumexp(logits[i]) - logits[i, i] for i in range(n)])
    columns = np.mean([logsumexp(logits[:, j]) - logits[j, j] for j in range(n)])
    return float((rows + columns) / 2)


def contrastive_margin(a, b, is_similar, margin):
    """DrLIM (Hadsell et al. 2006, eq. 4) with Y = 1 - is_similar:
    (1 - Y) D^2 / 2 + Y max(0, m - D)^2 / 2, D the Euclidean distance."""
    d = np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64), axis=-1)
    y = 1.0 - np.asarray(is_similar, np.float64)
    return float(np.mean((1 - y) * d**2 / 2 + y * np.maximum(0.0, margin - d) ** 2 / 2))


def siamese_energy(a, b, is_similar, q):
    """Chopra et al. 2005: E = L1 distance, Y = 1 - is_similar,
    (1 - Y) (2 / Q) E^2 + Y 2 Q exp(-2.77 E / Q)."""
    e = np.sum(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)), axis=-1)
    y = 1.0 - np.asarray(is_similar, np.float64)
    return float(np.mean((1 - y) * 2 / q * e**2 + y * 2 * q * np.exp(-2.77 * e / q)))


def pirl_nce(x, positives, negatives, num_items, normalizer, temperature):
    """PIRL / NPID NCE (Wu et al. 2018 eq. 6-8): P = exp(x.m / T) / Z,
    h = P / (P + M / |D|); L = -log h(x, m+) - sum_j log(1 - h(x, m_j))."""
    x, pos, neg = l2n(x), l2n(positives), l2n(negatives)
    noise = len(neg) / num_items

    def h(scores):
        p = np.exp(scores / temperature) / normalizer
        return p / (p + noise)

    losses = -np.log(h(np.sum(x * pos, axis=1))) - np.sum(np.log(1 - h(x @ neg.T)), axis=1)
    return float(np.mean(losses))


def nce_normalizer(x, positives, negatives, num_items, temperature):
    """Z = |D| * mean(exp(s / T)) over the batch's positive and negative scores."""
    x = l2n(x)
    scores = np.concatenate(
        [np.sum(x * l2n(positives), axis=1, keepdims=True), x @ l2n(negatives).T], axis=1
    )
    return float(num_items * np.mean(np.exp(scores / temperature)))


def cpc(predictions, targets, offset):
    """CPC v2 (Hénaff et al. 2020, appendix pseudocode): every prediction
    p[b, i, j] is scored against every target of the batch; the positive is
    targets[b, i + offset, j]; mean cross-entropy."""
    predictions, targets = np.asarray(predictions, np.float64), np.asarray(targets, np.float64)
    batch, height, width, dim = targets.shape
    candidates = targets.reshape(-1, dim)
    losses = []
    for b in range(batch):
        for i in range(height - offset):
            for j in range(width):
                logits = candidates @ predictions[b, i, j]
                positive = (b * height + i + offset) * width + j
                losses.append(logsumexp(logits) - logits[positive])
    return float(np.mean(losses))
