"""The keras_ssl side of the peer step-parity check (`benchmarks/peer/step_parity.py`)."""

import argparse

import numpy as np
from PIL import Image

from benchmarks.fixed_budget import build_method
from benchmarks.peer import step_parity


def test_weighted_layers_in_the_order_they_are_applied():
    model = build_method("byol", (32, 32, 3))
    types = {
        name: [type(layer).__name__ for layer in step_parity.keras_layers(network)]
        for name, network in step_parity.keras_networks(model, "byol").items()
    }
    # small_cnn's four conv -> BN blocks (inside the encoder, after its
    # normalization layer), then Linear -> BN -> ReLU -> Linear heads.
    assert types["backbone"] == ["Conv2D", "FusedBatchNormalization"] * 4
    assert types["projection_head"] == ["Dense", "FusedBatchNormalization", "Dense"]
    assert types["prediction_head"] == ["Dense", "FusedBatchNormalization", "Dense"]


def test_ours_side_writes_views_losses_and_both_weight_sets(tmp_path):
    for label in range(10):
        folder = tmp_path / "data" / "train" / f"class{label}"
        folder.mkdir(parents=True)
        for i in range(2):
            pixels = np.random.default_rng(10 * label + i).integers(0, 256, (32, 32, 3))
            Image.fromarray(pixels.astype("uint8")).save(folder / f"{i}.png")
    args = argparse.Namespace(
        data_dir=str(tmp_path / "data"), dir=str(tmp_path / "out"), method="simclr",
        batch_size=8, steps=2, lr=0.1, momentum_steps=10, seed=0,
    )
    step_parity.ours(args)
    saved = np.load(tmp_path / "out" / "simclr.npz")
    assert saved["views"].shape == (2, 2, 8, 32, 32, 3)
    assert saved["losses"].shape == (2,) and np.all(np.isfinite(saved["losses"]))
    initial = sorted(k[len("initial/"):] for k in saved if k.startswith("initial/"))
    final = sorted(k[len("final/"):] for k in saved if k.startswith("final/"))
    assert initial == final
    # A training step moved the first convolution's kernel.
    kernel = "backbone/0/0"
    assert saved[f"initial/{kernel}"].shape == (3, 3, 3, 32)
    assert not np.allclose(saved[f"initial/{kernel}"], saved[f"final/{kernel}"])
