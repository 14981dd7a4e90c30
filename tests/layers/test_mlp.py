import keras
import pytest

from keras_ssl import layers


def test_hidden_layers_have_bn_and_no_bias():
    head = layers.mlp(16, (32, 8), name="head")
    kinds = [type(l).__name__ for l in head.layers]
    assert kinds == ["Dense", "FusedBatchNormalization", "Activation", "Dense"]
    assert not head.layers[0].use_bias and head.layers[-1].use_bias
    assert head.output_shape == (None, 8) and head.name == "head"
    assert not head.layers[1].synchronized  # one device


def test_last_bn_and_plain_mlp():
    head = layers.mlp(4, (8, 8, 2), last_bn=True)
    assert [type(l).__name__ for l in head.layers][-2:] == ["Dense", "FusedBatchNormalization"]
    assert not head.layers[-2].use_bias
    plain = layers.mlp(4, (8, 2), batch_norm=False)
    assert [type(l).__name__ for l in plain.layers] == ["Dense", "Activation", "Dense"]
    assert plain.layers[0].use_bias
    assert plain(keras.ops.ones((3, 4))).shape == (3, 2)


def test_invalid_dims():
    with pytest.raises(ValueError, match="dims"):
        layers.mlp(4, ())
    with pytest.raises(ValueError, match="dims"):
        layers.mlp(4, (8, 0))


def test_last_bn_without_affine_has_no_gamma_beta():
    head = layers.mlp(8, (16, 4), last_bn=True, last_bn_affine=False)
    last_bn = head.layers[-1]
    assert isinstance(last_bn, keras.layers.BatchNormalization)
    assert not last_bn.trainable_weights
    assert len(head.layers[1].trainable_weights) == 2  # hidden BN keeps its affine
