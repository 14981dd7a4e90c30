"""`fit` without `compile`: the method's recipe optimizer, sized from the data."""

import contextlib
import math

import keras

from keras_ssl import recipes


def compile_with_recipe(model, x, batch_size, epochs, steps_per_epoch):
    """Compiles `model` with its recipe's optimizer (`recipes.optimizer`) for
    `epochs` x steps per epoch of `x`, the learning rate scaled by `x`'s
    global batch, and prints one line saying what it chose.

    Under a `tf.distribute` strategy the optimizer is made and compiled in
    the model's strategy scope, so that its variables are mirrored. A
    `run_eagerly = True` set on the model before `fit` is kept.

    Raises:
        ValueError: before anything changes, when the model has no recipe,
            or when the number of steps per epoch is unknown (an infinite or
            unknown-length dataset without `steps_per_epoch`).
    """
    recipe = model.recipe
    batch, steps = batch_and_steps(x, batch_size, steps_per_epoch, type(model).__name__)
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        optimizer = recipes.optimizer(recipe, batch, epochs, steps)
        model.compile(optimizer=optimizer, run_eagerly=model.run_eagerly)
    print(f"{type(model).__name__} compiled with its {recipes.describe(recipe, batch, epochs, steps)}")


def batch_and_steps(x, batch_size, steps_per_epoch, name="The model"):
    """`(global batch, steps per epoch)` of the data `fit` gets: arrays (or
    dicts and tuples of them) cut into batches of `batch_size` (Keras's
    default 32), a `tf.data.Dataset` of batches or a `keras.utils.PyDataset`.
    `steps_per_epoch`, when given, is the number of steps."""
    if hasattr(x, "element_spec") and hasattr(x, "cardinality"):
        steps = steps_per_epoch or int(x.cardinality())
        if steps < 0:
            raise ValueError(
                f"{name}.fit without compile sizes its learning-rate schedule from "
                "the number of steps, and this dataset's length is unknown or "
                f"infinite (cardinality {int(x.cardinality())}, e.g. after `repeat()` "
                "or `filter()`). Pass `steps_per_epoch=`, or call "
                "compile(optimizer=...) before fit."
            )
        batch = _leading_dim(x.element_spec)
        if batch is None:  # a dynamic batch: read the first one
            batch = _leading_dim(next(iter(x.take(1))))
        return batch, steps
    if isinstance(x, keras.utils.PyDataset):
        steps = steps_per_epoch or x.num_batches
        if steps is None:
            raise ValueError(
                f"{name}.fit without compile needs the number of steps: this "
                "PyDataset has no length. Pass `steps_per_epoch=`, or call "
                "compile(optimizer=...) before fit."
            )
        return _leading_dim(x[0]), steps
    leaves = keras.tree.flatten(x)
    if not leaves or not all(hasattr(leaf, "shape") for leaf in leaves):
        raise ValueError(
            f"{name}.fit without compile reads the batch size and the number of "
            "steps from arrays, a tf.data.Dataset or a PyDataset. Received "
            f"x of type {type(x).__name__}: call compile(optimizer=...) before fit."
        )
    size = int(leaves[0].shape[0])
    batch = min(batch_size or 32, size)
    return batch, steps_per_epoch or math.ceil(size / batch)


def _leading_dim(structure):
    """The batch dimension of the first array (or spec) in `structure`."""
    dim = keras.tree.flatten(structure)[0].shape[0]
    return None if dim is None else int(dim)
