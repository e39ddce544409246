"""The a3 assignment object; checks live in convolution.py, normalization.py and answers.py."""

from __future__ import annotations

from pathlib import Path

from grader.assignments.a1.spec import FROM_SCRATCH_FORBIDDEN
from grader.authoring import Assignment, Equivalent, register

A3 = register(Assignment(
    id="a3",
    title="Convolution, pooling and batch normalization (NumPy)",
    files=("conv.py", "batchnorm.py"),
    summary="conv2d forward and backward with stride and padding, max pooling, 1-D convolution as a matrix, "
            "batch norm in training and eval mode, and matrix and formula answers in answers.toml.",
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
    # Mutants of reference/a3/*.py that compute the same thing as the reference (dlgrade author verify). The
    # "constant 1 -> 2" ones are the -1 of a reshape made -2 (the same line's other 1 -> 2 edits are caught).
    equivalent_mutants=(
        *(Equivalent(f"{file}:{line}: constant 1 -> 2", "A reshape's -1 made -2: NumPy infers a size given as "
                                                         "any negative number (NumPy 2.x), so the shape is the same.")
          for file, line in (("conv.py", 26), ("conv.py", 27), ("conv.py", 38), ("conv.py", 41),
                             ("batchnorm.py", 19), ("batchnorm.py", 44))),
        Equivalent("conv.py:42: constant 2 -> 3", "conv2d_backward's zero buffer for the padded dx made larger "
                                                  "(H + 3 * padding rows instead of H + 2 * padding, likewise "
                                                  "columns): the extra ones stay zero and are cut off with the "
                                                  "padding."),
        Equivalent("batchnorm.py:27: // -> /", "The count per feature m divides x.size exactly, so true division "
                                               "gives the same m (as a float), and m / (m - 1) is unchanged."),
        Equivalent("batchnorm.py:41: // -> /", "The count per feature m divides grad_out.size exactly, so true "
                                               "division gives the same m (as a float) in dx."),
    ),
))
