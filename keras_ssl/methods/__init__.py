"""Self-supervised methods: one `SSLModel` subclass per file."""

from keras_ssl.methods.base import SSLModel
from keras_ssl.methods.export import load_encoder
from keras_ssl.methods.simclr import SimCLR
from keras_ssl.methods.supcon import SupCon
from keras_ssl.methods.nnclr import NNCLR
from keras_ssl.methods.clip import CLIP
from keras_ssl.methods.siamese import SiameseContrastive
from keras_ssl.methods.pirl import PIRL
from keras_ssl.methods.cpc import CPC
