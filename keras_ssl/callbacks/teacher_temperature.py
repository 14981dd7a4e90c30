"""`TeacherTemperature`: DINO's per-epoch schedules."""

import keras


class TeacherTemperature(keras.callbacks.Callback):
    """Sets DINO's epoch-indexed schedules at the start of each epoch.

    - Teacher temperature: linear warm-up from `start` to `end` over
      `warmup_epochs` epochs, then `end` (DINO paper, section 4.2 and
      appendix: `linspace(0.04, 0.07, 30)`; epoch 15 -> 0.0555172).
    - Prototypes (the last layer): frozen while `epoch <
      model.freeze_prototypes_epochs` (DINO repo `freeze_last_layer=1`).

    `DINO.fit` adds one with the model's settings when the user passed none.

    Args:
        start: teacher temperature at epoch 0.
        end: teacher temperature from epoch `warmup_epochs - 1` on.
        warmup_epochs: length of the warm-up; 0 or 1 means constant `end`.
    """

    def __init__(self, start=0.04, end=0.07, warmup_epochs=30):
        super().__init__()
        if not (0 < start < float("inf") and 0 < end < float("inf")) or warmup_epochs < 0:
            raise ValueError(
                "Temperatures must be > 0 and `warmup_epochs` >= 0. Received: "
                f"start={start}, end={end}, warmup_epochs={warmup_epochs}"
            )
        self.start = float(start)
        self.end = float(end)
        self.warmup_epochs = int(warmup_epochs)

    def temperature(self, epoch):
        """The teacher temperature of epoch `epoch` (0-based)."""
        if self.warmup_epochs <= 1 or epoch >= self.warmup_epochs - 1:
            return self.end
        return self.start + (self.end - self.start) * epoch / (self.warmup_epochs - 1)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.teacher_temperature.assign(self.temperature(epoch))
        self.model.last_layer.frozen.assign(float(epoch < self.model.freeze_prototypes_epochs))
