"""Checks shared by evaluation, retrieval and the monitors."""

import numpy as np


def check_finite(values, what):
    """Raises `ValueError` when `values` (an array of embeddings, rows first)
    hold NaN or Inf, which would otherwise turn into a meaningless accuracy,
    score or neighbour list.

    Args:
        values: array-like, e.g. `(N, D)` embeddings.
        what: how the error names them, e.g. "`queries`".

    Returns:
        `values` as a NumPy array.
    """
    values = np.asarray(values)
    finite = np.isfinite(values)
    if finite.all():
        return values
    rows = np.flatnonzero(~finite.reshape(len(values), -1).all(axis=1))
    raise ValueError(
        f"{what} hold non-finite values (NaN or Inf) in {len(rows)} of "
        f"{len(values)} rows (the first is row {rows[0]}). An encoder gives "
        "them when its weights are not finite (a training run that diverged) "
        "or its input images are not: check the images with `np.isfinite`, "
        "and train with the non-finite guard on (the default of keras_ssl's "
        "methods), which stops at the first such step."
    )


def check_knn_args(k, temperature):
    """Raises `ValueError` unless `k` is an int >= 1 and `temperature` a
    finite number > 0 (the kNN classifier's arguments)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"`k` must be an integer >= 1, got k={k!r}.")
    if not 0 < temperature < float("inf"):
        raise ValueError(
            f"`temperature` must be > 0, got temperature={temperature!r}."
        )
