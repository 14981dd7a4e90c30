"""Multi-crop augmentation (Caron et al. 2020, "Unsupervised Learning of Visual
Features by Contrasting Cluster Assignments", https://arxiv.org/abs/2006.09882);
its SwAV and DINO recipes are `presets.swav_multicrop` and
`presets.dino_multicrop`."""

import keras

from keras_ssl.augmentation.view_augmenter import ViewAugmenter


@keras.saving.register_keras_serializable(package="keras_ssl")
class MultiCrop(ViewAugmenter):
    """Global (high-resolution) crops followed by local (low-resolution) ones.

    A `ViewAugmenter` whose views come in two groups: `global_pipelines`
    first (all of one size), then `local_pipelines` (all of one, smaller,
    size). Multi-crop methods take codes or teacher targets from the global
    crops only and run each resolution through the backbone as its own batch
    (SwAV, DINO).

    Args:
        global_pipelines: non-empty list of pipelines (lists of layers), one
            per global crop.
        local_pipelines: list of pipelines, one per local crop.

    Attributes:
        num_global_crops: number of global crops (the first views).
        num_local_crops: number of local crops (the last views).

    Example:

    ```python
    augmenter = keras_ssl.augmentation.swav_multicrop(32)
    views = augmenter(images)  # 2 views of 32 px, then 6 of 16 px
    augmenter.num_global_crops  # 2
    ```
    """

    def __init__(self, global_pipelines, local_pipelines=(), **kwargs):
        global_pipelines, local_pipelines = list(global_pipelines), list(local_pipelines)
        if not global_pipelines:
            raise ValueError(
                "`global_pipelines` must hold at least one pipeline. "
                f"Received: global_pipelines={global_pipelines!r}"
            )
        super().__init__(global_pipelines + local_pipelines, **kwargs)
        self.num_global_crops = len(global_pipelines)
        self.num_local_crops = len(local_pipelines)
        for group, sizes in (
            ("global", self.output_sizes[: self.num_global_crops]),
            ("local", self.output_sizes[self.num_global_crops :]),
        ):
            if len(set(sizes)) > 1:
                raise ValueError(
                    f"All {group} crops must have one size (each resolution is "
                    f"one batch through the backbone). Received sizes {sizes}."
                )

    def get_config(self):
        config = super().get_config()
        pipelines = config.pop("pipelines")
        config["global_pipelines"] = pipelines[: self.num_global_crops]
        config["local_pipelines"] = pipelines[self.num_global_crops :]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("global_pipelines", "local_pipelines"):
            config[key] = [
                [keras.saving.deserialize_keras_object(layer) for layer in pipeline]
                for pipeline in config[key]
            ]
        return cls(**config)
