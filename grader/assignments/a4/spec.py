"""The a4 assignment object; checks live in structure.py and training.py."""

from __future__ import annotations

import os
from pathlib import Path

from grader.authoring import Assignment, register

# CUDA reserves far more virtual memory than it uses, so an address-space limit would break it:
# with a GPU present the session runs without one (the pids cgroup, namespaces and wall clock remain).
GPU_PRESENT = os.path.exists("/dev/nvidiactl")

A4 = register(Assignment(
    id="a4",
    title="LeNet in PyTorch, trained on CIFAR-10",
    files=("lenet.py",),
    summary="A LeNet with optional batch norm and dropout: structure, parameter counts, train/eval behaviour, "
            "device safety, and training to a test-accuracy threshold (CIFAR-10 from --data cifar10=PATH, on a "
            "GPU when there is one; otherwise a generated stand-in on the CPU).",
    # torch._dynamo: a forward on the meta device ("forward works on any device") imports it lazily, about 1 s in
    # every session otherwise.
    preload=("numpy", "torch", "torch._dynamo"),
    drivers=Path(__file__).with_name("drivers.py"),
    default_wall_s=60.0,
    budget_s=2400.0,  # two trainings of up to 900 s each, plus the structure checks
    memory_mb=None if GPU_PRESENT else 4096,
    session_memory_mb=3072,  # torch and a training run: 3 GiB for the session, one process up to 2304 MiB of it
    requires=("torch",),
    check_modules=("grader.assignments.a4.structure", "grader.assignments.a4.training"),  # in task order
    points=19.0,  # the sum of the checks' points (tests/test_consistency.py keeps it so)
    # Checks run side by side: the parent's reference forwards (which seed torch's global generator for dropout
    # and share one reference LeNet per configuration) each hold model.FORWARD_LOCK, so results do not depend
    # on the order or the parallelism (tests/assignments/a4/test_parallel.py).
    parallel_checks=True,
))
