"""Read the targets of issue 6 (and issue 3's softmax rows) off the JSON that
bench/compare.py writes, and print which rows meet them.

    python bench/targets.py --run DIR [--markdown]      # the whole run: both
        # compare.py invocations below (JSON and markdown tables into DIR), then
        # the targets; about 40 min on a 2-core machine
    python bench/targets.py A.json [B.json ...] [--dtype float32] [--markdown]

--run runs (the OpenBLAS variables of a shared machine unset):
    compare.py --sizes 4096 262144 4194304 --dtype float32 float64 --threads 1 2
               --repeats 7 --retries 1 --quiet-wait 5 --no-ref --markdown --json DIR/main.json
    compare.py --sizes 67108864 --dtype float32 --threads 2 --repeats 5 --retries 0
               --no-ref --peers torch onnxruntime --markdown --json DIR/64m.json
    compare.py EXP-BASED --sizes 262144 4194304 --dtype float32 float64 --threads 1 2
               --repeats 7 --retries 1 --no-ref --peers numpy --markdown --json DIR/scaling.json
The last one is what T2a (2 threads against 1) is read from when present:
beside torch and ONNX Runtime, whose thread pools keep spinning after their
own calls, a fastact team member often waits for a core at its barrier
(bench/RESULTS.md); NumPy is single-threaded and leaves the cores idle.

Targets (float32; float64 is printed the same way, "at least as far ahead"):
  T1  n = 256K, 1 thread: exp-based functions >= 1.5x the best peer, the
      others >= 1.0x
  T2  n = 256K and 4M, 2 threads: exp-based >= 1.8x fastact's own 1-thread
      figure and >= 1.5x the best peer
  T3  n = 64M, 2 threads: every elementwise function >= 0.9x the
      non-temporal copy ceiling of the same run
  T4  n = 4K, 1 thread: >= the best peer
  T5  exp-based >= 5x the obvious NumPy expression (n = 256K, 1 thread)
Each line: the row, the figure, and "ok" or "MISS".
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any, Dict, List, Optional, Tuple

# the list of exp-based functions (the softmax family included)
EXP_BASED = {"sigmoid", "log_sigmoid", "tanh", "elu", "celu", "selu", "gelu", "silu", "swish", "mish",
             "softplus", "softmax", "log_softmax", "softmin"}
ROWWISE = {"softmax", "log_softmax", "softmin", "maxout", "prelu"}


def load(paths: List[str]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    recs, ceils = [], []
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        alone = d.get("peers") == ["numpy"]         # a run without pooled peers (T2a)
        for r in d.get("records", []):
            r["_alone"] = alone
        recs += d.get("records", [])
        ceils += d.get("ceilings", [])
    return recs, ceils


def gelem(rec: Dict[str, Any], impl: str) -> Optional[float]:
    r = rec.get("results", {}).get(impl)
    return r["gelem_s"] if r else None


def find(recs, label: str, dtype: str, n: int, threads: int, alone: bool = False) -> Optional[Dict[str, Any]]:
    for r in recs:
        if r["label"] == label and r["dtype"] == dtype and r["n"] == n and r["threads"] == threads \
                and r.get("_alone", False) == alone:
            return r
    return None


def evaluate(recs, ceils, dtype: str) -> List[Tuple[str, str, str, bool]]:
    """(target, row, figure, met) for every row the JSON holds."""
    out = []
    rows = [r for r in recs if r["dtype"] == dtype and "error" not in r]
    for r in rows:
        alone = r.get("_alone", False)
        if r["n"] in (262144, 4194304) and r["threads"] == 2 and r["function"] in EXP_BASED:
            # T2a from the run without pooled peers where there is one
            use_alone = find(recs, r["label"], dtype, r["n"], 1, alone=True) is not None and \
                find(recs, r["label"], dtype, r["n"], 2, alone=True) is not None
            if alone == use_alone:
                one = find(recs, r["label"], dtype, r["n"], 1, alone=alone)
                f2, f1 = gelem(r, "fastact"), gelem(one, "fastact") if one else None
                if f2 and f1:
                    out.append(("T2a", f"{r['label']} n={r['n']}", f"{f2 / f1:.2f}x own 1-thread (>= 1.8x)",
                                f2 / f1 >= 1.8))
        if alone and find(recs, r["label"], dtype, r["n"], r["threads"], alone=False) is not None:
            continue                  # the main run's row has the full set of peers
        if r["n"] == 262144 and r["threads"] == 1 and "ratio" in r:
            want = 1.5 if r["function"] in EXP_BASED else 1.0
            out.append(("T1", r["label"], f"{r['ratio']:.2f}x {r['best_peer']} (>= {want}x)",
                        r["ratio"] >= want))
        if r["n"] in (262144, 4194304) and r["threads"] == 2 and r["function"] in EXP_BASED:
            if "ratio" in r:
                out.append(("T2b", f"{r['label']} n={r['n']}", f"{r['ratio']:.2f}x {r['best_peer']} (>= 1.5x)",
                            r["ratio"] >= 1.5))
        if r["n"] >= 1 << 26 and r["threads"] == 2 and r.get("kind") == "unary":
            c = [c for c in ceils if c["dtype"] == dtype and c["n"] == r["n"] and c["threads"] == 2
                 and "copy_nt" in c["results"]]
            f = gelem(r, "fastact")
            if c and f:
                ceil = c[0]["results"]["copy_nt"]["gelem_s"]
                out.append(("T3", r["label"], f"{f:.2f} of {ceil:.2f} Gelem/s = {f / ceil:.2f}x (>= 0.9x)",
                            f / ceil >= 0.9))
        if r["n"] == 4096 and r["threads"] == 1 and "ratio" in r:
            out.append(("T4", r["label"], f"{r['ratio']:.2f}x {r['best_peer']} (>= 1.0x)", r["ratio"] >= 1.0))
        if r["n"] == 262144 and r["threads"] == 1 and r["function"] in EXP_BASED:
            f, np_ = gelem(r, "fastact"), gelem(r, "numpy")
            if f and np_:
                out.append(("T5", r["label"], f"{f / np_:.1f}x numpy (>= 5x)", f / np_ >= 5.0))
    return out


RUNS = {
    "main.json": ["--sizes", "4096", "262144", "4194304", "--dtype", "float32", "float64", "--threads", "1", "2",
                  "--repeats", "7", "--retries", "1", "--quiet-wait", "5", "--no-ref", "--markdown"],
    "64m.json": ["--sizes", "67108864", "--dtype", "float32", "--threads", "2", "--repeats", "5",
                 "--retries", "0", "--no-ref", "--peers", "torch", "onnxruntime", "--markdown"],
    "scaling.json": [*sorted(EXP_BASED), "--sizes", "262144", "4194304", "--dtype", "float32", "float64",
                     "--threads", "1", "2", "--repeats", "7", "--retries", "1", "--no-ref", "--peers",
                     "numpy", "--markdown"],
}


def run(outdir: str) -> List[str]:
    os.makedirs(outdir, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    compare = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare.py")
    paths = []
    for name, opts in RUNS.items():
        path = os.path.join(outdir, name)
        with open(path[:-5] + ".md", "w") as md:
            subprocess.run([sys.executable, compare, *opts, "--json", path], stdout=md, env=env, check=True)
        paths.append(path)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="issue 6's targets from bench/compare.py --json files")
    ap.add_argument("json", nargs="*")
    ap.add_argument("--run", metavar="DIR", help="run the benchmarks first (see the module docstring)")
    ap.add_argument("--dtype", choices=["float32", "float64"], nargs="+", default=["float32", "float64"])
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--misses", action="store_true", help="print only the rows that miss")
    args = ap.parse_args(argv)
    paths = list(args.json) + (run(args.run) if args.run else [])
    if not paths:
        ap.error("give compare.py JSON files or --run DIR")
    recs, ceils = load(paths)
    for dt in args.dtype:
        res = evaluate(recs, ceils, dt)
        if not res:
            continue
        print(f"\n### {dt}: {sum(m for *_, m in res)} of {len(res)} met\n")
        for t in ("T1", "T2a", "T2b", "T3", "T4", "T5"):
            sel = [x for x in res if x[0] == t]
            if not sel:
                continue
            met = sum(m for *_, m in sel)
            misses = [x for x in sel if not x[3]]
            if args.markdown:
                print(f"- **{t}**: {met}/{len(sel)} met" + (": misses " + "; ".join(
                    f"{row} {fig.split(' (')[0]}" for _, row, fig, _ in misses) if misses else ""))
            else:
                print(f"{t}: {met}/{len(sel)} met")
                for _, row, fig, m in sel:
                    if m and args.misses:
                        continue
                    print(f"  {'ok  ' if m else 'MISS'} {row:45s} {fig}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
