# A student's a1: everything right except the classic mistake of scaling dW.
import numpy as np


class Linear:
    def __init__(self, in_features, out_features, rng=None):
        if rng is None:
            rng = np.random.default_rng()
        self.in_features = in_features
        self.W = 0.1 * rng.standard_normal((in_features, out_features))
        self.b = np.zeros(out_features)
        self.dW = np.zeros((in_features, out_features))
        self.db = np.zeros(out_features)

    def forward(self, x):
        self.cache = x
        return np.dot(x, self.W) + self.b

    def backward(self, grad_out):
        x = self.cache
        self.dW = np.dot(x.T, grad_out) / self.in_features  # "normalize" the gradient (the bug)
        self.db = np.sum(grad_out, axis=0)
        return np.dot(grad_out, self.W.T)

    def parameters(self):
        return [(self.W, self.dW), (self.b, self.db)]


class Sigmoid:
    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))
        return self.out

    def backward(self, grad_out):
        return grad_out * self.out * (1 - self.out)


class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, grad_out):
        return grad_out * (self.x > 0)


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out):
        return grad_out * (1 - self.out ** 2)


def softmax(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


class MSELoss:
    def forward(self, pred, target):
        self.pred, self.target = pred, target
        return np.mean((pred - target) ** 2)

    def backward(self):
        return 2 * (self.pred - self.target) / self.pred.size


class CrossEntropyLoss:
    def forward(self, logits, labels):
        self.probs = softmax(logits)
        self.labels = labels
        n = logits.shape[0]
        return -np.mean(np.log(self.probs[np.arange(n), labels] + 1e-300))

    def backward(self):
        n = self.probs.shape[0]
        g = self.probs.copy()
        g[np.arange(n), self.labels] -= 1
        return g / n


def all_params(layers):
    out = []
    for layer in layers:
        if hasattr(layer, "parameters"):
            out += layer.parameters()
    return out


class SGD:
    def __init__(self, layers, lr):
        self.layers, self.lr = layers, lr

    def step(self):
        for p, g in all_params(self.layers):
            p -= self.lr * g

    def zero_grad(self):
        for p, g in all_params(self.layers):
            g.fill(0)


class Momentum(SGD):
    def __init__(self, layers, lr, beta=0.9):
        super().__init__(layers, lr)
        self.beta, self.v = beta, {}

    def step(self):
        for i, (p, g) in enumerate(all_params(self.layers)):
            self.v[i] = self.beta * self.v.get(i, 0) + g
            p -= self.lr * self.v[i]


class Adagrad(SGD):
    def __init__(self, layers, lr, eps=1e-8):
        super().__init__(layers, lr)
        self.eps, self.G = eps, {}

    def step(self):
        for i, (p, g) in enumerate(all_params(self.layers)):
            self.G[i] = self.G.get(i, 0) + g * g
            p -= self.lr * g / (np.sqrt(self.G[i]) + self.eps)


class Adam(SGD):
    def __init__(self, layers, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(layers, lr)
        self.b1, self.b2, self.eps = beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self):
        self.t += 1
        for i, (p, g) in enumerate(all_params(self.layers)):
            self.m[i] = self.b1 * self.m.get(i, 0) + (1 - self.b1) * g
            self.v[i] = self.b2 * self.v.get(i, 0) + (1 - self.b2) * g * g
            m_hat = self.m[i] / (1 - self.b1 ** self.t)
            v_hat = self.v[i] / (1 - self.b2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
