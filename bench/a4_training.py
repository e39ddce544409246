"""Epochs per second of the grader's trainer against a conventional DataLoader loop, the same work on both sides.

Same model (the reference LeNet with batch norm and dropout), same seed, optimizer,
batch size, device and data (the stand-in, or CIFAR-10 with --cifar10 PATH), the same
number of training epochs and nothing else (the grader evaluates in the parent,
outside its trainer; neither side evaluates here). The grader's trainer keeps the data
set on the device as uint8, normalizes it once and takes batches as index slices of a
device-side permutation; the baseline is the usual assignment harness: a Dataset whose
__getitem__ converts and normalizes one image at a time, and a shuffling DataLoader.
Runs are paired, in alternating order; prints the median of each and the ratio of medians.
Usage: python bench/a4_training.py [--cifar10 PATH] [--epochs 2] [--pairs 3] [--device auto|cpu|cuda]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time

import torch

from grader.assignments.a4 import data
from grader.assignments.a4.spec import A4
from grader.assignments.a4.training import normalization
from reference.a4.lenet import LeNet

spec = importlib.util.spec_from_file_location("a4_drivers", A4.drivers)
drivers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drivers)
KWARGS = {"batch_norm": True, "dropout": 0.3}
SEED = 0


class HarnessDataset(torch.utils.data.Dataset):
    """One image at a time, as assignment harnesses (and torchvision's CIFAR10 + ToTensor) do."""

    def __init__(self, images, labels, mean, std):
        self.images, self.labels, self.mean, self.std = images, labels, mean, std

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i]).float()
        return (x - self.mean) / self.std, int(self.labels[i])


def dataloader_epochs(images, epochs, batch_size, lr, device) -> float:
    torch.manual_seed(SEED)
    model = LeNet(**KWARGS).to(device)
    mean, std = (torch.from_numpy(v).view(3, 1, 1) for v in normalization(images.train_x))
    loader = torch.utils.data.DataLoader(HarnessDataset(images.train_x, images.train_y, mean, std),
                                         batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            loss.item()  # the usual per-step logging sync
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def grader_epochs(images, epochs, batch_size, lr, device) -> float:
    torch.manual_seed(SEED)
    mean, std = normalization(images.train_x)
    started = time.perf_counter()  # the trainer's set-up (data to the device, normalized once) is timed too
    trainer = drivers.Trainer(LeNet(**KWARGS), images.train_x, images.train_y, mean, std, SEED, batch_size, lr,
                              device=str(device))
    for _ in range(epochs):
        trainer.epoch()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar10", help="folder of CIFAR-10's python version (default: the stand-in)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    images = data.load_cifar10(args.cifar10) if args.cifar10 else data.standin(0)
    batch_size, lr = (128, 0.02) if args.cifar10 else (64, 0.01)
    sides = {"grader trainer": grader_epochs, "DataLoader loop": dataloader_epochs}
    for run in sides.values():  # warm-up: cuDNN autotuning, the allocator, the first batches
        run(images, 1, batch_size, lr, device)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for pair in range(args.pairs):
        for name in (list(sides) if pair % 2 == 0 else list(sides)[::-1]):
            times[name].append(sides[name](images, args.epochs, batch_size, lr, device))
    print(f"LeNet(batch_norm=True, dropout=0.3) on {images.name} ({len(images.train_y)} training images), "
          f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; {args.pairs} pairs "
          f"of {args.epochs} training epochs each")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"  {name:16} {args.epochs / seconds:8.2f} epochs/s  ({seconds / args.epochs:.2f} s per epoch, median)")
    paired = statistics.median(d / g for g, d in zip(times["grader trainer"], times["DataLoader loop"]))
    print(f"  the grader's trainer is x{medians['DataLoader loop'] / medians['grader trainer']:.2f} faster "
          f"(ratio of medians; median of paired ratios x{paired:.2f})")


if __name__ == "__main__":
    main()
