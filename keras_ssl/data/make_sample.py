"""Build the bundled CIFAR-10 sample, `keras_ssl/data/cifar10_sample.npz`.

The sample holds 400 training and 100 test images per class (4,000 + 1,000),
drawn with a fixed seed from a CIFAR-10 image folder laid out as
`<source>/{train,test}/<class>/*.jpg`. Images are stored as their original
JPEG bytes, not re-encoded, so decoding the sample gives exactly the pixels of
the source files.

Usage (from the repository root):

```
python -m keras_ssl.data.make_sample --source ../shared/datasets/cifar10
```

Arrays in the archive, for each split `s` in `("train", "test")`:
- `s_jpeg`: uint8, the JPEG files concatenated;
- `s_offsets`: int64 (N + 1,), image `i` is
  `s_jpeg[s_offsets[i]:s_offsets[i + 1]]`;
- `s_labels`: int32 (N,), index into `CIFAR10_CLASSES`.
"""

import argparse
import os

import numpy as np

from keras_ssl.data.sample import CIFAR10_CLASSES
from keras_ssl.data.sample import SAMPLE_PATH

PER_CLASS = {"train": 400, "test": 100}
SEED = 1337


def _pick_split(split_dir, per_class, rng):
    """Read `per_class` random JPEG files of each class in `split_dir`."""
    blobs, labels = [], []
    for label, name in enumerate(CIFAR10_CLASSES):
        class_dir = os.path.join(split_dir, name)
        files = sorted(f for f in os.listdir(class_dir) if f.endswith(".jpg"))
        if len(files) < per_class:
            raise ValueError(
                f"Expected at least {per_class} JPEG files in {class_dir}, "
                f"found {len(files)}."
            )
        chosen = np.sort(rng.choice(len(files), size=per_class, replace=False))
        for i in chosen:
            with open(os.path.join(class_dir, files[i]), "rb") as f:
                blobs.append(np.frombuffer(f.read(), dtype=np.uint8))
        labels.extend([label] * per_class)
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    return np.concatenate(blobs), offsets, np.asarray(labels, dtype=np.int32)


def make_sample(source, output=SAMPLE_PATH, seed=SEED):
    """Write the class-balanced sample of the CIFAR-10 folder `source`.

    Args:
        source: directory holding `train/<class>/*.jpg` and
            `test/<class>/*.jpg`, with the class folders named as in
            `CIFAR10_CLASSES`.
        output: path of the `.npz` archive to write.
        seed: seed of the random choice of files within each class.

    Returns:
        The path written.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, per_class in PER_CLASS.items():
        jpeg, offsets, labels = _pick_split(
            os.path.join(source, split), per_class, rng
        )
        arrays[f"{split}_jpeg"] = jpeg
        arrays[f"{split}_offsets"] = offsets
        arrays[f"{split}_labels"] = labels
    np.savez_compressed(output, **arrays)
    return output


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        default=os.path.join("..", "shared", "datasets", "cifar10"),
        help="CIFAR-10 image folder with train/ and test/ sub-folders.",
    )
    parser.add_argument("--output", default=SAMPLE_PATH)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    path = make_sample(args.source, args.output, args.seed)
    print(f"Wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
