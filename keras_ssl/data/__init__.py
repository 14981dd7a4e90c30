"""Data: bundled CIFAR-10 sample, image folders, TFDS and augmented views."""

from keras_ssl.data.image_folder import load_image_folder
from keras_ssl.data.image_folder import load_tfds
from keras_ssl.data.sample import CIFAR10_CLASSES
from keras_ssl.data.sample import load_sample
from keras_ssl.data.views import with_views
from keras_ssl.data.batches import shuffled_batches
from keras_ssl.data.captions import CAPTION_TEMPLATES
from keras_ssl.data.captions import caption_tokenizer
from keras_ssl.data.captions import class_captions
from keras_ssl.data.captions import prompt_tokens
from keras_ssl.data.captions import with_captions
from keras_ssl.data.pairs import make_pairs
from keras_ssl.data.index import with_index
from keras_ssl.data.image_files import IMAGE_EXTENSIONS
from keras_ssl.data.image_files import list_image_files
from keras_ssl.data.image_dataset import image_dataset
from keras_ssl.data.tfds_dataset import tfds_dataset
from keras_ssl.data.elements import from_tfds_elements
