"""Momentum SGD with the weight decay of PyTorch and the SSL repositories."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ssl")
class SGD(keras.optimizers.Optimizer):
    """Heavy-ball SGD whose weight decay is added to the gradient (coupled).

    `g <- g + weight_decay * w`; `mu <- momentum * mu + g`;
    `w <- w - learning_rate * mu`: `torch.optim.SGD`, which the papers'
    repositories and the PyTorch peers (lightly, solo-learn) train with, so a
    recipe's "SGD, momentum 0.9, weight decay 5e-4" means this. Keras's own
    `keras.optimizers.SGD(weight_decay=...)` shrinks the weights directly
    (`w <- w - learning_rate * weight_decay * w`, decoupled): with momentum
    0.9 that is about 10x weaker at the same coefficient, since the coupled
    decay accumulates in the momentum.

    Args:
        learning_rate: float or `keras.optimizers.schedules` schedule.
        momentum: heavy-ball momentum. Default 0.9.
        weight_decay: L2 coefficient added to every variable's gradient
            (biases and normalization parameters included, as
            `torch.optim.SGD`). Default 0.
        name: optimizer name.
        **kwargs: other `keras.optimizers.Optimizer` arguments (`clipnorm`,
            `gradient_accumulation_steps`, ...); Keras's decoupled
            `weight_decay` is not one of them.

    Example:

    >>> optimizer = keras_ssl.optimizers.SGD(0.12, momentum=0.9, weight_decay=5e-4)
    >>> model.compile(optimizer=optimizer)
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, weight_decay=0.0, name="sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for arg, value in (("momentum", momentum), ("weight_decay", weight_decay)):
            if value < 0:
                raise ValueError(f"`{arg}` must be >= 0. Received: {arg}={value}")
        self.momentum = float(momentum)
        self.coupled_weight_decay = float(weight_decay)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum")

    def scale_gradient(self, gradient, variable, learning_rate):
        """The gradient that enters the momentum: here `g + weight_decay * w`."""
        return gradient + self.coupled_weight_decay * ops.convert_to_tensor(variable)

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = self.scale_gradient(ops.cast(gradient, variable.dtype), variable, learning_rate)
        momentum = self.momentums[self._get_variable_index(variable)]
        self.assign(momentum, self.momentum * momentum + gradient)
        self.assign_sub(variable, learning_rate * momentum)

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, weight_decay=self.coupled_weight_decay)
        return config
