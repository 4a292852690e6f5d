"""Elementwise backward (grad_output * f'(x)) against PyTorch's own kernels.

    python bench/elementwise_backward.py [NAMES] [--sizes 262144 4194304]
                                         [--dtype float32] [--threads 1] [--repeats 15]

For each activation PyTorch has a backward op for: the median time of
`repeats` timed batches of fastact.<name>_backward(g, x, out=o) -- and,
where fastact accepts the saved output, of <name>_backward(g, None, y=y,
out=o) -- against the aten op autograd calls (torch.ops.aten.<op>, into a
preallocated output where the op has an out= form), interleaved so that
drift on a shared machine hits every contender alike.  ratio = torch time /
fastact time (above 1: fastact faster); "y=" columns use the saved output
(torch's sigmoid/tanh backward take the output, so that is the like-for-like
pair there).  Results are checked against each other before timing.
"""
import argparse
import sys

import numpy as np

try:                                   # run as a script or imported from bench/
    from softmax_backward import _medians, _torch
except ImportError:                    # pragma: no cover
    from bench.softmax_backward import _medians, _torch

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


_BUFFERS = {}


def _buffer(A, x):
    key = (x.data_ptr(), x.numel())
    if key not in _BUFFERS:
        _BUFFERS[key] = A.log_sigmoid_forward(x)[1]
    return _BUFFERS[key]


def _torch_ops(torch):
    """name -> (fastact params, torch call(g, x, y, out), torch takes y?)"""
    A = torch.ops.aten
    return {
        "sigmoid": ({}, lambda g, x, y, o: A.sigmoid_backward.grad_input(g, y, grad_input=o), True),
        "tanh": ({}, lambda g, x, y, o: A.tanh_backward.grad_input(g, y, grad_input=o), True),
        "silu": ({}, lambda g, x, y, o: A.silu_backward.grad_input(g, x, grad_input=o), False),
        "gelu": ({}, lambda g, x, y, o: A.gelu_backward.grad_input(g, x, approximate="none",
                                                                   grad_input=o), False),
        "gelu_tanh": ({"approximate": "tanh"},
                      lambda g, x, y, o: A.gelu_backward.grad_input(g, x, approximate="tanh",
                                                                    grad_input=o), False),
        "elu": ({}, lambda g, x, y, o: A.elu_backward.grad_input(g, 1.0, 1.0, 1.0, False, x,
                                                                 grad_input=o), False),
        "selu": ({}, lambda g, x, y, o: A.elu_backward.grad_input(g, SELU_ALPHA, SELU_SCALE, 1.0,
                                                                  False, x, grad_input=o), False),
        "celu": ({"alpha": 2.0}, lambda g, x, y, o: A.elu_backward.grad_input(
            g, 2.0, 1.0, 0.5, False, x, grad_input=o), False),
        "softplus": ({}, lambda g, x, y, o: A.softplus_backward.grad_input(g, x, 1.0, 20.0,
                                                                           grad_input=o), False),
        # the buffer is what log_sigmoid_forward saves (autograd's pair)
        "log_sigmoid": ({}, lambda g, x, y, o: A.log_sigmoid_backward.grad_input(
            g, x, _buffer(A, x), grad_input=o), False),
        "mish": ({}, lambda g, x, y, o: o.copy_(A.mish_backward(g, x)), False),
        "relu": ({}, lambda g, x, y, o: A.threshold_backward.grad_input(g, x, 0.0, grad_input=o),
                 False),
        "leaky_relu": ({"negative_slope": 0.01}, lambda g, x, y, o: A.leaky_relu_backward.grad_input(
            g, x, 0.01, False, grad_input=o), False),
        "hardtanh": ({}, lambda g, x, y, o: A.hardtanh_backward.grad_input(g, x, -1.0, 1.0,
                                                                           grad_input=o), False),
        "hard_sigmoid": ({}, lambda g, x, y, o: o.copy_(A.hardsigmoid_backward(g, x)), False),
        "hardswish": ({}, lambda g, x, y, o: o.copy_(A.hardswish_backward(g, x)), False),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*")
    p.add_argument("--sizes", nargs="+", type=int, default=[262144, 4194304])
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=15)
    a = p.parse_args(argv)
    import fastact
    torch = _torch(a.threads)
    if torch is None:
        return 1
    ops = _torch_ops(torch)
    names = a.names or list(ops)
    unknown = [n for n in names if n not in ops]
    if unknown:
        p.error(f"no torch backward op mapped for {unknown}; known: {list(ops)}")
    dt = np.dtype(a.dtype)
    print(f"fastact {fastact.__version__} ({fastact._api._ext.current_isa()}), torch {torch.__version__}, "
          f"{a.threads} thread(s), {a.dtype}, median of {a.repeats}; ratio = torch / fastact")
    print(f"{'function':>14} {'n':>9} {'fastact x':>10} {'fastact y=':>10} {'torch':>10} "
          f"{'ratio x':>8} {'ratio y=':>8}   (us per call)")
    for name in names:
        params, top, torch_y = ops[name]
        fname = "gelu" if name == "gelu_tanh" else name
        fwd = getattr(fastact, fname)
        bwd = getattr(fastact, fname + "_backward")
        for n in a.sizes:
            rng = np.random.default_rng(0)
            x = (rng.standard_normal(n) * 4).astype(dt)
            g = rng.standard_normal(n).astype(dt)
            y = fwd(x, **params)
            o, oy = np.empty_like(x), np.empty_like(x)
            gt, xt, yt = torch.from_numpy(g), torch.from_numpy(x), torch.from_numpy(y)
            ot = torch.empty(n, dtype=xt.dtype)
            fns = {"x": lambda: bwd(g, x, **params, out=o), "torch": lambda: top(gt, xt, yt, ot)}
            try:
                bwd(g, None, **params, y=y, out=oy)
                fns["y"] = lambda: bwd(g, None, **params, y=y, out=oy)
            except (TypeError, ValueError):
                pass
            with fastact.threads(a.threads):
                for fn in fns.values():
                    fn()
                tol = 1e-4 if dt == np.float32 else 1e-10
                np.testing.assert_allclose(o, ot.numpy(), rtol=tol, atol=tol, err_msg=name)
                med = {k: v * 1e6 for k, v in _medians(fns, a.repeats).items()}
            ty = f"{med['y']:10.1f}" if "y" in med else f"{'-':>10}"
            ry = f"{med['torch'] / med['y']:8.2f}" if "y" in med else f"{'-':>8}"
            print(f"{name:>14} {n:>9} {med['x']:10.1f} {ty} {med['torch']:10.1f} "
                  f"{med['torch'] / med['x']:8.2f} {ry}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
