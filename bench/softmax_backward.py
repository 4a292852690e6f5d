"""softmax_backward against PyTorch's own kernel, one thread, same run.

    python bench/softmax_backward.py [--shapes 256x1024 4096x1024] [--repeats 31]
                                     [--dtype float32] [--name softmax]

For each shape (last axis): the median time of `repeats` timed batches of
fastact.<name>_backward(g, y, out=o) and of
torch.ops.aten._<name>_backward_data(g, y, dim, dtype, out=o) (the op
PyTorch's autograd calls), interleaved so that drift on a shared machine
hits both alike; ratio = torch time / fastact time (above 1: fastact
faster).  Both write into a preallocated output.
"""
import argparse
import sys
import time

import numpy as np


def _batch(fn, min_time=0.02):
    k = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        if time.perf_counter() - t0 >= min_time:
            return k
        k *= 2


def _torch(threads):
    """torch with its intra-op pool at `threads`, or None (said on stderr)
    when it is not installed."""
    try:
        import torch
    except ImportError:
        print("torch is not installed", file=sys.stderr)
        return None
    torch.set_num_threads(threads)
    return torch


def _report(label, med):
    """One line: fastact's and torch's median times and their ratio."""
    print(f"{label:>12}: fastact {med['fastact'] * 1e6:9.1f} us   torch {med['torch'] * 1e6:9.1f} us   "
          f"torch/fastact = {med['torch'] / med['fastact']:.2f}")


def _medians(fns, repeats):
    """{name: median seconds per call}: `repeats` timed batches of each
    callable (batch sizes from _batch), interleaved -- the order reversed
    every other round -- so that drift on a shared machine hits all alike."""
    ks = {k: _batch(fn) for k, fn in fns.items()}
    times = {k: [] for k in fns}
    for r in range(repeats):
        for k in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
            fn = fns[k]
            t0 = time.perf_counter()
            for _ in range(ks[k]):
                fn()
            times[k].append((time.perf_counter() - t0) / ks[k])
    return {k: float(np.median(v)) for k, v in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", nargs="+", default=["256x1024", "4096x1024"])
    p.add_argument("--repeats", type=int, default=31)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--name", choices=["softmax", "log_softmax"], default="softmax")
    a = p.parse_args(argv)
    import fastact
    torch = _torch(1)
    if torch is None:
        return 1
    dt = np.dtype(a.dtype)
    tdt = getattr(torch, a.dtype)
    print(f"fastact {fastact.__version__} ({fastact._api._ext.current_isa()}), torch {torch.__version__}, "
          f"1 thread, {a.dtype}, {a.name}_backward, last axis, median of {a.repeats}")
    for s in a.shapes:
        shape = tuple(int(v) for v in s.split("x"))
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape).astype(dt)
        g = rng.standard_normal(shape).astype(dt)
        y = getattr(fastact, a.name)(x)
        o = np.empty_like(y)
        gt, yt, ot = torch.from_numpy(g), torch.from_numpy(y), torch.empty(shape, dtype=tdt)
        fa_bw = getattr(fastact, a.name + "_backward")
        op = getattr(torch.ops.aten, f"_{a.name}_backward_data")
        with fastact.threads(1):
            fns = {"fastact": lambda: fa_bw(g, y, out=o),
                   "torch": (lambda: op.out(gt, yt, len(shape) - 1, tdt, grad_input=ot))
                   if a.name == "softmax" else (lambda: op.out(gt, yt, len(shape) - 1, tdt, out=ot))}
            for fn in fns.values():
                fn()
            np.testing.assert_allclose(o, ot.numpy(), rtol=1e-4, atol=1e-6)
            med = _medians(fns, a.repeats)
        _report(s, med)
    return 0


if __name__ == "__main__":
    sys.exit(main())
