"""Callbacks for self-supervised training."""

from keras_ssl.callbacks.knn_monitor import KNNMonitor
from keras_ssl.callbacks.collapse_monitor import CollapseMonitor
