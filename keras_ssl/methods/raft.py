"""RAFT (Shi, Luo, Tang, Wang and Zhuang 2020, "Run Away From your Teacher:
Understanding BYOL by a Novel Self-Supervised Approach",
https://arxiv.org/abs/2011.10944)."""

import keras
from keras import ops

from keras_ssl import losses
from keras_ssl.methods.byol import BYOL


@keras.saving.register_keras_serializable(package="keras_ssl")
class RAFT(BYOL):
    """Run Away From your Teacher: align the views, move away from the mean
    teacher.

    BYOL's networks (online backbone + projector + predictor, a mean teacher
    of backbone + projector), a different loss (`losses.raft_loss`):
    `alpha ||q(f(v1)) - q(f(v2))||^2 - beta mean_v ||q(f(v)) - sg(t(v))||^2`
    on L2-normalized outputs, where `t` is the teacher and each online output
    is compared with the teacher's output of the same view. BYOL minimizes an
    upper bound made of the same two terms with a + sign; RAFT's explicit
    "run away" term is what the paper argues prevents collapse.

    Defaults (`keras_ssl.recipes`, docs/methods.md, RAFT; the paper's exact alpha, beta and
    predictor placement are unconfirmed): `alpha = beta = 1`, the predictor
    in both terms (`predictor_in_alignment=False` aligns the projections
    before the predictor instead, keeping it in the run-away term only),
    BYOL's head sizes, schedule and augmentation.

    Args:
        backbone: a clonable `keras.Model` from images to `(B, D)` features.
        alpha: weight of the alignment term, >= 0.
        beta: weight of the run-away term, >= 0.
        predictor_in_alignment: whether the alignment term compares the
            predictor's outputs (default) or the projections.
        **kwargs: `BYOL` arguments (`projection_dims`, `prediction_dims`,
            `momentum`) and `SSLModel` ones.
    """

    recipe_name = "raft"

    # Two views only: the loss pairs each view with the other and the teacher.
    accepts_multi_crop = False

    def __init__(self, backbone, alpha=None, beta=None, predictor_in_alignment=True, **kwargs):
        super().__init__(backbone, **kwargs)
        alpha = self.recipe.default("alpha", alpha)
        beta = self.recipe.default("beta", beta)
        for name, value in (("alpha", alpha), ("beta", beta)):
            if value < 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {name}={value}")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.predictor_in_alignment = bool(predictor_in_alignment)

    def compute_ssl_loss(self, outputs, training):
        targets = [self.target(v, training=training) for v in outputs["views"]]
        aligned = {}
        if not self.predictor_in_alignment:
            aligned = dict(zip(("z1", "z2"), outputs["projections"]))
        loss = losses.raft_loss(
            *outputs["predictions"], *targets, alpha=self.alpha, beta=self.beta, **aligned
        )
        return ops.mean(loss)

    def get_config(self):
        config = super().get_config()
        config.update(
            alpha=self.alpha, beta=self.beta, predictor_in_alignment=self.predictor_in_alignment
        )
        return config
