"""One table of bad inputs and faults (issue 25): each case makes one bad call
and expects a `ValueError` whose message names the argument or the file and
the fix; the model state and the files on disk are as they were before the
call, and (last test) every model the table touched trains afterwards.

A case is `Case(name, call, match)`: `call(env)` makes the bad call with the
shared objects of `env` (tiny models built once per module, an exported
encoder, a saved index); `match` is a regex the message of the `error`
(default `ValueError`) must contain.
`models` names the shared models whose weights, optimizer slots and step
must be unchanged; `files` names the paths (relative to `env.root`) whose
bytes must be unchanged.
"""

import dataclasses
import io
import json
import os
import shutil
import tracemalloc
import typing
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ssl
from keras_ssl import cli as keras_ssl_cli
from keras_ssl import losses
from keras_ssl.retrieval import EmbeddingIndex
from tests import tiny_methods

SIZE = tiny_methods.SIZE


@dataclasses.dataclass
class Case:
    name: str
    call: typing.Callable
    match: str
    models: tuple = ()
    files: tuple = ()
    error: type = ValueError


# ----------------------------------------------------------------- shared env
class Env:
    """Tiny models (built once), an exported encoder, a saved index."""

    def __init__(self, root):
        self.root = root
        self.models = {}
        for name in ("simclr", "moco_v2", "clip", "pirl"):
            model = tiny_methods.METHODS[name]()
            model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=False)
            self.models[name] = model
        self.backbone = tiny_methods.backbone()
        self.images = np.random.default_rng(0).integers(0, 256, (32, SIZE, SIZE, 3)).astype("uint8")
        self.encoder_dir = self.path("encoder")
        self.models["simclr"].export_encoder(self.encoder_dir)
        self.exported_features = self.models["simclr"].encoder.predict(
            self.images[:4], verbose=0
        )
        self.index = EmbeddingIndex(4, backend="exact", metadata={"encoder": "v1"})
        self.index.add(np.eye(4, dtype="float32"), ids=["a", "b", "c", "d"])
        self.index_path = self.path("index.npz")
        self.index.save(self.path("index.npz"))
        with open(self.path("results.json"), "w") as f:
            f.write('{"knn": 0.5}')
        os.makedirs(self.path("outputs"))
        with open(self.path("outputs", "notes.txt"), "w") as f:
            f.write("a user's file, not an export")

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def broken_export(self, name, edit):
        """A copy of the export with `edit(directory)` applied."""
        directory = self.path(name)
        if not os.path.exists(directory):
            shutil.copytree(self.encoder_dir, directory)
            edit(directory)
        return directory

    def index_file(self, name, members):
        """An .npz file whose members are `{name: bytes or array}`."""
        path = self.path(name)
        with zipfile.ZipFile(path, "w") as archive:
            for member, value in members.items():
                if not isinstance(value, bytes):
                    buffer = io.BytesIO()
                    np.save(buffer, value, allow_pickle=True)
                    value = buffer.getvalue()
                archive.writestr(member, value)
        return path


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return Env(str(tmp_path_factory.mktemp("reliability")))


def snapshot(model):
    variables = model.weights + list(model.optimizer.variables)
    return [np.array(v) for v in variables]


def file_bytes(path):
    if not os.path.exists(path):
        return None
    if os.path.isdir(path):
        return {
            os.path.relpath(os.path.join(d, f), path): open(os.path.join(d, f), "rb").read()
            for d, _, files in os.walk(path)
            for f in files
        }
    with open(path, "rb") as f:
        return f.read()


# ----------------------------------------------------------- case builders
def bad_backbone(kind):
    def make(env):
        inputs = keras.Input((SIZE, SIZE, 3))
        maps = keras.layers.Conv2D(4, 3)(inputs)
        if kind == "4d":
            return keras.Model(inputs, maps)
        pooled = keras.layers.GlobalAveragePooling2D()(maps)
        return keras.Model(inputs, [pooled, keras.layers.GlobalMaxPooling2D()(maps)])

    return make


def fit(model_name, x, **kwargs):
    def call(env):
        data = x(env) if callable(x) else x
        env.models[model_name].fit(data, epochs=1, verbose=0, **kwargs)

    return call


def clip_tokens(low, high):
    def data(env):
        tokens = np.full((8, 6), low, "int32")
        tokens[-1, -1] = high
        return {"images": env.images[:8], "tokens": tokens}

    return data


def pirl_index(values):
    return lambda env: {"images": env.images[:8], "index": np.asarray(values, "int32")}


def index_add(vectors_ids_pairs):
    def call(env):
        index = EmbeddingIndex(2, backend="exact")
        for ids in vectors_ids_pairs[:-1]:
            index.add(np.ones((len(ids), 2)), ids=ids)
        before = (len(index), index.ids.copy())
        try:
            index.add(np.ones((len(vectors_ids_pairs[-1]), 2)), ids=vectors_ids_pairs[-1])
        finally:
            assert len(index) == before[0] and np.array_equal(index.ids, before[1])

    return call


def save_index_with_metadata(env):
    index = EmbeddingIndex.load(env.index_path, backend="exact")
    index.metadata["score"] = np.float32(0.5)
    index.save(env.index_path)


def save_index_with_failing_serializer(env):
    """`np.savez` that writes part of the file and then fails."""
    original = np.savez

    def failing(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    np.savez = failing
    try:
        env.index.save(env.index_path)
    finally:
        np.savez = original


def load_index(name, members=None, raw=None):
    def call(env):
        if raw is not None:
            path = env.path(name)
            with open(path, "wb") as f:
                f.write(raw(env) if callable(raw) else raw)
        elif members is not None:
            path = env.index_file(name, members(env) if callable(members) else members)
        else:
            path = env.path(name)
        EmbeddingIndex.load(path, backend="exact")

    return call


def crafted_header(rows):
    """A vectors.npy header declaring `rows` x 64 float32 over 196 KB of data."""
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (rows, 64)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + bytes(196_000)


def config(dim=4, metric="cosine"):
    return np.array(json.dumps({"dim": dim, "metric": metric, "metadata": {}}))


def load_crafted(env):
    path = env.index_file(
        "crafted.npz",
        {"vectors.npy": crafted_header(1_500_000), "ids.npy": np.arange(3), "config.npy": config(64)},
    )
    tracemalloc.start()
    try:
        EmbeddingIndex.load(path, backend="exact")
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 20e6, f"loading a 196 KB file allocated {peak / 1e6:.0f} MB"


def truncated_index(env):
    with open(env.index_path, "rb") as f:
        return f.read()[:300]


def export_edit(name, edit):
    def call(env):
        keras_ssl.load_encoder(env.broken_export(name, edit))

    return call


def write(relative, content):
    def edit(directory):
        with open(os.path.join(directory, relative), "w") as f:
            f.write(content)

    return edit


def remove(relative):
    return lambda directory: os.remove(os.path.join(directory, relative))


def failing_export(env):
    """An export whose SavedModel writing fails halfway through."""
    model = env.models["simclr"]
    original = model.encoder.export

    def half_export(path, **kwargs):
        with open(os.path.join(path, "saved_model.pb"), "wb") as f:
            f.write(b"half")
        raise ValueError("export failed halfway")

    model.encoder.export = half_export
    try:
        model.export_encoder(env.encoder_dir)
    finally:
        del model.encoder.export
    assert not [p for p in os.listdir(env.root) if p.startswith(".tmp-")]


def export_over_other_folder(env):
    env.models["simclr"].export_encoder(env.path("outputs"))


def load_untrusted_keras_file(env):
    """The route `load_encoder`'s docstring offers for untrusted encoders: a
    `.keras` file that carries Python code is refused by default."""
    inputs = keras.Input((SIZE, SIZE, 3))
    outputs = keras.layers.Lambda(lambda t: t * 2)(inputs)
    path = env.path("untrusted.keras")
    keras.Model(inputs, outputs).save(path)
    keras.models.load_model(path)


def cli(*argv):
    return lambda env: keras_ssl_cli.main(
        [a.format(root=env.root, encoder=env.encoder_dir) for a in argv]
    )


def moco_dataset(batch):
    return lambda env: tf.data.Dataset.from_tensor_slices(
        np.concatenate([env.images] * 3)
    ).batch(batch)


def temperature(method, **kwargs):
    def call(env):
        if method == "swav":
            keras_ssl.SwAV(
                tiny_methods.backbone(), augmenter=tiny_methods.multicrop(),
                input_shape=(SIZE, SIZE, 3), **kwargs,
            )
        elif method == "dino":
            keras_ssl.DINO(
                tiny_methods.backbone(), augmenter=tiny_methods.multicrop(),
                input_shape=(SIZE, SIZE, 3), **kwargs,
            )
        elif method == "pirl":
            keras_ssl.PIRL(tiny_methods.backbone(), num_items=8, input_shape=(SIZE, SIZE, 3), **kwargs)
        else:
            getattr(keras_ssl, method)(keras_ssl.backbones.small_cnn((SIZE, SIZE, 3)), **kwargs)

    return call


def vectors(n=4, d=8):
    return keras.ops.convert_to_tensor(np.random.default_rng(0).normal(size=(n, d)).astype("float32"))


NAN, INF = float("nan"), float("inf")
MODEL_IS = "A backbone must be a keras.Model from images"
ONE_OUTPUT = r"must return one feature tensor of shape \(B, D\)"
NOT_INDEX = "is not a valid EmbeddingIndex file"
BACKUP = r'BackupAndRestore\(save_freq=.*save_freq="epoch", double_checkpoint=True'

CASES = [
    # --- temperatures and margins: finite and > 0, NumPy scalars included
    Case("simclr_temperature_np_negative", temperature("SimCLR", temperature=np.float32(-0.5)),
         r"`temperature` must be a finite number > 0.*-0.5"),
    Case("simclr_temperature_nan", temperature("SimCLR", temperature=NAN), "temperature=nan"),
    Case("simclr_temperature_inf", temperature("SimCLR", temperature=INF), "temperature=inf"),
    Case("simclr_temperature_zero", temperature("SimCLR", temperature=0), "temperature=0"),
    Case("simclr_temperature_string", temperature("SimCLR", temperature="0.1"), "temperature='0.1'"),
    Case("moco_temperature_nan", temperature("MoCo", temperature=NAN), "temperature=nan"),
    Case("nnclr_temperature_negative", temperature("NNCLR", temperature=-1.0), "temperature=-1.0"),
    Case("supcon_temperature_inf", temperature("SupCon", temperature=INF), "temperature=inf"),
    Case("swav_temperature_nan", temperature("swav", temperature=NAN), "temperature=nan"),
    Case("pirl_temperature_np_zero", temperature("pirl", temperature=np.float64(0)), "temperature="),
    Case("dino_student_temperature_nan", temperature("dino", student_temperature=NAN),
         "student_temperature=nan"),
    Case("dino_teacher_temperature_np_negative",
         temperature("dino", teacher_temperature=np.float32(-0.5)), "teacher_temperature="),
    Case("siamese_margin_nan", temperature("SiameseContrastive", margin=NAN), "margin=nan"),
    Case("siamese_margin_negative", temperature("SiameseContrastive", margin=-1), "margin=-1"),
    Case("nt_xent_loss_temperature_nan",
         lambda env: losses.nt_xent_loss(vectors(), vectors(), temperature=NAN), "temperature=nan"),
    Case("info_nce_loss_temperature_np_zero",
         lambda env: losses.info_nce_loss(vectors(), vectors(), temperature=np.float32(0)),
         "temperature="),
    Case("supcon_loss_base_temperature_nan",
         lambda env: losses.supcon_loss(keras.ops.ones((4, 2, 8)), np.arange(4), base_temperature=NAN),
         "base_temperature=nan"),
    Case("contrastive_margin_loss_margin_inf",
         lambda env: losses.contrastive_margin_loss(vectors(), vectors(), np.ones(4), margin=INF),
         "margin=inf"),
    Case("knn_temperature_nan",
         lambda env: keras_ssl.evaluation.knn_accuracy(
             env.models["simclr"].encoder, (env.images, np.zeros(32)), (env.images, np.zeros(32)),
             temperature=NAN),
         "temperature=nan"),
    Case("teacher_temperature_callback_nan",
         lambda env: keras_ssl.callbacks.TeacherTemperature(start=NAN), "Temperatures must be > 0"),
    # --- constructors: queue sizes, backbones
    Case("moco_queue_size_zero", temperature("MoCo", queue_size=0), "queue_size=0"),
    Case("moco_queue_size_negative", temperature("MoCo", queue_size=-5), "queue_size=-5"),
    Case("moco_queue_size_float", temperature("MoCo", queue_size=2.5), "queue_size=2.5"),
    Case("backbone_string", lambda env: keras_ssl.SimCLR("resnet18"), MODEL_IS + ".*'resnet18'"),
    Case("backbone_none", lambda env: keras_ssl.BYOL(None), MODEL_IS + ".*NoneType"),
    Case("backbone_dense_layer", lambda env: keras_ssl.MoCo(keras.layers.Dense(8)),
         MODEL_IS + ".*Dense"),
    Case("backbone_4d_output", lambda env: keras_ssl.SimCLR(bad_backbone("4d")(env)),
         ONE_OUTPUT + r".*\(None, 14, 14, 4\)"),
    Case("backbone_two_outputs", lambda env: keras_ssl.BYOL(bad_backbone("two")(env)),
         ONE_OUTPUT + r".*\(None, 4\), \(None, 4\)"),
    Case("momentum_backbone_4d_output", lambda env: keras_ssl.MoCo(bad_backbone("4d")(env)),
         ONE_OUTPUT),
    Case("clip_text_encoder_string",
         lambda env: keras_ssl.CLIP(tiny_methods.backbone(), "bert", input_shape=(SIZE, SIZE, 3)),
         "`text_encoder` must be a keras.Model"),
    # --- fit: ids, indices and batches checked from the data before the step
    Case("clip_token_id_at_vocabulary", fit("clip", clip_tokens(1, 20), batch_size=8),
         r"`x\['tokens'\]` must hold token ids below .* in \[0, 20\).*\[1, 20\]",
         models=("clip",)),
    Case("clip_token_id_negative", fit("clip", clip_tokens(-3, 5), batch_size=8),
         r"x\['tokens'\].*\[-3, 5\]", models=("clip",)),
    Case("pirl_index_at_num_items", fit("pirl", pirl_index([0, 1, 2, 3, 4, 5, 6, 32]), batch_size=8),
         r"`x\['index'\]` must hold dataset indices below `num_items`.*\[0, 32\)",
         models=("pirl",)),
    Case("pirl_index_negative", fit("pirl", pirl_index([-1, 1, 2, 3, 4, 5, 6, 7]), batch_size=8),
         r"x\['index'\].*\[-1, 7\]", models=("pirl",)),
    Case("moco_dataset_batch_above_queue", fit("moco_v2", moco_dataset(48)),
         r"queue_size=32\) must hold the keys of a global batch \(48 keys", models=("moco_v2",)),
    Case("moco_array_batch_above_queue",
         fit("moco_v2", lambda env: np.concatenate([env.images] * 2), batch_size=64),
         r"queue_size=32\).*64 keys", models=("moco_v2",)),
    Case("simclr_backup_every_2_batches",
         fit("simclr", lambda env: env.images, batch_size=8,
             callbacks=[keras.callbacks.BackupAndRestore("/nonexistent/backup", save_freq=2)]),
         BACKUP, models=("simclr",)),
    Case("moco_backup_every_batch",
         fit("moco_v2", lambda env: env.images, batch_size=8,
             callbacks=[keras.callbacks.BackupAndRestore("/nonexistent/backup", save_freq=1)]),
         BACKUP, models=("moco_v2",)),
    # --- EmbeddingIndex ids: one kind, never pickled, never silently converted
    Case("index_path_ids", index_add([[__import__("pathlib").Path("a.jpg")] * 2]),
         r"`ids` must be all integers or all strings.*PosixPath.*str\(path\)"),
    Case("index_mixed_ids", index_add([[1, "b"]]), "`ids` must be all integers.*int and str"),
    Case("index_int_then_str_ids", index_add([[1, 2], ["a", "b"]]),
         "`ids` are strings but the index holds integer ids"),
    Case("index_str_then_int_ids", index_add([["a"], [3]]),
         "`ids` are integers but the index holds string ids"),
    Case("index_float_ids", index_add([np.array([0.5, 1.5])]), "got float ids"),
    Case("index_bool_ids", index_add([[True, False]]), "got bool ids"),
    Case("index_ids_wrong_length",
         lambda env: EmbeddingIndex(2, backend="exact").add(np.ones((1, 2)), ids=[1, 2, 3]),
         r"`ids` must have shape \(1,\)"),
    Case("index_metadata_np_float_at_construction",
         lambda env: EmbeddingIndex(4, metadata={"score": np.float32(1)}),
         r"`metadata` must be JSON-serializable.*\.item\(\)"),
    Case("index_save_metadata_np_float_keeps_file", save_index_with_metadata,
         "`metadata` must be JSON-serializable", files=("index.npz",)),
    Case("index_save_failing_serializer_keeps_file", save_index_with_failing_serializer,
         "disk full", files=("index.npz",), error=OSError),
    Case("index_dim_zero", lambda env: EmbeddingIndex(0), "`dim` must be an integer >= 1"),
    Case("index_search_k_zero", lambda env: env.index.search(np.ones((1, 4)), k=0), "`k` must be"),
    # --- EmbeddingIndex.load: checked against the file before reading
    Case("index_load_missing_file", load_index("missing.npz"), "No EmbeddingIndex file at path="),
    Case("index_load_text_file", load_index("text.npz", raw=b"not an index"),
         NOT_INDEX + ".*not a zip file"),
    Case("index_load_truncated_file", load_index("truncated.npz", raw=truncated_index), NOT_INDEX),
    Case("index_load_crafted_header_allocates_nothing", load_crafted,
         NOT_INDEX + ": vectors.npy's header declares 384000000 bytes of data; the file holds 196000"),
    Case("index_load_missing_member",
         load_index("two.npz", {"vectors.npy": np.zeros((1, 4), "float32"), "config.npy": config()}),
         NOT_INDEX + r": it holds \['config.npy', 'vectors.npy'\]"),
    Case("index_load_pickled_ids",
         load_index("pickle.npz", {"vectors.npy": np.zeros((1, 4), "float32"),
                                    "ids.npy": np.array([object()], dtype=object), "config.npy": config()}),
         NOT_INDEX + ": ids.npy holds object"),
    Case("index_load_ids_count_mismatch",
         load_index("count.npz", {"vectors.npy": np.zeros((2, 4), "float32"), "ids.npy": np.arange(3),
                                   "config.npy": config()}),
         NOT_INDEX + ": it holds 2 vectors but 3 ids"),
    Case("index_load_config_not_json",
         load_index("json.npz", {"vectors.npy": np.zeros((1, 4), "float32"), "ids.npy": np.arange(1),
                                  "config.npy": np.array("{not json")}),
         NOT_INDEX),
    Case("index_load_config_without_dim",
         load_index("nodim.npz", {"vectors.npy": np.zeros((1, 4), "float32"), "ids.npy": np.arange(1),
                                   "config.npy": np.array('{"metric": "cosine"}')}),
         NOT_INDEX + ": 'dim'"),
    Case("index_load_dim_mismatch",
         load_index("dim.npz", {"vectors.npy": np.zeros((1, 4), "float32"), "ids.npy": np.arange(1),
                                 "config.npy": config(dim=5)}),
         NOT_INDEX + r".*shape \(N, dim=5\)"),
    Case("index_load_unknown_metric",
         load_index("metric.npz", {"vectors.npy": np.zeros((1, 4), "float32"), "ids.npy": np.arange(1),
                                    "config.npy": config(metric="dot")}),
         NOT_INDEX + ".*metric='dot'"),
    Case("index_load_2d_ids",
         load_index("rank.npz", {"vectors.npy": np.zeros((1, 4), "float32"),
                                  "ids.npy": np.zeros((1, 1), "int64"), "config.npy": config()}),
         NOT_INDEX + r": ids.npy holds int64 of shape \(1, 1\)"),
    # --- load_encoder: one clear error naming the path
    Case("load_encoder_missing_dir", lambda env: keras_ssl.load_encoder(env.path("nothing")),
         "No exported encoder at path=.*nothing"),
    Case("load_encoder_no_saved_model_pb", export_edit("no_pb", remove("saved_model.pb")),
         "no_pb' is not an exported encoder: it has no saved_model.pb"),
    Case("load_encoder_no_metadata", export_edit("no_json", remove("keras_ssl_encoder.json")),
         "no_json' has no keras_ssl_encoder.json: pass `input_shape=`"),
    Case("load_encoder_garbled_metadata", export_edit("garbled", write("keras_ssl_encoder.json", "{oops")),
         "keras_ssl_encoder.json' is not valid JSON"),
    Case("load_encoder_metadata_list", export_edit("list", write("keras_ssl_encoder.json", "[1, 2]")),
         "has no `input_shape` entry"),
    Case("load_encoder_metadata_string_shape",
         export_edit("string", write("keras_ssl_encoder.json", '{"input_shape": "32x32"}')),
         r"`input_shape` for .* must be \(H, W, C\).*'32x32'"),
    Case("load_encoder_metadata_short_shape",
         export_edit("short", write("keras_ssl_encoder.json", '{"input_shape": [16, 16]}')),
         r"must be \(H, W, C\).*\[16, 16\]"),
    Case("load_encoder_bad_input_shape_argument",
         lambda env: keras_ssl.load_encoder(env.encoder_dir, input_shape=(16, -1, 3)),
         r"`input_shape` for .* must be \(H, W, C\)"),
    Case("load_encoder_garbled_saved_model", export_edit("garbled_pb", write("saved_model.pb", "junk")),
         "garbled_pb' is not a loadable exported encoder"),
    Case("untrusted_keras_file_with_code_refused_in_safe_mode", load_untrusted_keras_file,
         "safe_mode"),
    Case("export_over_a_folder_that_is_not_an_export", export_over_other_folder,
         "holds something other than an exported encoder", files=("outputs",)),
    Case("export_failing_keeps_previous_export", failing_export, "export failed halfway",
         models=("simclr",), files=("encoder",)),
    # --- the CLI, in process
    Case("cli_evaluate_missing_encoder",
         cli("evaluate", "--encoder_dir", "{root}/nothing", "--output", "{root}/results.json"),
         "No exported encoder at path=", files=("results.json",)),
    Case("cli_evaluate_garbled_metadata",
         cli("evaluate", "--encoder_dir", "{root}/garbled_cli", "--output", "{root}/results.json"),
         "not valid JSON", files=("results.json",)),
    Case("cli_evaluate_unknown_protocol",
         cli("evaluate", "--encoder_dir", "{encoder}", "--protocols", "knn,svm",
             "--output", "{root}/results.json"),
         "Unknown protocol 'svm' in `protocols`", files=("results.json",)),
    Case("cli_embed_missing_encoder",
         cli("embed", "--encoder_dir", "{root}/nothing", "--image_dir", "{root}",
             "--output_dir", "{root}/embedded"),
         "No exported encoder at path="),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case, env):
    if case.name == "cli_evaluate_garbled_metadata":
        env.broken_export("garbled_cli", write("keras_ssl_encoder.json", "{oops"))
    states = {name: snapshot(env.models[name]) for name in case.models}
    files = {name: file_bytes(env.path(name)) for name in case.files}
    with pytest.raises(case.error, match=case.match):
        case.call(env)
    for name, before in states.items():
        after = snapshot(env.models[name])
        assert len(after) == len(before)
        for want, got in zip(before, after):
            np.testing.assert_array_equal(got, want, err_msg=f"{name} changed")
    for name, before in files.items():
        assert before is not None and file_bytes(env.path(name)) == before, f"{name} changed"


def test_table_has_at_least_60_cases():
    assert len(CASES) >= 60, len(CASES)


def test_everything_works_after_the_bad_calls(env):
    """The next correct calls work: the models whose data checks failed above
    train (finite loss, step advanced); the index and the export load as
    they were saved."""
    for name in ("moco_v2", "clip", "pirl"):
        model = env.models[name]
        x, _ = tiny_methods.batch(model, name)
        if name == "moco_v2":
            x = env.images[:8]
        step = int(model.step)
        history = model.fit(x, batch_size=8, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0]) and int(model.step) == step + 1, name
    index = EmbeddingIndex.load(env.index_path, backend="exact")
    assert list(index.ids) == ["a", "b", "c", "d"] and index.metadata == {"encoder": "v1"}
    encoder = keras_ssl.load_encoder(env.encoder_dir)
    features = np.asarray(encoder(env.images[:4].astype("float32")))
    np.testing.assert_allclose(features, env.exported_features, rtol=1e-4, atol=1e-4)
