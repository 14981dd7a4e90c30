"""The per-stage timing of one SimCLR view (`benchmarks/view_stages.py`)."""

import numpy as np
import tensorflow as tf

from benchmarks import view_stages


def test_prints_every_stage_of_a_view_of_small_jpegs(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i, (height, width) in enumerate([(60, 48), (40, 70), (52, 52)]):
        pixels = rng.integers(0, 256, (height, width, 3), dtype="uint8")
        tf.io.write_file(str(tmp_path / f"{i}.jpg"), tf.io.encode_jpeg(pixels))
    view_stages.main(["--input_dir", str(tmp_path), "--repeats", "2", "--size", "32"])
    lines = capsys.readouterr().out.splitlines()
    assert "3 images" in lines[0]
    rows = {line.split("|")[1].strip(): line.split("|")[2:4] for line in lines[3:]}
    assert list(rows) == [*view_stages.STAGES, "total (whole view)", "(identity map, in every row)"]
    for name, (drawn, applied) in rows.items():
        assert float(drawn) > 0
        # The drawn operations also have their cost when always applied.
        assert (applied.strip() != "") == (name in ("jitter", "grayscale", "blur"))


def test_passes_repeat_the_mapped_inputs():
    iterator, first = view_stages.passes(lambda x: 2 * x, tf.range(4))
    np.testing.assert_array_equal(first, [0, 2, 4, 6])
    np.testing.assert_array_equal(next(iterator), first)
    assert view_stages.cpu_ms(iterator, 4) >= 0
