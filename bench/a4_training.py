"""Epochs per second of the grader's trainer against a conventional DataLoader loop.

Same model (the reference LeNet with batch norm and dropout), same optimizer,
batch size and device, same data: the stand-in, or CIFAR-10 with --cifar10 PATH.
The grader's trainer keeps the data set on the device as uint8, normalizes it
once and takes batches as index slices of a device-side permutation; the
baseline is the usual assignment harness: a Dataset whose __getitem__ converts
and normalizes one image at a time, and a shuffling DataLoader.
Usage: python bench/a4_training.py [--cifar10 PATH] [--epochs 2] [--device auto|cpu|cuda]
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import types

import torch

from grader.assignments.a4 import data
from grader.assignments.a4.spec import A4
from reference.a4.lenet import LeNet

spec = importlib.util.spec_from_file_location("a4_drivers", A4.drivers)
drivers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drivers)
KWARGS = {"batch_norm": True, "dropout": 0.3}


class HarnessDataset(torch.utils.data.Dataset):
    """One image at a time, as assignment harnesses (and torchvision's CIFAR10 + ToTensor) do."""

    def __init__(self, images, labels, mean, std):
        self.images, self.labels, self.mean, self.std = images, labels, mean, std

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        x = torch.from_numpy(self.images[i]).float()
        return (x - self.mean) / self.std, int(self.labels[i])


def dataloader_epochs(images, epochs, batch_size, lr, device):
    torch.manual_seed(0)
    model = LeNet(**KWARGS).to(device)
    mean = torch.tensor(images.train_x.mean(axis=(0, 2, 3)), dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(images.train_x.std(axis=(0, 2, 3)), dtype=torch.float32).view(3, 1, 1)
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


def grader_epochs(images, epochs, batch_size, lr, device):
    trainer = drivers.Trainer(types.SimpleNamespace(LeNet=LeNet), KWARGS, images.train_x, images.train_y,
                              images.test_x, 0, batch_size, lr, device=str(device))
    started = time.perf_counter()
    for _ in range(epochs):
        trainer.epoch()  # includes evaluating the test set each epoch, which the baseline skips
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar10", help="folder of CIFAR-10's python version (default: the stand-in)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    images = data.load_cifar10(args.cifar10) if args.cifar10 else data.standin(0)
    batch_size, lr = (128, 0.02) if args.cifar10 else (64, 0.01)
    grader_epochs(images, 1, batch_size, lr, device)  # warm-up (cuDNN autotuning, allocator)
    ours = grader_epochs(images, args.epochs, batch_size, lr, device)
    theirs = dataloader_epochs(images, args.epochs, batch_size, lr, device)
    print(f"LeNet(batch_norm=True, dropout=0.3) on {images.name} ({len(images.train_y)} training images), "
          f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"  grader trainer   {args.epochs / ours:8.2f} epochs/s  ({ours / args.epochs:.2f} s per epoch)")
    print(f"  DataLoader loop  {args.epochs / theirs:8.2f} epochs/s  ({theirs / args.epochs:.2f} s per epoch)")
    print(f"  ratio: the grader's trainer is x{theirs / ours:.1f} faster")


if __name__ == "__main__":
    main()
