"""Weight constraints that the optimizer applies after each update."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ssl")
class ClipValue(keras.constraints.Constraint):
    """Clamps a weight to `[min_value, max_value]` after each optimizer step."""

    def __init__(self, min_value, max_value):
        self.min_value = min_value
        self.max_value = max_value

    def __call__(self, w):
        return ops.clip(w, self.min_value, self.max_value)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value}
