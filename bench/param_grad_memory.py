"""Memory and time of the three gradients that used to build whole-array
float64 temporaries (issue 9): prelu_backward (grad_weight), maxout_backward,
swish_backward(beta_grad=True).

    python bench/param_grad_memory.py            # 64M float32 elements (memory), 4M (time)
    python bench/param_grad_memory.py --n-mem 4194304 --n-time 1048576

Memory: each case runs in a fresh child process; "tracemalloc" is the peak of
NumPy/Python allocations during the call above what existed before it,
"RSS" the growth of the peak resident set (ru_maxrss) over the resident set
just before the call (inputs already touched).  Both are shown next to the
size of the call's outputs.  Time: median of --repeat calls (after one
warm-up) at --n-time elements, with fastact's default thread count.
"""
import argparse
import json
import subprocess
import sys

CASES = ("prelu_backward", "maxout_backward", "swish_backward_beta_grad")

_CHILD = r"""
import gc, json, resource, sys, time, tracemalloc
import numpy as np, fastact
name, n, mode, repeat = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
x = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
g = np.random.default_rng(1).standard_normal(n, dtype=np.float32)
w = np.linspace(0, 1, 64)
fn = {"prelu_backward": lambda: fastact.prelu_backward(g.reshape(-1, 64), x.reshape(-1, 64), w),
      "maxout_backward": lambda: fastact.maxout_backward(g[: n // 2].reshape(-1, 32), x.reshape(-1, 64), 2),
      "swish_backward_beta_grad": lambda: fastact.swish_backward(g, x, beta_grad=True)}[name]
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()
def nbytes(r):
    return sum(np.asarray(a).nbytes for a in (r if isinstance(r, tuple) else (r,)))
if mode == "mem":
    fn()  # warm-up: import-time and first-call allocations
    gc.collect()
    base_rss = rss()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    r = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    # ru_maxrss includes the warm-up call: the warm-up's result was freed
    # before base_rss, so a first call at least as hungry shows up either way
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"tracemalloc": peak, "rss": max_rss - base_rss, "out": nbytes(r)}))
else:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    print(json.dumps({"median_ms": 1e3 * sorted(ts)[len(ts) // 2], "min_ms": 1e3 * min(ts)}))
"""


def _run(name, n, mode, repeat):
    p = subprocess.run([sys.executable, "-c", _CHILD, name, str(n), mode, str(repeat)],
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout.splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-mem", type=int, default=64 * 2 ** 20)
    ap.add_argument("--n-time", type=int, default=4 * 2 ** 20)
    ap.add_argument("--repeat", type=int, default=9)
    a = ap.parse_args(argv)
    MiB = 2 ** 20
    print(f"memory at n = {a.n_mem} float32, time at n = {a.n_time} (median of {a.repeat})")
    print(f"{'case':26s} {'output':>10s} {'tracemalloc':>12s} {'peak RSS':>10s} {'extra(tm)':>10s}"
          f" {'median':>9s} {'min':>9s}")
    for name in CASES:
        m = _run(name, a.n_mem, "mem", 1) if a.n_mem else None
        t = _run(name, a.n_time, "time", a.repeat) if a.n_time else None
        cols = [f"{name:26s}"]
        if m:
            cols += [f"{m['out'] / MiB:8.1f}Mi", f"{m['tracemalloc'] / MiB:10.1f}Mi",
                     f"{m['rss'] / MiB:8.1f}Mi", f"{(m['tracemalloc'] - m['out']) / MiB:8.1f}Mi"]
        if t:
            cols += [f"{t['median_ms']:7.2f}ms", f"{t['min_ms']:7.2f}ms"]
        print(" ".join(cols), flush=True)


if __name__ == "__main__":
    main()
