"""Command line: ``fastact`` (or ``python -m fastact``).

    fastact [NAMES] [--size N] [--dtype D]   the main job: this machine's SIMD path and
                                             threads, then every activation side by side
                                             with NumPy (and torch / onnxruntime when
                                             installed): speed-ups and max ULP errors
    fastact bench [NAMES] [--sizes ...] [--dtype ...] [--threads ...] [--json FILE]
    fastact check [NAMES] [--dtype ...] [--samples N] [--exhaustive] [--forward-only] [--what ...]
    fastact plot [NAMES] [-o FILE.png]       each activation and its derivative on [-6, 6]
    fastact info                             version, SIMD path, OpenMP, threads
    fastact docs [--measure] [--update-readme]   the README's function table

Errors are one line on stderr and a non-zero exit status (2 for a usage
error); set FASTACT_DEBUG=1 to get the traceback instead.
"""
from __future__ import annotations

import argparse
import difflib
import math
import os
import sys
from typing import Any, Dict, List, Optional

import numpy as np

from ._bench import ArgumentParser, UsageError

COMMANDS = {
    "bench": "the full benchmark table (sizes x dtypes x threads, every installed peer)",
    "check": "measured max error in ULPs of every function (--exhaustive: all 2^32 float32 inputs)",
    "plot": "a PNG grid of every activation and its derivative on [-6, 6] (needs matplotlib)",
    "info": "version, SIMD path, OpenMP runtime, threads",
    "docs": "regenerate the README's function table from the registry and measurements",
}

SUMMARY_PEERS = ("numpy", "torch", "onnxruntime")
_SHORT = {"numpy ref": "ref", "numpy": "numpy", "torch": "torch", "onnxruntime": "ort"}


# ------------------------------------------------------------------ helpers

def _entries(names: Optional[List[str]]):
    from . import _registry
    if not names:
        return list(_registry.REGISTRY.values())
    out = []
    for nm in names:
        try:
            out.append(_registry.lookup(nm))
        except ValueError as exc:
            close = difflib.get_close_matches(nm, list(COMMANDS), n=1)
            hint = f" (or did you mean the command {close[0]!r}?)" if close else ""
            raise UsageError(f"{exc}{hint}") from None
    return out


def _ulp_max(got: np.ndarray, ref: np.ndarray) -> float:
    """max |got - ref| in ULPs of ref (ref: the float64 reference rounded to
    got's dtype); NaN vs NaN and equal infinities count 0."""
    got = np.asarray(got)
    ref = np.asarray(ref).astype(got.dtype)
    with np.errstate(all="ignore"):
        sp = np.maximum(np.spacing(np.abs(ref)).astype(np.float64), float(np.finfo(got.dtype).smallest_subnormal))
        d = np.abs(got.astype(np.float64) - ref.astype(np.float64)) / sp
    d = np.where((got == ref) | (np.isnan(got) & np.isnan(ref)), 0.0, d)
    d = np.where(np.isnan(d), np.inf, d)
    return float(np.max(d)) if d.size else 0.0


def _bar(k: int, n: int, label: str, width: int = 30) -> None:
    if not sys.stderr.isatty():
        return
    done = int(width * k / max(n, 1))
    print(f"\r[{'#' * done}{'.' * (width - done)}] {k}/{n} {label:<24}", end="", file=sys.stderr, flush=True)


def _clear_bar() -> None:
    if not sys.stderr.isatty():
        return
    print("\r" + " " * 70 + "\r", end="", file=sys.stderr, flush=True)


def _fmt_ratio(r: Optional[float]) -> str:
    if r is None:
        return "-"
    return f"{r:.0f}x" if r >= 100 else f"{r:.1f}x" if r >= 1 else f"{r:.2f}x"


def _fmt_ulp(u: Optional[float]) -> str:
    if u is None:
        return "-"
    if math.isinf(u):
        return "inf"
    if u >= 1e5:
        return f"{u:.0e}".replace("e+0", "e").replace("e+", "e")
    return f"{u:.0f}" if u >= 10 else f"{u:.1f}" if u >= 0.05 else "0"


# ------------------------------------------------------------------ default run

def summary(n: int = 1 << 16, dtype: str = "float32", names: Optional[List[str]] = None,
            repeats: int = 3, min_time: float = 0.001, out=None) -> int:
    """The default command: configuration, then every activation against the
    NumPy reference, the obvious NumPy expression, torch and onnxruntime
    (when importable), ending in one compact table."""
    import fastact
    from . import _bench, _peers
    from ._info import config_lines

    out = out or sys.stdout
    entries = _entries(names)
    print("\n".join(config_lines()), file=out, flush=True)
    avail = _peers.available()
    peer_list = [p for p in SUMMARY_PEERS if avail.get(p)]
    missing = [p for p in SUMMARY_PEERS if not avail.get(p)]
    nthreads = fastact.get_num_threads()
    _peers.set_threads(nthreads)
    rows = []
    try:
        with np.errstate(all="ignore"):
            for i, e in enumerate(entries):
                _bar(i, len(entries), e.name)
                rows.append(_summary_row(e, n, dtype, nthreads, peer_list, repeats, min_time))
                _peers.release()
    finally:
        _clear_bar()
    impls = ["numpy ref", *peer_list]
    head = ["function", "Gelem/s"] + [_SHORT[p] for p in impls] + ["fastact"] + [_SHORT[p] for p in peer_list]
    table = [head]
    for r in rows:
        table.append([r["label"], f"{r['gelem_s']:.2f}"] + [_fmt_ratio(r["speedup"].get(p)) for p in impls]
                     + [_fmt_ulp(r["ulp"].get("fastact"))] + [_fmt_ulp(r["ulp"].get(p)) for p in peer_list])
    widths = [max(len(t[i]) for t in table) for i in range(len(head))]
    nsp = 2 + len(impls)
    title = (f"\n{n} {dtype} elements, {nthreads} thread{'s' if nthreads > 1 else ''}; "
             f"speed-up = other's time / fastact's time; max ULP vs the float64 reference")
    print(title, file=out)
    left = sum(widths[:2]) + 2
    mid = sum(widths[2:nsp]) + 2 * (nsp - 3)
    print(" " * left + "  " + "speed-up vs".center(mid) + "  " + "max ULP".center(sum(widths[nsp:]) + 2 * (len(widths) - nsp - 1)),
          file=out)
    for j, t in enumerate(table):
        print("  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(t, widths))), file=out)
    notes = [f"ref = fastact's NumPy reference (backend='numpy'); numpy = the obvious NumPy expression; "
             f"x = peer result differs, - = no such function"]
    if missing:
        notes.append(f"not installed: {', '.join(missing)} (pip install torch onnxruntime onnx to add them)")
    notes.append("full table: fastact bench; accuracy over millions of inputs: fastact check")
    print("\n".join(notes), file=out)
    return 0


def _summary_row(entry, n, dtype, nthreads, peer_list, repeats, min_time) -> Dict[str, Any]:
    import fastact
    from . import _bench, _peers
    ex = dict(entry.examples[0])
    x, kw, o = _peers.make_input(entry, ex, n, dtype)
    f = fastact.get(entry.name)
    y = _peers.result_of(f(x, **kw), o)
    ref = np.asarray(f(x, **kw, backend="numpy"))
    impls = [("fastact", _peers.make_fastact(entry, kw, x, np.empty_like(o), nthreads)),
             ("numpy ref", _peers.make_fastact(entry, kw, x, np.empty_like(o), nthreads, "numpy"))]
    ulp = {"fastact": _ulp_max(y, ref)}
    for p in peer_list:
        po = np.empty_like(o)
        fn = _peers.make(p, entry.name, kw, x, po, nthreads)
        if fn is None:
            continue
        got = _peers.result_of(fn(), po)
        ok, _ = _peers.check(got, y)
        if not ok:
            ulp[p] = None
            continue
        ulp[p] = _ulp_max(np.asarray(got), ref)
        impls.append((p, fn))
    # with >1 thread, a short sleep before each timed batch lets the other
    # libraries' thread pools stop spinning (as fastact bench does)
    times = _bench.measure(impls, repeats, min_time, settle=0.002 if nthreads > 1 else 0.0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    return {"label": _bench.case_label(entry, ex), "gelem_s": x.size / med["fastact"] / 1e9,
            "speedup": {k: med[k] / med["fastact"] for k in med if k != "fastact"}, "ulp": ulp}


# ------------------------------------------------------------------ plot

def _plot_data(entry, x: np.ndarray):
    """(title, f(x), f'(x), derivative label) on the grid x."""
    import fastact
    kw = dict(entry.examples[0])
    if kw.get("weight") == "per-channel":
        kw = {"weight": 0.25}
    f = fastact.get(entry.name)
    params = ", ".join(f"{k}={v}" for k, v in kw.items())
    dlabel = "f'(x)"
    d = None
    if entry.kind in ("maxout", "rowwise"):
        # a row [x, 0]: maxout -> max(x, 0), softmax -> sigmoid(x), ...
        X = np.stack([x, np.zeros_like(x)], axis=-1)
        kw = dict(kw, axis=-1)
        if entry.kind == "maxout":
            kw["pool_size"] = 2
        y = np.asarray(f(X, **kw))[:, 0]
        extra = ", ".join(f"{k}={v}" for k, v in kw.items() if k != "axis")
        title = f"{entry.name}([x, 0]{', ' + extra if extra else ''})" + ("" if entry.kind == "maxout" else "[0]")
        try:
            d = np.asarray(fastact.derivative(entry.name, X, **kw))[:, 0]
        except ValueError:
            d = None
    else:
        y = np.asarray(f(x, **kw))
        title = f"{entry.name}({params})" if params else entry.name
        try:
            d = np.asarray(fastact.derivative(entry.name, x, **kw))
        except ValueError:
            d = None
    if d is None:
        d = np.gradient(y, x)
        dlabel = "f'(x) (numerical)"
    return title, y, d, dlabel


def plot(names: Optional[List[str]], output: str, cols: int = 5) -> int:
    # the arguments first: a wrong name or path is the error to report
    # whether or not matplotlib is installed
    entries = _entries(names)
    if not output.lower().endswith(".png"):
        raise UsageError(f"-o must name a .png file, got {output!r}")
    d = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(d):
        raise UsageError(f"-o {output}: directory {d} does not exist")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("fastact plot: error: matplotlib is not installed; install it with: "
              "pip install 'fastact[plot]'  (or: pip install matplotlib)", file=sys.stderr)
        return 1
    x = np.linspace(-6.0, 6.0, 1201)
    cols = max(1, min(cols, len(entries)))
    nrows = -(-len(entries) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows), squeeze=False)
    for ax, e in zip(axes.flat, entries):
        title, y, dy, dlabel = _plot_data(e, x)
        ax.axhline(0, color="0.8", lw=0.6)
        ax.axvline(0, color="0.8", lw=0.6)
        ax.plot(x, y, color="C0", lw=1.6, label="f(x)")
        ax.plot(x, dy, color="C1", lw=1.2, ls="--", label=dlabel)
        ax.set_title(title, fontsize=9)
        ax.set_xlim(-6, 6)
        ax.tick_params(labelsize=7)
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.legend(fontsize=6.5, loc="best", frameon=False)
    for ax in list(axes.flat)[len(entries):]:
        ax.axis("off")
    from . import __version__
    fig.suptitle(f"fastact {__version__}: activations (solid) and derivatives (dashed) on [-6, 6]", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(output, dpi=110)
    plt.close(fig)
    print(f"wrote {output} ({len(entries)} activations)")
    return 0


# ------------------------------------------------------------------ sub-commands

def _check_main(argv: List[str]) -> int:
    from . import _check
    p = ArgumentParser(prog="fastact check", description=_check.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="activations to check (default: all)")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="float32")
    p.add_argument("--exhaustive", action="store_true", help="all 2^32 float32 bit patterns")
    p.add_argument("--samples", type=int, default=100_000, help="float64 inputs per function (mpmath)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--forward-only", action="store_true",
                   help="skip the derivative and backward rows (a third of the time)")
    p.add_argument("--what", nargs="+", choices=list(_check.WHATS),
                   help="check only these rows: f (forward), f' (derivative), g*f' (backward), "
                        "g*f'(y) (backward from the forward output y, float32; the input is y)")
    args = p.parse_args(argv)
    if args.samples < 1:
        raise UsageError(f"--samples must be >= 1, got {args.samples}")
    _entries(args.names)
    return _check.run(args.names or None, args.dtype, args.exhaustive, args.samples, args.markdown,
                      out=sys.stdout, grads=not args.forward_only, only=args.what)


def _bench_main(argv: List[str]) -> int:
    from . import _bench
    args = _bench._parse(argv, prog="fastact bench")
    entries, dtypes = _bench._validate(args)
    return _bench.run(args, entries, dtypes, argv)


def _plot_main(argv: List[str]) -> int:
    p = ArgumentParser(prog="fastact plot", description="A grid of each activation (solid) and its "
                       "derivative (dashed, fastact.derivative) on [-6, 6], written as a PNG.")
    p.add_argument("names", nargs="*", help="activations to plot (default: all)")
    p.add_argument("-o", "--output", default="fastact_activations.png", help="PNG file (default: %(default)s)")
    p.add_argument("--cols", type=int, default=5, help="plots per row (default 5)")
    args = p.parse_args(argv)
    if args.cols < 1:
        raise UsageError(f"--cols must be >= 1, got {args.cols}")
    return plot(args.names or None, args.output, args.cols)


def _info_main(argv: List[str]) -> int:
    p = ArgumentParser(prog="fastact info", description="version, SIMD path, OpenMP runtime, threads")
    p.parse_args(argv)
    import fastact
    fastact.show_config()
    return 0


def _docs_main(argv: List[str]) -> int:
    from . import _docs
    return _docs.main(argv)


def _summary_main(argv: List[str]) -> int:
    p = ArgumentParser(
        prog="fastact", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fast, accurate activation functions for NumPy.  Without a command: this machine's "
        "SIMD path and threads, then a short side-by-side run of every activation against NumPy "
        "(and torch / onnxruntime when installed): speed-ups and max ULP errors.",
        epilog="commands:\n" + "\n".join(f"  fastact {k:<6} {v}" for k, v in COMMANDS.items()))
    p.add_argument("names", nargs="*", help="activations to run (default: all)")
    p.add_argument("--size", type=int, default=1 << 16, help="elements per array (default 65536)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=None, help="threads for fastact and the peers "
                   "(default: fastact's, see 'fastact info')")
    args = p.parse_args(argv)
    if args.size < 1024:
        raise UsageError(f"--size must be at least 1024, got {args.size}")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {args.threads}")
    _entries(args.names)
    if args.threads is None:
        return summary(args.size, args.dtype, names=args.names or None)
    import fastact
    with fastact.threads(args.threads):
        return summary(args.size, args.dtype, names=args.names or None)


_MAINS = {"bench": _bench_main, "check": _check_main, "plot": _plot_main, "info": _info_main,
          "docs": _docs_main}


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    cmd = argv[0] if argv and argv[0] in _MAINS else None
    prog = f"fastact {cmd}" if cmd else "fastact"
    try:
        if cmd:
            return _MAINS[cmd](argv[1:])
        return _summary_main(argv)
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `fastact info | head -1`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback (FASTACT_DEBUG=1 shows it)
        if os.environ.get("FASTACT_DEBUG"):
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        kind = "" if isinstance(exc, (ValueError, TypeError, OSError)) else f"{type(exc).__name__}: "
        print(f"{prog}: error: {kind}{msg or type(exc).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
