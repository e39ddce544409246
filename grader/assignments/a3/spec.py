"""The a3 assignment object; checks live in convolution.py, normalization.py and answers.py."""

from __future__ import annotations

from pathlib import Path

from grader.assignments.a1.spec import FROM_SCRATCH_FORBIDDEN
from grader.authoring import Assignment, register

A3 = register(Assignment(
    id="a3",
    title="Convolution, pooling and batch normalization (NumPy)",
    files=("conv.py", "batchnorm.py"),
    summary="conv2d forward and backward with stride and padding, max pooling, 1-D convolution as a matrix, "
            "batch norm in training and eval mode, and numeric answers in answers.toml.",
    forbidden_imports=FROM_SCRATCH_FORBIDDEN,
    drivers=Path(__file__).with_name("drivers.py"),
    components={
        "conv2d_forward": ("conv_forward_basic", "conv_forward_stride_padding", "conv_forward_shapes"),
        "conv2d_backward": ("conv_backward_dx", "conv_backward_dw", "conv_backward_db"),
        "batchnorm_forward": ("bn_train_2d", "bn_train_4d"),
    },
    check_modules=(  # in task order
        "grader.assignments.a3.convolution",
        "grader.assignments.a3.normalization",
        "grader.assignments.a3.answers",
    ),
    points=39.0,  # the sum of the checks' points (tests/test_consistency.py keeps it so)
))
