"""Training curves from a Keras `History`."""

from keras_ssl.plots.embedding_map import matplotlib_figure


def save_training_curves(history, path, title=None):
    """Writes a PNG with one panel per metric of a `fit` run: the training
    value and, when logged, the validation value (`val_` prefix), per epoch.

    Args:
        history: the `keras.callbacks.History` returned by `fit`, or its
            `.history` dict of metric name -> list of per-epoch values.
        path: PNG file to write.
        title: figure title.
    """
    logs = getattr(history, "history", history)
    names = [name for name in logs if not name.startswith("val_") and logs[name]]
    if not names:
        raise ValueError("`history` holds no metrics: run `fit` first.")
    epochs = getattr(history, "epoch", None)
    figure = matplotlib_figure(figsize=(3.6 * len(names), 3))
    from matplotlib.ticker import MaxNLocator

    axes = figure.subplots(1, len(names), squeeze=False)
    for axis, name in zip(axes[0], names):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            values = logs.get(key)
            if not values:
                continue
            x = epochs if epochs and len(epochs) == len(values) else range(len(values))
            x = [epoch + 1 for epoch in x]
            axis.plot(x, values, marker="o", markersize=3, label=label)
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        if f"val_{name}" in logs:
            axis.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
