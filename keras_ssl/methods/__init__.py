"""Self-supervised methods: one `SSLModel` subclass per file."""

from keras_ssl.methods.barlow_twins import BarlowTwins
from keras_ssl.methods.base import SSLModel
from keras_ssl.methods.byol import BYOL
from keras_ssl.methods.clip import CLIP
from keras_ssl.methods.clip import class_embeddings
from keras_ssl.methods.clip import load_clip_towers
from keras_ssl.methods.cpc import CPC
from keras_ssl.methods.dino import DINO
from keras_ssl.methods.export import ExportedEncoder
from keras_ssl.methods.export import load_encoder
from keras_ssl.methods.ijepa import IJEPA
from keras_ssl.methods.mae import MAE
from keras_ssl.methods.moco import MoCo
from keras_ssl.methods.moco import MoCoV3
from keras_ssl.methods.momentum import MomentumModel
from keras_ssl.methods.nnclr import NNCLR
from keras_ssl.methods.pirl import PIRL
from keras_ssl.methods.raft import RAFT
from keras_ssl.methods.siamese import SiameseContrastive
from keras_ssl.methods.simclr import SimCLR
from keras_ssl.methods.simsiam import SimSiam
from keras_ssl.methods.supcon import SupCon
from keras_ssl.methods.swav import SwAV
from keras_ssl.methods.vicreg import VICReg
