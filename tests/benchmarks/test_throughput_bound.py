"""The step bound of `benchmarks/throughput.py`: views x supervised step +
the method's no-gradient passes x forward-only step + its no-gradient
matmuls, each from the same run."""

import importlib
import sys

import numpy as np
import pytest
from absl import flags

from benchmarks import step_bound

BATCH = 8
# Injected seconds per step: supervised, forward-only, each method's step on
# pre-made views and end to end, one no-gradient matmul, the augmentation.
SUPERVISED, FORWARD_ONLY, MATMUL, AUGMENTATION = 0.010, 0.004, 0.003, 0.001
SSL_STEP = {"byol": 0.030, "nnclr": 0.030}
END_TO_END = 0.050


@pytest.fixture(scope="module")
def throughput():
    """`benchmarks.throughput`, imported for this module only: the absl flags
    it defines on import would clash with an example's (`--batch_size`) run
    later in the same worker (tests/examples)."""
    known = set(flags.FLAGS)
    module = importlib.import_module("benchmarks.throughput")
    yield module
    for name in set(flags.FLAGS) - known:
        delattr(flags.FLAGS, name)
    del sys.modules["benchmarks.throughput"]


def tiny_images(count=2 * BATCH, size=16):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    return x, rng.integers(0, 10, count, dtype=np.int32)


def rows(throughput, methods, **kwargs):
    x, y = tiny_images()
    return throughput.backbone_rows(
        "small_cnn", methods, BATCH, steps=1, repeats=1, warmup=1, augment_in="model",
        jit_compile="auto", x=x, y=y, **kwargs,
    )


def test_step_bound_adds_the_passes_and_matmuls_to_the_views():
    assert step_bound.step_bound(0.1, 0.03, 2, 0) == pytest.approx(0.2)
    assert step_bound.step_bound(0.1, 0.03, 2, 2) == pytest.approx(0.26)
    assert step_bound.step_bound(0.1, 0.03, 2, 0, matmuls=0.05) == pytest.approx(0.25)
    assert step_bound.step_bound(0.1, 0.03, 10, 2, matmuls=0.05) == pytest.approx(1.11)


def test_report_counts_the_target_passes_and_the_support_set_search(throughput, monkeypatch):
    matmul_shapes = []

    def fit_step_seconds(model, dataset, steps, warmup):
        if not model.trainable_weights:
            return [FORWARD_ONLY] * steps
        name = {"BYOL": "byol", "NNCLR": "nnclr"}.get(type(model).__name__)
        if name is None:
            return [SUPERVISED] * steps
        premade = isinstance(dataset.element_spec, tuple)
        return [SSL_STEP[name] if premade else END_TO_END] * steps

    def matmul_seconds(shape, steps, warmup):
        matmul_shapes.append(shape)
        return [MATMUL] * steps

    monkeypatch.setattr(throughput, "fit_step_seconds", fit_step_seconds)
    monkeypatch.setattr(throughput, "matmul_seconds", matmul_seconds)
    monkeypatch.setattr(
        throughput, "augmentation_seconds", lambda augmenter, images, steps: [AUGMENTATION]
    )
    byol, nnclr = rows(throughput, ["byol", "nnclr"])

    # BYOL: its target's forward pass on both views, no matmul.
    assert (byol["num_views"], byol["no_gradient_passes"]) == (2, 2)
    assert byol["no_gradient_matmuls"] == []
    bound = 2 * SUPERVISED + 2 * FORWARD_ONLY
    assert byol["seconds_per_step"]["step_bound"] == pytest.approx(bound)
    assert byol["ssl_premade_over_step_bound"] == pytest.approx(0.030 / bound)
    assert byol["step_bound_met"]  # 1.07
    # The old bound counted the views alone.
    assert byol["ssl_premade_over_views_x_supervised"] == pytest.approx(1.5)

    # NNCLR: no target; both views' projections searched in one product
    # against the 65,536 x 256 support set of the protocol.
    assert nnclr["no_gradient_passes"] == 0
    assert nnclr["no_gradient_matmuls"] == [[2 * BATCH, 256, 65536]]
    assert matmul_shapes == [(2 * BATCH, 256, 65536)]
    bound = 2 * SUPERVISED + MATMUL
    assert nnclr["seconds_per_step"]["no_gradient_matmuls"] == pytest.approx(MATMUL)
    assert nnclr["seconds_per_step"]["step_bound"] == pytest.approx(bound)
    assert nnclr["ssl_premade_over_step_bound"] == pytest.approx(0.030 / bound)
    assert not nnclr["step_bound_met"]  # 1.30

    table = throughput.bound_table([byol, nnclr]).splitlines()
    assert table[2].split("|")[4:-1] == [
        " 2 ", " 30.0 ", " 10.0 ", " 4.0 ", " 2 ", " - ", " 28.0 ", " 1.07 ", " yes ",
    ]
    assert table[3].split("|")[4:-1] == [
        " 2 ", " 30.0 ", " 10.0 ", " 4.0 ", " 0 ", " 3.0 (16x256x65536) ", " 23.0 ", " 1.30 ",
        " NO ",
    ]


def test_report_measures_every_figure_of_the_bound_in_one_run(throughput):
    byol, nnclr = rows(throughput, ["byol", "nnclr"])
    for row in (byol, nnclr):
        seconds = row["seconds_per_step"]
        for key in ("supervised", "forward_only", "ssl_premade_views", "step_bound"):
            assert seconds[key] > 0, key
        expected = step_bound.step_bound(
            seconds["supervised"], seconds["forward_only"], row["num_views"],
            row["no_gradient_passes"], seconds["no_gradient_matmuls"],
        )
        assert seconds["step_bound"] == pytest.approx(expected)
        assert row["ssl_premade_over_step_bound"] == pytest.approx(
            seconds["ssl_premade_views"] / expected
        )
    assert byol["seconds_per_step"]["no_gradient_matmuls"] == 0
    assert nnclr["seconds_per_step"]["no_gradient_matmuls"] > 0


def test_methods_count_what_they_run_without_gradient():
    import keras_ssl

    def backbone(shape=(16, 16, 3)):
        return keras_ssl.backbones.small_cnn(shape)

    assert keras_ssl.SimCLR(backbone()).no_gradient_passes == 0
    # MoCo v1/v2: keys of the second view, and of the first when symmetric.
    assert keras_ssl.MoCo(backbone(), queue_size=64).no_gradient_passes == 1
    assert keras_ssl.MoCo(backbone(), queue_size=64, symmetric=True).no_gradient_passes == 2
    multi_crop = keras_ssl.augmentation.swav_multicrop(16, num_local=2, local_size=8)
    moco_v3 = keras_ssl.MoCo(
        backbone((None, None, 3)), version=3, augmenter=multi_crop, input_shape=(16, 16, 3),
        projection_dims=(32, 16), prediction_dims=(32, 16),
    )
    assert (moco_v3.num_views, moco_v3.no_gradient_passes) == (4, 2)
    dino = keras_ssl.DINO(
        backbone((None, None, 3)), augmenter=multi_crop, input_shape=(16, 16, 3),
        projection_dims=(32, 16), num_prototypes=64,
    )
    assert dino.no_gradient_passes == 2 and dino.no_gradient_matmuls(BATCH) == ()
    swav = keras_ssl.SwAV(
        backbone((None, None, 3)), input_shape=(16, 16, 3), projection_dims=(32, 16),
        num_prototypes=64, queue_size=128,
    )
    assert swav.no_gradient_passes == 0
    assert swav.no_gradient_matmuls(BATCH) == ((128, 16, 64),) * len(swav.assign_crops)
