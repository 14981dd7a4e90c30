"""`EpochCounter`: the model's epoch, for schedules decided in the graph."""

import keras


class EpochCounter(keras.callbacks.Callback):
    """Sets `model.epoch` (0-based, `initial_epoch` included) at the start of
    each epoch, for schedules decided in the graph by epoch. `SwAV.fit` adds
    it."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.epoch.assign(epoch)
