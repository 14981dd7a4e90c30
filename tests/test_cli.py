import json

import numpy as np
import pytest

import keras
import keras_ssl
from keras_ssl import cli


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = keras_ssl.SimCLR(keras_ssl.backbones.small_cnn((32, 32, 3)))
    path = str(tmp_path_factory.mktemp("encoder") / "encoder")
    model.export_encoder(path)
    return path, model


def test_embed_writes_npy_and_ids(encoder_dir, tmp_path):
    import tensorflow as tf

    path, model = encoder_dir
    (x, _), _ = keras_ssl.data.load_sample()
    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    names = ["b.png", "a.png", "sub/c.png"]
    for name, image in zip(names, x[:3]):
        tf.io.write_file(str(images / name), tf.io.encode_png(image))
    (images / "notes.txt").write_text("not an image")
    (images / "empty.jpg").write_bytes(b"")
    (images / "text.png").write_text("not a png")
    odd = "new\nline \u00e9.png"  # survives JSON lines, not a text file of lines
    tf.io.write_file(str(images / odd), tf.io.encode_png(x[3]))
    with pytest.warns(UserWarning, match=r"Skipped 2 unreadable .*empty\.jpg.*text\.png"):
        cli.main(["embed", f"--encoder_dir={path}", f"--image_dir={images}",
                  f"--output_dir={tmp_path / 'out'}"])
    embeddings = np.load(tmp_path / "out" / "embeddings.npy")
    lines = (tmp_path / "out" / "ids.jsonl").read_text().splitlines()
    ids = [json.loads(line) for line in lines]
    assert ids == ["a.png", "b.png", odd, "sub/c.png"]
    expected, _ = keras_ssl.evaluation.embed(model.encoder, (x[[1, 0, 3, 2]], None))
    np.testing.assert_allclose(embeddings, expected, atol=1e-5)
    with pytest.raises(ValueError, match="No images"):
        cli.embed_folder(path, str(tmp_path / "out"), str(tmp_path / "x"))


def test_evaluate(encoder_dir, tmp_path):
    path, _ = encoder_dir
    output = tmp_path / "results.json"
    cli.main(["evaluate", f"--encoder_dir={path}", "--max_per_class=30", "--epochs=2",
              f"--output={output}"])
    results = json.loads(output.read_text())
    assert 0.1 < results["knn"] < 1 and set(results["linear"]) == {"top1", "top5"}


def test_parser():
    with pytest.raises(SystemExit):
        cli.main(["train"])
    args = cli.build_parser().parse_args(["pretrain", "--epochs", "2"])
    assert (args.method, args.backbone, args.epochs, args.output_dir) == (
        "simclr", "small_cnn", 2, "outputs/pretrain"
    )


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """24 JPEGs of 64 to 80 px in two class folders."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(24):
        folder = root / ("cats" if i % 2 else "dogs")
        folder.mkdir(exist_ok=True)
        size = int(rng.integers(64, 81))
        image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        tf.io.write_file(str(folder / f"{i}.jpg"), tf.io.encode_jpeg(image))
    return root


def two_block_vit_tiny(input_shape, patch_size, name="vit_tiny"):
    """`vit_tiny`'s signature, 2 blocks of width 32: the CLI's plumbing is
    what is checked here (ViT-Tiny itself: tests/backbones/test_vit.py, and
    MAE and I-JEPA on it: tests/methods); its 12 blocks took 100 s to trace."""
    return keras_ssl.backbones.vit(
        input_shape, patch_size=patch_size, width=32, depth=2, num_heads=2, name=name
    )


def eager(build_method):
    """`cli.build_method` whose model runs its steps eagerly: three steps
    cost less than tracing one (the traced step: tests/methods)."""

    def build(*args, **kwargs):
        model, tokenizer = build_method(*args, **kwargs)
        model.run_eagerly = True
        return model, tokenizer

    return build


@pytest.mark.parametrize("method", cli.METHODS)
def test_pretrain_on_an_image_folder(method, image_folder, tmp_path, capsys, monkeypatch):
    # Views of 32 px from files of 64 to 80 px: the decoder resizes.
    backbone = "vit_tiny" if method in ("mae", "ijepa") else "small_cnn"
    monkeypatch.setattr(keras_ssl.backbones, "vit_tiny", two_block_vit_tiny)
    monkeypatch.setattr(cli, "build_method", eager(cli.build_method))
    cli.main(["pretrain", f"--method={method}", f"--backbone={backbone}",
              f"--data_dir={image_folder}", "--image_size=32", "--epochs=1",
              "--batch_size=8", f"--output_dir={tmp_path}"])
    printed = capsys.readouterr().out
    assert "24 image files" in printed
    assert "compiled with its recipe" in printed or "recipe" in printed.lower()
    exported = tmp_path / "encoder" / ("image" if method == "clip" else "")
    encoder = keras_ssl.load_encoder(str(exported))
    assert encoder.input_shape[1:3] in ((32, 32), (None, None))


def test_pretrain_folder_checks_the_method(image_folder):
    with pytest.raises(ValueError, match="`method` must be one of"):
        cli.pretrain_folder(str(image_folder), method="simclr_v9")
