"""`MomentumModel`: the base of the methods with a momentum (EMA) target network."""

import math

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl.callbacks.momentum_schedule import MomentumSchedule
from keras_ssl.methods import crop_pairs
from keras_ssl.methods.base import SSLModel

_SCHEDULES = ("cosine", "constant")


class MomentumModel(SSLModel):
    """An `SSLModel` with a target network that follows the online one by EMA.

    The target (MoCo's key encoder, BYOL's and RAFT's target, DINO's teacher)
    is a clone of `encoder` and `projector` with copied weights. Its variables
    are non-trainable, so the optimizer never sees them, while its layers stay
    in training mode: the target's BatchNorm uses batch statistics and keeps
    its own moving statistics (Keras runs a layer with `trainable=False` in
    inference mode, which is why the variables, not the layers, are frozen).

    In each training step, before the target's forward pass and with the
    online weights as they are before the step's optimizer update, every
    target weight paired with a trainable online weight moves by
    `t <- m t + (1 - m) sg(o)` (MoCo, He et al. 2020, eq. 2; BYOL, Grill et
    al. 2020, section 3.1). The momentum follows
    `m_k = 1 - (1 - m0) (cos(pi k / K) + 1) / 2` at step `k` (BYOL, MoCo v3,
    DINO) with the horizon `K` from the `MomentumSchedule` callback that `fit`
    adds, or stays `m0` (the class attribute `momentum_schedule =
    "constant"`, MoCo v1/v2). It is kept in the float32 variable `momentum`
    and logged as the `momentum` metric.

    Subclasses build `self.projector` and then call `self.build_target()`
    before `self.built = True`; `compute_ssl_loss` runs `self.target(view)`.
    The EMA step is the base class's: `compute_loss` runs
    `update_target(training)` before the subclass's loss, so no method has a
    call order to remember.

    Args:
        backbone: a `keras.Model` from images to `(B, D)` features.
        momentum: `m0`, in [0, 1]; default the method's recipe
            (`keras_ssl.recipes`).
        **kwargs: `SSLModel` arguments.
    """

    # "cosine" (to 1 over training) or "constant" (stays `m0`).
    momentum_schedule = "cosine"

    def __init__(self, backbone, momentum=None, **kwargs):
        super().__init__(backbone, **kwargs)
        momentum = self.recipe.default("momentum", momentum)
        if isinstance(momentum, bool) or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"`momentum` must be in [0, 1]. Received: momentum={momentum!r}")
        if self.momentum_schedule not in _SCHEDULES:
            raise ValueError(
                f"{type(self).__name__}.momentum_schedule must be one of {_SCHEDULES}. "
                f"Received: {self.momentum_schedule!r}"
            )
        self.base_momentum = float(momentum)
        self.momentum = distribute.add_state_variable(
            self,
            "momentum",
            initializer=keras.initializers.Constant(self.base_momentum),
        )
        self.momentum_steps = distribute.add_state_variable(self, "momentum_steps", dtype="int32")
        self.momentum_tracker = keras.metrics.Mean(name="momentum")

    def build_target(self, clone_function=None):
        """Creates `target_encoder` and `target_projector`: clones of `encoder`
        and `projector` with the online weights, all variables non-trainable.

        Args:
            clone_function: passed to `keras.models.clone_model` for the
                encoder's layers (nested models included), e.g. to swap in
                `layers.SplitBatchNormalization` for MoCo's shuffling BN.
        """
        self.target_encoder = self._clone(self.encoder, "target_encoder", clone_function)
        self.target_projector = self._clone(self.projector, "target_projector")

    @staticmethod
    def _clone(model, name, clone_function=None):
        try:
            clone = keras.models.clone_model(
                model, clone_function=_in_memory_clone(clone_function), recursive=True
            )
        except Exception as error:
            raise ValueError(
                f"Could not clone `{model.name}` for the momentum target: the "
                "backbone must be a functional or Sequential keras.Model (or a "
                f"model that supports `keras.models.clone_model`). Error: {error}"
            ) from error
        clone.name = name
        clone.set_weights(model.get_weights())
        for variable in clone.weights:
            variable.trainable = False
        return clone

    @property
    def no_gradient_passes(self):
        """The target's forward passes per step: one per target crop
        (`crop_pairs.num_target_crops`: the global crops, else every view)."""
        return crop_pairs.num_target_crops(self.augmenter)

    def _ema_pairs(self):
        """(target, online) variables, for the online weights the optimizer trains."""
        online = self.encoder.weights + self.projector.weights
        target = self.target_encoder.weights + self.target_projector.weights
        return [(t, o) for t, o in zip(target, online) if o.trainable]

    def momentum_at(self, step):
        """The scheduled momentum at optimizer step `step` (float32 tensor)."""
        m0 = self.base_momentum
        if self.momentum_schedule == "constant":
            return ops.convert_to_tensor(m0, "float32")
        horizon = ops.cast(self.momentum_steps, "float32")
        progress = ops.where(
            horizon > 0,
            ops.minimum(ops.cast(step, "float32") / ops.maximum(horizon, 1.0), 1.0),
            0.0,
        )
        return 1.0 - (1.0 - m0) * (ops.cos(math.pi * progress) + 1.0) / 2.0

    def update_target(self, training):
        """In training, one EMA step of the target at the momentum of the
        current step; logs the momentum either way."""
        if not training:
            self.momentum_tracker.update_state(self.momentum)
            return
        m = self.momentum_at(self.step)
        self.momentum.assign(m)
        self.momentum_tracker.update_state(m)
        for target, online in self._ema_pairs():
            value = m * target + (1.0 - m) * ops.stop_gradient(ops.cast(online, "float32"))
            target.assign(ops.cast(value, target.dtype))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # The EMA step comes first: the subclass's loss runs the target on
        # the weights of this step (the online ones before its update).
        self.update_target(training)
        return super().compute_loss(x, y, y_pred, sample_weight, training=training)

    def target(self, view, training=True):
        """`stop_gradient` of the target projection of one view (float32).

        In training the target's BatchNorm uses the view's statistics and
        updates the target's own moving statistics; `training=False` (the
        evaluate path) writes nothing.
        """
        features = self.target_encoder(view, training=training)
        return ops.stop_gradient(
            ops.cast(self.target_projector(features, training=training), "float32")
        )

    def default_callbacks(self):
        if self.momentum_schedule == "cosine":
            return [MomentumSchedule()]
        return []

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.base_momentum)
        return config


def _in_memory_clone(clone_function=None):
    """A `clone_model` clone function that rebuilds `Lambda` layers from their
    Python function in memory and leaves the others to `clone_function`
    (default: `from_config(get_config())`).

    Cloning a `Lambda` through its config would deserialize its function,
    which Keras's safe mode refuses ("pass safe_mode=False"); the function is
    already in memory, so nothing is deserialized and the global safe-mode
    setting (`keras.config.enable_unsafe_deserialization`) stays untouched.
    """

    def clone(layer):
        if type(layer) is keras.layers.Lambda:
            return keras.layers.Lambda(
                layer.function,
                output_shape=layer._output_shape,
                mask=layer.mask,
                arguments=layer.arguments,
                name=layer.name,
                dtype=layer.dtype_policy,
            )
        if clone_function is not None:
            return clone_function(layer)
        return layer.__class__.from_config(layer.get_config())

    return clone
