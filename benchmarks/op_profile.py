"""Where a traced training step spends its op time, from TensorFlow's profiler.

`traced_op_seconds` runs steps of `fit` under `tf.profiler.experimental` and
reads the trace (an `XSpace` protobuf) back: the time of every TensorFlow op
the executor ran, per step, grouped by direction (forward, or the gradient
under `gradient_tape`), by the part of the model the op belongs to (the first
of `COMPONENTS` in its name scope) and by op type (e.g.
`_MklNativeConv2DBackpropFilter`, `_MklNativeFusedBatchNormV3`, `Cast`).

Op times are summed over the executor's threads, so they add up to more than
the step's wall time when ops run in parallel (independent views' branches
do), and an op's time includes waiting for a core on a shared machine: read
them as shares of the step's work, not as its wall time. TensorFlow backend
only.
"""

import collections
import glob
import os
import tempfile

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from benchmarks.timing import fit_step_seconds

# Name-scope parts that name a part of the model, the most specific first:
# the momentum target, the heads, the online encoder, the supervised model,
# the optimizer, the non-finite guard's checks.
COMPONENTS = (
    "target_encoder",
    "target_projector",
    "projector",
    "predictor",
    "encoder",
    "sequential",
    "sgd",
    "IsFinite",
    "All",
)


def component(scope):
    """The first of `COMPONENTS` in an op's name scope, else `"other"`."""
    return next((name for name in COMPONENTS if name in scope), "other")


def traced_op_seconds(model, dataset, steps, logdir=None):
    """Seconds per step of each `(direction, component, op type)` over
    `steps` steps of `model.fit` (after one untimed step, traced too and
    counted, so `steps + 1` steps divide the sums), and the number of op
    runs of each per step."""
    logdir = logdir or tempfile.mkdtemp(prefix="op_profile_")
    fit_step_seconds(model, dataset, 1, warmup=1)  # trace the train function first
    tf.profiler.experimental.start(logdir)
    try:
        fit_step_seconds(model, dataset, steps, warmup=1)
    finally:
        tf.profiler.experimental.stop()
    paths = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))
    space = xplane_pb2.XSpace()
    with open(paths[-1], "rb") as f:
        space.ParseFromString(f.read())
    seconds, runs = collections.Counter(), collections.Counter()
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_"):  # the executor's threads
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                # Op events are named `scope/name:OpType`; others (`Foo::Bar`) are not ops.
                if "::" in name or ":" not in name:
                    continue
                scope, op = name.rsplit(":", 1)
                direction = "gradient" if "gradient_tape" in scope else "forward"
                key = (direction, component(scope), op)
                seconds[key] += event.duration_ps * 1e-12 / (steps + 1)
                runs[key] += 1 / (steps + 1)
    return seconds, runs


def op_table(seconds, runs, top=25):
    """A markdown table of the `top` entries, and the totals per direction
    and component, in milliseconds per step."""
    lines = ["| direction | component | op | ms per step | runs per step |", "|---|---|---|---|---|"]
    parts = collections.Counter()
    for (direction, part, _), value in seconds.items():
        parts[(direction, part)] += value
    for (direction, part), value in parts.most_common():
        lines.append(f"| {direction} | {part} | (all) | {1000 * value:.1f} | |")
    for (direction, part, op), value in seconds.most_common(top):
        lines.append(
            f"| {direction} | {part} | {op} | {1000 * value:.1f} "
            f"| {runs[(direction, part, op)]:.0f} |"
        )
    return "\n".join(lines)
