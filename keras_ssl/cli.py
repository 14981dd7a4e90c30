"""The `keras-ssl` command line: pretrain, embed, evaluate.

    keras-ssl pretrain --epochs 10 --output_dir outputs/pretrain
    keras-ssl embed --encoder_dir outputs/pretrain/encoder --image_dir photos/ \
        --output_dir outputs/embeddings
    keras-ssl evaluate --encoder_dir outputs/pretrain/encoder --protocols knn,linear

Data flags (`pretrain`, `evaluate`): the bundled CIFAR-10 sample by default,
`--data_dir` for a folder with `train/<class>/` and `test/<class>/`, or
`--dataset cifar10` (tensorflow-datasets, online). The functions below are
the examples' shared code (`examples/*.py` call them).
"""

import argparse
import contextlib
import json
import os
import time

import keras
import numpy as np

import keras_ssl
from keras_ssl.io_utils import atomic_write

# Every method of the recipe table (`moco_v3_vit` is MoCo v3, which picks its
# ViT recipe from the backbone).
METHODS = tuple(name for name in keras_ssl.recipes.METHODS if name != "moco_v3_vit")
BACKBONES = ("small_cnn", "resnet18", "resnet34", "resnet50", "vit_tiny", "vit_small", "vit_base")
OPTIMIZERS = ("recipe", "sgd")


def make_backbone(name, image_shape):
    """The backbone `name` for images of `image_shape`: ResNets with the CIFAR
    stem at <= 64 px and the ImageNet stem above, ViTs with 4 px patches at
    <= 64 px and 16 px patches above."""
    if name not in BACKBONES:
        raise ValueError(f"`backbone` must be one of {BACKBONES}. Received: {name!r}")
    small = keras_ssl.recipes.is_small(image_shape[0])
    build = getattr(keras_ssl.backbones, name)
    if name.startswith("resnet"):
        return build(image_shape, stem="cifar" if small else "imagenet")
    if name.startswith("vit"):
        return build(image_shape, patch_size=4 if small else 16)
    return build(image_shape)


def method_class(method):
    """The class of `method`, a name of `METHODS`."""
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}. Received: {method!r}")
    return getattr(keras_ssl, keras_ssl.recipes.METHODS[method][0])


def build_method(method, backbone, image_shape, num_items=None, class_names=None):
    """`(model, tokenizer)`: `method` (a name of `METHODS`) with its recipe's
    defaults on the backbone `backbone` (a name of `BACKBONES`). PIRL gets
    `num_items` memory-bank rows; CLIP a small text transformer over the
    captions of `class_names` and the `tokenizer` that makes its tokens
    (None for the other methods)."""
    cls = method_class(method)
    arguments = dict(keras_ssl.recipes.METHODS[method][1])
    if cls.needs_indices:
        arguments["num_items"] = num_items
    tokenizer = None
    if cls.needs_tokens:
        captions = [t.format(c) for c in class_names for t in keras_ssl.data.CAPTION_TEMPLATES]
        tokenizer = keras_ssl.data.caption_tokenizer(captions)
        arguments["text_encoder"] = keras_ssl.backbones.text_transformer(
            tokenizer.vocabulary_size(), 16, width=64, num_layers=2, num_heads=4
        )
    return cls(make_backbone(backbone, image_shape), **arguments), tokenizer


def _needs_labels(model):
    return model.uses_labels or model.needs_tokens


def _with_captions(model, batches, tokenizer, class_names):
    if model.needs_tokens:
        return keras_ssl.data.with_captions(batches, tokenizer, class_names)
    return batches


def array_batches(model, x, y, batch_size, seed, tokenizer=None, class_names=None):
    """Shuffled training batches of arrays in the form `model` trains on:
    images, `(images, labels)` (SupCon), `{"images", "index"}` (PIRL) or
    `{"images", "tokens"}` (CLIP)."""
    import tensorflow as tf

    if not (model.needs_indices or _needs_labels(model)):
        return keras_ssl.data.shuffled_batches(x, batch_size, seed=seed)
    data = keras_ssl.data.with_index(x) if model.needs_indices else (
        tf.data.Dataset.from_tensor_slices((x, y.astype("int32")))
    )
    batches = data.shuffle(len(x), seed=seed).batch(batch_size, drop_remainder=True)
    return _with_captions(model, batches, tokenizer, class_names).prefetch(tf.data.AUTOTUNE)


def compile_sgd(model, lr, weight_decay, batch_size, total_steps):
    """Momentum SGD with coupled weight decay and per-step cosine decay
    (lightly's CIFAR-10 setting: peak 0.06 x batch / 128 unless `lr`)."""
    lr = lr or 0.06 * batch_size / 128
    schedule = keras.optimizers.schedules.CosineDecay(lr, max(total_steps, 1))
    model.compile(
        optimizer=keras_ssl.optimizers.SGD(schedule, momentum=0.9, weight_decay=weight_decay)
    )


def load_data(data_dir=None, dataset=None, image_size=32, max_per_class=None, seed=0):
    """`(x_train, y_train), (x_test, y_test)`, uint8 images and int labels,
    from an image folder, a TFDS dataset or (default) the bundled sample."""
    if data_dir:
        size = (image_size, image_size)
        x_train, y_train, classes = keras_ssl.data.load_image_folder(
            os.path.join(data_dir, "train"), size, max_per_class=max_per_class,
            shuffle=max_per_class is not None, seed=seed,
        )
        x_test, y_test, _ = keras_ssl.data.load_image_folder(
            os.path.join(data_dir, "test"), size, class_names=classes
        )
        return (x_train, y_train), (x_test, y_test)
    if dataset:
        return (
            keras_ssl.data.load_tfds(dataset, "train"),
            keras_ssl.data.load_tfds(dataset, "test"),
        )
    (x_train, y_train), test = keras_ssl.data.load_sample()
    if max_per_class is not None:
        keep = np.concatenate(
            [np.flatnonzero(y_train == c)[:max_per_class] for c in np.unique(y_train)]
        )
        x_train, y_train = x_train[np.sort(keep)], y_train[np.sort(keep)]
    return (x_train, y_train), test


def spread(images, count=8):
    """`count` images evenly spaced through the set (so every class shows)."""
    return images[np.linspace(0, len(images) - 1, count).astype(int)]


def save_pictures(model, train, test, output_dir):
    """Augmentation and nearest-neighbour grids of a trained model (PNGs)."""
    x_train, _ = train
    x_test, _ = test
    augmentation_png = os.path.join(output_dir, "augmentations.png")
    keras_ssl.plots.save_augmentation_grid(model.augmenter, spread(x_train), augmentation_png)
    bank, _ = keras_ssl.evaluation.embed(model.encoder, (x_train, None))
    queries, _ = keras_ssl.evaluation.embed(model.encoder, (spread(x_test), None))
    nearest = np.argsort(-queries @ bank.T, axis=1)[:, :8]
    neighbours_png = os.path.join(output_dir, "neighbours.png")
    keras_ssl.plots.save_neighbour_grid(spread(x_test), x_train[nearest], neighbours_png)
    return augmentation_png, neighbours_png


def pretrain(
    train,
    test,
    method="simclr",
    backbone="small_cnn",
    epochs=10,
    batch_size=128,
    lr=None,
    weight_decay=5e-4,
    seed=0,
    output_dir="outputs/pretrain",
    scope=None,
    optimizer="sgd",
    class_names=keras_ssl.data.CIFAR10_CLASSES,
):
    """Pretrains `method` on the training images, prints the kNN accuracy next
    to the random-init floor, exports the encoder to `output_dir/encoder` and
    writes the PNGs. `scope` (from `keras_ssl.distribute.distribution_scope`)
    is where the model is built and compiled; `batch_size` is the global
    batch. `optimizer="sgd"`: `compile_sgd` (the demo's setting); `"recipe"`:
    the method's recipe (`fit` without `compile`). Returns the trained model."""
    keras.utils.set_random_seed(seed)
    os.makedirs(output_dir, exist_ok=True)
    x_train = train[0]
    print(
        f"Data: {len(x_train)} train and {len(test[0])} test images "
        f"of shape {x_train.shape[1:]}"
    )
    steps_per_epoch = len(x_train) // batch_size
    with scope or contextlib.nullcontext():
        model, tokenizer = build_method(
            method, backbone, x_train.shape[1:], len(x_train), class_names
        )
        if optimizer == "sgd":
            compile_sgd(model, lr, weight_decay, batch_size, epochs * steps_per_epoch)
    floor = keras_ssl.evaluation.knn_accuracy(model.encoder, train, test)
    print(f"Random-init kNN accuracy (floor): {floor:.4f}")
    images = array_batches(model, x_train, train[1], batch_size, seed, tokenizer, class_names)
    start = time.perf_counter()
    history = model.fit(images, epochs=epochs)
    seconds = time.perf_counter() - start
    seen = epochs * steps_per_epoch * batch_size
    print(f"Pretraining: {seconds:.0f} s, {seen / seconds:.0f} images/s")

    accuracy = keras_ssl.evaluation.knn_accuracy(model.encoder, train, test)
    print(f"kNN accuracy: {accuracy:.4f} (random-init floor {floor:.4f}, "
          f"{100 * (accuracy - floor):+.1f} points)")

    encoder_dir = os.path.join(output_dir, "encoder")
    model.export_encoder(encoder_dir)
    print(f"Encoder exported to {encoder_dir} (reload: keras_ssl.load_encoder)")
    pngs = list(save_pictures(model, train, test, output_dir))
    try:
        curves = os.path.join(output_dir, "training_curves.png")
        keras_ssl.plots.save_training_curves(history, curves, title=method)
        pngs.append(curves)
    except ImportError as error:
        print(f"Skipped the training curves: {error}")
    for png in pngs:
        print(f"Wrote {png}")
    return model


def pretrain_folder(
    image_dir,
    method="simclr",
    backbone="small_cnn",
    image_size=224,
    epochs=100,
    batch_size=256,
    lr=None,
    weight_decay=5e-4,
    seed=0,
    output_dir="outputs/pretrain",
    scope=None,
    optimizer="recipe",
):
    """Pretrains `method` on the images under `image_dir` (any layout,
    unlabeled; `<class>/` folders for SupCon and CLIP, whose captions are the
    class names), streamed by `keras_ssl.data.image_dataset`, and exports the
    encoder to `output_dir/encoder`. `optimizer="recipe"` (default): the
    method's recipe, chosen by `fit`; `"sgd"`: `compile_sgd`. Returns the
    trained model."""
    keras.utils.set_random_seed(seed)
    labels = "inferred" if _needs_labels(method_class(method)) else None
    paths, file_labels, class_names = keras_ssl.data.list_image_files(image_dir, labels=labels)
    print(f"Data: {len(paths)} image files under {image_dir}, views of {image_size} px")
    with scope or contextlib.nullcontext():
        model, tokenizer = build_method(
            method, backbone, (image_size, image_size, 3), len(paths), class_names
        )
        if optimizer == "sgd":
            compile_sgd(model, lr, weight_decay, batch_size, epochs * (len(paths) // batch_size))
    batches = keras_ssl.data.image_dataset(  # the files listed above, not listed again
        paths, image_size, batch_size, labels=file_labels, seed=seed,
        with_index=model.needs_indices,
    )
    batches = _with_captions(model, batches, tokenizer, class_names)
    start = time.perf_counter()
    model.fit(batches, epochs=epochs)
    seconds = time.perf_counter() - start
    print(f"Pretraining: {seconds:.0f} s")
    encoder_dir = os.path.join(output_dir, "encoder")
    model.export_encoder(encoder_dir)
    print(f"Encoder exported to {encoder_dir} (reload: keras_ssl.load_encoder)")
    return model


def has_splits(data_dir):
    """Whether `data_dir` holds labelled `train/` and `test/` folders."""
    return all(os.path.isdir(os.path.join(data_dir, split)) for split in ("train", "test"))


def encoder_for(encoder_dir, train, test, epochs, output_dir):
    """The exported encoder at `encoder_dir`, or one pretrained here for
    `epochs` epochs (SimCLR, small_cnn) and exported under `output_dir`."""
    if encoder_dir:
        return keras_ssl.load_encoder(encoder_dir)
    print(f"No --encoder_dir: pretraining SimCLR for {epochs} epochs first.")
    model = pretrain(train, test, epochs=epochs, output_dir=output_dir)
    return model.encoder


def list_images(image_dir):
    """Image files under `image_dir` (recursively, sorted), as paths
    relative to it."""
    paths, _, _ = keras_ssl.data.list_image_files(image_dir)
    return [os.path.relpath(path, image_dir) for path in paths]


def embed_folder(encoder_dir, image_dir, output_dir, batch_size=256):
    """Embeds every readable image under `image_dir` with an exported encoder.

    Images are streamed (`keras_ssl.data.image_dataset`) and resized to the
    encoder's input size; unreadable files are skipped and reported in one
    warning. Writes, each file atomically, `embeddings.npy` (float32
    `(N, D)`, l2-normalized) and `ids.jsonl` (row `i`'s image path relative
    to `image_dir` as a JSON string on line `i`, which any file name
    survives) to `output_dir`. Returns `(embeddings, ids)`.
    """
    import tensorflow as tf

    encoder = keras_ssl.load_encoder(encoder_dir)
    height, width, channels = encoder.input_shape[1:]
    names = list_images(image_dir)
    images = keras_ssl.data.image_dataset(
        [os.path.join(image_dir, name) for name in names], (height, width), batch_size,
        shuffle=False, with_index=True, shard=None, drop_remainder=False,
    )
    gray = channels == 1
    images = images.map(
        lambda x: (tf.image.rgb_to_grayscale(x["images"]) if gray else x["images"], x["index"])
    )
    embeddings, rows = keras_ssl.evaluation.embed(encoder, images, verbose=1)
    ids = [names[i] for i in rows]
    os.makedirs(output_dir, exist_ok=True)
    with atomic_write(os.path.join(output_dir, "embeddings.npy")) as f:
        np.save(f, embeddings)
    with atomic_write(os.path.join(output_dir, "ids.jsonl"), "w") as f:
        f.writelines(json.dumps(name) + "\n" for name in ids)
    return embeddings, ids


def evaluate_encoder(encoder_dir, train, test, protocols=("knn", "linear"), epochs=100):
    """Runs the evaluation `protocols` (`knn`, `linear`) on an exported
    encoder, prints and returns `{protocol: result}`. (Fine-tuning trains the
    live encoder, see `keras_ssl.evaluation.fine_tune`.)"""
    unknown = [p for p in protocols if p not in ("knn", "linear")]
    if unknown:
        raise ValueError(
            f"Unknown protocol {unknown[0]!r} in `protocols`: choose from knn, linear."
        )
    encoder = keras_ssl.load_encoder(encoder_dir)
    results = {}
    for protocol in protocols:
        if protocol == "knn":
            results[protocol] = keras_ssl.evaluation.knn_accuracy(encoder, train, test)
        else:
            results[protocol] = keras_ssl.evaluation.linear_probe(
                encoder, train, test, epochs=epochs
            )
        print(f"{protocol}: {results[protocol]}")
    return results


def _add_data_flags(parser, data_dir_help="Image folder with train/<class>/ and test/<class>/."):
    parser.add_argument("--data_dir", help=data_dir_help)
    parser.add_argument("--dataset", choices=["cifar10"], help="tensorflow-datasets dataset (online).")
    parser.add_argument("--image_size", type=int, default=32, help="Resize folder images to this size.")
    parser.add_argument("--max_per_class", type=int, help="Cap on training images per class.")
    parser.add_argument("--seed", type=int, default=0, help="Random seed.")


def _data(args):
    return load_data(args.data_dir, args.dataset, args.image_size, args.max_per_class, args.seed)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-ssl", description="Self-supervised pretraining and its downstream uses."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    pre = commands.add_parser("pretrain", help="Pretrain, report kNN accuracy, export the encoder.")
    pre.add_argument("--method", choices=METHODS, default="simclr")
    pre.add_argument(
        "--backbone", choices=BACKBONES, default="small_cnn",
        help="ResNets take the CIFAR stem at <= 64 px, the ImageNet stem above; "
        "MAE and I-JEPA need a ViT.",
    )
    pre.add_argument("--epochs", type=int, default=10)
    pre.add_argument("--batch_size", type=int, default=128)
    pre.add_argument(
        "--optimizer", choices=OPTIMIZERS,
        help="'recipe': the method's recipe (keras_ssl.recipes); 'sgd': momentum SGD, "
        "cosine. Default: sgd on train/test data and the bundled sample, recipe on "
        "an image folder.",
    )
    pre.add_argument("--lr", type=float, help="Peak SGD learning rate; default 0.06 x batch_size / 128.")
    pre.add_argument("--weight_decay", type=float, default=5e-4)
    pre.add_argument("--output_dir", default="outputs/pretrain")
    pre.add_argument(
        "--distribute", choices=keras_ssl.distribute.DISTRIBUTIONS, default="none",
        help="Multi-device training (docs/scaling_out.md); --batch_size is the global batch.",
    )
    _add_data_flags(
        pre, "An image folder: with train/<class>/ and test/<class>/ it pretrains on train "
        "and reports kNN accuracy on test; otherwise it streams every image under it "
        "(unlabeled, any layout) and only pretrains and exports."
    )

    emb = commands.add_parser("embed", help="Embed an image folder: embeddings.npy + ids.jsonl.")
    emb.add_argument("--encoder_dir", required=True, help="An exported encoder (SavedModel).")
    emb.add_argument("--image_dir", required=True, help="Folder of images (searched recursively).")
    emb.add_argument("--output_dir", default="outputs/embeddings")
    emb.add_argument("--batch_size", type=int, default=256)

    ev = commands.add_parser("evaluate", help="kNN and linear-probe accuracy of an exported encoder.")
    ev.add_argument("--encoder_dir", required=True, help="An exported encoder (SavedModel).")
    ev.add_argument("--protocols", default="knn,linear", help="Comma-separated: knn, linear.")
    ev.add_argument("--epochs", type=int, default=100, help="Linear-probe epochs.")
    ev.add_argument("--output", help="Write the results as JSON here.")
    _add_data_flags(ev)
    return parser


def main(argv=None):
    """Entry point of the `keras-ssl` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "pretrain":
        scope = keras_ssl.distribute.distribution_scope(args.distribute)  # before other TF work
        common = dict(
            method=args.method, backbone=args.backbone, epochs=args.epochs,
            batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
            seed=args.seed, output_dir=args.output_dir, scope=scope,
        )
        if args.data_dir and not has_splits(args.data_dir):
            pretrain_folder(
                args.data_dir, image_size=args.image_size,
                optimizer=args.optimizer or "recipe", **common,
            )
        else:
            train, test = _data(args)
            pretrain(train, test, optimizer=args.optimizer or "sgd", **common)
    elif args.command == "embed":
        embeddings, _ = embed_folder(
            args.encoder_dir, args.image_dir, args.output_dir, args.batch_size
        )
        print(f"Wrote {len(embeddings)} embeddings of width {embeddings.shape[1]} "
              f"to {args.output_dir}/embeddings.npy and ids.jsonl")
    else:
        keras.utils.set_random_seed(args.seed)
        train, test = _data(args)
        results = evaluate_encoder(
            args.encoder_dir, train, test, args.protocols.split(","), args.epochs
        )
        if args.output:
            with atomic_write(args.output, "w") as f:
                f.write(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
