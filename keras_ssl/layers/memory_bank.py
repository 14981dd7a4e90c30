"""`MemoryBank`: one stored embedding per dataset item (NPID, PIRL)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl.ops_utils import l2_normalize


@keras.saving.register_keras_serializable(package="keras_ssl")
class MemoryBank(keras.layers.Layer):
    """A bank of L2-normalized embeddings indexed by dataset position.

    The memory of instance discrimination (Wu et al. 2018,
    https://arxiv.org/abs/1805.01978) as used by PIRL (Misra and van der
    Maaten 2019, "Self-Supervised Learning of Pretext-Invariant
    Representations", https://arxiv.org/abs/1912.01991): `num_items` rows of
    width `dim` in a float32 non-trainable variable `bank`, initialised with
    L2-normalized uniform rows. `update(indices, embeddings)` moves only the
    given rows, `m_i <- l2n(momentum * m_i + (1 - momentum) * l2n(e_i))`,
    with the indices and embeddings of every replica gathered;
    `sample(num)` draws `num` row indices uniformly (negatives). The bank
    and the sampler's random state are saved with the model, so training
    resumes with the bank, and the draws, as they were.

    Args:
        num_items: rows, the size of the dataset.
        dim: width of the embeddings.
        momentum: weight of the stored row in the update; 0.5 (PIRL,
            docs/methods.md, PIRL).
        seed: seed of the negative sampler.

    Example:
    >>> bank = MemoryBank(50000, 128)
    >>> positives = bank.gather(index)            # (B, 128)
    >>> negatives = bank.gather(bank.sample(4096))
    >>> bank.update(index, embeddings)            # after the loss
    """

    def __init__(self, num_items, dim, momentum=0.5, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (("num_items", num_items), ("dim", dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"`momentum` must be in [0, 1). Received: momentum={momentum}")
        self.num_items = num_items
        self.dim = dim
        self.momentum = momentum
        self.seed = seed
        self.bank = distribute.add_state_variable(
            self,
            "bank",
            shape=(num_items, dim),
            initializer=lambda shape, dtype: l2_normalize(
                keras.random.uniform(shape, -1.0, 1.0, dtype=dtype)
            ),
        )
        self.sampler = keras.random.SeedGenerator(seed, name="sampler")
        self.built = True

    def gather(self, indices):
        """The stored rows at `indices`, float32, without gradient."""
        return ops.take(ops.convert_to_tensor(self.bank.value), ops.cast(indices, "int32"), axis=0)

    def sample(self, num, seed=None):
        """`num` row indices drawn uniformly with replacement, int32, from the
        bank's sampler (or from a fixed int `seed`, which leaves the sampler's
        state untouched, e.g. in `evaluate`)."""
        seed = self.sampler if seed is None else seed
        return keras.random.randint((num,), 0, self.num_items, seed=seed, dtype="int32")

    def update(self, indices, embeddings):
        """Momentum update of the rows at `indices` (every replica's), then
        re-normalization; the other rows are untouched."""
        if embeddings.shape[-1] != self.dim:
            raise ValueError(
                f"MemoryBank of width {self.dim} received embeddings of width "
                f"{embeddings.shape[-1]}."
            )
        indices = distribute.all_gather(ops.reshape(ops.cast(indices, "int32"), (-1,)))
        embeddings = distribute.all_gather(l2_normalize(ops.stop_gradient(embeddings)))
        rows = self.gather(indices)
        new = l2_normalize(self.momentum * rows + (1.0 - self.momentum) * embeddings)
        self.bank.assign(ops.scatter_update(self.bank.value, indices[:, None], new))

    def call(self, inputs=None):
        """The whole bank, `(num_items, dim)` float32."""
        return ops.convert_to_tensor(self.bank.value)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["sampler_state"] = self.sampler.state

    def load_own_variables(self, store):
        self.sampler.state.assign(store["sampler_state"])
        own = {k: store[k] for k in store.keys() if k != "sampler_state"}
        super().load_own_variables(own)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_items=self.num_items, dim=self.dim, momentum=self.momentum, seed=self.seed
        )
        return config
