"""The Keras private methods and attributes keras_ssl overrides or uses still
exist with the signatures we rely on. setup.cfg pins keras to the tested
minor version; this fails loudly, naming the member, when a new Keras drops
one (grep keras_ssl for `\\._[a-z]` on Keras objects when adding one)."""

import inspect

import keras
import pytest
from keras.src.backend.jax.trainer import JAXTrainer
from keras.src.backend.tensorflow.trainer import TensorFlowTrainer
from keras.src.trainers.trainer import Trainer

# (class, member, its parameters we override with or pass; None: not called).
METHODS = [
    # SSLModel._symbolic_build: marks the augmenter built (methods/base.py).
    (Trainer, "_symbolic_build", ["self", "iterator", "data_batch"]),
    # SSLModel._maybe_symbolic_build: first local batch across workers.
    (TensorFlowTrainer, "_maybe_symbolic_build", ["self", "iterator", "data_batch"]),
    # with_any_input_size, MoCo's ViT check, CLIP, fine_tune, the augmenter.
    (keras.layers.Layer, "_flatten_layers", None),
    # keras_ssl.optimizers.SGD reads its momentum slot by variable.
    (keras.optimizers.Optimizer, "_get_variable_index", ["self", "variable"]),
]


@pytest.mark.parametrize("cls, name, parameters", METHODS, ids=lambda v: getattr(v, "__name__", None))
def test_overridden_or_called_private_methods_exist(cls, name, parameters):
    method = getattr(cls, name, None)
    assert callable(method), (
        f"keras {keras.__version__}: {cls.__name__}.{name} is gone; keras_ssl "
        "overrides or calls it (see setup.cfg's keras pin)."
    )
    if parameters is not None:
        assert list(inspect.signature(method).parameters) == parameters, name


@pytest.mark.parametrize("trainer", [TensorFlowTrainer, JAXTrainer])
def test_fit_still_calls_evaluate_with_use_cached_eval_dataset(trainer):
    # SSLModel.evaluate skips its input checks on fit's cached validation data.
    assert "_use_cached_eval_dataset=True" in inspect.getsource(trainer.fit)
    assert 'kwargs.pop("_use_cached_eval_dataset"' in inspect.getsource(trainer.evaluate)


def test_private_attributes_still_exist():
    # momentum.py clones a Lambda with its `_output_shape`.
    assert keras.layers.Lambda(lambda x: x, output_shape=(3,))._output_shape == (3,)
    # StopOnNonFinite reads the model without Keras's JAX state sync.
    callback = keras.callbacks.Callback()
    callback.set_model(keras.Sequential([keras.Input((1,))]))
    assert callback._model is not None
