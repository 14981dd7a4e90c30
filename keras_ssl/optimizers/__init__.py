"""Optimizers of the SSL recipes that Keras does not ship."""

from keras_ssl.optimizers.lars import LARS
from keras_ssl.optimizers.sgd import SGD
