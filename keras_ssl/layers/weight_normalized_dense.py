"""`WeightNormalizedDense`: DINO's weight-normalized last layer."""

import keras
from keras import ops

from keras_ssl import distribute


@keras.saving.register_keras_serializable(package="keras_ssl")
class WeightNormalizedDense(keras.layers.Layer):
    """A bias-free Dense layer with weight normalization (Salimans and Kingma
    2016): `y = x (g * v / ||v||)`, each output unit's direction `v` and its
    length `g` learned apart.

    DINO's last layer (Caron et al. 2021, "Emerging Properties in
    Self-Supervised Vision Transformers", https://arxiv.org/abs/2104.14294,
    repo `DINOHead`) with `trainable_norm=False` fixes `g = 1`
    (`norm_last_layer=True`), so the outputs are cosine similarities of the
    input with `units` unit-norm directions. `frozen` (a non-trainable
    float32 flag, 1 = frozen) stops the gradient to `v` and `g`: DINO freezes
    this layer during the first epoch.

    Args:
        units: number of outputs `K`.
        trainable_norm: learn `g` (initialised to 1) instead of fixing it.
    """

    def __init__(self, units, trainable_norm=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"`units` must be a positive int. Received: units={units!r}")
        self.units = units
        self.trainable_norm = trainable_norm

    def build(self, input_shape):
        self.direction = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="direction",
        )
        self.norm = None
        if self.trainable_norm:
            self.norm = self.add_weight(shape=(self.units,), initializer="ones", name="norm")
        self.frozen = distribute.add_state_variable(self, "frozen")

    def call(self, inputs):
        frozen = ops.cast(self.frozen, "bool")

        def maybe_frozen(variable):
            value = ops.convert_to_tensor(variable)
            return ops.where(frozen, ops.stop_gradient(value), value)

        direction = maybe_frozen(self.direction)
        kernel = direction / ops.maximum(ops.norm(direction, axis=0, keepdims=True), 1e-12)
        if self.norm is not None:
            kernel = kernel * maybe_frozen(self.norm)
        return ops.matmul(inputs, ops.cast(kernel, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, trainable_norm=self.trainable_norm)
        return config
