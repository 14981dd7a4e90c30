"""Building blocks shared by methods: heads, queues, banks, patch grids,
constraints."""

from keras_ssl.layers.constraints import ClipValue
from keras_ssl.layers.feature_queue import FeatureQueue
from keras_ssl.layers.fused_batch_normalization import FusedBatchNormalization
from keras_ssl.layers.memory_bank import MemoryBank
from keras_ssl.layers.mlp import mlp
from keras_ssl.layers.multi_block_mask import mask_indices
from keras_ssl.layers.multi_block_mask import multi_block_mask
from keras_ssl.layers.patch_grid import PatchGrid
from keras_ssl.layers.patch_grid import ToGrid
from keras_ssl.layers.prototypes import Prototypes
from keras_ssl.layers.random_masking import random_masking
from keras_ssl.layers.split_batch_normalization import SplitBatchNormalization
from keras_ssl.layers.weight_normalized_dense import WeightNormalizedDense
