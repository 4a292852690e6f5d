"""Side-by-side throughput of fastact, its NumPy reference and the peers.

    fastact bench [names ...]    (or: python bench/compare.py ...)
                                 [--sizes N ...] [--sizes N ...] [--dtype float32|float64]
                                 [--threads T ...] [--repeats R] [--json FILE] [--markdown]

For every registry entry (or the `names` given) and every parameter set in
its ``examples``, every size, dtype and thread count: Gelem/s (input
elements per second, median of `repeats` timed batches) for

* fastact (compiled kernels) and the NumPy reference (``backend="numpy"``);
* each installed peer (fastact/_peers.py): the obvious NumPy expression, SciPy,
  numexpr, PyTorch, ONNX Runtime -- each checked against fastact's result
  first and dropped (marked ``x``) if it computes something else;
* a ceiling per (dtype, size, threads): ``np.copyto(out, x)`` and
  ``np.multiply(x, 2, out=out)`` (NumPy: one thread), and a C copy with
  non-temporal stores split over the row's thread count like an
  elementwise kernel (``fastact._ext.copy_stream``: what an out-of-place
  kernel could reach where the output does not fit the caches, issue 6);

and the ratio fastact / best peer.  Implementations are interleaved round
robin (and the starting one rotated) so that drift on a shared machine hits
all of them equally; each timed batch runs long enough (``--min-time``) for
the clock, after one untimed call that brings the data back into cache.

``main(argv, prog)`` is the entry point of ``fastact bench`` and of
bench/compare.py (a thin wrapper).  Command-line errors raise
:class:`UsageError` out of ``parse_args`` (one line, no traceback, exit 2 in
``main``).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np


from . import _peers as peers

OURS = ("fastact", "numpy ref")
CEILINGS = ("copy", "scale", "copy_nt")
CEILING_LABEL = {"copy": "(ceiling: np.copyto)", "scale": "(ceiling: np.multiply(x, 2))",
                 "copy_nt": "(ceiling: NT copy, C, T threads)"}
MISMATCH = "x"          # table mark for a peer dropped because its result differs


# ------------------------------------------------------------------ machine

def machine() -> Dict[str, Any]:
    info: Dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            k, v = k.strip(), v.strip()
            if k in ("Model name", "CPU(s)", "Core(s) per socket", "Socket(s)", "Thread(s) per core",
                     "L2 cache", "L3 cache", "Hypervisor vendor"):
                info[k] = v
    except Exception:
        pass
    try:
        import fastact
        from fastact._info import config_lines
        info["fastact"] = config_lines()
    except Exception as exc:  # pragma: no cover
        info["fastact"] = [f"unavailable: {exc}"]
    info["versions"] = peers.versions()
    info["env"] = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
                                               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "FASTACT_ISA")
                   if k in os.environ}
    return info


# ------------------------------------------------------------------ timing

def _batch_size(fn: Callable[[], Any], min_time: float) -> int:
    """Calls per timed batch so that one batch takes about min_time."""
    fn()
    k = 1
    for _ in range(2):                      # estimate from one call, then refine once
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        per_call = max((time.perf_counter() - t0) / k, 1e-8)
        k_new = max(1, min(1 << 20, int(math.ceil(min_time / per_call))))
        if k_new <= k:
            break
        k = k_new
    return k


class OtherLoad:
    """CPU time used by *other* processes while a block runs, in CPUs
    (0 = machine otherwise idle, 2 = both cores busy elsewhere), from
    /proc/stat minus this process's own CPU time.  None where unavailable."""

    def __enter__(self):
        self.value: Optional[float] = None
        self._start = self._sample()
        return self

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                v = [int(t) for t in f.readline().split()[1:]]
            hz = os.sysconf("SC_CLK_TCK")
            busy = (sum(v[:8]) - v[3] - v[4]) / hz        # all but idle and iowait
            t = os.times()
            return busy, t.user + t.system, time.perf_counter()
        except Exception:
            return None

    def __exit__(self, *exc):
        end = self._sample()
        if self._start is not None and end is not None:
            wall = end[2] - self._start[2]
            if wall > 0:
                self.value = max(0.0, ((end[0] - self._start[0]) - (end[1] - self._start[1])) / wall)
        return False


# onnxruntime's intra-op workers keep spinning for ~60 ms after its last
# Run on this 2-core machine (measured: 0.8-1.2 CPUs busy for 50-60 ms, then
# 0.02), which starved the next implementation's 2-thread batch (fastact's
# float64 sigmoid: 0.02-1.3 instead of 2.5 Gelem/s).  Its session keeps the
# default spinning (force_spinning_stop costs ORT 20% in a loop of calls);
# instead, with settling on, the batch after ORT's waits this long.
ORT_SPIN_SECONDS = 0.1


def measure(impls: List[Tuple[str, Callable[[], Any]]], repeats: int, min_time: float,
            settle: float = 0.0) -> Dict[str, List[float]]:
    """Seconds per call, `repeats` samples per implementation, taken round
    robin (the starting implementation rotates each round)."""
    ks = {label: _batch_size(fn, min_time) for label, fn in impls}
    times: Dict[str, List[float]] = {label: [] for label, _ in impls}
    m = len(impls)
    prev = None
    for r in range(repeats):
        for j in range(m):
            label, fn = impls[(r + j) % m]
            if settle:
                time.sleep(ORT_SPIN_SECONDS if prev == "onnxruntime" else settle)
            prev = label
            fn()                                  # untimed: back into cache after the others
            k = ks[label]
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            times[label].append((time.perf_counter() - t0) / k)
    return times


def wait_quiet(max_wait: float, threshold: float, window: float = 1.0) -> Optional[float]:
    """Wait (up to max_wait seconds) for a `window` in which other processes
    use less than `threshold` CPUs; returns the last measured load."""
    t_end = time.perf_counter() + max_wait
    last = None
    while True:
        with OtherLoad() as ld:
            time.sleep(window)
        last = ld.value
        if last is None or last < threshold or time.perf_counter() >= t_end:
            return last


# ------------------------------------------------------------------ one configuration

def case_label(entry, example: Dict[str, Any]) -> str:
    if not example or example == dict(entry.examples[0]) and len(entry.examples) == 1:
        return entry.name
    return f"{entry.name}({', '.join(f'{k}={v}' for k, v in example.items())})"


def run_case(entry, example, n: int, dtype, nthreads: int, repeats: int, min_time: float,
             settle: float, peer_list: Sequence[str], no_ref: bool = False) -> Dict[str, Any]:
    import fastact
    x, kw, out = peers.make_input(entry, example, n, dtype)
    rec: Dict[str, Any] = {"function": entry.name, "label": case_label(entry, example),
                           "params": {k: v for k, v in example.items()}, "kind": entry.kind,
                           "family": entry.family, "dtype": np.dtype(dtype).name, "n": int(x.size),
                           "shape": list(x.shape), "threads": nthreads, "results": {}, "dropped": {}}
    try:
        expected = peers.result_of(fastact.get(entry.name)(x, **kw), out)
    except Exception as exc:
        rec["error"] = f"fastact failed: {type(exc).__name__}: {exc}"
        return rec
    impls: List[Tuple[str, Callable[[], Any]]] = []
    errors: Dict[str, float] = {}
    candidates: List[Tuple[str, Optional[Callable[[], Any]], np.ndarray]] = []
    for label, backend in (("fastact", None), ("numpy ref", "numpy"))[:1 if no_ref else 2]:
        o = np.empty_like(out)
        candidates.append((label, peers.make_fastact(entry, kw, x, o, nthreads, backend), o))
    for p in peer_list:
        o = np.empty_like(out)
        candidates.append((p, peers.make(p, entry.name, kw, x, o, nthreads), o))
    for label, fn, o in candidates:
        if fn is None:
            continue
        try:
            got = peers.result_of(fn(), o)
        except Exception as exc:
            rec["dropped"][label] = f"{type(exc).__name__}: {exc}"
            continue
        ok, err = peers.check(got, expected)
        errors[label] = err
        if not ok:
            rec["dropped"][label] = f"max relative error {err:.3g} vs fastact"
            continue
        impls.append((label, fn))
    try:
        times = measure(impls, repeats, min_time, settle)
    finally:
        del impls, candidates
        peers.release()
    for label, ts in times.items():
        med = float(np.median(ts))
        rec["results"][label] = {"gelem_s": x.size / med / 1e9, "median_s": med,
                                 "times_s": [float(t) for t in ts], "max_rel_err": errors.get(label)}
    best = max(((p, r["gelem_s"]) for p, r in rec["results"].items() if p not in OURS),
               key=lambda t: t[1], default=None)
    if best is not None and "fastact" in rec["results"]:
        rec["best_peer"] = best[0]
        rec["ratio"] = rec["results"]["fastact"]["gelem_s"] / best[1]
    return rec


def run_ceiling(n: int, dtype, nthreads: int, repeats: int, min_time: float, settle: float) -> Dict[str, Any]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    o1, o2 = np.empty_like(x), np.empty_like(x)
    impls = [("copy", lambda: np.copyto(o1, x)), ("scale", lambda: np.multiply(x, 2, out=o2))]
    try:
        from . import _ext
        o3 = np.empty_like(x)
        impls.append(("copy_nt", lambda: _ext.copy_stream(x, o3, nthreads)))
    except ImportError:          # pure-NumPy install: no C ceiling
        pass
    times = measure(impls, repeats, min_time, settle)
    return {"dtype": np.dtype(dtype).name, "n": n, "threads": nthreads,
            "results": {k: {"gelem_s": n / float(np.median(v)) / 1e9, "median_s": float(np.median(v)),
                            "times_s": [float(t) for t in v]} for k, v in times.items()}}


# ------------------------------------------------------------------ tables

def _fmt(v: Optional[float]) -> str:
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 0.1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def table_rows(records: List[Dict[str, Any]], ceiling: Optional[Dict[str, Any]],
               peer_list: Sequence[str]) -> Tuple[List[str], List[List[str]]]:
    header = ["function", *OURS, *peer_list, "best peer", "fastact / best"]
    rows: List[List[str]] = []
    if ceiling is not None:
        for c in CEILINGS:
            if c not in ceiling["results"]:
                continue
            g = ceiling["results"][c]["gelem_s"]
            label = CEILING_LABEL[c].replace("T threads", f"{ceiling['threads']} thread"
                                             + ("s" if ceiling["threads"] != 1 else ""))
            rows.append([label, _fmt(g)] + [""] * (len(header) - 2))
    for rec in records:
        res = rec["results"]
        row = [rec["label"]]
        load = rec.get("other_load_cpus")
        if load is not None and load >= rec.get("load_threshold", 0.2):
            row[0] += f" ~{load:.1f}"
        if "error" in rec:
            rows.append(row + [rec["error"]] + [""] * (len(header) - 2))
            continue
        for impl in (*OURS, *peer_list):
            if impl in rec["dropped"]:
                row.append(MISMATCH)
            else:
                r = res.get(impl)
                cell = _fmt(r["gelem_s"]) if r else "-"
                if r and rec["dtype"] == "float64" and (r.get("max_rel_err") or 0) > 1e-9:
                    cell += "*"          # float64 results only float32-accurate
                row.append(cell)
        if "ratio" in rec:
            row += [rec["best_peer"], f"{rec['ratio']:.2f}x"]
        else:
            row += ["-", "-"]
        rows.append(row)
    return header, rows


def render(header: List[str], rows: List[List[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                              for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


# ------------------------------------------------------------------ main

class UsageError(ValueError):
    """A command-line mistake: reported as one line, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting
    (``-h`` still prints the help and exits 0)."""

    def error(self, message):
        raise UsageError(message)


def _parse(argv: Optional[Sequence[str]], prog: str = "bench/compare.py") -> argparse.Namespace:
    ap = ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0],
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="activations (registry names or aliases; default: all)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 262144, 4194304],
                    help="elements per input array (default: 4096 262144 4194304)")
    ap.add_argument("--dtype", choices=["float32", "float64", "both"], nargs="+", default=["both"],
                    help="dtype(s) (default: both)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)")
    ap.add_argument("--repeats", type=int, default=7, help="timed batches per implementation (default 7, min 7 "
                    "recommended)")
    ap.add_argument("--min-time", type=float, default=0.004,
                    help="seconds per timed batch (default 0.004)")
    ap.add_argument("--settle", type=float, default=None,
                    help="seconds to sleep before each timed batch, letting other thread pools stop "
                         "spinning (default: 0.002 with >1 thread, else 0)")
    ap.add_argument("--peers", nargs="+", default=None, choices=list(peers.PEERS),
                    help="peers to run (default: every installed one)")
    ap.add_argument("--load-threshold", type=float, default=0.2,
                    help="a case during which other processes kept more than this many CPUs busy is "
                         "measured again (see --retries) and marked '~' if it stays noisy (default 0.2)")
    ap.add_argument("--retries", type=int, default=2,
                    help="re-measurements of a case disturbed by other processes (default 2)")
    ap.add_argument("--quiet-wait", type=float, default=10.0,
                    help="before a re-measurement, wait up to this many seconds for the machine to be "
                         "quiet (default 10)")
    ap.add_argument("--no-ref", action="store_true",
                    help="leave out fastact's NumPy reference (10-1000x slower than the kernels: "
                         "minutes per row at 64M elements)")
    ap.add_argument("--json", metavar="FILE", help="write every measurement to FILE")
    ap.add_argument("--markdown", action="store_true", help="print GitHub-flavoured markdown tables")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)
    args.prog = prog
    return args


def main(argv: Optional[Sequence[str]] = None, prog: str = "bench/compare.py") -> int:
    """Run the benchmark; returns the exit status.  Command-line errors are
    one line on stderr and status 2."""
    try:
        args = _parse(argv, prog)
        entries, dtypes = _validate(args)
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    return run(args, entries, dtypes, argv)


def _validate(args: argparse.Namespace):
    from fastact import _registry
    try:
        entries = [_registry.lookup(n) for n in args.names] if args.names else list(_registry.REGISTRY.values())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for opt, vals in (("--sizes", args.sizes), ("--threads", args.threads), ("--repeats", [args.repeats]),
                      ("--retries", [args.retries + 1])):
        bad = [v for v in vals if v < 1]
        if bad:
            raise UsageError(f"{opt} must be >= 1, got {bad[0]}")
    if not (args.min_time > 0 and math.isfinite(args.min_time)):
        raise UsageError(f"--min-time must be a positive number of seconds, got {args.min_time}")
    if args.json:
        d = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(d):
            raise UsageError(f"--json {args.json}: directory {d} does not exist")
        if os.path.isdir(args.json):
            raise UsageError(f"--json {args.json}: is a directory")
    dtypes = ["float32", "float64"] if "both" in args.dtype else list(dict.fromkeys(args.dtype))
    return entries, dtypes


def run(args: argparse.Namespace, entries, dtypes: List[str], argv: Optional[Sequence[str]] = None) -> int:
    import fastact
    avail = peers.available()
    peer_list = [p for p in (args.peers or peers.PEERS) if avail[p]]
    missing = [p for p in (args.peers or peers.PEERS) if not avail[p]]

    info = machine()
    cmd = " ".join([os.path.basename(sys.executable), *sys.argv]) if argv is None else \
        f"{args.prog} " + " ".join(map(str, argv))
    started = _dt.datetime.now().astimezone()
    head = [f"# fastact benchmark, {started:%Y-%m-%d %H:%M %Z}",
            f"# machine: {info.get('Model name', '?')}, {info.get('CPU(s)', '?')} CPUs; {info['platform']}",
            "# " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
            f"# peers: {', '.join(peer_list) or 'none'}" + (f" (not installed: {', '.join(missing)})" if missing else ""),
            f"# Gelem/s = input elements / median seconds per call / 1e9; median of {args.repeats}, "
            f"round robin; x = dropped (result differs from fastact's); "
            f"* = float64 result only float32-accurate; ~L = other processes kept L CPUs busy during this row "
            f"(after {args.retries} retries); the NumPy ceilings are single-threaded, the NT copy uses the row's threads"]
    out_lines = list(head)
    print("\n".join(head), flush=True)

    records: List[Dict[str, Any]] = []
    ceilings: List[Dict[str, Any]] = []
    cases = [(e, ex) for e in entries for ex in e.examples]
    try:
        with np.errstate(all="ignore"):
            for dt in dtypes:
                for n in args.sizes:
                    for nt in args.threads:
                        settle = args.settle if args.settle is not None else (0.002 if nt > 1 else 0.0)
                        with fastact.threads(nt), OtherLoad() as load:
                            peers.set_threads(nt)
                            ceil = run_ceiling(n, dt, nt, args.repeats, args.min_time, settle)
                            group = []
                            for i, (e, ex) in enumerate(cases):
                                if not args.quiet:
                                    print(f"  [{dt} n={n} threads={nt}] {i + 1}/{len(cases)} "
                                          f"{case_label(e, ex)}", end="\r", file=sys.stderr, flush=True)
                                for attempt in range(args.retries + 1):
                                    with OtherLoad() as cl:
                                        rec = run_case(e, ex, n, dt, nt, args.repeats, args.min_time,
                                                       settle, peer_list, args.no_ref)
                                    rec["other_load_cpus"] = cl.value
                                    rec["attempts"] = attempt + 1
                                    rec["load_threshold"] = args.load_threshold
                                    if cl.value is None or cl.value < args.load_threshold \
                                            or attempt == args.retries:
                                        break
                                    wait_quiet(args.quiet_wait, args.load_threshold)
                                group.append(rec)
                        if not args.quiet:
                            print(" " * 79, end="\r", file=sys.stderr, flush=True)
                        ceil["other_load_cpus"] = load.value
                        records += group
                        ceilings.append(ceil)
                        header, rows = table_rows(group, ceil, peer_list)
                        title = f"{dt}, n = {n}, {nt} thread{'s' if nt > 1 else ''} (Gelem/s)"
                        if load.value is not None:
                            title += f"; other processes kept {load.value:.2f} CPUs busy meanwhile"
                        text = ("\n### " if args.markdown else "\n== ") + title + "\n\n" + \
                            render(header, rows, args.markdown)
                        dropped = [f"  {r['label']}: {p}: {why}" for r in group for p, why in r["dropped"].items()]
                        if dropped:
                            text += "\n\ndropped:\n" + "\n".join(dropped)
                        print(text, flush=True)
                        out_lines.append(text)
    finally:
        peers.set_threads(os.cpu_count() or 1)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": cmd, "date": started.isoformat(), "machine": info,
                       "repeats": args.repeats, "min_time": args.min_time, "peers": peer_list,
                       "ceilings": ceilings, "records": records}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
