"""prelu_backward (grad_x and the per-channel grad_weight) against PyTorch's
own kernel, one thread, same run.

    python bench/prelu_backward.py [--shapes 256x1024 4096x64 64x64x64 4x64x4096]
                                   [--repeats 11] [--dtype float32]

For each shape, channels along axis 1 (a (N, C) input is the dense-layer
case, channels last): the median time of `repeats` timed batches of
fastact.prelu_backward(g, x, w, axis=1) -- which returns (grad_x,
grad_weight), grad_weight summed in float64 -- and of
torch.ops.aten._prelu_kernel_backward(g, x, w) (the op autograd calls for
torch.nn.functional.prelu) plus the sum of its elementwise weight gradient
over all but the channel axis (autograd's reduction to w's shape),
interleaved so that drift
on a shared machine hits both alike; ratio = torch time / fastact time
(above 1: fastact faster).  Results are checked against each other first.
"""
import argparse
import sys

import numpy as np

try:                                   # run as a script or imported from bench/
    from softmax_backward import _medians, _report, _torch
except ImportError:                    # pragma: no cover
    from bench.softmax_backward import _medians, _report, _torch


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", nargs="+", default=["256x1024", "4096x64", "64x64x64", "4x64x4096"])
    p.add_argument("--repeats", type=int, default=11)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    a = p.parse_args(argv)
    import fastact
    torch = _torch(1)
    if torch is None:
        return 1
    dt = np.dtype(a.dtype)
    A = torch.ops.aten
    print(f"fastact {fastact.__version__} ({fastact._api._ext.current_isa()}), torch {torch.__version__}, "
          f"1 thread, {a.dtype}, prelu_backward, channels on axis 1, median of {a.repeats}")
    for s in a.shapes:
        shape = tuple(int(v) for v in s.split("x"))
        C = shape[1]
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape).astype(dt)
        g = rng.standard_normal(shape).astype(dt)
        w = np.linspace(0.1, 0.4, C).astype(dt)
        gt, xt = torch.from_numpy(g), torch.from_numpy(x)
        wt = torch.from_numpy(w).reshape((1, C) + (1,) * (len(shape) - 2))
        red = [0] + list(range(2, len(shape)))

        def torch_bw():
            tgx, tgw = A._prelu_kernel_backward(gt, xt, wt)
            return tgx, tgw.sum(dim=red)

        with fastact.threads(1):
            fns = {"fastact": lambda: fastact.prelu_backward(g, x, w, axis=1), "torch": torch_bw}
            (gx, gw), (tgx, tgw) = fns["fastact"](), fns["torch"]()
            np.testing.assert_allclose(gx, tgx.numpy(), rtol=1e-6, atol=0)
            np.testing.assert_allclose(gw, tgw.numpy().reshape(-1), rtol=1e-3, atol=1e-3)
            med = _medians(fns, a.repeats)
        _report(s, med)
    return 0


if __name__ == "__main__":
    sys.exit(main())
