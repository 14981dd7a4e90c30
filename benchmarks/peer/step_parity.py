"""Step parity: the same training step on both sides of the peer benchmark.

Checks that a keras_ssl method and lightly's implementation of it in
`lightly_runner.py` compute the same training step from the same weights on
the same views. The ours side (keras_ssl's environment) builds the protocol's
method (`benchmarks.fixed_budget.METHODS`) on small_cnn, makes `--steps`
batches of views with `simclr_views(32)` and writes to `--dir` the initial
weights, the views, each step's loss and the final weights. The lightly side
(the peer venv) builds lightly's model, loads those weights, trains on the same
views with `torch.optim.SGD` and prints its losses next to ours and, per
trainable weight, the relative difference of the two updates
`|d_lightly - d_ours| / |d_ours|` (weights that moved by less than 1e-6,
such as a bias that a BatchNorm follows, are listed apart: their gradient is
zero up to rounding).

Settings that differ between the runners by design are aligned here, on the
lightly side: the stride-2 convolutions pad bottom/right only (Keras's
`"same"`), the heads' BatchNorm epsilon is Keras's 1e-3, and SimCLR's views go
through the networks concatenated (keras_ssl, after the SimCLR TF repo)
instead of one at a time. BYOL's loss is 4x lightly's plus 4 (the sum of
`2 - 2 cos` over both directions, against the mean of the two negative
cosines), so lightly runs at 4x the learning rate and a quarter of the weight
decay, which is the same update, and its losses are reported on our scale.
The learning rate is constant.

Judge the first step (the default `--steps 1`): the losses agree to float32
rounding and the updates to about 1e-3. ReLU turns rounding into finite
differences: an activation within ~1e-5 of zero can fall on either side, and
one such unit in a projector changed the gradient of its input by 0.4 %
(each side exact in float64 for its own input). Over more steps the two
trajectories drift apart for that reason alone.

    python -m benchmarks.peer.step_parity --side ours --method byol
    benchmarks/peer/.venv/bin/python benchmarks/peer/step_parity.py --side lightly --method byol
"""

import argparse
import json
import os
import sys

import numpy as np

# Method -> (our loss = scale x lightly's + offset).
LOSS_SCALE = {"simclr": (1.0, 0.0), "byol": (4.0, 4.0)}
# Method -> its online networks, by their names in `lightly_runner`'s models.
NETWORKS = {
    "simclr": ("backbone", "projection_head"),
    "byol": ("backbone", "projection_head", "prediction_head"),
}
# Those names -> the SSLModel attribute of the same network.
KERAS_ATTRIBUTES = {
    "backbone": "encoder", "projection_head": "projector", "prediction_head": "predictor"
}
# Weighted layers of the networks compared, by their PyTorch types.
TORCH_TYPES = ("Conv2d", "BatchNorm2d", "BatchNorm1d", "Linear")


def keras_layers(model):
    """The Conv2D, BatchNormalization and Dense layers of `model`, nested
    models included, in the order they are applied."""
    import keras

    kinds = (keras.layers.Conv2D, keras.layers.BatchNormalization, keras.layers.Dense)
    found = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            found += keras_layers(layer)
        elif isinstance(layer, kinds):
            found.append(layer)
    return found


def keras_networks(model, method):
    """The method's online networks by their `NETWORKS` names."""
    return {name: getattr(model, KERAS_ATTRIBUTES[name]) for name in NETWORKS[method]}


def export_weights(networks):
    """`{"<network>/<layer>/<weight>": array}` of the networks' weighted layers."""
    return {
        f"{name}/{i}/{j}": np.asarray(weight)
        for name, network in networks.items()
        for i, layer in enumerate(keras_layers(network))
        for j, weight in enumerate(layer.weights)
    }


def ours(args):
    import keras

    import keras_ssl
    from benchmarks.fixed_budget import OPTIMIZERS
    from benchmarks.fixed_budget import build_method

    keras.utils.set_random_seed(args.seed)
    images, _, _ = keras_ssl.data.load_image_folder(
        f"{args.data_dir}/train", max_per_class=args.batch_size // 10 + 1
    )
    augmenter = keras_ssl.augmentation.simclr_views(32, seed=args.seed)
    batches = [
        tuple(np.asarray(v) for v in augmenter(images[: args.batch_size], training=True))
        for _ in range(args.steps)
    ]
    model = build_method(args.method, (32, 32, 3))
    if args.method == "byol":
        model.momentum_steps.assign(args.momentum_steps)
    model.compile(optimizer=OPTIMIZERS["sgd_coupled"](args.lr))
    networks = keras_networks(model, args.method)
    initial = export_weights(networks)
    losses = [
        float(model.train_on_batch(x=views, return_dict=True)["loss"]) for views in batches
    ]
    final = export_weights(networks)
    os.makedirs(args.dir, exist_ok=True)
    np.savez(
        os.path.join(args.dir, f"{args.method}.npz"),
        views=np.stack([np.stack(views) for views in batches]),
        losses=np.asarray(losses),
        **{f"initial/{k}": v for k, v in initial.items()},
        **{f"final/{k}": v for k, v in final.items()},
    )
    print(json.dumps({"side": "ours", "method": args.method, "losses": losses}))


def torch_layers(module):
    return [m for m in module.modules() if type(m).__name__ in TORCH_TYPES]


def load_into(module, saved, prefix):
    """Copies the Keras weights `saved[prefix/i/j]` into `module`'s layers."""
    import torch

    layers = torch_layers(module)
    count = len({key.split("/")[2] for key in saved if key.startswith(prefix + "/")})
    if count != len(layers):
        raise ValueError(f"{prefix}: {count} Keras layers, {len(layers)} PyTorch layers")
    for i, layer in enumerate(layers):
        weights = [torch.from_numpy(saved[f"{prefix}/{i}/{j}"]) for j in range(4)
                   if f"{prefix}/{i}/{j}" in saved]
        kind = type(layer).__name__
        if kind == "Conv2d":
            layer.weight.data.copy_(weights[0].permute(3, 2, 0, 1))
        elif kind == "Linear":
            layer.weight.data.copy_(weights[0].T)
            if layer.bias is not None:
                layer.bias.data.copy_(weights[1])
        else:
            for target, value in zip(
                (layer.weight, layer.bias, layer.running_mean, layer.running_var), weights
            ):
                target.data.copy_(value)


def weights_of(module):
    """The weights of `module`'s weighted layers in Keras's layout and order,
    a list per layer (as `export_weights` numbers them)."""
    out = []
    for layer in torch_layers(module):
        kind = type(layer).__name__
        if kind == "Conv2d":
            out.append([layer.weight.detach().permute(2, 3, 1, 0).numpy()])
        elif kind == "Linear":
            out.append([layer.weight.detach().T.numpy()]
                       + ([layer.bias.detach().numpy()] if layer.bias is not None else []))
        else:
            out.append([t.detach().numpy() for t in
                        (layer.weight, layer.bias, layer.running_mean, layer.running_var)])
    return out


def pad_like_keras(backbone):
    """Stride-2 convolutions of the small CNN padded bottom/right only."""
    from torch import nn

    for i, layer in enumerate(list(backbone)):
        if isinstance(layer, nn.Conv2d) and layer.stride == (2, 2):
            layer.padding = (0, 0)
            backbone[i] = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), layer)
    return backbone


def lightly(args):
    import torch
    from torch import nn

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import lightly_runner

    torch.set_num_threads(2)
    saved = dict(np.load(os.path.join(args.dir, f"{args.method}.npz")))
    backbone, dim = lightly_runner.small_cnn()
    model = lightly_runner.METHODS[args.method](pad_like_keras(backbone), dim, args.momentum_steps)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.eps = 1e-3
    names = NETWORKS[args.method]
    for name in names:
        load_into(getattr(model, name), saved, f"initial/{name}")
    if args.method == "byol":
        model.backbone_momentum.load_state_dict(model.backbone.state_dict())
        model.projection_head_momentum.load_state_dict(model.projection_head.state_dict())
    if args.method == "simclr":
        def concatenated(x0, x1, step):
            z0, z1 = model.projection_head(model.backbone(torch.cat([x0, x1]))).chunk(2)
            return model.criterion(z0, z1)

        model.training_loss = concatenated
    scale, offset = LOSS_SCALE[args.method]
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad],
        lr=args.lr * scale, momentum=0.9, weight_decay=5e-4 / scale,
    )
    dtype = getattr(torch, args.dtype)
    model.to(dtype)
    mean = torch.tensor(lightly_runner.CIFAR10_NORMALIZE["mean"], dtype=dtype).view(1, 3, 1, 1)
    std = torch.tensor(lightly_runner.CIFAR10_NORMALIZE["std"], dtype=dtype).view(1, 3, 1, 1)
    model.train()
    losses = []
    for step, views in enumerate(saved["views"]):
        x0, x1 = (
            (torch.from_numpy(v).to(dtype).permute(0, 3, 1, 2) / 255 - mean) / std for v in views
        )
        loss = model.training_loss(x0, x1, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(scale * loss.item() + offset)
    differences, unmoved = {}, []
    for name in names:
        for i, layer in enumerate(weights_of(getattr(model, name))):
            for j, value in enumerate(layer[:2]):  # the trainable ones
                key = f"{name}/{i}/{j}"
                start = saved[f"initial/{key}"]
                reference = saved[f"final/{key}"] - start
                if np.linalg.norm(reference) < 1e-6:
                    unmoved.append(key)  # e.g. a bias followed by BatchNorm
                    continue
                error = np.linalg.norm(value - start - reference) / np.linalg.norm(reference)
                differences[key] = round(float(error), 7)
    print(json.dumps({
        "side": "lightly",
        "method": args.method,
        "losses": losses,
        "ours_losses": saved["losses"].tolist(),
        "max_loss_difference": float(np.abs(np.asarray(losses) - saved["losses"]).max()),
        "max_update_difference": max(differences.values()),
        "update_differences": differences,
        "updates_below_1e-6": unmoved,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=["ours", "lightly"], required=True)
    parser.add_argument("--method", choices=sorted(NETWORKS), default="byol")
    parser.add_argument("--data_dir", default="../shared/datasets/cifar10")
    parser.add_argument("--dir", default="/tmp/keras_ssl_step_parity")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.12)
    parser.add_argument("--momentum_steps", type=int, default=390, help="BYOL's cosine horizon")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dtype", choices=["float32", "float64"], default="float32",
        help="lightly side: float64 gives a reference that rounds far less than either side",
    )
    args = parser.parse_args()
    (ours if args.side == "ours" else lightly)(args)


if __name__ == "__main__":
    main()
