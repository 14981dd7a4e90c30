"""Evaluation protocols for frozen self-supervised features."""

from keras_ssl.evaluation.knn import embed
from keras_ssl.evaluation.knn import knn_accuracy
from keras_ssl.evaluation.knn import knn_predict
from keras_ssl.evaluation.knn import knn_scores
