"""Callbacks for self-supervised training."""

from keras_ssl.callbacks.collapse_monitor import CollapseMonitor
from keras_ssl.callbacks.epoch_counter import EpochCounter
from keras_ssl.callbacks.knn_monitor import KNNMonitor
from keras_ssl.callbacks.momentum_schedule import MomentumSchedule
from keras_ssl.callbacks.teacher_temperature import TeacherTemperature
from keras_ssl.callbacks.stop_on_nonfinite import NonFiniteStepError
from keras_ssl.callbacks.stop_on_nonfinite import StopOnNonFinite
