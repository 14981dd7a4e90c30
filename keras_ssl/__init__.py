"""keras_ssl: self-supervised representation learning for images in Keras 3."""

from keras_ssl import augmentation
from keras_ssl import backbones
from keras_ssl import callbacks
from keras_ssl import data
from keras_ssl import distribute
from keras_ssl import evaluation
from keras_ssl import layers
from keras_ssl import losses
from keras_ssl import methods
from keras_ssl import optimizers
from keras_ssl import plots
from keras_ssl import recipes
from keras_ssl import retrieval
from keras_ssl.methods import BYOL
from keras_ssl.methods import BarlowTwins
from keras_ssl.methods import CLIP
from keras_ssl.methods import CPC
from keras_ssl.methods import DINO
from keras_ssl.methods import IJEPA
from keras_ssl.methods import MAE
from keras_ssl.methods import MoCo
from keras_ssl.methods import MoCoV3
from keras_ssl.methods import MomentumModel
from keras_ssl.methods import NNCLR
from keras_ssl.methods import PIRL
from keras_ssl.methods import RAFT
from keras_ssl.methods import SSLModel
from keras_ssl.methods import SiameseContrastive
from keras_ssl.methods import SimCLR
from keras_ssl.methods import SimSiam
from keras_ssl.methods import SupCon
from keras_ssl.methods import SwAV
from keras_ssl.methods import VICReg
from keras_ssl.methods import load_encoder

__version__ = "0.1.0"
