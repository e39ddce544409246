"""a1's catalogue of single-bug submissions: one realistic student mistake each, as a mutation of the reference.

Each bug names the checks to run (``tasks``, so a bug costs only the checks it can touch) and, for
each check that must fail, a text its message or hint must contain: the component it blames.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bug:
    replacements: tuple[tuple[str, str], ...]
    tasks: tuple[str, ...]
    blamed: dict  # check id -> text (the blamed component) its message or hint must contain


DW = "self.dW[...] = self.x.T @ grad_out"

BUGS = {
    "dW divided by N": Bug(((DW, DW + " / len(grad_out)"),), ("linear_backward_dW",),
                           {"linear_backward_dW": "Linear.dW"}),
    "dW divided by in_features": Bug(((DW, DW + " / self.x.shape[1]"),), ("linear_backward_dW",),
                                     {"linear_backward_dW": "in_features"}),
    "dW transposed": Bug(((DW, "self.dW = grad_out.T @ self.x"),), ("linear_backward_dW",),
                         {"linear_backward_dW": "Linear.dW"}),
    "dx divided by N": Bug((("return grad_out @ self.W.T", "return grad_out @ self.W.T / len(grad_out)"),),
                           ("linear_backward_dx",), {"linear_backward_dx": "Linear.backward"}),
    "db is a mean": Bug((("self.db[...] = grad_out.sum(axis=0)", "self.db[...] = grad_out.mean(axis=0)"),),
                        ("linear_backward_db",), {"linear_backward_db": "Linear.db"}),
    "bias ignored": Bug((("return x @ self.W + self.b", "return x @ self.W"),), ("linear_forward",),
                        {"linear_forward": "Linear("}),
    "W shaped (out, in)": Bug((("size=(in_features, out_features))", "size=(out_features, in_features))"),),
                              ("linear_init",), {"linear_init": "Linear("}),
    "parameters returns copies": Bug((("return [(self.W, self.dW), (self.b, self.db)]",
                                       "return [(self.W.copy(), self.dW.copy()), (self.b.copy(), self.db.copy())]"),),
                                     ("linear_parameters",), {"linear_parameters": "parameters()"}),
    "sigmoid uses exp(x)": Bug((("self.y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
                                 "self.y = 1.0 / (1.0 + np.exp(x))"),), ("sigmoid_forward",),
                               {"sigmoid_forward": "Sigmoid"}),
    "sigmoid backward ignores grad_out": Bug((("return grad_out * self.y * (1.0 - self.y)",
                                               "return self.y * (1.0 - self.y)"),), ("sigmoid_backward",),
                                             {"sigmoid_backward": "Sigmoid"}),
    "ReLU derivative 1 at 0": Bug((("self.mask = x > 0", "self.mask = x >= 0"),), ("relu_backward",),
                                  {"relu_backward": "ReLU"}),
    "tanh backward 1 - y": Bug((("return grad_out * (1.0 - self.y**2)", "return grad_out * (1.0 - self.y)"),),
                               ("tanh_backward",), {"tanh_backward": "Tanh"}),
    "softmax over columns": Bug((("return z / z.sum(axis=1, keepdims=True)",
                                  "return z / z.sum(axis=0, keepdims=True)"),),
                                ("softmax_values",), {"softmax_values": "softmax"}),
    "softmax overflows": Bug((("z = np.exp(x - x.max(axis=1, keepdims=True))", "z = np.exp(x)"),),
                             ("softmax_stability",), {"softmax_stability": "softmax"}),
    "MSE summed": Bug((("return float(np.mean(self.diff**2))", "return float(np.sum(self.diff**2))"),),
                      ("mse_forward",), {"mse_forward": "MSELoss"}),
    "MSE gradient without 2": Bug((("return 2.0 * self.diff / self.diff.size", "return self.diff / self.diff.size"),),
                                  ("mse_backward",), {"mse_backward": "MSELoss"}),
    "cross-entropy gradient not divided by N": Bug((("        return grad / n\n", "        return grad\n"),),
                                                   ("ce_backward",), {"ce_backward": "CrossEntropyLoss"}),
    "SGD not in place": Bug((("            p -= self.lr * g\n", "            p = p - self.lr * g\n"),),
                            ("sgd_steps",), {"sgd_steps": "SGD"}),
    "momentum as an EMA": Bug((("            v += g\n", "            v += (1 - self.beta) * g\n"),),
                              ("momentum_steps",), {"momentum_steps": "Momentum"}),
    "Adagrad without accumulation": Bug((("            s += g**2\n", "            s[...] = g**2\n"),),
                                        ("adagrad_steps",), {"adagrad_steps": "Adagrad"}),
    "Adam without bias correction": Bug((("m_hat = m / (1 - self.beta1**self.t)", "m_hat = m"),
                                         ("v_hat = v / (1 - self.beta2**self.t)", "v_hat = v")), ("adam_steps",),
                                        {"adam_steps": "Adam"}),
    "Momentum's default beta not the handout's": Bug((("beta: float = 0.9):", "beta: float = 0.99):"),),
                                                     ("momentum_steps",), {"momentum_steps": "beta=0.9"}),
    "Adagrad's eps inside the square root": Bug((("p -= self.lr * g / (np.sqrt(s) + self.eps)",
                                                  "p -= self.lr * g / np.sqrt(s + self.eps)"),), ("adagrad_steps",),
                                                {"adagrad_steps": "Adagrad"}),
    "Adam's default lr not the handout's": Bug((("lr: float = 1e-3,", "lr: float = 1e-2,"),), ("adam_steps",),
                                               {"adam_steps": "lr=1e-3"}),
    "zero_grad rebinds": Bug((("            grad[...] = 0.0\n", "            grad = 0.0  # noqa\n"),), ("zero_grad",),
                             {"zero_grad": "zero_grad"}),
}
