import keras
import pytest

from keras_ssl import distribute


def test_none_and_mirrored_scopes_build_models():
    with distribute.distribution_scope("none"):
        assert distribute.num_replicas() == 1
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with distribute.distribution_scope("mirrored"):
            assert isinstance(tf.distribute.get_strategy(), tf.distribute.MirroredStrategy)


def test_bad_names_and_backends_raise():
    with pytest.raises(ValueError, match="must be one of"):
        distribute.distribution_scope("horovod")
    wrong = "data_parallel" if keras.backend.backend() == "tensorflow" else "mirrored"
    with pytest.raises(ValueError, match="KERAS_BACKEND"):
        distribute.distribution_scope(wrong)
