"""Grader-written helpers for a4 that run INSIDE the sandbox, next to the student's LeNet.

They return descriptions and numbers only; every verdict is reached in the
parent. ``describe`` records the layers a forward pass actually runs with a
``TorchFunctionMode``, which sees ``nn.Conv2d`` modules and ``F.relu`` calls
alike. ``Trainer`` keeps the whole data set on the device (uint8, normalized
once), takes batches as index slices of a device-side permutation, and never
sees the test labels.
"""

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

LAYER_OPS = {
    "conv2d": "conv", "relu": "relu", "relu_": "relu", "max_pool2d": "pool", "max_pool2d_with_indices": "pool",
    "batch_norm": "bn", "dropout": "dropout", "dropout_": "dropout", "linear": "fc", "softmax": "softmax",
    "log_softmax": "softmax", "sigmoid": "sigmoid", "tanh": "tanh", "avg_pool2d": "avgpool",
}


def _shape(value):
    return list(value.shape) if isinstance(value, torch.Tensor) else None


class _Recorder(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.layers = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        kind = LAYER_OPS.get(getattr(func, "__name__", ""))
        if kind:
            entry = {"op": kind, "input": _shape(args[0]) if args else None}
            if kind in ("conv", "fc"):
                weight = args[1] if len(args) > 1 else kwargs.get("weight")
                entry["weight"] = _shape(weight)
            if kind == "conv":
                stride = args[3] if len(args) > 3 else kwargs.get("stride", 1)
                padding = args[4] if len(args) > 4 else kwargs.get("padding", 0)
                entry["stride"], entry["padding"] = str(stride), str(padding)
            if kind == "pool":
                kernel = args[1] if len(args) > 1 else kwargs.get("kernel_size")
                entry["kernel"] = str(kernel)
            if kind == "dropout":
                p = args[1] if len(args) > 1 else kwargs.get("p", 0.5)
                training = args[2] if len(args) > 2 else kwargs.get("training", True)
                entry["p"], entry["training"] = float(p), bool(training)
                if entry["p"] == 0:  # F.dropout(x, 0.0) is a no-op, not a layer
                    return func(*args, **kwargs)
            if kind == "bn":
                entry["channels"] = _shape(args[0])[1] if args and isinstance(args[0], torch.Tensor) else None
            self.layers.append(entry)
        return func(*args, **kwargs)


def describe(module, kwargs, batch, train):
    """The model's parameter count and the layers one forward pass runs, in order."""
    torch.manual_seed(0)
    model = module.LeNet(**kwargs)
    model.train(train)
    recorder = _Recorder()
    with torch.no_grad(), recorder:
        out = model(torch.randn(batch, 3, 32, 32))
    return {
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "trainable": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "layers": recorder.layers,
        "output_shape": _shape(out),
    }


def behaviour(module, kwargs, seed):
    """Outputs that reveal train/eval behaviour: eval twice, one sample alone, train twice."""
    torch.manual_seed(seed)
    model = module.LeNet(**kwargs)
    x = torch.randn(6, 3, 32, 32)
    with torch.no_grad():
        model.train()
        model(x)  # one training step's forward, so BatchNorm's running statistics move
        model.eval()
        eval_a, eval_b, alone = model(x), model(x), model(x[:1])
        model.train()
        train_a, train_b = model(x), model(x)
    return [t.double().numpy() for t in (eval_a, eval_b, alone, train_a, train_b)]


def forward_on(module, kwargs, device):
    """Run forward with the model and input on ``device`` (meta needs no memory); return the output's device."""
    model = module.LeNet(**kwargs).to(device)
    out = model(torch.empty(2, 3, 32, 32, device=device))
    return {"device": str(out.device), "shape": _shape(out)}


def cuda_available():
    return torch.cuda.is_available()


class Trainer:
    """Train the student's LeNet with a fixed recipe; one call per epoch, so the parent can show progress."""

    def __init__(self, module, kwargs, train_x, train_y, test_x, seed, batch_size, lr, device="auto"):
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                                   ("cpu" if device == "auto" else device))
        torch.manual_seed(seed)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.model = module.LeNet(**kwargs).to(self.device)
        images = torch.from_numpy(train_x).to(self.device)  # uint8 on the device, converted once below
        mean = images.float().mean(dim=(0, 2, 3), keepdim=True)
        std = images.float().std(dim=(0, 2, 3), keepdim=True)
        self.train_x = ((images.float() - mean) / std).contiguous()
        self.train_y = torch.from_numpy(train_y).to(self.device)
        self.test_x = ((torch.from_numpy(test_x).to(self.device).float() - mean) / std).contiguous()
        self.batch_size = int(batch_size)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        self.loss = torch.nn.CrossEntropyLoss()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    def epoch(self):
        """One pass over the training set; returns (mean training loss, test logits)."""
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
        self.model.eval()
        with torch.no_grad():
            logits = torch.cat([self.model(self.test_x[i:i + 1000]) for i in range(0, self.test_x.shape[0], 1000)])
        return float(total / n), logits.float().cpu().numpy()

    def device_name(self):
        return str(self.device)


def overfit(module, kwargs, images, labels, steps, lr, seed):
    """Adam on one fixed batch; returns the loss after every step."""
    torch.manual_seed(seed)
    model = module.LeNet(**kwargs)
    model.train()
    x = torch.from_numpy(images).float() / 255.0
    y = torch.from_numpy(labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return np.asarray(losses)
