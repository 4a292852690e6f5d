"""Failure modes as tested facts (issue 9): no leaks, concurrency (threads,
thread pools vs a busy OpenMP team, fork after OpenMP), 64-bit indexing,
and no allocation beyond the output.

Companions: tests/test_properties.py (hypothesis), tests/fuzz_api.py
(atheris fuzzing, 60 s), tests/run_sanitizers.sh (ASan + UBSan suite run).

FASTACT_SLOW=1 enables the long variants (10^5 calls per function in the
leak test, the > 2^31-element array test).
"""
import gc
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc

import numpy as np
import pytest

import fastact
import fastact.reference as ref
from fastact import _api, _registry
from conftest import assert_close_ulp

SLOW = os.environ.get("FASTACT_SLOW") == "1"
slow = pytest.mark.skipif(not SLOW, reason="slow: set FASTACT_SLOW=1")
ENTRIES = list(_registry.REGISTRY.values())


def _kw(entry, x):
    """Valid keyword arguments for `entry` on x (2-d, last dim even)."""
    if entry.kind == "prelu":
        return {"weight": np.linspace(0.05, 0.5, x.shape[1]), "axis": 1}
    if entry.kind == "maxout":
        return {"pool_size": 2}
    return {}


def _bad_kw(entry):
    """Keyword arguments that make the call raise ValueError/TypeError after
    parameter parsing (or None: use a bad `out`)."""
    for p in entry.params:
        if p.kind == "float":
            return {p.name: float("nan")}
        if p.kind == "choice":
            return {p.name: "nope"}
    return None


def _calls(entry, x, g):
    """[(callable, expected exception or None)] covering the function, its
    gradients, new output / out= / raising calls."""
    kw = _kw(entry, x)
    f = getattr(fastact, entry.name)
    y = np.asarray(f(x, **kw))
    out = np.empty_like(y)
    wrong = np.empty(y.shape, dtype=np.float32 if y.dtype == np.float64 else np.float64)
    bad = _bad_kw(entry)
    calls = [(lambda: f(x, **kw), None), (lambda: f(x, **kw, out=out), None),
             (lambda: f(x, **kw, out=wrong), TypeError)]
    if bad is not None:
        calls.append((lambda: f(x, **{**kw, **bad}), ValueError))
    if hasattr(fastact, entry.name + "_grad"):
        gr = getattr(fastact, entry.name + "_grad")
        bw = getattr(fastact, entry.name + "_backward")
        gg = g if entry.kind != "maxout" else np.ones_like(y)
        gout = np.empty_like(x)
        calls += [(lambda: gr(x, **kw), None), (lambda: gr(x, **kw, out=gout), None),
                  (lambda: bw(gg, x, **kw), None), (lambda: bw(gg, x, **kw, out=gout), None),
                  (lambda: bw(gg[:1], x, **kw), ValueError)]
        if entry.kind == "unary" and _api._has_from_y(entry.kernel_call(
                {p.name: p.default for p in entry.params})[0]):
            calls.append((lambda: bw(gg, None, y=y, **kw), None))
    return calls


def _rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------ leaks

@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer's quarantine holds freed memory: RSS is no measure")
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_no_leaks(entry):
    """10^4 calls per function (10^5 with FASTACT_SLOW=1) -- new output, out=,
    and calls that raise, forward and gradients -- on small float32 arrays:
    resident memory grows by less than 4 MB."""
    n_calls = 100_000 if SLOW else 10_000
    x = np.linspace(-5, 5, 96, dtype=np.float32).reshape(8, 12)
    g = np.ones_like(x)
    calls = _calls(entry, x, g)
    per = max(1, n_calls // len(calls))

    def run(k):
        for fn, exc in calls:
            if exc is None:
                for _ in range(k):
                    fn()
            else:
                for _ in range(k):
                    try:
                        fn()
                    except exc:
                        pass
                    else:
                        raise AssertionError(f"{entry.name}: expected {exc.__name__}")

    run(max(1, per // 10))  # warm-up: caches, interned strings, allocator pools
    gc.collect()
    before = _rss_bytes()
    run(per)
    gc.collect()
    grown = _rss_bytes() - before
    assert grown < 4 * 2 ** 20, f"{entry.name}: RSS grew by {grown / 2 ** 20:.1f} MB over {per * len(calls)} calls"


# ------------------------------------------------------------------ threads

BIG = 400_000  # above every family's 2 * min_chunk: the OpenMP path


def _thread_cases():
    """(name, callable(x) -> result) for 8 different functions."""
    return [
        ("gelu", lambda x: fastact.gelu(x)),
        ("silu", lambda x: fastact.silu(x)),
        ("softplus", lambda x: fastact.softplus(x, beta=2.0)),
        ("tanh_backward", lambda x: fastact.tanh_backward(x, x)),
        ("softmax", lambda x: fastact.softmax(x.reshape(-1, 1000))),
        ("prelu", lambda x: fastact.prelu(x.reshape(-1, 8), np.linspace(0.1, 0.8, 8))),
        ("maxout", lambda x: fastact.maxout(x.reshape(-1, 1000), 4)),
        ("hardswish_grad", lambda x: fastact.hardswish_grad(x)),
    ]


def test_eight_threads_shared_readonly_input():
    """8 Python threads call 8 different functions at once (each large enough
    for OpenMP) on one shared read-only input: every result equals the
    single-threaded one bitwise, and the input is untouched."""
    x = (np.random.default_rng(0).standard_normal(BIG) * 4).astype(np.float32)
    x.flags.writeable = False
    cases = _thread_cases()
    with fastact.threads(1):
        expected = [f(x) for _, f in cases]
    barrier = threading.Barrier(len(cases))
    results = [None] * len(cases)
    errors = []

    def work(i):
        try:
            barrier.wait(timeout=30)
            for _ in range(5):
                r = cases[i][1](x)
                if r.tobytes() != expected[i].tobytes():
                    raise AssertionError(f"{cases[i][0]}: result differs under concurrency")
            results[i] = r
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(cases))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in ts), "threads hung"
    assert not errors, errors
    x_again = (np.random.default_rng(0).standard_normal(BIG) * 4).astype(np.float32)
    assert x.tobytes() == x_again.tobytes()
    assert_close_ulp(results[0], ref.gelu(x), what="gelu under threads")


_POOL_SCRIPT = r"""
import os, sys, threading, time
import numpy as np, fastact
from concurrent.futures import ThreadPoolExecutor
limit = sys.argv[1] == "limit"
def tasks():
    return len(os.listdir("/proc/self/task"))
nt = fastact.get_num_threads()
x = (np.random.default_rng(1).standard_normal(2_000_000) * 3).astype(np.float32)
expected = fastact.gelu(x).tobytes()
peak, stop = [0], [False]
def monitor():
    while not stop[0]:
        peak[0] = max(peak[0], tasks()); time.sleep(0.0005)
def worker(i):
    if limit:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1):
            return fastact.gelu(x).tobytes() == expected
    return fastact.gelu(x).tobytes() == expected
m = threading.Thread(target=monitor); m.start()
base = tasks()
with ThreadPoolExecutor(8) as ex:
    for rnd in range(3):   # the same pool threads: their teams are reused, not re-created
        fs = [ex.submit(worker, i) for i in range(24)]
        for _ in range(3):   # the main thread keeps its own OpenMP team busy meanwhile
            fastact.softmax(x.reshape(-1, 1000))
        assert all(f.result() for f in fs), "wrong result from a pool thread"
stop[0] = True; m.join()
print(nt, base, peak[0])
"""


@pytest.mark.parametrize("mode", ["default", "limit"])
def test_thread_pool_while_team_busy(mode):
    """A thread pool calls fastact while the main thread's OpenMP team is
    busy: no deadlock (run in a child with a timeout), correct results, and
    the thread count is bounded -- each concurrent caller uses at most
    get_num_threads() threads (itself + get_num_threads() - 1 OpenMP
    workers), repeated rounds reuse them; with threadpool_limits(1) in the
    workers they run on their own thread only (no extra threads at all)."""
    if mode == "limit":
        pytest.importorskip("threadpoolctl")
    p = subprocess.run([sys.executable, "-c", _POOL_SCRIPT, mode], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    nt, base, peak = map(int, p.stdout.split()[-3:])
    # base: main + monitor + the main thread's OpenMP team + other libraries' threads (BLAS)
    if mode == "limit":
        bound = base + 8                      # the 8 pool threads, no team of their own
    else:
        bound = base + 8 * nt                 # each pool thread: itself + nt - 1 workers
    bound += 1  # slack: one thread of another library starting up
    assert peak <= bound, f"{mode}: peak {peak} OS threads > {bound} (base {base}, get_num_threads() = {nt})"


def _fork_workload():
    """Every driver (unary fast/general path, binary, per-channel, maxout,
    softmax), each large enough for OpenMP when threads are available."""
    x = np.linspace(-6, 6, 1_200_000)
    x2 = x.reshape(-1, 8)
    w = np.linspace(0.1, 0.8, 8)
    return [fastact.gelu(x), fastact.softplus(x, beta=2.0), fastact.gelu_backward(x, x),
            fastact.prelu(x2, w), fastact.prelu_grad(x2, w), fastact.prelu_backward(x2, x2, w)[0],
            fastact.maxout(x2, 2), fastact.softmax(x.reshape(-1, 1000)),
            fastact.log_softmax(x.reshape(-1, 1000), axis=0)]


def _fork_child(conn, expected):
    try:
        with fastact.threads(2):  # asks for a team: must not hang
            got = _fork_workload()
        conn.send(([bool(np.array_equal(a, b)) for a, b in zip(got, expected)], fastact.get_num_threads()))
    except BaseException as e:  # noqa: BLE001
        conn.send(repr(e))
    finally:
        conn.close()


@pytest.mark.skipif(sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs the fork start method")
def test_fork_after_openmp():
    """libgomp and fork: the parent runs parallel regions (its team exists),
    then a `fork` child runs every driver.  libgomp is not fork-safe (the
    child's first parallel region waits forever for the parent's workers),
    so fastact runs a forked child's kernels on the calling thread; this
    must finish (a hang fails after 120 s instead of hanging CI) with the
    same results (bitwise: results do not depend on the thread count)."""
    with fastact.threads(2):
        expected = _fork_workload()
    ctx = multiprocessing.get_context("fork")
    for _ in range(2):  # twice: the parent's team is re-used in between
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_fork_child, args=(child_end, expected))
        proc.start()
        child_end.close()
        ok = parent_end.poll(120)
        if not ok:
            proc.kill()
            proc.join(10)
            pytest.fail("fork child hung in an OpenMP region (libgomp after fork)")
        res = parent_end.recv()
        proc.join(30)
        assert isinstance(res, tuple), res
        same, child_threads = res
        assert all(same), same
        assert child_threads == 1
        assert proc.exitcode == 0
        with fastact.threads(2):  # the parent's team still works
            np.testing.assert_array_equal(fastact.gelu(np.linspace(-6, 6, 1_200_000)), expected[0])


# ------------------------------------------------------------------ 64-bit indexing

def _mem_available():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@slow
@pytest.mark.slow
def test_more_than_2_31_elements():
    """A float32 array of 2^31 + 1000 elements (8.6 GB): in place through the
    fast path, and (if memory allows) into a new array through the general
    path with parameters; the elements beyond 2^31 are right."""
    n = 2 ** 31 + 1000
    if _mem_available() < n * 4 + 2 * 2 ** 30:
        pytest.skip("needs ~10.6 GB of free memory")
    x = np.full(n, -2.0, dtype=np.float32)
    tail = np.linspace(-8, 8, 900, dtype=np.float32)
    x[-900:] = tail  # indices 2^31 + 100 ... 2^31 + 999
    x[2 ** 31 - 1] = 3.0
    x[2 ** 31] = 4.0
    # in place, fast path (C-contiguous float32, default parameters)
    fastact.sigmoid(x, out=x)
    s2 = np.float32(ref.sigmoid(np.float32(-2.0)))
    assert_close_ulp(x[-900:], ref.sigmoid(tail), what="sigmoid tail")
    assert x[2 ** 31 - 1] == ref.sigmoid(np.float32(3.0)) and x[2 ** 31] == ref.sigmoid(np.float32(4.0))
    assert x[0] == s2 and x[2 ** 31 + 1] == s2
    # every other element: all of them, in slices (no 2 GB boolean temporary)
    step = 2 ** 28
    for i in range(0, n - 900, step):
        blk = x[i:min(i + step, n - 900)]
        mask = blk != s2
        mask[(np.arange(i, i + blk.size) == 2 ** 31 - 1) | (np.arange(i, i + blk.size) == 2 ** 31)] = False
        assert not mask.any(), f"wrong value at {i + int(np.argmax(mask))}"
    # a new output through the general path (softplus with beta=2: params)
    if _mem_available() >= n * 4 + 2 * 2 ** 30:
        y = fastact.softplus(x, beta=2.0)
        assert_close_ulp(y[-900:], ref.softplus(x[-900:], beta=2.0), what="softplus tail")
        assert y[2 ** 31] == ref.softplus(x[2 ** 31:2 ** 31 + 1], beta=2.0)[0]
        assert y[1] == ref.softplus(x[1:2], beta=2.0)[0]
        del y
    del x


# ------------------------------------------------------------------ allocations

N_ALLOC = 64 * 2 ** 20   # float32 elements: 256 MiB per array
SCRATCH = 2 ** 20        # the documented "small per-thread scratch" bound


@pytest.fixture(scope="module")
def big32():
    x = np.random.default_rng(0).standard_normal(N_ALLOC, dtype=np.float32)
    return x, np.ones_like(x)


# The parameter gradients and the maxout routing used to be computed by NumPy
# in float64 over the whole array (64M float32 elements, 256 MiB output:
# prelu_backward +2112 MiB, maxout_backward +808 MiB, swish_backward(beta_grad=True)
# +3072 MiB above the output).  Now the routing is one kernel pass and the
# reductions widen bounded blocks (_api._BLOCK) into preallocated scratch.
# Checked on 4M elements (test_param_gradients_allocate_only_the_output) and
# at 64M with the other cases (ALLOC_CASES).
PARAM_GRAD_CASES = {
    "prelu_backward": lambda x, g: fastact.prelu_backward(g.reshape(-1, 64), x.reshape(-1, 64),
                                                          np.linspace(0, 1, 64)),
    "prelu_backward_scalar": lambda x, g: fastact.prelu_backward(g, x, 0.25),
    "prelu_backward_wide_rows": lambda x, g: fastact.prelu_backward(g.reshape(8, -1), x.reshape(8, -1),
                                                                    np.linspace(0, 1, 8), axis=0),
    "maxout_backward": lambda x, g: fastact.maxout_backward(g[: x.size // 2].reshape(-1, 32),
                                                            x.reshape(-1, 64), 2),
    "maxout_backward_axis0": lambda x, g: fastact.maxout_backward(g[: x.size // 4].reshape(-1, 64),
                                                                  x.reshape(-1, 64), 4, axis=0),
    "swish_backward_beta_grad": lambda x, g: fastact.swish_backward(g, x, beta_grad=True),
}

ALLOC_CASES = {
    "sigmoid": lambda x, g: fastact.sigmoid(x),
    "gelu_tanh": lambda x, g: fastact.gelu(x, approximate="tanh"),
    "softplus_beta2": lambda x, g: fastact.softplus(x, beta=2.0),
    "hardtanh_params": lambda x, g: fastact.hardtanh(x, -2.0, 2.0),
    "prelu_per_channel": lambda x, g: fastact.prelu(x.reshape(-1, 64), np.linspace(0, 1, 64)),
    "maxout": lambda x, g: fastact.maxout(x.reshape(-1, 64), 2),
    "softmax": lambda x, g: fastact.softmax(x.reshape(-1, 64)),
    "log_softmax_axis0": lambda x, g: fastact.log_softmax(x.reshape(-1, 64), axis=0),
    "tanh_backward": lambda x, g: fastact.tanh_backward(g, x),
    "sigmoid_backward_y": lambda x, g: fastact.sigmoid_backward(g, None, y=x),
    "relu_grad": lambda x, g: fastact.relu_grad(x),
    "prelu_grad": lambda x, g: fastact.prelu_grad(x.reshape(-1, 64), np.linspace(0, 1, 64)),
    **PARAM_GRAD_CASES,
}


def _peak_extra(fn, *args):
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        r = fn(*args)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    r0 = r[0] if isinstance(r, tuple) else r
    return peak, r0.nbytes


@pytest.mark.parametrize("name", list(ALLOC_CASES))
def test_allocates_only_the_output(name, big32):
    """A 64M-element contiguous float32 call allocates (NumPy allocations,
    seen by tracemalloc) at most its output + 1 MiB."""
    peak, out_bytes = _peak_extra(ALLOC_CASES[name], *big32)
    assert peak <= out_bytes + SCRATCH, f"{name}: peak {peak / 2**20:.1f} MiB, output {out_bytes / 2**20:.1f} MiB"


def test_out_allocates_nothing(big32):
    x, g = big32
    out = np.empty_like(x)
    for fn in (lambda: fastact.gelu(x, out=out), lambda: fastact.swish(x, beta=1.5, out=out),
               lambda: fastact.gelu_backward(g, x, out=out)):
        peak, _ = _peak_extra(fn)
        assert peak <= SCRATCH, peak


@pytest.mark.parametrize("name", list(PARAM_GRAD_CASES))
def test_param_gradients_allocate_only_the_output(name):
    """Was the strict xfail test_known_temporaries: on 4M float32 elements
    the parameter gradients / maxout routing allocate at most their output
    + 1 MiB (the 64M variants run in test_allocates_only_the_output)."""
    n = 4 * 2 ** 20
    x = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    g = np.ones_like(x)
    peak, out_bytes = _peak_extra(PARAM_GRAD_CASES[name], x, g)
    assert peak <= out_bytes + SCRATCH, f"{name}: peak {peak / 2**20:.1f} MiB, output {out_bytes / 2**20:.1f} MiB"


def test_param_gradients_out_allocates_only_scratch():
    n = 4 * 2 ** 20
    x = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    g = np.ones_like(x)
    out = np.empty_like(x)
    for fn in (lambda: fastact.maxout_backward(g[: n // 2].reshape(-1, 32), x.reshape(-1, 64), 2,
                                               out=out.reshape(-1, 64)),
               lambda: fastact.swish_backward(g, x, 1.5, beta_grad=True, out=out)):
        peak, _ = _peak_extra(fn)
        assert peak <= SCRATCH, peak


# ------------------------------------------------------------------ alignment

def _misaligned(a):
    """A copy of `a` whose data pointer is off by one byte (flags.aligned False),
    as arrays rebuilt from pickled/shared byte buffers can be (dask found it)."""
    buf = np.empty(a.nbytes + 1, dtype=np.uint8)
    m = buf[1:].view(a.dtype).reshape(a.shape)
    m[...] = a
    assert not m.flags.aligned
    return m


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_misaligned_arrays(entry, dtype):
    """Misaligned x, grad_output and out (NumPy's aligned=False) are never
    handed to the kernels (float*/double* loads from them are undefined
    behaviour -- UBSan reported them): the results equal the aligned ones."""
    x = np.linspace(-6, 6, 40_000, dtype=dtype).reshape(-1, 8)   # above the serial threshold
    kw = _kw(entry, x)
    f = getattr(fastact, entry.name)
    exp = f(x, **kw)
    np.testing.assert_array_equal(f(_misaligned(x), **kw), exp)
    out = _misaligned(np.zeros_like(exp))
    assert f(_misaligned(x), **kw, out=out) is out
    np.testing.assert_array_equal(out, exp)
    if entry.kind != "maxout":  # in place on a misaligned array
        xm = _misaligned(x)
        f(xm, **kw, out=xm)
        np.testing.assert_array_equal(xm, exp)
    if hasattr(fastact, entry.name + "_backward"):
        g = np.ones_like(exp) if entry.kind == "maxout" else np.full_like(x, 0.5)
        bw = getattr(fastact, entry.name + "_backward")
        e2 = bw(g, x, **kw)
        g2 = bw(_misaligned(g), _misaligned(x), **kw)
        e2, g2 = (e2[0], g2[0]) if isinstance(e2, tuple) else (e2, g2)
        np.testing.assert_array_equal(g2, e2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_parameters_and_infinite_gradients(dtype, isa):
    """Found by tests/fuzz_api.py against the AVX-512 double-lane kernels:
    1/alpha overflows for a subnormal alpha (celu, softplus beta), and
    g * gelu'(-inf) must be inf * 0 = NaN as in the reference.  On every
    SIMD path: without FMA (baseline), celu'(x; alpha = 1.7e308) was NaN
    (Veltkamp's split of alpha overflowed)."""
    x = np.array([0.0, -0.0, -1.0, -1e-30, 1.0, -np.inf, np.inf, np.nan], dtype=dtype)
    for a in (1e-320, 1.7e308):
        for got, want in ((fastact.celu(x, alpha=a), fastact.celu(x, alpha=a, backend="numpy")),
                          (fastact.derivative("celu", x, alpha=a),
                           fastact.derivative("celu", x, alpha=a, backend="numpy")),
                          (fastact.softplus(x, beta=a), fastact.softplus(x, beta=a, backend="numpy"))):
            assert np.array_equal(np.isnan(got), np.isnan(want)), (a, got, want)
    g = np.full_like(x, np.inf)
    got = fastact.gelu_backward(g, x)
    want = fastact.gelu_backward(g, x, backend="numpy")
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_swish_huge_product_and_infinite_gradients(dtype, isa):
    """Found by tests/fuzz_api.py against the AVX-512 float64 kernels:
    swish(-6.97e199, beta=-0.805) came out NaN (the rounding error of
    beta * x, 1e183, reached exp's reduced argument), and g * sigmoid'(x)
    with g = inf must stay inf where sigmoid' > 0."""
    big = np.finfo(dtype).max / 4
    x = np.array([-big, big, -1e30, 1e30, -6.97e30, 0.0, -0.0, 1.0, -1.0, np.inf, -np.inf],
                 dtype=dtype)
    for beta in (-0.8054863164054782, 0.5, -1e-30, 1e-30, 1.0):
        got = fastact.swish(x, beta=beta)
        want = fastact.swish(x, beta=beta, backend="numpy")
        assert np.array_equal(np.isnan(got), np.isnan(want)), (beta, got, want)
        np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=1e-6)
    g = np.full_like(x, np.inf)
    for name in ("sigmoid", "tanh"):
        got = getattr(fastact, name + "_backward")(g, x)
        want = getattr(fastact, name + "_backward")(g, x, backend="numpy")
        np.testing.assert_array_equal(got, want)


def test_softplus_float64_any_beta_against_mpmath():
    """The AVX-512 float64 softplus divides log1p(e^-|v|) by beta with one
    corrected quotient; a low part that was not renormalised made every
    beta other than a power of two ~1e-8 off (the registry examples only
    use beta = 1 and 2).  mpmath at 50 digits; 2 ULP is the float64 bound."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    x = np.array([-30.0, -3.0, -1.0, -0.3, 0.0, 0.3, 1.0, 3.0, 9.0])
    for beta in (0.7, -1.3, 1e-10, 3.0, 1e10):
        xs = x / abs(beta)
        got = fastact.softplus(xs, beta=beta, threshold=20.0)
        for xi, gi in zip(xs, got):
            v = mp.mpf(beta) * mp.mpf(xi)
            want = mp.mpf(xi) if v > 20 else mp.log1p(mp.exp(v)) / beta
            ulp = np.spacing(abs(float(want))) if want != 0 else 5e-324
            assert abs(float((mp.mpf(gi) - want) / ulp)) <= 2.0, (beta, xi, gi, want)
