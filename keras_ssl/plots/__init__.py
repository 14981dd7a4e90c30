"""Pictures of what a model does: augmentation and nearest-neighbour grids,
embedding maps and training curves."""

from keras_ssl.plots.grids import image_grid
from keras_ssl.plots.grids import save_augmentation_grid
from keras_ssl.plots.grids import save_neighbour_grid
from keras_ssl.plots.grids import save_png
from keras_ssl.plots.embedding_map import embedding_map
from keras_ssl.plots.embedding_map import save_embedding_map
from keras_ssl.plots.training_curves import save_training_curves
