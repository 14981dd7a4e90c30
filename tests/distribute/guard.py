"""The guard (DESIGN.md, "Non-finite steps") under MirroredStrategy on 2
logical CPU devices: a NaN pixel in replica 1's share of the third batch
stops `fit` with a `NonFiniteStepError` naming step 2, and every variable of
the model and its optimizer, on each replica, equals its value before that
step (weights, optimizer slots and iterations, target network, queue, bank,
center, step counter, BN statistics); CLIP token ids and PIRL indices out of
range in replica 1's share stop it with a `ValueError` naming the input, the
same way. Methods of tests/tiny_methods.py.

Run in its own process (logical devices must be set before TensorFlow starts):
`python -m tests.distribute.guard`. Exits non-zero on any mismatch. Driven
by tests/test_distribute.py.
"""

import re
import sys

# Imported first: 2 logical CPUs before TensorFlow starts.
import tests.distribute.two_replicas  # noqa: F401

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ssl.callbacks import NonFiniteStepError  # noqa: E402
from tests import tiny_methods  # noqa: E402
from tests.reliability.test_nonfinite import StateByStep  # noqa: E402

BAD_STEP = 2
# Row of the global batch in replica 1's share (rows BATCH / 2 and after).
BAD_ROW = tiny_methods.BATCH - 2

NAN = (NonFiniteStepError, "Training step 2 ")
# name -> (how the bad batch is bad, the error and what its message says, a
# variable the good steps must move: "state ..." a non-trainable one, so
# "state block1_conv/kernel" is the target network's).
CASES = {
    "simclr": ("nan", NAN, "block1_conv/kernel"),
    "moco_v2": ("nan", NAN, "state feature_queue/keys"),
    "byol": ("nan", NAN, "state block1_conv/kernel"),
    "dino": ("nan", NAN, "state dino/center"),
    "pirl": ("nan", NAN, "state memory_bank/bank"),
    "clip": (
        "ids",
        (ValueError, r"`x\['tokens'\]` must hold token ids .* \[0, 20\)\. "
         r"Received values in \[1, 25\]"),
        "block1_conv/kernel",
    ),
}


def replica_state(model):
    """`[(name, [value on each replica])]` of every variable of the model
    and its optimizer but the guard's own record (names: paths, "state ..."
    for the model's non-trainable variables, whose paths can repeat the
    online network's, "optimizer ..." for the optimizer's)."""
    strategy = model.distribute_strategy
    guard = (model.nonfinite_step, model.refused_ids)
    named = (
        [(v.path, v) for v in model.trainable_variables]
        + [(f"state {v.path}", v) for v in model.non_trainable_variables]
        + [(f"optimizer {v.path}", v) for v in model.optimizer.variables]
    )
    return [
        (name, [np.array(t) for t in strategy.experimental_local_results(v.value)])
        for name, v in named
        if not any(v is g for g in guard)
    ]


def changed(actual, expected):
    assert [name for name, _ in actual] == [name for name, _ in expected]
    return [
        name
        for (name, values), (_, old) in zip(actual, expected)
        if not all(np.array_equal(a, e) for a, e in zip(values, old))
    ]


def spoiled(x, name, how):
    """`x` with one NaN pixel, or (CLIP) one token id of 25 >= the
    vocabulary of 20, in row `BAD_ROW`."""
    x = keras.tree.map_structure(np.copy, x)
    if how == "ids":
        x["tokens"][BAD_ROW, 0] = 25
        return x
    images = next(leaf for leaf in keras.tree.flatten(x) if leaf.ndim == 4)
    images[BAD_ROW, 1, 2, 0] = np.nan
    return x


def check(name, strategy):
    how, (error_type, message), moving = CASES[name]
    # Compiled, as `fit` runs by default. Eager steps would skip tracing (a
    # third of the time alone) but synchronize the replicas' threads per op:
    # beside another busy process, as in the test suite, they ran 3x slower.
    with strategy.scope():
        model = tiny_methods.build(name)
    parts = [tiny_methods.batch(model, name, seed)[0] for seed in range(BAD_STEP + 1)]
    parts[BAD_STEP] = spoiled(parts[BAD_STEP], name, how)
    x = keras.tree.map_structure(lambda *a: np.concatenate(a), *parts)
    data = tf.data.Dataset.from_tensor_slices((x,)).batch(tiny_methods.BATCH)
    states = StateByStep(replica_state)
    try:
        model.fit(data, epochs=1, verbose=0, callbacks=[states])
    except error_type as error:
        text = str(error)
    else:
        raise AssertionError(f"{name}: the bad step was not refused")
    assert re.search(message, text), f"{name}: {text}"
    moved = changed(states.states[BAD_STEP], states.states[BAD_STEP - 1])
    assert moving in moved, f"{name}: the good steps did not move {moving}: {moved}"
    after = replica_state(model)
    undone = changed(after, states.states[BAD_STEP])
    assert not undone, f"{name}: changed by the refused step: {undone}"
    assert int(model.step.numpy()) == BAD_STEP
    print(f"{name}: step {BAD_STEP} refused ({error_type.__name__}), "
          f"{len(after)} variables equal on both replicas", flush=True)


def main():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    for name in sys.argv[1:] or CASES:
        check(name, strategy)
    print("ALL OK")


if __name__ == "__main__":
    main()
