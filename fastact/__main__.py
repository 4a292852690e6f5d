"""Command line: ``python -m fastact [info]`` (and the ``fastact`` script).

With no arguments: the machine's configuration, then a short side-by-side
run of every activation against the NumPy reference (speed-up and max ULP
difference), one line per function.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import List, Optional

import numpy as np


def _median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def _example_kwargs(entry, x):
    kw = dict(entry.examples[0])
    if kw.get("weight") == "per-channel":
        kw["weight"] = np.linspace(0.05, 0.5, x.shape[kw.get("axis", 1)])
    return kw


def summary(n: int = 1 << 18, dtype: str = "float32", repeats: int = 5, names: Optional[List[str]] = None) -> int:
    import fastact
    from fastact import _registry
    from fastact._info import config_lines

    print("\n".join(config_lines()))
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 4).astype(dtype).reshape(-1, 64)
    entries = [_registry.lookup(nm) for nm in names] if names else list(_registry.REGISTRY.values())
    print(f"\n{n} {dtype} elements, median of {repeats}; 'ulp' = max difference from the reference")
    print(f"{'function':<14} {'fastact Gelem/s':>16} {'numpy ref':>10} {'speed-up':>9} {'ulp':>5}")
    for i, e in enumerate(entries):
        print(f"[{i + 1}/{len(entries)}] {e.name}...", end="\r", file=sys.stderr, flush=True)
        kw = _example_kwargs(e, x)
        f = getattr(fastact, e.name)
        y = f(x, **kw)
        out = np.empty_like(y)
        t_c = _median_time(lambda: f(x, **kw, out=out), repeats)
        t_r = _median_time(lambda: f(x, **kw, out=out, backend="numpy"), max(1, repeats // 2))
        r = f(x, **kw, backend="numpy")
        with np.errstate(invalid="ignore", divide="ignore"):
            sp = np.maximum(np.spacing(np.abs(r)), np.finfo(r.dtype).smallest_subnormal)
            d = np.where(y == r, 0, np.abs(y.astype(np.float64) - r) / sp)
        print(f"{e.name:<14} {x.size / t_c / 1e9:16.2f} {x.size / t_r / 1e9:10.3f} {t_r / t_c:8.1f}x "
              f"{float(np.nanmax(d)):5.0f}")
    return 0


COMMANDS = {
    "info": "version, SIMD path, OpenMP runtime, threads",
    "check": "measured max error in ULPs of every function (--exhaustive: all 2^32 float32 inputs)",
}


def _check_main(argv: List[str]) -> int:
    from . import _check
    p = argparse.ArgumentParser(prog="fastact check", description=_check.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="activations to check (default: all)")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="float32")
    p.add_argument("--exhaustive", action="store_true", help="all 2^32 float32 bit patterns")
    p.add_argument("--samples", type=int, default=100_000, help="float64 inputs per function (mpmath)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = p.parse_args(argv)
    if args.samples < 1:
        raise ValueError(f"--samples must be >= 1, got {args.samples}")
    return _check.run(args.names or None, args.dtype, args.exhaustive, args.samples, args.markdown)


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] == "info":
            import fastact
            fastact.show_config()
            return 0
        if argv and argv[0] == "check":
            return _check_main(argv[1:])
        p = argparse.ArgumentParser(
            prog="fastact", description="Fast, accurate activation functions for NumPy. "
            "Without a command: a side-by-side run of every activation against the NumPy reference.",
            epilog="commands: " + "; ".join(f"'fastact {k}': {v}" for k, v in COMMANDS.items()))
        p.add_argument("names", nargs="*", help="activations to run (default: all)")
        p.add_argument("--size", type=int, default=1 << 18, help="elements per array (default 262144)")
        p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
        args = p.parse_args(argv)
        if args.size < 64:
            raise ValueError(f"--size must be at least 64, got {args.size}")
        return summary(args.size - args.size % 64, args.dtype, names=args.names or None)
    except (ValueError, TypeError) as exc:
        print(f"fastact: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
