"""`StopOnNonFinite`: ends `fit` at the first training step that the
guard of `SSLModel` refused (a non-finite value, or an id input out of
range)."""

import keras
import numpy as np


class NonFiniteStepError(FloatingPointError):
    """A training step had a non-finite loss, features or gradients.

    Raised by `SSLModel.fit` (through `StopOnNonFinite`). The step changed no
    state: the model and its optimizer are as they were before it, on one
    device, under a tf.distribute strategy and on JAX alike.

    Attributes:
        step: the refused step, counted by the model's `step` counter (all
            the model's steps so far, earlier `fit` calls included).
    """

    def __init__(self, message, step):
        super().__init__(message)
        self.step = step


def _guard_value(model, guard_variable):
    """The value of one of the guard's variables: `nonfinite_step` (-1:
    every step so far was accepted) or `refused_ids`.

    On JAX the trainer keeps the state outside the variables during an
    epoch; the value is read from that state (`_jax_state`) instead of
    through `Callback.model`, which would copy every variable back after
    every batch.
    """
    state = getattr(model, "_jax_state", None)
    if state and not getattr(model, "_jax_state_synced", True):
        for variable, value in zip(
            model.non_trainable_variables, state["non_trainable_variables"]
        ):
            if variable is guard_variable:
                return np.asarray(value)
    return keras.ops.convert_to_numpy(guard_variable)


def refused_step_error(model, step, record):
    """The error for the refused `step`: a `ValueError` naming the id input
    out of range when `record` (the model's `refused_ids`) names one, else a
    `NonFiniteStepError`."""
    number, low, high = (int(v) for v in record)
    if number == 0:
        return nonfinite_step_error(model, step)
    id_input = model.id_inputs()[number - 1]
    return ValueError(
        f"Training step {step} (the model's `step` counter) was refused: "
        f"{id_input.error_message(low, high)} The step changed nothing (the "
        "model and its optimizer are as they were before it), and training stopped."
    )


def nonfinite_step_error(model, step):
    """The `NonFiniteStepError` that names `step` and the likely causes."""
    causes = [
        "non-finite pixels in the data (find them with "
        "`np.isfinite(images).all()` or `tf.debugging.check_numerics`)",
    ]
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        causes.append(f"a learning rate too high (it was {rate:.3g} at this step)")
    else:
        causes.append("a learning rate too high")
    causes.append(
        "float16 overflow under mixed precision (use 'mixed_bfloat16', or "
        "'mixed_float16' with its loss scaling)"
    )
    outcome = (
        "The step changed nothing: weights, optimizer state, target "
        "network, queues, memory bank, centers and counters are as they "
        "were before it, and training stopped."
    )
    return NonFiniteStepError(
        f"Training step {step} (the model's `step` counter) had a non-finite "
        f"loss, features or gradients (NaN or Inf). {outcome} Likely causes: " + "; ".join(causes) + ". To train through "
        "such steps anyway, build the model with `nonfinite_guard=False`.",
        step,
    )


class StopOnNonFinite(keras.callbacks.Callback):
    """Raises `NonFiniteStepError` after the batch in which the model's
    non-finite guard refused a step (a `ValueError` when an id input was out
    of range, `SSLModel.id_inputs`).

    `SSLModel.fit` adds it when the model's `nonfinite_guard` is on (the
    default) or the model has id inputs. The guard itself runs in the
    training step: a step whose loss, features or gradients are not finite
    changes no state, and neither does any later step
    (`steps_per_execution > 1` included) until this callback stops training. When training begins it clears the guard's record of an
    earlier `fit`, so a model whose run stopped trains again once the cause
    is fixed.
    """

    def on_train_begin(self, logs=None):
        self.model.nonfinite_step.assign(-1)
        self.model.refused_ids.assign([0, 0, 0])

    def on_train_batch_end(self, batch, logs=None):
        step = int(_guard_value(self._model, self._model.nonfinite_step))
        if step >= 0:
            record = _guard_value(self._model, self._model.refused_ids)
            raise refused_step_error(self.model, step, record)
