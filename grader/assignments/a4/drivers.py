"""Grader-written helpers for a4 that run INSIDE the sandbox, next to the student's LeNet.

Nothing here decides anything: a student can rewrite every line of it from
their own code, so each function only does the student's part (build the
model, run its forward on inputs the parent sent, run its training step on
batches the parent sent) and reports raw data: the ``state_dict`` as float
arrays and the outputs. The parent loads those weights into the reference
LeNet and compares (``grader/assignments/a4/model.py``). No labels of test
data and no data generator ever come here.
"""

import numpy as np
import torch


def build(module, kwargs, seed):
    """The student's ``LeNet(**kwargs)``, built under ``seed``."""
    torch.manual_seed(int(seed))
    return module.LeNet(**kwargs)


def build_with_state(module, kwargs, seed):
    """``build`` and ``state`` in one round trip: [the model, its state]."""
    model = build(module, kwargs, seed)
    return [model, state(model)]


def load(model, tensors):
    """Load the parent's random weights (by the model's own state_dict names) into the model."""
    model.load_state_dict({name: torch.from_numpy(value) for name, value in tensors.items()}, strict=False)


def state(model):
    """The model's state_dict: names, shapes, and every value in one float64 array (one buffer on the wire, not
    one per tensor), and which names are parameters."""
    names, shapes, arrays = [], [], []
    for name, tensor in model.state_dict().items():
        names.append(str(name))
        shapes.append(list(tensor.shape))
        arrays.append(tensor.detach().cpu().double().reshape(-1))
    values = torch.cat(arrays).numpy() if arrays else np.zeros(0)
    return {"names": names, "shapes": shapes, "values": values,
            "parameters": [str(n) for n, _ in model.named_parameters()]}


def outputs(model, runs):
    """The model's outputs for each (input, train, seed) in ``runs``, in order; the seed is set just before."""
    torch.set_num_threads(1)  # small batches: one thread is fastest, and leaves the other cores to the grader
    results = []
    for x, train, seed in runs:
        model.train(bool(train))
        torch.default_generator.manual_seed(int(seed))  # the CPU generator dropout draws from
        with torch.no_grad():
            out = model(torch.from_numpy(x))
        results.append(out.detach().cpu().double().numpy() if isinstance(out, torch.Tensor) else None)
    return results


def forward_on(model, x, device):
    """Run forward with the model and input on ``device``; values come back (none on meta)."""
    torch.set_num_threads(1)
    model = model.to(device)
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(x).to(device))
    if not isinstance(out, torch.Tensor):
        return {"device": None, "shape": None, "values": None}
    values = None if out.device.type == "meta" else out.detach().cpu().double().numpy()
    return {"device": str(out.device), "shape": list(out.shape), "values": values}


def cuda_available():
    return torch.cuda.is_available()


class Trainer:
    """The student's model trained with a fixed recipe on batches the parent sends; one call per epoch."""

    def __init__(self, model, train_x, train_y, mean, std, seed, batch_size, lr, device="auto"):
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                                   ("cpu" if device == "auto" else device))
        torch.manual_seed(int(seed))
        self.generator = torch.Generator(device=self.device).manual_seed(int(seed))
        self.model = model.to(self.device)
        mean = torch.from_numpy(mean).float().to(self.device)
        std = torch.from_numpy(std).float().to(self.device)
        images = torch.from_numpy(train_x).to(self.device)  # uint8 on the device, normalized once
        self.train_x = ((images.float() - mean) / std).contiguous()
        self.train_y = torch.from_numpy(train_y).to(self.device)
        self.batch_size = int(batch_size)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        self.loss = torch.nn.CrossEntropyLoss()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    def epoch(self):
        """One pass over the training set; returns the mean training loss (the parent recomputes its own)."""
        self.model.train()
        n = self.train_x.shape[0]
        order = torch.randperm(n, device=self.device, generator=self.generator)
        total = torch.zeros((), device=self.device)
        for start in range(0, n, self.batch_size):
            index = order[start:start + self.batch_size]
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss(self.model(self.train_x[index]), self.train_y[index])
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * index.numel()
        return float(total / n)

    def state(self):
        return state(self.model)

    def device_name(self):
        return str(self.device)


def overfit(model, images, labels, steps, lr, seed):
    """Adam on one fixed batch (parent-sent); returns the reported losses, the parent recomputes the last."""
    torch.manual_seed(int(seed))
    model.train()
    x = torch.from_numpy(images).float() / 255.0
    y = torch.from_numpy(labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(int(steps)):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return np.asarray(losses)
