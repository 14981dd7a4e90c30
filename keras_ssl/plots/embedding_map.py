"""A 2-D map of embeddings (t-SNE), coloured by class."""

import numpy as np


def matplotlib_figure(**kwargs):
    """A `matplotlib.figure.Figure` (no pyplot: the user's backend and open
    figures are left alone)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "keras_ssl.plots needs matplotlib: pip install keras_ssl[plots]"
        ) from error
    return Figure(**kwargs)


def embedding_map(features, seed=0, perplexity=30.0):
    """2-D coordinates of `(N, D)` features by t-SNE.

    Reference: [van der Maaten & Hinton, 2008](https://jmlr.org/papers/v9/vandermaaten08a.html),
    "Visualizing Data using t-SNE", through scikit-learn's `TSNE` (cosine
    distance, PCA initialization), an optional extra:
    `pip install keras_ssl[plots]`.

    Args:
        features: `(N, D)` embeddings, N > 4.
        seed: random state of t-SNE.
        perplexity: t-SNE perplexity, clipped below N / 4.

    Returns:
        float32 NumPy array `(N, 2)`.
    """
    try:
        from sklearn.manifold import TSNE
    except ImportError as error:
        raise ImportError(
            "embedding_map needs scikit-learn: pip install keras_ssl[plots]"
        ) from error
    features = np.asarray(features, np.float32)
    if features.ndim != 2 or len(features) < 5:
        raise ValueError(
            f"`features` must have shape (N >= 5, D), got shape {features.shape}."
        )
    tsne = TSNE(
        n_components=2,
        perplexity=min(perplexity, (len(features) - 1) / 4),
        metric="cosine",
        init="pca",
        random_state=seed,
    )
    return tsne.fit_transform(features).astype(np.float32)


def save_embedding_map(features, labels, path, class_names=None, seed=0, title=None):
    """Writes a PNG scatter plot of the t-SNE map of `features`, one colour
    per class of `labels`, with a legend of `class_names`.

    Args:
        features: `(N, D)` embeddings.
        labels: `(N,)` integer labels.
        path: PNG file to write.
        class_names: names of the labels, default their numbers.
        seed: random state of t-SNE.
        title: plot title.
    """
    figure = matplotlib_figure(figsize=(7, 6))
    import matplotlib

    points = embedding_map(features, seed=seed)
    labels = np.reshape(np.asarray(labels), (-1,))
    axes = figure.subplots()
    colours = matplotlib.colormaps["tab10" if labels.max() < 10 else "tab20"]
    for label in np.unique(labels):
        mask = labels == label
        name = class_names[label] if class_names is not None else str(label)
        axes.scatter(*points[mask].T, s=6, color=colours(label % colours.N), label=name)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title(title or "t-SNE of the embeddings")
    axes.legend(markerscale=3, fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
