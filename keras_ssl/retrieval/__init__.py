"""Retrieval, recommendation and anomaly detection with frozen embeddings."""

from keras_ssl.retrieval.anomaly import auroc
from keras_ssl.retrieval.anomaly import knn_anomaly_scores
from keras_ssl.retrieval.anomaly import one_class_aurocs
from keras_ssl.retrieval.embedding_index import EmbeddingIndex
from keras_ssl.retrieval.embedding_index import faiss_available
from keras_ssl.retrieval.metrics import recall_at_k
from keras_ssl.retrieval.recommend import recommend
