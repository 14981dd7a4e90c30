"""LARS: layer-wise adaptive rate scaling (You, Gitman, Ginsburg 2017)."""

import keras
from keras import ops

from keras_ssl.optimizers.sgd import SGD


@keras.saving.register_keras_serializable(package="keras_ssl")
class LARS(SGD):
    """SGD with momentum whose step for each weight matrix is rescaled by a
    trust ratio `eta * ||w|| / ||g||` (You et al. 2017, "Large Batch Training
    of Convolutional Networks"), as the Barlow Twins, VICReg and BYOL
    repositories use it (docs/methods.md, Conventions).

    For every variable with more than one dimension:
    `g <- g + weight_decay * w`; `q = eta * ||w|| / ||g||` when both norms are
    positive, else 1; `g <- q * g`; `mu <- momentum * mu + g`;
    `w <- w - learning_rate * mu`. Biases and normalization parameters (one
    dimension) get neither weight decay nor the trust ratio: plain momentum
    SGD. With `clip_lr=True` (solo-learn's CIFAR configs) the ratio becomes
    `min(q / learning_rate, 1)`, so a weight's effective rate is
    `min(q, learning_rate)`: never above the global learning rate.

    Args:
        learning_rate: float or `keras.optimizers.schedules` schedule.
        momentum: heavy-ball momentum (0.9 in the repositories).
        weight_decay: L2 weight decay added to the gradient of weight
            matrices before the trust ratio (coupled, as in the repositories;
            Keras's own `weight_decay` argument is decoupled and unused here).
        eta: trust coefficient (0.001 in the papers' repositories; solo-learn
            CIFAR: 0.02 with `clip_lr=True`).
        clip_lr: cap the trust ratio as described above.
        name: optimizer name.
        **kwargs: other `keras.optimizers.Optimizer` arguments (`clipnorm`,
            `gradient_accumulation_steps`, ...).

    Example:

    >>> optimizer = keras_ssl.optimizers.LARS(0.3, weight_decay=1e-4, eta=0.02, clip_lr=True)
    >>> model.compile(optimizer=optimizer)
    """

    def __init__(
        self,
        learning_rate=0.001,
        momentum=0.9,
        weight_decay=0.0,
        eta=0.001,
        clip_lr=False,
        name="lars",
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            momentum=momentum,
            weight_decay=weight_decay,
            name=name,
            **kwargs,
        )
        if eta < 0:
            raise ValueError(f"`eta` must be >= 0. Received: eta={eta}")
        self.eta = float(eta)
        self.clip_lr = bool(clip_lr)

    def scale_gradient(self, gradient, variable, learning_rate):
        if len(variable.shape) < 2:
            return gradient
        gradient = super().scale_gradient(gradient, variable, learning_rate)
        weights = ops.convert_to_tensor(variable)
        weight_norm = ops.sqrt(ops.sum(ops.square(weights)))
        gradient_norm = ops.sqrt(ops.sum(ops.square(gradient)))
        both = ops.logical_and(weight_norm > 0, gradient_norm > 0)
        ratio = ops.where(both, self.eta * weight_norm / ops.where(both, gradient_norm, 1.0), 1.0)
        if self.clip_lr:
            ratio = ops.minimum(ratio / learning_rate, 1.0)
        return gradient * ratio

    def get_config(self):
        config = super().get_config()
        config.update(eta=self.eta, clip_lr=self.clip_lr)
        return config
