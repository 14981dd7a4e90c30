"""`FeatureQueue`: a FIFO of past embeddings (MoCo's dictionary, NNCLR's
support set)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl.ops_utils import l2_normalize


@keras.saving.register_keras_serializable(package="keras_ssl")
class FeatureQueue(keras.layers.Layer):
    """A first-in first-out queue of L2-normalized embeddings.

    The queue of MoCo (He et al. 2020, "Momentum Contrast for Unsupervised
    Visual Representation Learning", https://arxiv.org/abs/1911.05722) and the
    support set of NNCLR: `size` rows of width `dim` in a float32
    non-trainable variable `keys`, initialised with L2-normalized standard
    normal rows (the MoCo repo's initialisation), and an int32 `pointer` to the
    oldest row. `enqueue(batch)` writes the batch gathered from every replica
    at `pointer, pointer + 1, ...` (modulo `size`, so any batch up to `size`
    rows fits, a short last batch included) and moves the pointer past it.
    Both variables are saved with the model, so training resumes with the
    queue as it was.

    Args:
        size: number of rows, e.g. 65536 (MoCo, ImageNet) or 4096 (CIFAR).
        dim: width of the embeddings.

    Example:
    >>> queue = FeatureQueue(4096, 128)
    >>> negatives = queue.keys          # (4096, 128), read before enqueueing
    >>> queue.enqueue(keys)             # keys: (B, 128), B <= 4096
    """

    def __init__(self, size, dim, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (("size", size), ("dim", dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        self.size = size
        self.dim = dim
        self.keys = distribute.add_state_variable(
            self,
            "keys",
            shape=(size, dim),
            initializer=lambda shape, dtype: l2_normalize(
                keras.random.normal(shape, dtype=dtype)
            ),
        )
        self.pointer = distribute.add_state_variable(self, "pointer", dtype="int32")
        self.built = True

    def enqueue(self, batch):
        """Writes `l2n(all_gather(batch))` over the oldest rows, without gradient.

        Args:
            batch: `(B, dim)` embeddings of this replica; the rows of every
                replica, `B * replicas <= size` in all, enter the queue in
                replica order.
        """
        batch = distribute.all_gather(ops.stop_gradient(batch))
        rows = batch.shape[0]
        if batch.shape[-1] not in (None, self.dim):
            raise ValueError(
                f"FeatureQueue of width {self.dim} received embeddings of width "
                f"{batch.shape[-1]}."
            )
        if rows is not None and rows > self.size:
            raise ValueError(
                f"The queue holds {self.size} rows but the global batch has "
                f"{rows}: use a queue of at least the global batch size "
                "(`queue_size=`)."
            )
        rows = ops.shape(batch)[0]
        pointer = self.pointer.value
        indices = (pointer + ops.arange(rows, dtype="int32")) % self.size
        self.keys.assign(
            ops.scatter_update(self.keys.value, indices[:, None], l2_normalize(batch))
        )
        self.pointer.assign((pointer + rows) % self.size)

    def call(self, inputs=None):
        """The queue's rows, `(size, dim)` float32."""
        return ops.convert_to_tensor(self.keys.value)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, dim=self.dim)
        return config
