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


def dcl(z1, z2, temperature, sigma=None):
    """Decoupled contrastive loss (Yeh et al. 2022, eq. 6), mean over the 2N
    anchors of `-w_i s_i,p(i) + log sum_{k != i, p(i)} exp(s_ik)`; `w_i = 1`
    (DCL), or with `sigma` the negative von Mises-Fisher weight of DCLW,
    `2 - exp(c_i / sigma) / mean_j exp(c_j / sigma)`, `c_i = cos(z1_i, z2_i)`."""
    z = l2n(np.concatenate([z1, z2], axis=0))
    n = len(z1)
    s = z @ z.T / temperature
    partner = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    weight = np.ones(2 * n)
    if sigma is not None:
        c = np.sum(z[:n] * z[n:], axis=1)
        w = 2 - np.exp(c / sigma) / np.mean(np.exp(c / sigma))
        weight = np.concatenate([w, w])
    losses = []
    for i in range(2 * n):
        others = np.delete(s[i], [i, partner[i]])
        losses.append(-weight[i] * s[i, partner[i]] + logsumexp(others))
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


def cosine_momentum(k, total, base):
    """`1 - (1 - base) (cos(pi k / total) + 1) / 2` (BYOL section 3.2)."""
    return 1.0 - (1.0 - base) * (np.cos(np.pi * min(k / total, 1.0)) + 1.0) / 2.0


def moco_v3(q1, q2, k1, k2, temperature):
    """MoCo v3 (Algorithm 1): 2T (ctr(q1, k2) + ctr(q2, k1)), in-batch keys."""

    def ctr(q, k):
        logits = l2n(q) @ l2n(k).T / temperature
        return np.mean(logsumexp(logits) - np.diag(logits))

    return 2 * temperature * (ctr(q1, k2) + ctr(q2, k1))


def byol(p1, p2, z1, z2):
    """BYOL eq. 2 summed over both directions: ||l2n(p) - l2n(z)||^2."""

    def regression(p, z):
        return np.sum((l2n(p) - l2n(z)) ** 2, axis=-1)

    return np.mean(regression(p1, z2) + regression(p2, z1))


def raft(p1, p2, t1, t2, alpha, beta):
    """RAFT: alpha ||p1 - p2||^2 - beta (||p1 - t1||^2 + ||p2 - t2||^2) / 2."""
    p1, p2, t1, t2 = (l2n(np.asarray(a, np.float64)) for a in (p1, p2, t1, t2))
    align = np.sum((p1 - p2) ** 2, axis=-1)
    cross = (np.sum((p1 - t1) ** 2, axis=-1) + np.sum((p2 - t2) ** 2, axis=-1)) / 2
    return np.mean(alpha * align - beta * cross)


def softmax(x, axis=-1):
    return np.exp(x - logsumexp(x, axis=axis)[..., None])


def dino(student, teacher, center, student_temperature, teacher_temperature):
    """DINO Algorithm 1: mean over (teacher global i, student crop j != i) of
    mean_batch -sum softmax((t_i - c)/T_t) log softmax(s_j / T_s)."""
    terms = []
    for i, t in enumerate(teacher):
        p = softmax((np.asarray(t, np.float64) - center) / teacher_temperature)
        for j, s in enumerate(student):
            if j != i:
                s = np.asarray(s, np.float64) / student_temperature
                log_q = s - logsumexp(s)[:, None]
                terms.append(np.mean(-np.sum(p * log_q, axis=-1)))
    return float(np.mean(terms))


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


def mae(predictions, pixels, mask, norm_pix_loss=True, eps=1e-6):
    """MAE (He et al. 2021): per sample, mean over the masked patches of the
    mean squared error over a patch's values; targets normalized per patch by
    mean and unbiased variance when `norm_pix_loss`."""
    p = np.asarray(predictions, np.float64)
    t = np.asarray(pixels, np.float64)
    if norm_pix_loss:
        t = (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, ddof=1, keepdims=True) + eps)
    per_patch = ((p - t) ** 2).mean(-1)
    m = np.asarray(mask, np.float64)
    return (per_patch * m).sum(-1) / m.sum(-1)


def ijepa(predictions, targets, weights):
    """I-JEPA (Assran et al. 2023): per sample 1/M sum_i sum_{j in B_i}
    ||p_j - t_j||^2, each block's patches counted once (`weights`)."""
    p = np.asarray(predictions, np.float64)
    t = np.asarray(targets, np.float64)
    w = np.asarray(weights, np.float64)
    out = np.zeros(len(p))
    for b in range(len(p)):
        for i in range(p.shape[1]):
            for j in range(p.shape[2]):
                out[b] += w[b, i, j] * np.sum((p[b, i, j] - t[b, i, j]) ** 2)
        out[b] /= p.shape[1]
    return out
