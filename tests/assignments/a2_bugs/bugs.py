"""The a2 catalogue: single-bug submissions, each one edit of the correct one in ``correct/autograd.py``.

Each bug names the checks it must fail (exactly those) and, per check, a gist the message or hint must
contain: the component the grader blames. Several are the escapes issue #10 reports (a seed-dependent
axis, squeeze, expand; an engine's seed, leaves-only grads, writes into inputs or G).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CORRECT = (Path(__file__).parent / "correct" / "autograd.py").read_text()
ANSWERS = (Path(__file__).parent / "correct" / "answers.toml").read_text()


@dataclass(frozen=True)
class Bug:
    """One mistake: text edits of the correct submission, and {check id: gist of what the student is told}."""

    edits: tuple[tuple[str, str], ...]
    fails: dict[str, str]

    def source(self) -> str:
        text = CORRECT
        for old, new in self.edits:
            assert text.count(old) == 1, f"edit target not found exactly once: {old!r}"
            text = text.replace(old, new)
        return text


BUGS = {
    # Sum over an axis whose gradient is broadcast without putting the axis back (issue: 2 seeds of 10).
    "sum broadcast wrong axis": Bug(
        (("        return (np.asarray(G).reshape(kept) * np.ones(shape),)",
          "        return (np.broadcast_to(G, shape).copy(),)"),),
        {"sum_backward": "Sum.backward"}),
    # np.squeeze without axis= removes every axis of length 1 (issue: 7 of 10).
    "squeeze all axes": Bug(
        (("        del shape[axis]\n        return x.reshape(shape)", "        return np.squeeze(x)"),),
        {"squeeze_forward": "removed every axis of length 1"}),
    "squeeze backward at axis 0": Bug(
        (('        return (G.reshape(ctx["shape"]),)\n\n\nclass Unsqueeze',
          "        return (np.expand_dims(G, 0),)\n\n\nclass Unsqueeze"),),
        {"squeeze_backward": "Squeeze.backward"}),
    # Expand's gradient summed over the last axis instead of the repeated one (issue: 8 of 10).
    "expand backward wrong axis": Bug(
        (('        return (np.add.reduce(G, axis=ctx["axis"]),)', "        return (np.add.reduce(G, axis=-1),)"),),
        {"expand_backward": "the repeated axis is axis"}),
    "expand forward at the end": Bug(
        (("        return np.stack([x] * size, axis=axis)", "        return np.stack([x] * size, axis=-1)"),),
        {"expand_forward": "Expand puts the new axis at position"}),
    "expand backward averages": Bug(
        (('        return (np.add.reduce(G, axis=ctx["axis"]),)', '        return (G.mean(axis=ctx["axis"]),)'),),
        {"expand_backward": "do not average"}),
    "unsqueeze negative axis": Bug(
        (("        shape.insert(axis % (x.ndim + 1), 1)", "        shape.insert(axis, 1)"),),
        {"unsqueeze_forward": "Unsqueeze inserts the axis at position"}),
    "unsqueeze backward squeezes every axis": Bug(  # right unless x has an axis of length 1 of its own
        (('        return (G.reshape(ctx["shape"]),)\n\n\nclass Sigmoid',
          "        return (np.squeeze(G),)\n\n\nclass Sigmoid"),),
        {"unsqueeze_backward": "removed every axis of length 1"}),
    "sum keeps dims": Bug(
        (("        return np.add.reduce(x, axis=axis)",
          "        return np.add.reduce(x, axis=axis, keepdims=axis is not None)"),),
        {"sum_forward": "keepdims=True"}),
    "sum float32": Bug(
        (("        return np.add.reduce(x, axis=axis)",
          "        return np.add.reduce(x, axis=axis, dtype=np.float32)"),),
        {"sum_forward": "dtype float32, expected float64"}),
    # The engine: seed, intermediate grads, accumulation, visiting order, aliasing.
    "root seeded with a mean": Bug(
        (("        totals = {id(self): np.ones(self.value.shape)}",
          "        totals = {id(self): np.ones(self.value.shape) / self.value.size}"),),
        {"graph_root_seed": "np.ones_like(root.value)", "graph_non_scalar_root": "np.ones_like(root.value)"}),
    "grads on leaves only": Bug(
        (("            tensor.grad = total\n            if tensor.op is None:\n                continue\n",
          "            if tensor.op is None:\n                tensor.grad = total\n                continue\n"),),
        {"graph_every_tensor": "intermediate tensors"}),
    "overwrite instead of accumulate": Bug(
        (("                    totals[id(parent)] += g  # our own copy: adding in place is safe",
          "                    totals[id(parent)] = g"),),
        {"graph_diamond": "added up", "graph_double_diamond": "added up", "graph_fan_out": "added up",
         "graph_topological": "added up", "graph_shared_arrays": "added up"}),
    "a second backward() keeps the first one's grads": Bug(  # accumulating or replacing are both right
        (("            tensor.grad = total\n",
          "            tensor.grad = total if tensor.grad is None else tensor.grad\n"),),
        {"graph_fan_out": "second backward()"}),
    "accumulate in place into a shared array": Bug(
        (("                    totals[id(parent)] = np.array(g, dtype=np.float64, copy=True)",
          "                    totals[id(parent)] = g"),),
        {"graph_shared_arrays": "in place", "graph_topological": "in place"}),
    # The ops: writes into inputs or G, classic derivative slips.
    "exp writes into its input": Bug(
        (('        y = np.exp(x)\n        ctx["y"] = y\n        return y',
          '        np.exp(x, out=x)\n        ctx["y"] = x\n        return x'),),
        {"exp_forward": "writes into its input x"}),
    "relu writes into G": Bug(
        (('        return (G * ctx["mask"],)', '        G[ctx["mask"] == 0] = 0.0\n        return (G,)'),),
        {"relu_backward": "writes into its input G"}),
    "exp multiplies G in place": Bug(
        (('        return (G * ctx["y"],)', '        G *= ctx["y"]\n        return (G,)'),),
        {"exp_backward": "writes into its input G"}),
    "matmul dW transposed": Bug(
        (('np.einsum("nf,nm->fm", ctx["x"], G)', 'np.einsum("nf,nm->mf", ctx["x"], G)'),),
        {"matmul_backward": "transpose"}),
    "divide missing minus": Bug(
        (('        return scaled, -scaled * ctx["x"] * ctx["inv"]',
          '        return scaled, scaled * ctx["x"] * ctx["inv"]'),),
        {"divide_backward": "minus sign is missing"}),
    "sigmoid derivative of x": Bug(
        (('        ctx["y"] = y\n        return y\n\n    @staticmethod\n    def backward(ctx, G):\n'
          '        y = ctx["y"]',
          '        ctx["y"] = x\n        return y\n\n    @staticmethod\n    def backward(ctx, G):\n'
          '        y = ctx["y"]'),),
        {"sigmoid_backward": "not x"}),
    "relu gradient at zero": Bug(
        (("        mask = (x > 0).astype(np.float32)", "        mask = (x >= 0).astype(np.float32)"),),
        {"relu_backward": "exactly 0"}),
    "log backward multiplies": Bug(
        (('        return (G * np.reciprocal(ctx["x"]),)', '        return (G * ctx["x"],)'),),
        {"log_backward": "1/x"}),
    "normalize drops the row-sum term": Bug(
        (('        return ((G - np.einsum("ij,ij->i", G, x)[:, None] / s) / s,)', "        return (G / s,)"),),
        {"normalize_backward": "row sum"}),
}
