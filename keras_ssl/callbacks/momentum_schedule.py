"""`MomentumSchedule`: gives a momentum method the horizon of its cosine schedule."""

import warnings

import keras


class MomentumSchedule(keras.callbacks.Callback):
    """Sets the horizon `K` of a `MomentumModel`'s cosine momentum schedule.

    The momentum for step `k` is `m_k = 1 - (1 - m0) (cos(pi k / K) + 1) / 2`
    (BYOL, Grill et al. 2020, https://arxiv.org/abs/2006.07733, section 3.2;
    MoCo v3; DINO), rising from `m0` to 1 at `k = K`. The arithmetic and the
    EMA run inside the training step, once per optimizer step, so they stay
    exact with `steps_per_execution > 1`; this callback only writes `K` into
    the model's `momentum_steps` variable when training begins: `total_steps`
    when given, else `epochs x steps_per_epoch` of the `fit` call. Like
    Keras's `epochs`, that counts from the model's first step, so a run
    resumed with `initial_epoch` (or `BackupAndRestore`) keeps its schedule.
    `SSLModel.fit` adds one when the user passed none.

    Args:
        total_steps: the horizon `K` in optimizer steps; default from `fit`.
    """

    def __init__(self, total_steps=None):
        super().__init__()
        if total_steps is not None and (not isinstance(total_steps, int) or total_steps < 1):
            raise ValueError(
                f"`total_steps` must be a positive int. Received: {total_steps!r}"
            )
        self.total_steps = total_steps

    def on_train_begin(self, logs=None):
        total = self.total_steps
        if total is None:
            epochs, steps = self.params.get("epochs"), self.params.get("steps")
            if not epochs or not steps:
                warnings.warn(
                    "MomentumSchedule: the number of steps per epoch is unknown, "
                    "so the momentum keeps its current horizon "
                    f"({int(self.model.momentum_steps.numpy())} steps; 0 = constant). "
                    "Pass `steps_per_epoch=` to fit or "
                    "`MomentumSchedule(total_steps=...)`.",
                    stacklevel=2,
                )
                return
            total = epochs * steps
        self.model.momentum_steps.assign(total)
