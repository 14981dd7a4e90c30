import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ssl")
class WarmupCosineDecay(keras.optimizers.schedules.CosineDecay):
    """`keras.optimizers.schedules.CosineDecay` with warm-up, without a
    conditional: the same learning rates and config.

    Linear warm-up from `initial_learning_rate` to `warmup_target` over
    `warmup_steps`, then cosine decay to `alpha * warmup_target` over
    `decay_steps` (Loshchilov and Hutter 2017, "SGDR"; the recipes' schedule,
    `keras_ssl.recipes.schedule`). Keras's class picks the phase with
    `ops.cond`, and optimizers with decoupled weight decay
    (`keras.optimizers.AdamW`) evaluate the learning rate once per variable,
    so a traced step held one conditional per weight, traced once and run
    at every step. Here both phases are a few scalar ops and `where` picks
    one.

    Args: those of `keras.optimizers.schedules.CosineDecay`; `warmup_target`
    None means no warm-up (Keras's own computation).
    """

    def __call__(self, step):
        if self.warmup_target is None:
            return super().__call__(step)
        with keras.name_scope(self.name):
            initial = ops.convert_to_tensor(self.initial_learning_rate)
            dtype = initial.dtype
            target = ops.cast(self.warmup_target, dtype)
            warmup_steps = ops.cast(self.warmup_steps, dtype)
            decay_steps = ops.cast(self.decay_steps, dtype)
            step = ops.minimum(ops.cast(step, dtype), warmup_steps + decay_steps)
            warmup = initial + (target - initial) * step / ops.maximum(warmup_steps, 1.0)
            progress = (step - warmup_steps) / decay_steps
            cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
            decay = target * ((1.0 - self.alpha) * cosine + self.alpha)
            return ops.where(step < warmup_steps, warmup, decay)
