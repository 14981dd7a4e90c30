"""`SSLModel`: the contract every self-supervised method implements."""

import keras
from keras import ops
from keras import tree

from keras_ssl import augmentation
from keras_ssl import distribute
from keras_ssl import recipes
from keras_ssl.callbacks.stop_on_nonfinite import StopOnNonFinite
from keras_ssl.data.elements import from_tfds_elements
from keras_ssl.methods import crop_pairs
from keras_ssl.methods import export
from keras_ssl.methods.any_size import check_crop_sizes
from keras_ssl.methods.any_size import encode_by_size
from keras_ssl.methods.any_size import with_any_input_size
from keras_ssl.methods.auto_compile import compile_with_recipe
from keras_ssl.methods.input_checks import check_inputs
from keras_ssl.methods.input_checks import check_pixel_range

# Per-channel statistics of the pixels in [0, 255]. ImageNet: torchvision's
# values; CIFAR-10: the training set's, as used by lightly and solo-learn.
NORMALIZATION = {
    "imagenet": ((123.675, 116.28, 103.53), (58.395, 57.12, 57.375)),
    "cifar10": ((125.307, 122.961, 113.866), (62.993, 62.089, 66.705)),
}

def all_finite(values):
    """Whether every float value in the list is finite (a scalar bool)."""
    checks = [
        ops.all(ops.isfinite(value))
        for value in values
        if value is not None and "float" in keras.backend.standardize_dtype(value.dtype)
    ]
    return ops.all(ops.stack(checks))


class SSLModel(keras.Model):
    """Base class of the self-supervised methods.

    A method is a `keras.Model` whose training step is Keras's own
    `train_step`, driven through two hooks that work on every backend and
    under `tf.distribute`:

    - `call(x, training=True)` builds the views (the augmenter on raw images,
      or the given tuple of pre-made views) and returns `forward(views)`, a
      dict of the online branch's outputs; `call(x, training=False)` returns
      the online encoder's features of raw images.
    - `compute_loss(x, y, y_pred, training)` turns that dict into the
      method's loss (`compute_ssl_loss`), adds the online probe, updates the
      method's state and the `step` counter when training, and returns the
      per-replica loss scaled for distribution. In `evaluate` it builds the
      views itself (augmenter random, networks in inference mode) and writes
      no state.

    A subclass creates all its layers in `__init__` (so variables are made in
    the user's `strategy.scope()` and `summary()`, `save()` work before
    `fit`), ends it with `self.built = True`, and implements `forward` and
    `compute_ssl_loss`; its defaults (constructor arguments, augmentation,
    optimizer) are the `keras_ssl.recipes` entry named `recipe_name`.

    `fit` on a model that was not compiled compiles it first with its
    recipe's optimizer (`recipes.optimizer`): learning rate scaled by the
    global batch, warm-up and cosine over `epochs` x steps per epoch; it
    prints one line saying what it chose. A user's `compile` always wins.

    Args:
        backbone: any `keras.Model` from normalized images `(B, H, W, C)` to
            features `(B, D)`, e.g. `keras_ssl.backbones.resnet18()` or
            `keras.applications.ResNet50(include_top=False, pooling="avg",
            weights=None)`. `model.backbone` is this network; a method that
            `needs_any_size` runs its layers rebuilt on an any-size input
            inside `encoder` (same variables).
        augmenter: a `keras_ssl.augmentation.ViewAugmenter`; default: the
            method's paper recipe for the image size.
        preprocessing: how `encoder` maps raw pixels in [0, 255] to the
            backbone's input: `"auto"` (CIFAR-10 statistics for images of at
            most 64 px, ImageNet statistics above), `"imagenet"`, `"cifar10"`,
            a `keras.layers.Layer`, or `None` for a backbone that normalizes
            itself.
        input_shape: `(H, W, C)` of the views; default the backbone's input
            shape. Needed when the backbone takes any size.
        num_classes: train an online linear probe on `stop_gradient` of the
            first view's features with the labels in the data (label -1 =
            unlabeled), logged as `probe_accuracy`. It never changes the
            backbone.
        nonfinite_guard: a training step whose loss, features or gradients
            are not finite (NaN or Inf) changes no state (weights, optimizer
            state, target network, queues, banks, centers, counters), and
            `fit` then stops with a `NonFiniteStepError` naming the step, as
            a loss-scaling optimizer skips an overflowed step; on one device,
            under a tf.distribute strategy (Mirrored, MultiWorkerMirrored,
            TPU: every replica refuses the step when one sees a non-finite
            value) and on JAX alike. `False` lets such steps through, as
            Keras does. Integer inputs that index a table (`id_inputs`) are
            checked in every step whatever this switch says.
    """

    # Smallest batch the method's loss is defined on (negatives need two).
    min_batch_size = 2
    # Whether the labels `y` feed the loss (SupCon): `fit` then requires them
    # and `compute_ssl_loss` finds them in `outputs["labels"]`.
    uses_labels = False

    # Multi-crop methods (SwAV, DINO) feed crops of several sizes to one
    # encoder: its input then takes any size, and the constructor tries the
    # backbone on each crop size of the augmenter.
    multi_crop = False
    # Whether the data must carry each image's dataset index (PIRL's memory
    # bank: dicts from `keras_ssl.data.with_index`) or text tokens (CLIP:
    # dicts with "images" and "tokens").
    needs_indices = False
    needs_tokens = False
    # The method's entry in `keras_ssl.recipes` (None: no recipe, so no
    # default augmenter and no `fit` without `compile`).
    recipe_name = None
    # Methods that run the backbone on several input sizes (multi-crop crops,
    # PIRL's jigsaw patches, CPC's patches). Their encoders run a fixed-size
    # functional or Sequential backbone rebuilt on an any-size input with the
    # same layers (`with_any_input_size`), so `backbone` stays the user's
    # network and trains; the view size is still the backbone's input shape.
    needs_any_size = False
    # Two-view methods that also train on a multi-crop augmenter (their loss
    # runs over crop pairs, `methods/crop_pairs.py`): the constructor sets
    # `multi_crop` on the instance when the augmenter's crops have several sizes.
    accepts_multi_crop = False
    # Forward passes a training step runs without gradient, each of the
    # encoder (and projector) on one view's batch: a momentum target's on the
    # views it sees (`MomentumModel`). With `no_gradient_matmuls`, what the
    # step bound of `benchmarks/throughput.py` adds to (views x supervised step).
    no_gradient_passes = 0

    def __init__(
        self,
        backbone,
        augmenter=None,
        preprocessing="auto",
        input_shape=None,
        num_classes=None,
        nonfinite_guard=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if self.accepts_multi_crop and augmenter is not None and crop_pairs.several_sizes(augmenter):
            self.multi_crop = True
        if not isinstance(nonfinite_guard, bool):
            raise ValueError(
                "`nonfinite_guard` must be True or False. "
                f"Received: nonfinite_guard={nonfinite_guard!r}"
            )
        self.image_shape = self.image_shape_of(backbone, input_shape)
        self.preprocessing = preprocessing
        self.backbone = backbone
        self.encoder = self._build_encoder(backbone, self.image_shape, preprocessing)
        self._check_features(self.encoder)
        self.feature_dim = int(self.encoder.output_shape[-1])
        self.augmenter = augmenter or self._default_augmenter()
        if self.accepts_multi_crop and self.augmenter.num_views < 2:
            raise ValueError(
                f"{type(self).__name__} pairs views: the augmenter must make at "
                f"least 2. Received an augmenter with {self.augmenter.num_views}."
            )
        if self.multi_crop:
            check_crop_sizes(self.encoder, self.augmenter.output_sizes)
        if num_classes is not None and int(num_classes) < 2:
            raise ValueError(f"`num_classes` must be >= 2. Received: {num_classes}")
        self.num_classes = num_classes
        self.probe = None
        if num_classes is not None:
            self.probe = keras.Sequential(
                [keras.Input((self.feature_dim,)), keras.layers.Dense(num_classes)],
                name="probe",
            )
            self.probe_loss = keras.metrics.Mean(name="probe_loss")
            self.probe_accuracy = keras.metrics.SparseCategoricalAccuracy(
                name="probe_accuracy"
            )
        self.step = distribute.add_state_variable(self, "step", dtype="int32")
        # The guard's record (see `train_step`): the first step it refused
        # (-1: none) and, when that step had an id input out of range, which
        # one (its place in `id_inputs()` from 1; 0: none) and the lowest and
        # highest value of the batch's ids.
        self.nonfinite_guard = nonfinite_guard
        self.nonfinite_step = distribute.add_state_variable(
            self,
            "nonfinite_step",
            dtype="int32",
            initializer=keras.initializers.Constant(-1),
        )
        self.refused_ids = distribute.add_state_variable(
            self, "refused_ids", shape=(3,), dtype="int32"
        )

    # ---------------------------------------------------------------- building
    @staticmethod
    def image_shape_of(backbone, input_shape=None):
        """`(H, W, C)` of the views: `input_shape`, else the backbone's."""
        if not isinstance(backbone, keras.Model):
            raise ValueError(
                "A backbone must be a keras.Model from images (B, H, W, C) to "
                "features (B, D), e.g. keras_ssl.backbones.resnet18((32, 32, 3)) "
                "or keras.applications.ResNet50(include_top=False, "
                "pooling='avg', weights=None). Received: backbone="
                f"{backbone!r} of type {type(backbone).__name__}"
            )
        shape = input_shape
        if shape is None:
            shape = getattr(backbone, "input_shape", None)
            shape = None if shape is None else tuple(shape[1:])
        if shape is None or len(shape) != 3:
            raise ValueError(
                "The backbone must take images (H, W, C): pass `input_shape=` "
                f"(e.g. (32, 32, 3)). Received: input_shape={input_shape}, "
                f"backbone input shape={getattr(backbone, 'input_shape', None)}"
            )
        return tuple(shape)

    @property
    def image_size(self):
        """Height of the views (None when the backbone takes any size)."""
        return self.image_shape[0]

    @property
    def num_views(self):
        """Number of views the augmenter makes (and pre-made inputs must hold)."""
        return self.augmenter.num_views

    @property
    def small_images(self):
        """Whether the small-image recipes apply (views of at most 64 px)."""
        return recipes.is_small(self.image_size)

    @property
    def recipe(self):
        """The method's `recipes.Recipe` for its view size."""
        if self.recipe_name is None:
            raise ValueError(
                f"{type(self).__name__} has no recipe (`recipe_name` is None): "
                "pass its arguments, `augmenter=`, and compile(optimizer=...)."
            )
        return recipes.get(self.recipe_name, self.image_size)

    def _build_encoder(self, backbone, shape, preprocessing):
        any_size = (None, None, shape[-1])
        inputs = keras.Input(any_size if self.multi_crop else shape, name="images")
        x = inputs
        layer = self._preprocessing_layer(preprocessing, shape)
        if layer is not None:
            x = layer(x)
        return keras.Model(inputs, self._any_size_backbone(backbone)(x), name="encoder")

    def _any_size_backbone(self, backbone):
        """The backbone as the encoders run it: `backbone`, or for a method
        that `needs_any_size`, its layers on an any-size input. A backbone
        that cannot be rebuilt (a subclassed model, a graph that needs its
        size) is kept as it is: the method's size checks then raise, naming
        the size it fails on."""
        if not self.needs_any_size:
            return backbone
        try:
            return with_any_input_size(backbone)
        except ValueError:
            return backbone

    @staticmethod
    def _check_features(encoder):
        shapes = [tuple(output.shape) for output in encoder.outputs]
        if len(shapes) != 1 or len(shapes[0]) != 2:
            raise ValueError(
                "A backbone must return one feature tensor of shape (B, D); this "
                f"one returns {shapes}. End it with global pooling "
                "(`keras.layers.GlobalAveragePooling2D()`, or `pooling='avg'` "
                "for keras.applications) and return a single output."
            )

    @staticmethod
    def _preprocessing_layer(preprocessing, shape):
        if preprocessing is None or isinstance(preprocessing, keras.layers.Layer):
            return preprocessing
        if preprocessing == "auto":
            preprocessing = "cifar10" if recipes.is_small(shape[0]) else "imagenet"
        if preprocessing not in NORMALIZATION:
            raise ValueError(
                "`preprocessing` must be 'auto', 'imagenet', 'cifar10', a "
                f"keras Layer or None. Received: preprocessing={preprocessing!r}"
            )
        mean, std = NORMALIZATION[preprocessing]
        if shape[-1] != len(mean):
            raise ValueError(
                f"preprocessing={preprocessing!r} normalizes RGB images; the "
                f"backbone takes {shape[-1]} channels. Pass a Layer or None."
            )
        return keras.layers.Normalization(
            mean=mean, variance=[s**2 for s in std], name="normalize"
        )

    def _default_augmenter(self):
        if self.image_size is None:
            raise ValueError(
                f"{type(self).__name__}'s default augmentation needs the view "
                "size: pass `input_shape=(H, W, C)` or `augmenter=`."
            )
        return self.default_augmenter(self.image_size)

    def default_augmenter(self, image_size):
        """The method's paper recipe (`ViewAugmenter`) for views of this size
        (an int; `SSLModel` asks for `input_shape=` when it is unknown): the
        recipe's `augmentation` preset."""
        recipe = self.recipe_name and recipes.get(self.recipe_name, image_size)
        if not recipe or recipe.augmentation is None:
            raise ValueError(
                f"{type(self).__name__} has no default augmenter: pass `augmenter=`."
            )
        preset = getattr(augmentation, recipe.augmentation)
        return preset(image_size, **recipe.augmentation_args)

    def check_batch_size(self, batch):
        """Raises `ValueError` when the method cannot train on global batches
        of `batch` images (beyond `min_batch_size`, which is always checked)."""

    def no_gradient_matmuls(self, batch_size):
        """The matrix products a training step on local batches of
        `batch_size` images runs without gradient, beyond its
        `no_gradient_passes`, as `(rows, depth, columns)` shapes (NNCLR's
        support-set search, SwAV's queue scoring); none here."""
        return ()

    # ---------------------------------------------------------------- the step
    def make_views(self, x):
        """The tuple of float32 views: the given ones, or the augmenter's."""
        if isinstance(x, (tuple, list)):
            return tuple(ops.cast(view, "float32") for view in x)
        return tuple(self.augmenter(x, training=True))

    def project_views(self, views, training, concatenate=False):
        """`encoder` and `projector` on each view as its own batch (BatchNorm
        statistics per view), or with `concatenate=True` on all views in one
        batch (SimCLR's TF repo; multi-crop: one encoder batch per crop size,
        one projector batch); docs/methods.md, Conventions. Returns a dict with
        per-view `"features"` and `"projections"`."""
        if concatenate:
            features = encode_by_size(self.encoder, views, training)
            projections = self.projector(ops.concatenate(features, axis=0), training=training)
            return {
                "features": features,
                "projections": tuple(ops.split(projections, len(views), axis=0)),
            }
        features = tuple(self.encoder(view, training=training) for view in views)
        projections = tuple(self.projector(f, training=training) for f in features)
        return {"features": features, "projections": projections}

    def forward(self, views, training):
        """Runs the online branch on the views; returns a dict with at least
        `"features"`, a tuple of per-view backbone features."""
        name = type(self).__name__
        raise NotImplementedError(f"abstract: {name} must implement forward()")

    def compute_ssl_loss(self, outputs, training):
        """The method's scalar loss (mean over the local batch) from `forward`'s
        outputs; updates the method's state (queues, EMA) only when
        `training`."""
        name = type(self).__name__
        raise NotImplementedError(f"abstract: {name} must implement compute_ssl_loss()")

    def call(self, inputs, training=False):
        if training:
            return self.forward(self.make_views(inputs), training=True)
        if isinstance(inputs, (tuple, list)):
            inputs = inputs[0]
        return self.encoder(inputs, training=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if training:
            outputs = y_pred
            probe_features = outputs["features"][0]
        else:
            outputs = self.forward(self.make_views(x), training=False)
            probe_features = y_pred
        if self.uses_labels:
            outputs = dict(outputs, labels=y)
        loss = self.compute_ssl_loss(outputs, training=training)
        if self.probe is not None and y is not None:
            loss = loss + self._probe_loss(probe_features, y)
        if training:
            self._record_refusal(x, loss, outputs)
            self.step.assign_add(1)
        return distribute.scale_loss(loss)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        logs = super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        if distribute.is_multi_worker(self):
            # Keras's TensorFlow trainer averages the logs of a step over
            # workers along axis 0, which a scalar lacks ("Invalid reduction
            # dimension 0", tensorflow/tensorflow issue 72388): give each
            # value that axis.
            logs = {name: ops.expand_dims(value, 0) for name, value in logs.items()}
        return logs

    def _probe_loss(self, features, labels):
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        labeled = ops.cast(labels >= 0, "float32")
        labels = ops.maximum(labels, 0)
        logits = ops.cast(self.probe(ops.stop_gradient(features)), "float32")
        per_sample = keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True
        )
        loss = ops.sum(per_sample * labeled) / ops.maximum(ops.sum(labeled), 1.0)
        self.probe_loss.update_state(loss)
        self.probe_accuracy.update_state(labels, logits, sample_weight=labeled)
        return loss

    # ---------------------------------------------------- the non-finite guard
    def id_inputs(self):
        """The integer inputs that index a table (CLIP's token ids, PIRL's
        dataset indices), as `input_checks.IdInput(key, limit, what, fix)`:
        `x[key]` must lie in `[0, limit)`.

        `fit` checks arrays before training. A dataset's values are only
        known in the step, which runs on ids clipped into range
        (`ids_in_range`, so that no gather fails or reads past its table)
        and refuses the batch: no state changes and `fit` stops with a
        `ValueError` naming the input, the range of its values and the fix.
        This check is cheap (a min and a max), so it is on whatever
        `nonfinite_guard` says."""
        return ()

    def ids_in_range(self, x, key):
        """`x[key]` clipped into its `id_inputs` range (see there)."""
        for id_input in self.id_inputs():
            if id_input.key == key:
                return ops.clip(x[key], 0, id_input.limit - 1)
        return x[key]

    def _record_refusal(self, x, loss, outputs):
        # Whether this step is to be refused, as far as `compute_loss` sees:
        # an id input out of range, or (guard on) a non-finite loss or online
        # output (views, features, projections). On every replica when one
        # finds it. The record reaches `train_step` through the guard's
        # variables, which both backends carry out of `compute_loss`.
        latch = self.nonfinite_step.value
        record = self.refused_ids.value
        refused = ops.convert_to_tensor(False)
        for number, id_input in enumerate(self.id_inputs(), 1):
            ids = ops.cast(x[id_input.key], "int32")
            low = distribute.all_min(ops.min(ids))
            high = distribute.all_max(ops.max(ids))
            invalid = (low < 0) | (high >= id_input.limit)
            first = (latch < 0) & ops.logical_not(refused) & invalid
            record = ops.where(first, ops.stack([number, low, high]), record)
            refused = refused | invalid
        if self.id_inputs():
            self.refused_ids.assign(record)
        if self.nonfinite_guard:
            finite = all_finite([loss] + tree.flatten(outputs))
            refused = refused | (distribute.all_mean(ops.cast(~finite, "float32")) > 0)
        self.nonfinite_step.assign(ops.where(refused & (latch < 0), self.step.value, latch))

    def train_step(self, *args):
        # Per-backend override (docs/architecture.md, "The method contract"
        # and "The non-finite guard"): to keep a non-finite step from changing any
        # state, the guard needs the state before and after Keras's whole
        # step (the writes in `compute_loss`, the gradients, the optimizer
        # update), which neither `call` nor `compute_loss` sees. A non-finite
        # gradient shows in what it writes: the updated weights or optimizer
        # slots. TensorFlow's trainer takes `(data)` and updates variables in
        # place (under a tf.distribute strategy the undo runs in cross-replica
        # context, `distribute.restore_if`); JAX's takes and returns the
        # state: `((state, data))`. A step is also refused for an id input out
        # of range (`id_inputs`), guard on or off.
        if not self.nonfinite_guard and not self.id_inputs():
            return super().train_step(*args)
        if keras.backend.backend() == "jax":
            return self._guarded_stateless_train_step(*args)
        return self._guarded_train_step(*args)

    def _guarded_variables(self):
        """Every variable a step may write, except the guard's own."""
        variables = self.trainable_variables + self.non_trainable_variables
        guard = (self.nonfinite_step, self.refused_ids)
        variables = [v for v in variables if not any(v is g for g in guard)]
        return variables + list(self.optimizer.variables)

    def _refused(self, latch, values):
        """Whether the step is refused: `latch` (the guard's variable after
        `compute_loss`) is set, or (guard on) a new state value is not
        finite; on every replica when one refuses."""
        if not self.nonfinite_guard:
            return latch >= 0
        refused = (latch >= 0) | ops.logical_not(all_finite(values))
        return distribute.all_mean(ops.cast(refused, "float32")) > 0

    @staticmethod
    def _latch(before, step, refused):
        """The guard's variable after the step: the first refused step."""
        return ops.where(before >= 0, before, ops.where(refused, step, -1))

    def _guarded_train_step(self, data):
        variables = self._guarded_variables()
        before = [ops.copy(v) for v in variables]
        latch = ops.copy(self.nonfinite_step)
        step = ops.copy(self.step)
        logs = super().train_step(data)
        refused = self._refused(self.nonfinite_step.value, [v.value for v in variables])
        distribute.restore_if(refused, variables, before)
        self.nonfinite_step.assign(self._latch(latch, step, refused))
        return logs

    def _guarded_stateless_train_step(self, state, data):
        logs, new_state = super().train_step(state, data)
        trainable, non_trainable, optimizer, metrics = new_state
        old_trainable, old_non_trainable, old_optimizer, _ = state
        names = [id(v) for v in self.non_trainable_variables]
        latch = names.index(id(self.nonfinite_step))
        record = names.index(id(self.refused_ids))
        step = names.index(id(self.step))
        refused = self._refused(non_trainable[latch], trainable + non_trainable + optimizer)
        # One branch over the whole state rather than a select per variable:
        # the same values, and XLA compiles it faster.
        old = (old_trainable, old_non_trainable, old_optimizer)
        new = (trainable, non_trainable, optimizer)
        trainable, non_trainable, optimizer = map(list, ops.cond(
            refused, lambda: [list(part) for part in old], lambda: [list(part) for part in new]
        ))
        non_trainable[record] = new_state[1][record]
        non_trainable[latch] = self._latch(
            old_non_trainable[latch], old_non_trainable[step], refused
        )
        return logs, (trainable, non_trainable, optimizer, metrics)

    # ------------------------------------------------------------ entry points
    def default_callbacks(self):
        """Callbacks `fit` adds when the user passed none of their type."""
        return []

    def fit(self, x=None, y=None, batch_size=None, epochs=1, callbacks=None, **kwargs):
        """Keras's `fit`, after checking the data and the callbacks.

        Training resumes exactly (weights, optimizer, step, queues, momentum,
        banks equal to an uninterrupted run's) with
        `keras.callbacks.BackupAndRestore(backup_dir, save_freq="epoch",
        double_checkpoint=True)`: backups at the end of each epoch, the
        previous one kept for a kill during a backup write. An integer
        `save_freq` is refused (see `check_callbacks`).
        """
        keep_labels = self.num_classes is not None or self.uses_labels
        x, y = from_tfds_elements(x, y, keep_labels)
        if kwargs.get("validation_data") is not None:
            val = from_tfds_elements(kwargs["validation_data"], None, keep_labels)[0]
            kwargs["validation_data"] = val
        self.check_inputs(x, y, batch_size, needs_loss=True)
        check_pixel_range(self, x, batch_size)
        self._check_steps_per_execution()
        self.check_callbacks(callbacks)  # before the recipe compiles: no state on error
        if not self.compiled:
            compile_with_recipe(self, x, batch_size, epochs, kwargs.get("steps_per_epoch"))
        callbacks = list(callbacks or [])
        guard = [StopOnNonFinite()] if self.nonfinite_guard or self.id_inputs() else []
        for default in self.default_callbacks() + guard:
            if not any(isinstance(c, type(default)) for c in callbacks):
                callbacks.append(default)
        return super().fit(
            x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks, **kwargs
        )

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        if not kwargs.get("_use_cached_eval_dataset"):
            x, y = from_tfds_elements(x, y, self.num_classes is not None or self.uses_labels)
            self.check_inputs(x, y, batch_size, needs_loss=True)
            check_pixel_range(self, x, batch_size)
            self._check_steps_per_execution()
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    def predict(self, x, batch_size=None, **kwargs):
        x, _ = from_tfds_elements(x, keep_labels=False)
        self.check_inputs(x, None, batch_size, needs_loss=False)
        check_pixel_range(self, x, batch_size)
        return super().predict(x, batch_size=batch_size, **kwargs)

    def check_inputs(self, x, y, batch_size, needs_loss):
        """Raises `ValueError` on data the method cannot take, before Keras
        traces anything; methods with other inputs (CLIP) override it."""
        check_inputs(self, x, y, batch_size, needs_loss=needs_loss)

    @staticmethod
    def check_callbacks(callbacks):
        """Raises `ValueError` on a `BackupAndRestore` that backs up mid-epoch.

        Keras restores a mid-epoch backup (integer `save_freq`) and then
        replays its whole epoch from the first batch, so the resumed run
        repeats steps: its step counter, queues, momentum and weights differ
        from an uninterrupted run's.
        """
        for callback in callbacks or []:
            if isinstance(callback, keras.callbacks.BackupAndRestore) and (
                callback.save_freq != "epoch"
            ):
                raise ValueError(
                    "BackupAndRestore(save_freq="
                    f"{callback.save_freq!r}) backs up mid-epoch, and Keras resumes "
                    "such a backup by replaying its whole epoch: the step counter, "
                    "queues, momentum and weights would differ from an "
                    "uninterrupted run. Use keras.callbacks.BackupAndRestore("
                    'backup_dir, save_freq="epoch", double_checkpoint=True), '
                    "which resumes exactly."
                )

    def _check_steps_per_execution(self):
        steps = getattr(self, "steps_per_execution", 1)
        if steps > 1 and distribute.strategy_num_replicas(self) > 1:
            raise ValueError(
                f"steps_per_execution={steps} is not supported under a "
                "multi-replica tf.distribute strategy (a known Keras limitation, "
                "keras-team/keras issue 19246). Compile with steps_per_execution=1."
            )

    def _symbolic_build(self, iterator=None, data_batch=None):
        # Keras builds a model whose layers are not all built by calling it in
        # inference mode on the first raw batch (the JAX trainer always, the
        # TensorFlow one under a strategy). Our inference path is the encoder,
        # which takes images of the views' size; raw images (cropped by the
        # augmenter in training) need not have it. Every variable exists after
        # `__init__`; the only layers left unbuilt are the augmenter's, which
        # have no shape-dependent weights: mark them built, so that Keras only
        # builds the optimizer.
        for layer in self.augmenter._flatten_layers():
            layer.built = True
        super()._symbolic_build(iterator=iterator, data_batch=data_batch)

    def make_train_function(self, force=False):
        # Without a strategy, Keras's TensorFlow trainer leaves the optimizer
        # to be built inside the first traced step; a tf.function that
        # creates variables in its first trace is traced a second time, so
        # the first `fit` or `train_on_batch` traced the step twice (as long
        # again). Every variable of the model exists after `__init__`: build
        # the optimizer here, as Keras does under a strategy and on JAX, and
        # as `BackupAndRestore` does before it restores the slots.
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)
        return super().make_train_function(force=force)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # TensorFlow trainer only. Before the first step Keras reduces the
        # first distributed batch over all replicas, only to read its shapes;
        # across workers (MultiWorkerMirroredStrategy) that reduce fails on a
        # nested batch (Keras 3 and MWMS: keras-team/keras issue 20585). This
        # process's first replica's batch has the same shapes.
        if iterator is not None and distribute.is_multi_worker(self):
            for _, _, batches in iterator:
                data_batch = distribute.first_local_values(self, next(batches))
                break
            iterator = None
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def export_encoder(self, path, verbose=False):
        """Writes `encoder` as a SavedModel: float32 images in [0, 255] ->
        features; reload it with `keras_ssl.load_encoder(path)`."""
        export.export_encoder(self.encoder, path, method=type(self).__name__, verbose=verbose)

    # ---------------------------------------------------------- serialization
    def get_config(self):
        config = super().get_config()
        preprocessing = self.preprocessing
        if isinstance(preprocessing, keras.layers.Layer):
            preprocessing = keras.saving.serialize_keras_object(preprocessing)
        config.update(
            backbone=keras.saving.serialize_keras_object(self.backbone),
            augmenter=keras.saving.serialize_keras_object(self.augmenter),
            preprocessing=preprocessing,
            input_shape=self.image_shape,
            num_classes=self.num_classes,
            nonfinite_guard=self.nonfinite_guard,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("backbone", "augmenter", "preprocessing"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
