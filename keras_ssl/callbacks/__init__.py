"""Callbacks for self-supervised training."""

from keras_ssl.callbacks.knn_monitor import KNNMonitor
