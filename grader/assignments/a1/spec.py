"""The a1 assignment object; its checks live in layers.py, optimizers.py and training.py."""

from __future__ import annotations

from pathlib import Path

from grader.authoring import Assignment, Equivalent, register

FROM_SCRATCH_FORBIDDEN = ("torch", "tensorflow", "jax", "autograd")

A1 = register(Assignment(
    id="a1",
    title="A neural network from scratch (NumPy)",
    files=("mlp.py",),
    summary="Linear, Sigmoid, ReLU, Tanh, softmax, MSE and cross-entropy losses, SGD, Momentum, "
            "Adagrad and Adam, all in NumPy; then train them on toy data and on handwritten digits.",
    forbidden_imports=FROM_SCRATCH_FORBIDDEN,
    drivers=Path(__file__).with_name("drivers.py"),
    components={
        "Linear": ("linear_init", "linear_forward", "linear_backward_dx", "linear_backward_dW", "linear_backward_db",
                   "linear_parameters"),
        "Sigmoid": ("sigmoid_forward", "sigmoid_backward"),
        "MSELoss": ("mse_forward", "mse_backward"),
        "CrossEntropyLoss": ("ce_forward", "ce_backward"),
        "SGD": ("sgd_steps",),
        # forwards alone: a backward check whose forward failed is judged against the reference only
        "Linear.forward": ("linear_forward",),
        "Sigmoid.forward": ("sigmoid_forward",),
        "ReLU.forward": ("relu_forward",),
        "Tanh.forward": ("tanh_forward",),
        "MSELoss.forward": ("mse_forward",),
        "CrossEntropyLoss.forward": ("ce_forward",),
    },
    check_modules=(  # in task order
        "grader.assignments.a1.layers",
        "grader.assignments.a1.optimizers",
        "grader.assignments.a1.training",
    ),
    points=36.0,  # the sum of the checks' points (tests/test_consistency.py keeps it so)
    # Mutants of reference/a1/mlp.py that compute the same function as the reference (dlgrade author verify).
    equivalent_mutants=(
        Equivalent("mlp.py:51: >= -> >", "Sigmoid: at x = 0 both branches give 1/2, so which one takes 0 changes "
                                         "nothing."),
        Equivalent("mlp.py:87: - -> +", "log_softmax is unchanged by adding any constant to a row: adding the row's "
                                        "maximum instead of subtracting it only moves where exp overflows (logits "
                                        "near 350), and the handout asks stability at large logits of softmax only."),
        Equivalent("mlp.py:87: drop the term after -", "log_softmax without the max shift is the same function; it "
                                                       "differs only where exp overflows (logits above about 700), "
                                                       "which the handout does not ask of CrossEntropyLoss."),
        Equivalent("mlp.py:87: drop axis=", "Shifting every row by the array's maximum instead of the row's is "
                                            "still a per-row constant, which log_softmax ignores (it differs only "
                                            "where exp underflows, for rows about 700 below the maximum)."),
        Equivalent("mlp.py:184: in place -> a copy (x op= y -> x = x op y)", "Adam's step count is an int, "
                                                                              "immutable: adding 1 in place or by "
                                                                              "rebinding gives the same count."),
    ),
))
