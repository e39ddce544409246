"""The grader's stand-ins for a1's components, used when one component failed its own checks.

One mistake, counted once (docs/grading-policy.md): when exactly one component a training check
uses (Linear, Sigmoid, MSELoss, CrossEntropyLoss or SGD) failed its own checks earlier in the run,
the training check trains the student's other components with the stand-in for that one, so the
mistake costs the points of its own component only.

The sources travel as text to the one sandbox session that trains with them, and are compiled
there; they are never loaded into a session where a unit check runs, so a submission cannot
delegate a graded component to them. They implement exactly the formulas the handout states.
"""

from __future__ import annotations

SOURCES = {
    "Linear": '''
class Linear:
    def __init__(self, in_features, out_features, rng=None):
        self.W = np.zeros((in_features, out_features))
        self.b = np.zeros(out_features)
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad_out):
        self.dW[...] = self.x.T @ grad_out
        self.db[...] = grad_out.sum(axis=0)
        return grad_out @ self.W.T

    def parameters(self):
        return [(self.W, self.dW), (self.b, self.db)]
''',
    "Sigmoid": '''
class Sigmoid:
    def forward(self, x):
        self.y = 0.5 * (1.0 + np.tanh(0.5 * x))
        return self.y

    def backward(self, grad_out):
        return grad_out * self.y * (1.0 - self.y)
''',
    "MSELoss": '''
class MSELoss:
    def forward(self, pred, target):
        self.diff = pred - target
        return float(np.mean(self.diff**2))

    def backward(self):
        return 2.0 * self.diff / self.diff.size
''',
    "CrossEntropyLoss": '''
class CrossEntropyLoss:
    def forward(self, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        self.p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        self.labels = np.asarray(labels, dtype=np.int64)
        n = len(self.labels)
        return float(-np.log(self.p[np.arange(n), self.labels]).mean())

    def backward(self):
        n = len(self.labels)
        grad = self.p.copy()
        grad[np.arange(n), self.labels] -= 1.0
        return grad / n
''',
    "SGD": '''
class SGD:
    def __init__(self, layers, lr):
        self.layers, self.lr = list(layers), lr

    def _pairs(self):
        return [pair for layer in self.layers if hasattr(layer, "parameters") for pair in layer.parameters()]

    def zero_grad(self):
        for _, grad in self._pairs():
            grad[...] = 0.0

    def step(self):
        for value, grad in self._pairs():
            value -= self.lr * grad
''',
}


def standins(ctx, components: tuple[str, ...]) -> dict[str, str]:
    """{component: source} to train with: the one failed component among ``components``, else nothing.

    Two or more failed components are not one mistake: the check then uses the student's parts only.
    """
    failed = [c for c in components if c in ctx.failed_components]
    if len(failed) != 1:
        return {}
    if failed[0] not in SOURCES:  # the student build ships no stand-ins (they are answers): the staff grade this
        from grader.authoring import oracle

        raise oracle.Unrecorded(f"training with the grader's {failed[0]} runs only in the staff's build")
    return {failed[0]: SOURCES[failed[0]]}
