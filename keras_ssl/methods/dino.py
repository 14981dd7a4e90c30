"""DINO (Caron et al. 2021, "Emerging Properties in Self-Supervised Vision
Transformers", https://arxiv.org/abs/2104.14294)."""

import keras
from keras import ops

from keras_ssl import distribute
from keras_ssl import layers
from keras_ssl import losses
from keras_ssl.arg_checks import check_positive
from keras_ssl.callbacks.teacher_temperature import TeacherTemperature
from keras_ssl.methods.any_size import encode_by_size
from keras_ssl.methods.momentum import MomentumModel


@keras.saving.register_keras_serializable(package="keras_ssl")
class DINO(MomentumModel):
    """Self-distillation with no labels: a student matches a momentum teacher
    over multi-crop views.

    Student: `encoder` + `projector` (the DINO head: an MLP with GELU to a
    bottleneck, L2 normalization, and a weight-normalized last layer of `K`
    outputs, `last_layer`). Teacher: `target_encoder` + `target_projector`,
    an EMA of the student (`MomentumModel`, cosine momentum from `m0` to 1).
    The teacher sees the global crops only (the first `num_global_crops`
    views); the student sees every crop; crops of one size go through the
    backbone as one batch and the head (no BatchNorm) sees all crops at
    once. Loss: `losses.dino_loss` with the teacher
    centered by `center` and sharpened by `teacher_temperature`; after the
    loss `center <- m_c center + (1 - m_c) mean(teacher outputs)` over the
    global batch. Logged: `teacher_entropy` `H` and `kl = loss - H` (both go
    to 0 under collapse).

    Defaults (`keras_ssl.recipes`, docs/methods.md, DINO): head widths
    `projection_dims=(2048, 2048, 256)` (two hidden layers, the bottleneck),
    `K = 65536` (4096 for images of at most 64 px, solo-learn's CIFAR
    setting), `norm_last_layer=True`, student temperature 0.1, teacher
    temperature warmed up linearly from 0.04 to 0.07 over 30 epochs (paper),
    center momentum 0.9, teacher momentum 0.996 -> 1, prototypes frozen in
    the first epoch. The `TeacherTemperature` and `MomentumSchedule`
    callbacks, which `fit` adds, set the schedules. Works with ViT and ResNet
    backbones that take several input sizes (`input_shape=(None, None, 3)`);
    a fixed-size functional or Sequential backbone is rebuilt on an any-size
    input with the same layers (`needs_any_size`).

    Args:
        backbone: a clonable `keras.Model` from images to `(B, D)` features.
        projection_dims: the head's MLP widths before the prototypes, the
            last the bottleneck, e.g. `(2048, 2048, 256)`.
        num_prototypes: `K`, outputs of the last layer.
        norm_last_layer: fix the last layer's weight norm to 1.
        student_temperature: `T_s > 0`.
        teacher_temperature: `T_t` after the warm-up.
        warmup_teacher_temperature: `T_t` at epoch 0.
        warmup_teacher_temperature_epochs: warm-up length in epochs.
        center_momentum: `m_c` in [0, 1].
        momentum: teacher momentum `m0`.
        freeze_prototypes_epochs: epochs during which the prototypes (the
            last layer) are not trained.
        num_global_crops: how many leading views are global crops (>= 1).
        **kwargs: `SSLModel` arguments (`augmenter`, `preprocessing`,
            `input_shape`, `num_classes`) and `keras.Model` ones.
    """

    multi_crop = True
    recipe_name = "dino"
    needs_any_size = True

    def __init__(
        self,
        backbone,
        projection_dims=None,
        num_prototypes=None,
        norm_last_layer=None,
        student_temperature=None,
        teacher_temperature=None,
        warmup_teacher_temperature=None,
        warmup_teacher_temperature_epochs=None,
        center_momentum=None,
        momentum=None,
        freeze_prototypes_epochs=None,
        num_global_crops=None,
        **kwargs,
    ):
        super().__init__(backbone, momentum=momentum, **kwargs)
        default = self.recipe.default
        projection_dims = default("projection_dims", projection_dims)
        num_prototypes = default("num_prototypes", num_prototypes)
        norm_last_layer = default("norm_last_layer", norm_last_layer)
        student_temperature = default("student_temperature", student_temperature)
        teacher_temperature = default("teacher_temperature", teacher_temperature)
        warmup_teacher_temperature = default(
            "warmup_teacher_temperature", warmup_teacher_temperature
        )
        warmup_teacher_temperature_epochs = default(
            "warmup_teacher_temperature_epochs", warmup_teacher_temperature_epochs
        )
        center_momentum = default("center_momentum", center_momentum)
        freeze_prototypes_epochs = default("freeze_prototypes_epochs", freeze_prototypes_epochs)
        num_global_crops = default("num_global_crops", num_global_crops)
        for name, value in (
            ("student_temperature", student_temperature),
            ("teacher_temperature", teacher_temperature),
            ("warmup_teacher_temperature", warmup_teacher_temperature),
        ):
            check_positive(name, value)
        if not 0.0 <= center_momentum <= 1.0:
            raise ValueError(f"`center_momentum` must be in [0, 1]. Received: {center_momentum}")
        if not 1 <= num_global_crops <= self.num_views:
            raise ValueError(
                f"`num_global_crops` must be in [1, {self.num_views}] (the augmenter's "
                f"views). Received: num_global_crops={num_global_crops}"
            )
        self.projection_dims = tuple(int(w) for w in projection_dims)
        self.num_prototypes = int(num_prototypes)
        self.norm_last_layer = bool(norm_last_layer)
        self.student_temperature = float(student_temperature)
        self.final_teacher_temperature = float(teacher_temperature)
        self.warmup_teacher_temperature = float(warmup_teacher_temperature)
        self.warmup_teacher_temperature_epochs = int(warmup_teacher_temperature_epochs)
        self.center_momentum = float(center_momentum)
        self.freeze_prototypes_epochs = int(freeze_prototypes_epochs)
        self.num_global_crops = int(num_global_crops)

        self.last_layer = layers.WeightNormalizedDense(
            self.num_prototypes, trainable_norm=not self.norm_last_layer, name="last_layer"
        )
        self.projector = keras.Sequential(
            [
                keras.Input((self.feature_dim,)),
                layers.mlp(
                    self.feature_dim,
                    self.projection_dims,
                    batch_norm=False,
                    activation="gelu",
                    name="mlp",
                ),
                keras.layers.UnitNormalization(),
                self.last_layer,
            ],
            name="projector",
        )
        self.build_target()
        self.center = distribute.add_state_variable(self, "center", shape=(self.num_prototypes,))
        self.teacher_temperature = distribute.add_state_variable(
            self,
            "teacher_temperature",
            initializer=keras.initializers.Constant(self.warmup_teacher_temperature),
        )
        self.teacher_entropy = keras.metrics.Mean(name="teacher_entropy")
        self.kl = keras.metrics.Mean(name="kl")
        self.built = True

    @property
    def no_gradient_passes(self):
        """The teacher's passes per step: one per global crop."""
        return self.num_global_crops

    def default_callbacks(self):
        return super().default_callbacks() + [
            TeacherTemperature(
                self.warmup_teacher_temperature,
                self.final_teacher_temperature,
                self.warmup_teacher_temperature_epochs,
            )
        ]

    def forward(self, views, training):
        features = encode_by_size(self.encoder, views, training)
        logits = self.projector(ops.concatenate(features, axis=0), training=training)
        return {
            "views": views,
            "features": features,
            "logits": tuple(ops.split(logits, len(views), axis=0)),
        }

    def compute_ssl_loss(self, outputs, training):
        n = self.num_global_crops
        teacher = self.target(ops.concatenate(outputs["views"][:n], axis=0), training=training)
        teacher_crops = ops.split(teacher, n)
        loss = ops.mean(
            losses.dino_loss(
                outputs["logits"],
                teacher_crops,
                self.center,
                self.student_temperature,
                self.teacher_temperature,
            )
        )
        p = ops.softmax((teacher - self.center) / self.teacher_temperature, axis=-1)
        entropy = ops.mean(-ops.sum(p * ops.log(ops.maximum(p, 1e-12)), axis=-1))
        self.teacher_entropy.update_state(entropy)
        self.kl.update_state(loss - entropy)
        if training:
            batch_center = distribute.all_mean(ops.mean(teacher, axis=0))
            m = self.center_momentum
            self.center.assign(m * self.center + (1.0 - m) * batch_center)
        return loss

    def get_config(self):
        config = super().get_config()
        config.update(
            projection_dims=self.projection_dims,
            num_prototypes=self.num_prototypes,
            norm_last_layer=self.norm_last_layer,
            student_temperature=self.student_temperature,
            teacher_temperature=self.final_teacher_temperature,
            warmup_teacher_temperature=self.warmup_teacher_temperature,
            warmup_teacher_temperature_epochs=self.warmup_teacher_temperature_epochs,
            center_momentum=self.center_momentum,
            freeze_prototypes_epochs=self.freeze_prototypes_epochs,
            num_global_crops=self.num_global_crops,
        )
        return config
