"""Cross-replica helpers: the one module of keras_ssl that knows about replicas.

Losses are written as "local anchors against gathered candidates": each replica
holds `n` local rows, gathers the candidates of every replica with `all_gather`,
and finds the positive of its local row `i` at global index
`replica_id() * n + i`. `compute_loss` returns `scale_loss(local_mean)` because
Keras sums gradients across replicas.

Under TensorFlow `tf.distribute` strategies (Mirrored, MultiWorkerMirrored, TPU)
these functions use the replica context. On one device, and under JAX
`keras.distribution.DataParallel` (where the step already sees the global batch),
they are identities.
"""

import contextlib

import keras
from keras import ops

DISTRIBUTIONS = ("none", "mirrored", "multi_worker", "tpu", "data_parallel")


def _tf_replica_context():
    """The TF replica context when more than one replica is in sync, else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync <= 1:
        return None
    return context


def num_replicas():
    """Replicas in sync under the current strategy (1 when none).

    Works in replica context (inside a step) and in cross-replica context
    (inside `strategy.scope()`, where layers are built).
    """
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def replica_id():
    """Index of the current replica (an int32 tensor under a strategy, else 0)."""
    context = _tf_replica_context()
    if context is None:
        return 0
    return ops.cast(context.replica_id_in_sync_group, "int32")


def all_gather(x):
    """Concatenates `x` from every replica along axis 0, replica order.

    Differentiable: the gradient of the gathered tensor flows back to the local
    slice of each replica (`tf.distribute.ReplicaContext.all_gather`).
    """
    context = _tf_replica_context()
    if context is None:
        return x
    return context.all_gather(x, axis=0)


def all_mean(x):
    """Mean of `x` over replicas (identity on one device)."""
    context = _tf_replica_context()
    if context is None:
        return x
    return context.all_reduce("mean", x)


def all_min(x):
    """Minimum of the scalar `x` over replicas (identity on one device)."""
    return ops.min(all_gather(ops.reshape(x, (1,))))


def all_max(x):
    """Maximum of the scalar `x` over replicas (identity on one device)."""
    return ops.max(all_gather(ops.reshape(x, (1,))))


def restore_if(condition, variables, values):
    """Assigns `values` back to `variables` (Keras variables, in place) when
    the scalar bool `condition` holds; every replica must hold the same
    `condition`.

    Under a tf.distribute strategy a variable assigned in replica context
    inside a conditional needs a `merge_call`, which tf.distribute refuses
    there; the assignments therefore run in cross-replica context (one
    `merge_call`), each replica's copy getting that replica's value.
    """
    context = _tf_replica_context()
    if context is None:

        def restore():
            for variable, value in zip(variables, values):
                variable.assign(value)

        ops.cond(condition, restore, lambda: None)
        return

    import tensorflow as tf

    def restore_replicas(strategy, condition, values):
        def restore():
            for variable, value in zip(variables, values):
                if isinstance(variable.value, tf.distribute.DistributedValues):
                    strategy.extended.update(
                        variable.value, lambda copy, value: copy.assign(value), args=(value,)
                    )
                else:  # made outside the strategy's scope (e.g. a seed's state): one copy
                    variable.assign(strategy.experimental_local_results(value)[0])
            return tf.constant(True)

        # Every replica agrees: the first local one decides.
        tf.cond(strategy.experimental_local_results(condition)[0], restore, lambda: tf.constant(False))

    context.merge_call(restore_replicas, args=(condition, list(values)))


def scale_loss(loss):
    """Divides a per-replica loss by the number of replicas.

    Keras sums the gradients of all replicas, so a per-replica mean divided by
    the number of replicas gives the gradient of the global mean.
    """
    replicas = num_replicas()
    if replicas == 1:
        return loss
    return loss / replicas


def strategy_num_replicas(model):
    """Replicas of the `tf.distribute` strategy a Keras model was built under."""
    if keras.backend.backend() != "tensorflow":
        return 1
    return model.distribute_strategy.num_replicas_in_sync


def is_multi_worker(model):
    """Whether `model` trains under `MultiWorkerMirroredStrategy` with
    replicas in other processes (a `TF_CONFIG` cluster of several workers)."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    strategy = model.distribute_strategy
    return isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    ) and strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)


def first_local_values(model, values):
    """This process's first replica's part of each per-replica value in a
    nested structure (a batch from a distributed dataset)."""
    strategy = model.distribute_strategy
    return keras.tree.map_structure(
        lambda value: strategy.experimental_local_results(value)[0], values
    )


def add_state_variable(layer, name, shape=(), dtype="float32", initializer="zeros"):
    """Adds a non-trainable state variable (counter, queue, bank, flag) to
    `layer`: written in the step, read by every replica, aggregated from the
    first replica only (each replica writes the same value, so a sum or mean
    across replicas would be wrong). Saved with the model under `name`."""
    return layer.add_weight(
        shape=shape,
        dtype=dtype,
        initializer=initializer,
        trainable=False,
        aggregation="only_first_replica",
        name=name,
    )


def global_positive_indices(n):
    """Global row indices `replica_id() * n + arange(n)` of the local rows."""
    return replica_id() * n + ops.arange(n, dtype="int32")


def across_replicas_shuffled(fn, x):
    """`fn(x)` with the batch spread over the replicas (MoCo's shuffling BN).

    Under a multi-replica strategy the local batches are gathered, each
    replica runs `fn` on a slice that holds rows of every replica (row `i` of
    replica `r` moves to global position `i * R + r`), and the outputs are
    gathered and returned to their rows, so a layer with per-replica batch
    statistics (BatchNorm) sees a different set of samples than the
    unshuffled batch. The order is fixed: the data pipeline shuffles which
    sample sits in which row, and a fixed interleave needs no random state
    shared by the replicas. No gradient flows through (MoCo's keys). On one
    device: `fn(x)`.
    """
    context = _tf_replica_context()
    if context is None:
        return fn(x)
    replicas = context.num_replicas_in_sync
    x = ops.stop_gradient(x)
    n = ops.shape(x)[0]
    positions = ops.arange(replicas * n, dtype="int32")
    # order[p] = source row of position p; inverse[s] = position of source row s.
    order = ops.reshape(ops.transpose(ops.reshape(positions, (replicas, n))), (-1,))
    inverse = ops.reshape(ops.transpose(ops.reshape(positions, (n, replicas))), (-1,))
    local = replica_id() * n + ops.arange(n, dtype="int32")
    shuffled = ops.take(all_gather(x), ops.take(order, local), axis=0)
    outputs = all_gather(ops.stop_gradient(fn(shuffled)))
    return ops.take(outputs, ops.take(inverse, local), axis=0)


def distribution_scope(name="none"):
    """A context in which to build and compile a model for `name`.

    - `"none"`: one device (the default device: a GPU if there is one).
    - `"mirrored"`: `tf.distribute.MirroredStrategy` over the local GPUs.
    - `"multi_worker"`: `tf.distribute.MultiWorkerMirroredStrategy`; every
      worker runs the same program with its own `TF_CONFIG`. Call this
      before any other TensorFlow work of the program.
    - `"tpu"`: `tf.distribute.TPUStrategy` on the TPU of
      `TPUClusterResolver()` (untested: no TPU in this project's CI).
    - `"data_parallel"`: JAX `keras.distribution.DataParallel` over all
      devices (set globally; the returned context does nothing).

    The TensorFlow strategies need `KERAS_BACKEND=tensorflow`, DataParallel
    needs `KERAS_BACKEND=jax`. Batch the data by the global batch in every
    case. See docs/scaling_out.md.
    """
    if name not in DISTRIBUTIONS:
        raise ValueError(f"`name` must be one of {DISTRIBUTIONS}. Received: name={name!r}")
    backend = keras.backend.backend()
    if name == "none":
        return contextlib.nullcontext()
    if name == "data_parallel":
        if backend != "jax":
            raise ValueError(
                "`data_parallel` is keras.distribution.DataParallel, which needs "
                f"KERAS_BACKEND=jax (the backend is {backend}); use `mirrored` on TensorFlow."
            )
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext()
    if backend != "tensorflow":
        raise ValueError(
            f"`{name}` is a tf.distribute strategy, which needs KERAS_BACKEND=tensorflow "
            f"(the backend is {backend}); use `data_parallel` on JAX."
        )
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy().scope()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy().scope()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver).scope()
