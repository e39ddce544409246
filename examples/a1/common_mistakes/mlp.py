# Another student's a1, with five classic mistakes (see the comments marked BUG).
import numpy as np


class Layer:
    def parameters(self):
        return []


class Linear(Layer):
    def __init__(self, in_features, out_features, rng=None):
        rng = rng or np.random.default_rng(0)
        limit = np.sqrt(6 / (in_features + out_features))
        self.W = rng.uniform(-limit, limit, (in_features, out_features))
        self.b = np.zeros(out_features)
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad_out):
        self.dW[:] = self.x.T @ grad_out
        self.db[:] = grad_out.sum(0)
        return grad_out @ self.W.T

    def parameters(self):
        return [(self.W, self.dW), (self.b, self.db)]


class Sigmoid(Layer):
    def forward(self, x):
        self.s = 1 / (1 + np.exp(-x))
        return self.s

    def backward(self, grad_out):
        return grad_out * self.s * (1 - self.s)


class ReLU(Layer):
    def forward(self, x):
        self.x = x
        return x * (x > 0)

    def backward(self, grad_out):
        return grad_out * (self.x >= 0)  # BUG: the derivative at 0 must be 0


class Tanh(Layer):
    def forward(self, x):
        self.x = x
        return np.tanh(x)

    def backward(self, grad_out):
        return grad_out * (1 - self.x ** 2)  # BUG: uses x instead of tanh(x)


def softmax(x):
    e = np.exp(x)  # BUG: overflows for large logits
    return e / e.sum(axis=1, keepdims=True)


class MSELoss:
    def forward(self, pred, target):
        self.d = pred - target
        return float((self.d ** 2).mean())

    def backward(self):
        return 2 * self.d / self.d.size


class CrossEntropyLoss:
    def forward(self, logits, labels):
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.p, self.y = np.exp(logp), labels
        return float(-logp[np.arange(len(labels)), labels].mean())

    def backward(self):
        g = self.p.copy()
        g[np.arange(len(self.y)), self.y] -= 1
        return g / len(self.y)


class Optimizer:
    def __init__(self, layers, lr):
        self.params = lambda: [pg for layer in layers if hasattr(layer, "parameters") for pg in layer.parameters()]
        self.lr = lr

    def zero_grad(self):
        for _, g in self.params():
            g[...] = 0


class SGD(Optimizer):
    def step(self):
        for p, g in self.params():
            p -= self.lr * g


class Momentum(Optimizer):
    def __init__(self, layers, lr, beta=0.9):
        super().__init__(layers, lr)
        self.beta, self.v = beta, None

    def step(self):
        params = self.params()
        if self.v is None:
            self.v = [np.zeros_like(p) for p, _ in params]
        for v, (p, g) in zip(self.v, params):
            v[...] = self.beta * v + (1 - self.beta) * g  # BUG: the handout's v has no (1 - beta)
            p -= self.lr * v


class Adagrad(Optimizer):
    def __init__(self, layers, lr, eps=1e-8):
        super().__init__(layers, lr)
        self.eps, self.G = eps, None

    def step(self):
        params = self.params()
        if self.G is None:
            self.G = [np.zeros_like(p) for p, _ in params]
        for G, (p, g) in zip(self.G, params):
            G += g ** 2
            p -= self.lr * g / (np.sqrt(G) + self.eps)


class Adam(Optimizer):
    def __init__(self, layers, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(layers, lr)
        self.b1, self.b2, self.eps, self.state = beta1, beta2, eps, None

    def step(self):
        params = self.params()
        if self.state is None:
            self.state = [(np.zeros_like(p), np.zeros_like(p)) for p, _ in params]
        for (m, v), (p, g) in zip(self.state, params):
            m[...] = self.b1 * m + (1 - self.b1) * g
            v[...] = self.b2 * v + (1 - self.b2) * g ** 2
            p -= self.lr * m / (np.sqrt(v) + self.eps)  # BUG: no bias correction
