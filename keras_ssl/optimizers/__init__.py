"""Optimizers of the SSL recipes that Keras does not ship, and the recipes'
learning-rate schedule."""

from keras_ssl.optimizers.lars import LARS
from keras_ssl.optimizers.sgd import SGD
from keras_ssl.optimizers.warmup_cosine_decay import WarmupCosineDecay
