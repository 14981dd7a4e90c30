"""Statistics of the SimCLR CIFAR views on either side of the peer benchmark.

Checks that both sides train on the same distribution of views: keras_ssl's
`augmentation.simclr_views(32)` (in keras_ssl's environment) and lightly's
`SimCLRTransform(input_size=32, cj_strength=0.5, gaussian_blur=0)` (in the peer
venv). Both read the same source images with PIL (the first `--per_class` files
of each class, in sorted order), make `--repeats` pairs of views of each, and
print the mean and standard deviation over views, in [0, 1] pixel units, of:
pixel mean, pixel standard deviation, saturation (HSV S), the fraction of
grey views, and the mean absolute difference of neighbouring pixels
(lower when a smaller crop is upsampled). `--side source` gives the
un-augmented images' figures.

    python -m benchmarks.peer.augmentation_stats --side ours
    benchmarks/peer/.venv/bin/python benchmarks/peer/augmentation_stats.py --side lightly
"""

import argparse
import json
import os

import numpy as np
from PIL import Image


def source_images(directory, per_class):
    images = []
    for name in sorted(os.listdir(directory)):
        folder = os.path.join(directory, name)
        for file in sorted(os.listdir(folder))[:per_class]:
            images.append(np.asarray(Image.open(os.path.join(folder, file)).convert("RGB")))
    return np.stack(images)


def ours_views(images, repeats, seed):
    import keras_ssl

    augmenter = keras_ssl.augmentation.simclr_views(images.shape[1], seed=seed)
    views = [np.asarray(v) for _ in range(repeats) for v in augmenter(images, training=True)]
    return np.concatenate(views) / 255.0


def lightly_views(images, repeats, seed):
    import torch
    from lightly.transforms import SimCLRTransform

    torch.manual_seed(seed)
    transform = SimCLRTransform(
        input_size=images.shape[1], cj_strength=0.5, gaussian_blur=0.0, normalize=None
    )
    views = [
        view.permute(1, 2, 0).numpy()
        for _ in range(repeats)
        for image in images
        for view in transform(Image.fromarray(image))
    ]
    return np.stack(views)


def statistics(views):
    """Per-view figures, each an array over views."""
    high, low = views.max(-1), views.min(-1)
    grey = np.all(np.abs(views - views[..., :1]) < 1e-3, axis=(1, 2, 3))
    return {
        "pixel_mean": views.mean((1, 2, 3)),
        "pixel_std": views.std((1, 2, 3)),
        "saturation": np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0).mean((1, 2)),
        "grey_fraction": grey.astype("float64"),
        "neighbour_difference": np.abs(np.diff(views, axis=1)).mean((1, 2, 3))
        + np.abs(np.diff(views, axis=2)).mean((1, 2, 3)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=["ours", "lightly", "source"], required=True)
    parser.add_argument("--data_dir", default="../shared/datasets/cifar10/train")
    parser.add_argument("--per_class", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=4, help="pairs of views per image")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    images = source_images(args.data_dir, args.per_class)
    if args.side == "source":
        views = images / 255.0
    else:
        make = ours_views if args.side == "ours" else lightly_views
        views = make(images, args.repeats, args.seed)
    figures = {
        name: {"mean": round(float(v.mean()), 4), "std": round(float(v.std()), 4)}
        for name, v in statistics(views.astype("float32")).items()
    }
    print(json.dumps({"side": args.side, "views": len(views), **figures}))


if __name__ == "__main__":
    main()
