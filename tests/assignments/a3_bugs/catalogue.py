"""a3's catalogue of single-bug submissions: one realistic student mistake each, as a mutation of the reference.

Includes every a3 bug issue #10 names: a conv backward that divides by N or mixes up axes, one
that breaks with padding 0, and forwards of the wrong shape (stride or padding ignored,
channels-last output, batch norm reshaped to 2-D) next to a correct backward, which must be a
named failure, never a grader crash (exit 3).
"""

from __future__ import annotations

from tests.assignments.a1_bugs.catalogue import Bug

FWD_WIN = "    win = _windows(x, w.shape[2], w.shape[3], stride, padding)\n"
BN_RETURN = "    return out, (x_hat, gamma, inv_std, axes)\n"
BN_2D = "    if out.ndim == 4:\n        out = out.transpose(0, 2, 3, 1).reshape(-1, out.shape[1])\n"
IGNORE_STRIDE = FWD_WIN.replace("stride, padding", "1, padding")
IGNORE_PADDING = FWD_WIN.replace("stride, padding", "stride, 0")
RETURN_NCHW = "return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)"
RETURN_NHWC = "return out.reshape(n, ho, wo, f)"
CONV_FORWARD = ("conv_forward_basic", "conv_forward_stride_padding", "conv_forward_shapes")
BACKWARD = ("conv_backward_dx", "conv_backward_dw", "conv_backward_db")

CONV_BUGS = {
    "bias missing": Bug((("out = cols @ w.reshape(f, -1).T + b", "out = cols @ w.reshape(f, -1).T"),),
                        ("conv_forward_basic",), {"conv_forward_basic": "bias"}),
    "kernel flipped": Bug((("out = cols @ w.reshape(f, -1).T + b",
                            "out = cols @ w[:, :, ::-1, ::-1].reshape(f, -1).T + b"),), ("conv_forward_basic",),
                          {"conv_forward_basic": "flipped the kernel"}),
    "forward ignores stride": Bug(((FWD_WIN, IGNORE_STRIDE),), CONV_FORWARD,
                                  {"conv_forward_stride_padding": "stride = "}),
    "forward ignores padding": Bug(((FWD_WIN, IGNORE_PADDING),), CONV_FORWARD,
                                   {"conv_forward_stride_padding": "padding = "}),
    "forward channels-last": Bug(((RETURN_NCHW, RETURN_NHWC),), CONV_FORWARD,
                                 {"conv_forward_basic": "channels-last"}),
    # The same forwards, with the (right) backward graded alone: finite differences then call the
    # wrong-shape forward, which used to crash the grader (exit 3); now a named failure.
    "backward alone, forward ignores stride": Bug(((FWD_WIN, IGNORE_STRIDE),), BACKWARD,
                                                  {"conv_backward_dx": "conv2d_forward"}),
    "backward alone, forward ignores padding": Bug(((FWD_WIN, IGNORE_PADDING),), BACKWARD,
                                                   {"conv_backward_dw": "conv2d_forward"}),
    "backward alone, forward channels-last": Bug(((RETURN_NCHW, RETURN_NHWC),), BACKWARD,
                                                 {"conv_backward_db": "conv2d_forward"}),
    "dw divided by N": Bug((("dw = (g.T @ cols).reshape(w.shape)", "dw = (g.T @ cols).reshape(w.shape) / n"),),
                           ("conv_backward_dw",), {"conv_backward_dw": "divided by N"}),
    "dx divided by N": Bug((("dx = dxp[:, :, padding:padding + h, padding:padding + wd]",
                             "dx = dxp[:, :, padding:padding + h, padding:padding + wd] / n"),),
                           ("conv_backward_dx",), {"conv_backward_dx": "dx from conv2d_backward"}),
    "grad_out axes mixed up": Bug((("g = grad_out.transpose(0, 2, 3, 1).reshape(n * ho * wo, f)",
                                    "g = grad_out.reshape(n * ho * wo, f)"),), ("conv_backward_dx", "conv_backward_dw"),
                                  {"conv_backward_dx": "dx from conv2d_backward",
                                   "conv_backward_dw": "dw from conv2d_backward"}),
    "dx broken by padding 0": Bug((("dx = dxp[:, :, padding:padding + h, padding:padding + wd]",
                                    "dx = dxp[:, :, padding:-padding, padding:-padding]"),), ("conv_backward_dx",),
                                  {"conv_backward_dx": "dx from conv2d_backward"}),
    "dw flipped": Bug((("dw = (g.T @ cols).reshape(w.shape)", "dw = (g.T @ cols).reshape(w.shape)[:, :, ::-1, ::-1]"),),
                      ("conv_backward_dw",), {"conv_backward_dw": "dw is flipped"}),
    # conv_dx_no_flip: the input gradient without the kernel flip (a correlation's where a convolution's is due).
    "dx without the kernel flip": Bug((("dcols = (g @ w.reshape(f, -1))",
                                        "dcols = (g @ w[:, :, ::-1, ::-1].reshape(f, -1))"),),
                                      ("conv_backward_dx",), {"conv_backward_dx": "missing the kernel flip"}),
    "db a mean": Bug((("db = grad_out.sum(axis=(0, 2, 3))", "db = grad_out.mean(axis=(0, 2, 3))"),),
                     ("conv_backward_db",), {"conv_backward_db": "db"}),
    "max pooling takes the min": Bug((("return win.max(axis=(4, 5))", "return win.min(axis=(4, 5))"),),
                                     ("maxpool_forward",), {"maxpool_forward": "maxpool2d_forward"}),
    "pooling ignores stride": Bug((("[:, :, ::stride, ::stride]\n    return win.max", "\n    return win.max"),),
                                  ("maxpool_forward",), {"maxpool_forward": "stride = "}),
    "pool gradient to the last tie": Bug(
        (("first = win.reshape(n, c, ho, wo, kernel * kernel).argmax(axis=4)",
          "first = kernel * kernel - 1 - win.reshape(n, c, ho, wo, kernel * kernel)[..., ::-1].argmax(axis=4)"),),
        ("maxpool_backward",), {"maxpool_backward": "maxpool2d_backward"}),
    # The handout's defaults: one case of each function is called without them.
    "conv2d_forward's default padding 1": Bug((("def conv2d_forward(x, w, b, stride=1, padding=0):",
                                                "def conv2d_forward(x, w, b, stride=1, padding=1):"),),
                                              ("conv_forward_basic",), {"conv_forward_basic": "the defaults, 1 and 0"}),
    "dx buffer too small for padding 3": Bug((("dxp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))",
                                               "dxp = np.zeros((n, c, h + 2 + padding, wd + 2 + padding))"),),
                                             ("conv_backward_dx",), {"conv_backward_dx": "conv2d_backward"}),
    "max pooling's default stride 1": Bug((("def maxpool2d_forward(x, kernel=2, stride=2):",
                                            "def maxpool2d_forward(x, kernel=2, stride=1):"),),
                                          ("maxpool_forward",), {"maxpool_forward": "the defaults, 2 and 2"}),
    "conv1d kernel flipped": Bug((("a[o * l_out + t, c * length + t + p] = w[o, c, p]",
                                   "a[o * l_out + t, c * length + t + p] = w[o, c, k - 1 - p]"),), ("conv1d_matrix",),
                                 {"conv1d_matrix": "flipped"}),
    "conv1d backward not transposed": Bug((("return conv1d_matrix(w, length).T", "return conv1d_matrix(w, length)"),),
                                          ("conv1d_backward_matrix",), {"conv1d_backward_matrix": "transpose"}),
}

BN_BUGS = {
    "normalized with the unbiased variance": Bug(
        (("mean, var = x.mean(axis=axes), x.var(axis=axes)",
          "mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=1)"),),
        ("bn_train_2d",), {"bn_train_2d": "BIASED"}),
    "BN reshaped to 2-D": Bug(((BN_RETURN, BN_2D + BN_RETURN),), ("bn_train_4d", "bn_eval"),
                              {"bn_train_4d": "2-D", "bn_eval": "2-D"}),
    "backward alone, BN reshaped to 2-D": Bug(((BN_RETURN, BN_2D + BN_RETURN),), ("bn_backward_dx",),
                                              {"bn_backward_dx": "batchnorm_forward"}),
    "statistics per feature in 4-D": Bug((("return (0,) if x.ndim == 2 else (0, 2, 3)", "return (0,)"),),
                                         ("bn_train_4d",), {"bn_train_4d": "batchnorm.py:"}),
    "running statistics not in place": Bug(
        (("        running_mean[...] = (1 - momentum) * running_mean + momentum * mean\n",
          "        running_mean = (1 - momentum) * running_mean + momentum * mean\n"),
         ("        running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)\n",
          "        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)\n")),
        ("bn_running_stats",), {"bn_running_stats": "running_mean"}),
    "momentum weights the old value": Bug(
        (("running_mean[...] = (1 - momentum) * running_mean + momentum * mean",
          "running_mean[...] = momentum * running_mean + (1 - momentum) * mean"),),
        ("bn_running_stats",), {"bn_running_stats": "running_mean"}),
    "running variance biased": Bug((("momentum * var * m / (m - 1)", "momentum * var"),), ("bn_running_stats",),
                                   {"bn_running_stats": "running_var"}),
    "momentum's default 0.01": Bug((("momentum=0.1, eps=1e-5):", "momentum=0.01, eps=1e-5):"),),
                                   ("bn_running_stats",), {"bn_running_stats": "momentum defaults to 0.1"}),
    "eval mode uses the batch": Bug((("        mean, var = running_mean, running_var\n",
                                      "        mean, var = x.mean(axis=axes), x.var(axis=axes)\n"),), ("bn_eval",),
                                    {"bn_eval": "eval"}),
    "dx drops the statistics' terms": Bug(
        (("    dx = shape(inv_std) / m * (m * d_hat - shape(d_hat.sum(axis=axes)) - x_hat * "
          "shape((d_hat * x_hat).sum(axis=axes)))\n", "    dx = shape(inv_std) * d_hat\n"),), ("bn_backward_dx",),
        {"bn_backward_dx": "dx from batchnorm_backward"}),
    "dbeta a mean": Bug((("dbeta = grad_out.sum(axis=axes)", "dbeta = grad_out.mean(axis=axes)"),),
                        ("bn_backward_params",), {"bn_backward_params": "dbeta"}),
}
