"""Building blocks shared by methods: heads, queues, banks."""

from keras_ssl.layers.mlp import mlp
from keras_ssl.layers.prototypes import Prototypes
