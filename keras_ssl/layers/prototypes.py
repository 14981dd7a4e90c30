"""Trainable prototypes on the unit sphere (SwAV: Caron et al. 2020,
"Unsupervised Learning of Visual Features by Contrasting Cluster Assignments",
https://arxiv.org/abs/2006.09882)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ssl")
class Prototypes(keras.layers.Layer):
    """Scores of embeddings against `K` trainable unit-norm prototypes.

    A bias-free linear layer whose kernel `(d, K)` holds one prototype per
    column. The prototypes start on the unit sphere and a
    `keras.constraints.UnitNorm` that the optimizer applies after each
    update keeps them there, as the SwAV repo's per-step normalization does.
    The layer computes in float32 by default (SwAV's scores feed Sinkhorn and
    a softmax), also under a mixed precision policy.

    Args:
        num_prototypes: number of prototypes `K` (SwAV: 3000).
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(N, d)` l2-normalized embeddings.
        frozen: bool or scalar bool tensor; when true the prototypes get no
            gradient (SwAV freezes them for the first iterations).

    Returns:
        `(N, K)` cosine similarities of the embeddings to the prototypes.

    Example:
    >>> prototypes = Prototypes(3000)
    >>> scores = prototypes(keras.ops.normalize(z))  # (N, 3000)
    """

    def __init__(self, num_prototypes, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if int(num_prototypes) < 1:
            raise ValueError(
                f"`num_prototypes` must be >= 1. Received: num_prototypes={num_prototypes}"
            )
        self.num_prototypes = int(num_prototypes)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.num_prototypes),
            initializer="glorot_uniform",
            constraint=keras.constraints.UnitNorm(axis=0),
            name="kernel",
        )
        self.kernel.assign(ops.normalize(self.kernel, axis=0))

    def call(self, inputs, frozen=False):
        kernel = ops.convert_to_tensor(self.kernel)
        kernel = ops.where(frozen, ops.stop_gradient(kernel), kernel)
        return ops.matmul(ops.cast(inputs, self.compute_dtype), kernel)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.num_prototypes)

    def get_config(self):
        config = super().get_config()
        config.update(num_prototypes=self.num_prototypes)
        return config
