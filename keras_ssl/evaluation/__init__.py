"""Evaluation protocols: weighted kNN, linear probe, fine-tuning and the
semi-supervised label subsets."""

from keras_ssl.evaluation.knn import embed
from keras_ssl.evaluation.knn import knn_accuracy
from keras_ssl.evaluation.knn import knn_predict
from keras_ssl.evaluation.knn import knn_scores
from keras_ssl.evaluation.fine_tune import fine_tune
from keras_ssl.evaluation.linear_probe import linear_probe
from keras_ssl.evaluation.subsets import semi_supervised_subsets
