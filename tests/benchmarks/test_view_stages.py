"""The per-stage timing of one SimCLR view (`benchmarks/view_stages.py`)."""

import numpy as np
import tensorflow as tf

from benchmarks import view_stages


def test_every_stage_of_a_view_of_small_jpegs_is_timed(tmp_path):
    rng = np.random.default_rng(0)
    contents = []
    for height, width in [(60, 48), (40, 70), (52, 52)]:
        pixels = rng.integers(0, 256, (height, width, 3), dtype="uint8")
        contents.append(tf.io.encode_jpeg(pixels))
    stages, total, identity = view_stages.measure(tf.stack(contents), repeats=2, size=32)
    assert list(stages) == list(view_stages.STAGES)
    for name, (drawn, applied) in stages.items():
        assert drawn > 0
        # The drawn operations also have their cost when always applied.
        assert (applied is not None) == (name in ("jitter", "grayscale", "blur"))
    assert total > 0 and identity > 0
    rows = view_stages.table(stages, total, identity)
    assert len(rows) == 2 + len(stages) + 2 and rows[2].startswith("| decode+crop | ")


def test_passes_repeat_the_mapped_inputs():
    iterator, first = view_stages.passes(lambda x: 2 * x, tf.range(4))
    np.testing.assert_array_equal(first, [0, 2, 4, 6])
    np.testing.assert_array_equal(next(iterator), first)
    assert view_stages.cpu_ms(iterator, 4) >= 0
