"""Pictures of what a model does: augmentation and nearest-neighbour grids."""

from keras_ssl.plots.grids import image_grid
from keras_ssl.plots.grids import save_augmentation_grid
from keras_ssl.plots.grids import save_neighbour_grid
from keras_ssl.plots.grids import save_png
