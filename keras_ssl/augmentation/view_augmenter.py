import keras
from keras import ops

from keras_ssl.augmentation.random_resized_crop import RandomResizedCrop


@keras.saving.register_keras_serializable(package="keras_ssl")
class ViewAugmenter(keras.layers.Layer):
    """Makes several augmented views of a batch of images, one per pipeline.

    The view generator of every SSL method: pipeline `i` (a list of layers
    applied in order, each called with `training=True`) turns the batch into
    view `i`. Each pipeline has its own layers, hence its own randomness, and
    every layer draws per image. Presets such as `simclr_views` build one.

    Args:
        pipelines: list of pipelines, each a non-empty list of
            `keras.layers.Layer`, one pipeline per view. The randomness comes
            from the pipeline layers' own seeds.

    The random state of every pipeline layer is saved with the model
    (`save_own_variables`), which Keras does not do for seed generators, so
    a model resumed from a `.keras` file draws the views an uninterrupted run
    would have drawn.

    Call arguments:
        images: (B, H, W, C) uint8 or float images in [0, 255].
        training: ignored; views are always random.

    Returns:
        A tuple of `num_views` float32 (B, h_i, w_i, C) views in [0, 255].

    Example:

    ```python
    augmenter = ViewAugmenter(
        [[RandomResizedCrop(32, 32), RandomGrayscale(0.2)] for _ in range(2)]
    )
    view_1, view_2 = augmenter(images)
    ```
    """

    def __init__(self, pipelines, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if (
            not isinstance(pipelines, (list, tuple))
            or not pipelines
            or not all(
                isinstance(pipeline, (list, tuple))
                and pipeline
                and all(
                    isinstance(layer, keras.layers.Layer) for layer in pipeline
                )
                for pipeline in pipelines
            )
        ):
            raise ValueError(
                "`pipelines` must be a non-empty list of non-empty lists of "
                f"keras layers, one list per view. Received: "
                f"pipelines={pipelines!r}"
            )
        self.pipelines = [list(pipeline) for pipeline in pipelines]

    @property
    def num_views(self):
        """Number of views (pipelines)."""
        return len(self.pipelines)

    @property
    def output_sizes(self):
        """`(height, width)` of each view from its `RandomResizedCrop`.

        None for a pipeline without one (its views keep the input size).
        """
        sizes = []
        for pipeline in self.pipelines:
            crops = [c for c in pipeline if isinstance(c, RandomResizedCrop)]
            crop = crops[-1] if crops else None
            sizes.append((crop.height, crop.width) if crop else None)
        return sizes

    def build(self, input_shape):
        # No weights of its own. Keras's default build would trace `call`
        # once more to build the pipelines; each layer builds on its first
        # call instead.
        pass

    def call(self, images, training=True):
        images = ops.cast(images, "float32")
        views = []
        for pipeline in self.pipelines:
            view = images
            for layer in pipeline:
                view = layer(view, training=True)
            views.append(ops.cast(view, "float32"))
        return tuple(views)

    def compute_output_shape(self, input_shape):
        shapes = []
        for pipeline in self.pipelines:
            shape = tuple(input_shape)
            for layer in pipeline:
                shape = tuple(layer.compute_output_shape(shape))
            shapes.append(shape)
        return tuple(shapes)

    def _random_states(self):
        weights = {id(w) for w in self.weights}
        return [v for v in self.variables if id(v) not in weights]

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for i, state in enumerate(self._random_states()):
            store[f"random_state_{i}"] = state

    def load_own_variables(self, store):
        states = self._random_states()
        saved = [key for key in store.keys() if key.startswith("random_state_")]
        if len(saved) != len(states):
            raise ValueError(
                f"The saved augmenter has {len(saved)} random states; this one "
                f"has {len(states)}. Was it built with the same pipelines?"
            )
        for i, state in enumerate(states):
            state.assign(store[f"random_state_{i}"])
        own = {k: store[k] for k in store.keys() if not k.startswith("random_state_")}
        super().load_own_variables(own)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pipelines": [
                    [
                        keras.saving.serialize_keras_object(layer)
                        for layer in pipeline
                    ]
                    for pipeline in self.pipelines
                ]
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["pipelines"] = [
            [
                keras.saving.deserialize_keras_object(layer)
                for layer in pipeline
            ]
            for pipeline in config["pipelines"]
        ]
        return cls(**config)
