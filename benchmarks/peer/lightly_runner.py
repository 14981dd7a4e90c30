"""The lightly (PyTorch) side of the peer benchmark; runs in the peer venv.

SimCLR, BYOL, MoCo v2 and SwAV (two crops) built from lightly's heads, losses, momentum
utilities and `SimCLRTransform`, trained with PyTorch's SGD on images read by
torchvision's `ImageFolder` through a `DataLoader` with 2 workers: the way
lightly's own CIFAR-10 benchmark trains them. The settings match
`ours_runner.py` (see README.md): small_cnn re-implemented layer by layer, or
torchvision's ResNet-18 with a 3x3 stem and no max-pool.

Modes (`run.py` drives both; the line protocol is in README.md):

- `--mode throughput`: load, build, run the warm-up steps, print
  `{"ready": ...}`; then for each `run` line on stdin, time `--warmup` +
  `--steps` steps and print `{"images_per_second": ...}`; `quit` ends.
- `--mode quality`: the fixed-budget protocol (benchmarks/fixed_budget.py):
  `--train_steps` steps at lr `--lr` with per-step cosine decay to 0, then a
  weighted kNN (k=200, T=0.1) of the test images against the train images;
  prints `{"knn_top1": ..., "train_wall_seconds": ...}`.
- `--mode profile`: `--warmup` steps, then `--steps` end-to-end steps (loader
  included) under `torch.profiler`; prints the median step's wall time and the
  ops' self time per step by kind (convolution, BatchNorm, the rest), to set
  against our step's op profile (`benchmarks/step_profile.py`).
"""

import argparse
import copy
import json
import sys
import time

import torch
import torchvision
from lightly.loss import NegativeCosineSimilarity
from lightly.loss import NTXentLoss
from lightly.loss import SwaVLoss
from lightly.models.batchnorm import SplitBatchNorm
from lightly.models.modules import BYOLPredictionHead
from lightly.models.modules import BYOLProjectionHead
from lightly.models.modules import MoCoProjectionHead
from lightly.models.modules import SwaVProjectionHead
from lightly.models.modules import SwaVPrototypes
from lightly.models.modules.heads import ProjectionHead
from lightly.models.utils import deactivate_requires_grad
from lightly.models.utils import update_momentum
from lightly.transforms import SimCLRTransform
from lightly.utils.scheduler import cosine_schedule
from torch import nn

# keras_ssl.methods.base.NORMALIZATION["cifar10"], divided by 255.
CIFAR10_NORMALIZE = {
    "mean": [125.307 / 255, 122.961 / 255, 113.866 / 255],
    "std": [62.993 / 255, 62.089 / 255, 66.705 / 255],
}


def small_cnn():
    """keras_ssl.backbones.small_cnn in PyTorch: four 3x3 conv (no bias) ->
    BN -> ReLU blocks of 32, 64, 128, 256 channels, strides 1, 2, 2, 2, and a
    global average pool. BN with Keras's epsilon (1e-3) and momentum (0.99,
    i.e. PyTorch momentum 0.01); weights keep PyTorch's default init."""
    layers, channels = [], 3
    for width, stride in zip((32, 64, 128, 256), (1, 2, 2, 2)):
        layers += [
            nn.Conv2d(channels, width, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(width, eps=1e-3, momentum=0.01),
            nn.ReLU(inplace=True),
        ]
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), 256


def resnet18_cifar():
    """torchvision's ResNet-18 with a 3x3 stride-1 stem and no max-pool."""
    net = torchvision.models.resnet18()
    net.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    net.fc = nn.Identity()
    return net, 512


def resnet_imagenet(name):
    """torchvision's ResNet with its ImageNet stem, without the classifier."""

    def build():
        net = getattr(torchvision.models, name)()
        dim = net.fc.in_features
        net.fc = nn.Identity()
        return net, dim

    return build


BACKBONES = {
    "small_cnn": small_cnn,
    "resnet18": resnet18_cifar,
    "resnet18_imagenet": resnet_imagenet("resnet18"),
    "resnet50_imagenet": resnet_imagenet("resnet50"),
}


def with_split_batch_norm(module, num_splits=8):
    """A copy of `module` whose BatchNorm2d layers are SplitBatchNorm (MoCo's
    shuffling BN on one device), with the same affine parameters."""
    module = copy.deepcopy(module)
    for parent in list(module.modules()):
        for name, layer in list(parent.named_children()):
            if type(layer) is nn.BatchNorm2d:
                split = SplitBatchNorm(
                    layer.num_features, num_splits, eps=layer.eps, momentum=layer.momentum
                )
                split.weight.data.copy_(layer.weight.data)
                split.bias.data.copy_(layer.bias.data)
                setattr(parent, name, split)
    return module


class SimCLR(nn.Module):
    """Projector D-D-128 with BN after the hidden layer only, NT-Xent at T 0.5
    (METHODS.md section 5: the paper's head, as keras_ssl's). Built from
    lightly's `ProjectionHead` blocks: `SimCLRProjectionHead` also puts a
    BatchNorm after the last layer (SimCLR v2's head)."""

    def __init__(self, backbone, dim, total_steps):
        super().__init__()
        self.backbone = backbone
        self.projection_head = ProjectionHead(
            [(dim, dim, nn.BatchNorm1d(dim), nn.ReLU()), (dim, 128, None, None)]
        )
        self.criterion = NTXentLoss(temperature=0.5)

    def training_loss(self, x0, x1, step):
        z0 = self.projection_head(self.backbone(x0))
        z1 = self.projection_head(self.backbone(x1))
        return self.criterion(z0, z1)


class BYOL(nn.Module):
    """Projector and predictor 1024-256, momentum 0.99 -> 1 (cosine)."""

    def __init__(self, backbone, dim, total_steps):
        super().__init__()
        self.backbone = backbone
        self.projection_head = BYOLProjectionHead(dim, 1024, 256)
        self.prediction_head = BYOLPredictionHead(256, 1024, 256)
        self.backbone_momentum = copy.deepcopy(backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)
        self.criterion = NegativeCosineSimilarity()
        self.total_steps = total_steps

    def training_loss(self, x0, x1, step):
        momentum = cosine_schedule(step, self.total_steps, 0.99, 1.0)
        update_momentum(self.backbone, self.backbone_momentum, momentum)
        update_momentum(self.projection_head, self.projection_head_momentum, momentum)
        p0 = self.prediction_head(self.projection_head(self.backbone(x0)))
        p1 = self.prediction_head(self.projection_head(self.backbone(x1)))
        with torch.no_grad():
            z0 = self.projection_head_momentum(self.backbone_momentum(x0))
            z1 = self.projection_head_momentum(self.backbone_momentum(x1))
        return 0.5 * (self.criterion(p0, z1) + self.criterion(p1, z0))


class MoCoV2(nn.Module):
    """Projector D-D-128 without BN, queue 4,096, T 0.1, momentum 0.99,
    symmetric loss, SplitBatchNorm(8) in the key encoder.

    `queue_before_step=False` is lightly's usage: two `NTXentLoss` calls, the
    first of which enqueues view 1's keys, so the second term also scores
    each query against the batch's fresh view-1 keys (its own image's among
    them, as a negative). `True` scores both terms against the queue as it was
    before the step and then enqueues both views' keys, as MoCo and keras_ssl
    do.
    """

    queue_before_step = False

    def __init__(self, backbone, dim, total_steps):
        super().__init__()
        self.backbone = backbone
        self.projection_head = MoCoProjectionHead(dim, dim, 128)
        self.backbone_momentum = with_split_batch_norm(backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)
        self.criterion = NTXentLoss(temperature=0.1, memory_bank_size=(4096, 128))

    def training_loss(self, x0, x1, step):
        update_momentum(self.backbone, self.backbone_momentum, 0.99)
        update_momentum(self.projection_head, self.projection_head_momentum, 0.99)
        q0 = self.projection_head(self.backbone(x0))
        q1 = self.projection_head(self.backbone(x1))
        with torch.no_grad():
            k0 = self.projection_head_momentum(self.backbone_momentum(x0))
            k1 = self.projection_head_momentum(self.backbone_momentum(x1))
        if not self.queue_before_step:
            return 0.5 * (self.criterion(q0, k1) + self.criterion(q1, k0))
        q0, q1, k0, k1 = (nn.functional.normalize(x, dim=1) for x in (q0, q1, k0, k1))
        bank = self.criterion.memory_bank
        _, negatives = bank(k1, update=False)  # (128, 4096): the queue before the step

        def term(q, k):
            logits = torch.cat([(q * k).sum(1, keepdim=True), q @ negatives], 1)
            labels = torch.zeros(len(q), dtype=torch.long)
            return nn.functional.cross_entropy(logits / self.criterion.temperature, labels)

        loss = 0.5 * (term(q0, k1) + term(q1, k0))
        bank(k1, update=True)
        bank(k0, update=True)
        return loss


class SwAV(nn.Module):
    """Projector D-512-128, 512 prototypes renormalized before each step, no
    queue, T 0.1, Sinkhorn eps 0.05 with 3 iterations, the two views as the
    high-resolution crops (lightly's CIFAR-10 benchmark head)."""

    def __init__(self, backbone, dim, total_steps):
        super().__init__()
        self.backbone = backbone
        self.projection_head = SwaVProjectionHead(dim, 512, 128)
        self.prototypes = SwaVPrototypes(128, 512)
        self.criterion = SwaVLoss()

    def training_loss(self, x0, x1, step):
        self.prototypes.normalize()
        scores = [
            self.prototypes(nn.functional.normalize(self.projection_head(self.backbone(x)), dim=1))
            for x in (x0, x1)
        ]
        return self.criterion(scores, [])


METHODS = {"simclr": SimCLR, "byol": BYOL, "moco_v2": MoCoV2, "swav": SwAV}


def first_per_class(dataset, max_images):
    """Indices of the first `max_images / 10`-ish images of each class in file
    order (as `load_image_folder(max_per_class=...)`), or all of them."""
    if not max_images:
        return list(range(len(dataset)))
    per_class = max_images // len(dataset.classes)
    counts, indices = {}, []
    for index, label in enumerate(dataset.targets):
        if counts.get(label, 0) < per_class:
            counts[label] = counts.get(label, 0) + 1
            indices.append(index)
    return indices


def train_loader(data_dir, batch_size, max_images, workers, seed, image_size=32):
    if image_size > 32:  # SimCLR's ImageNet recipe, as ours' simclr_views(size)
        transform = SimCLRTransform(input_size=image_size)
    else:
        transform = SimCLRTransform(
            input_size=32, cj_strength=0.5, gaussian_blur=0.0, normalize=CIFAR10_NORMALIZE
        )
    dataset = torchvision.datasets.ImageFolder(f"{data_dir}/train", transform=transform)
    subset = torch.utils.data.Subset(dataset, first_per_class(dataset, max_images))
    return torch.utils.data.DataLoader(
        subset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(seed),
        worker_init_fn=lambda _: torch.set_num_threads(1),
    )


def batches(loader):
    """Endless `(view_0, view_1)` batches, epoch after epoch."""
    while True:
        for (x0, x1), _ in loader:
            yield x0, x1


def build(args, total_steps):
    backbone, dim = BACKBONES[args.backbone]()
    model = METHODS[args.method](backbone, dim, total_steps)
    if args.moco_queue_before_step:
        model.queue_before_step = True
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad],
        lr=args.lr,
        momentum=0.9,
        weight_decay=5e-4,
    )
    return model, optimizer


def train(model, optimizer, data, steps, first_step, scheduler=None):
    """`steps` optimizer steps; returns the seconds each took."""
    model.train()
    times = []
    for step in range(first_step, first_step + steps):
        start = time.perf_counter()
        x0, x1 = next(data)
        loss = model.training_loss(x0, x1, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        times.append(time.perf_counter() - start)
    return times


@torch.no_grad()
def embed(backbone, data_dir, split, batch_size, max_images):
    """l2-normalized features and labels of un-augmented images."""
    transform = torchvision.transforms.Compose(
        [
            torchvision.transforms.ToTensor(),
            torchvision.transforms.Normalize(**CIFAR10_NORMALIZE),
        ]
    )
    dataset = torchvision.datasets.ImageFolder(f"{data_dir}/{split}", transform=transform)
    subset = torch.utils.data.Subset(dataset, first_per_class(dataset, max_images))
    loader = torch.utils.data.DataLoader(subset, batch_size=batch_size, num_workers=2)
    backbone.eval()
    features, labels = [], []
    for images, targets in loader:
        features.append(nn.functional.normalize(backbone(images), dim=1))
        labels.append(targets)
    return torch.cat(features), torch.cat(labels)


def knn_top1(train, test, k=200, temperature=0.1, num_classes=10):
    """Weighted kNN (Wu et al., 2018): the k most similar train features vote
    for their class with weight exp(similarity / T)."""
    bank, bank_labels = train
    queries, labels = test
    correct = 0
    for start in range(0, len(queries), 1024):
        similarity = queries[start : start + 1024] @ bank.T
        weights, indices = similarity.topk(min(k, len(bank)), dim=1)
        votes = torch.zeros(len(weights), num_classes)
        votes.scatter_add_(1, bank_labels[indices], (weights / temperature).exp())
        correct += (votes.argmax(1) == labels[start : start + 1024]).sum().item()
    return correct / len(queries)


def emit(record):
    print(json.dumps(record), flush=True)


def throughput(args):
    loader = train_loader(args.data_dir, args.batch_size, args.max_images, args.workers, args.seed,
                          args.image_size)
    model, optimizer = build(args, total_steps=10**6)
    data = batches(loader)
    step = 0
    train(model, optimizer, data, args.warmup, step)
    step += args.warmup
    emit({"ready": True, "library": f"lightly {_lightly_version()}, torch {torch.__version__}"})
    for line in sys.stdin:
        if line.strip() == "quit":
            return
        train(model, optimizer, data, args.warmup, step)
        times = train(model, optimizer, data, args.steps, step + args.warmup)
        step += args.warmup + args.steps
        emit({"images_per_second": args.batch_size * len(times) / sum(times)})


def quality(args):
    torch.manual_seed(args.seed)
    loader = train_loader(args.data_dir, args.batch_size, args.max_images, args.workers, args.seed)
    model, optimizer = build(args, total_steps=args.train_steps)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.train_steps)
    start = time.perf_counter()
    train(model, optimizer, batches(loader), args.train_steps, 0, scheduler)
    seconds = time.perf_counter() - start
    train_set = embed(model.backbone, args.data_dir, "train", 512, args.max_images)
    test_set = embed(model.backbone, args.data_dir, "test", 512, None)
    emit(
        {
            "knn_top1": knn_top1(train_set, test_set),
            "train_wall_seconds": seconds,
            "images_per_second": args.train_steps * args.batch_size / seconds,
            "library": f"lightly {_lightly_version()}, torch {torch.__version__}",
        }
    )


def op_kind(name):
    """The kind of a profiled aten op: convolution, batch_norm or other."""
    if "convolution" in name or name.startswith("aten::conv"):
        return "convolution"
    if "batch_norm" in name:
        return "batch_norm"
    return "other"


def profile(args):
    loader = train_loader(args.data_dir, args.batch_size, args.max_images, args.workers, args.seed,
                          args.image_size)
    model, optimizer = build(args, total_steps=10**6)
    data = batches(loader)
    train(model, optimizer, data, args.warmup, 0)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as trace:
        times = train(model, optimizer, data, args.steps, args.warmup)
    seconds = {"convolution": 0.0, "batch_norm": 0.0, "other": 0.0}
    for event in trace.key_averages():
        seconds[op_kind(event.key)] += event.self_cpu_time_total / 1e6 / args.steps
    emit(
        {
            "step_seconds": sorted(times)[len(times) // 2],
            "mean_step_seconds": sum(times) / len(times),
            "op_self_seconds_per_step": seconds,
            "library": f"lightly {_lightly_version()}, torch {torch.__version__}",
        }
    )


def _lightly_version():
    import lightly

    return lightly.__version__


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["throughput", "quality", "profile"], default="throughput")
    parser.add_argument("--method", choices=sorted(METHODS), default="simclr")
    parser.add_argument("--backbone", choices=sorted(BACKBONES), default="small_cnn")
    parser.add_argument("--data_dir", default="../shared/datasets/cifar10")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--max_images", type=int, default=0, help="0: all train images")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps per run")
    parser.add_argument("--train_steps", type=int, default=390, help="quality mode")
    parser.add_argument("--lr", type=float, default=0.12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    parser.add_argument("--image_size", type=int, default=32, help="side of the views")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--moco_queue_before_step",
        action="store_true",
        help="MoCo v2: score both terms against the queue as before the step (MoCo's order)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    {"throughput": throughput, "quality": quality, "profile": profile}[args.mode](args)


if __name__ == "__main__":
    main()
