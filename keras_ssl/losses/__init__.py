"""Losses as pure functions of tensors (`<name>_loss`) and thin `keras.losses.Loss`
wrappers."""

from keras_ssl.losses.barlow_twins import BarlowTwinsLoss
from keras_ssl.losses.barlow_twins import barlow_twins_loss
from keras_ssl.losses.byol import byol_loss
from keras_ssl.losses.clip import clip_loss
from keras_ssl.losses.contrastive_margin import ContrastiveMarginLoss
from keras_ssl.losses.contrastive_margin import contrastive_margin_loss
from keras_ssl.losses.contrastive_margin import siamese_energy_loss
from keras_ssl.losses.cpc import cpc_loss
from keras_ssl.losses.dcl import dcl_loss
from keras_ssl.losses.dcl import dclw_loss
from keras_ssl.losses.dino import dino_loss
from keras_ssl.losses.info_nce import InfoNCE
from keras_ssl.losses.info_nce import check_temperature
from keras_ssl.losses.info_nce import info_nce_loss
from keras_ssl.losses.info_nce import l2_normalize
from keras_ssl.losses.moco_v3 import moco_v3_loss
from keras_ssl.losses.negative_cosine import NegativeCosineSimilarity
from keras_ssl.losses.negative_cosine import negative_cosine_similarity
from keras_ssl.losses.negative_cosine import simsiam_loss
from keras_ssl.losses.nnclr import nearest_neighbours
from keras_ssl.losses.nnclr import nnclr_loss
from keras_ssl.losses.nt_xent import NTXent
from keras_ssl.losses.nt_xent import nt_xent_loss
from keras_ssl.losses.pirl_nce import nce_normalizer
from keras_ssl.losses.pirl_nce import pirl_nce_loss
from keras_ssl.losses.raft import raft_loss
from keras_ssl.losses.sinkhorn import sinkhorn
from keras_ssl.losses.supcon import SupConLoss
from keras_ssl.losses.supcon import supcon_loss
from keras_ssl.losses.swav import SwAVLoss
from keras_ssl.losses.swav import swav_codes
from keras_ssl.losses.swav import swav_loss
from keras_ssl.losses.vicreg import VICRegLoss
from keras_ssl.losses.vicreg import vicreg_loss
from keras_ssl.losses.vicreg import vicreg_terms
