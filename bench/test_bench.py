"""pytest-benchmark suite: every registry function (every parameter set in
its ``examples``) x size x dtype x thread count, fastact against its NumPy
reference (``backend="numpy"``) in the same ``benchmark.group``.

    python -m pytest bench/test_bench.py --benchmark-only -q
    FASTACT_BENCH_HUGE=1 python -m pytest bench/test_bench.py --benchmark-only -q   # adds n = 64M
    python -m pytest bench/test_bench.py --benchmark-only -q -k "sigmoid and float32 and n262144"

Not part of the normal test run (the project's testpaths is ``tests``).
Inputs are the same as bench/compare.py's (bench/peers.py: make_input):
moderate values, normal with sd 3, preallocated ``out``.  The NumPy
reference is single-threaded whatever the thread count; it is benchmarked in
every group so each group is self-contained.  For the peers (PyTorch, ONNX
Runtime, ...) run bench/compare.py.
"""
import importlib.util
import os
import sys

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import fastact  # noqa: E402
from fastact import _registry  # noqa: E402


def _load_peers():
    name = "_fastact_bench_peers"
    if name not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers.py")
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


peers = _load_peers()

SIZES = [4096, 262144, 4194304]
if os.environ.get("FASTACT_BENCH_HUGE") == "1":
    SIZES.append(64 * 1024 * 1024)
DTYPES = ["float32", "float64"]
THREADS = [1, 2]
IMPLS = ["fastact", "numpy_ref"]


def _size_id(n):
    return f"n{n}"


def _case_id(entry, example):
    if not example:
        return entry.name
    return entry.name + "[" + ",".join(f"{k}={v}" for k, v in example.items()) + "]"


CASES = [pytest.param(e, ex, id=_case_id(e, ex))
         for e in _registry.REGISTRY.values() for ex in e.examples]


@pytest.fixture(scope="module")
def _inputs():
    """Inputs are built once per (case, n, dtype) and shared by the impls."""
    cache = {}

    def get(entry, example, n, dtype):
        key = (entry.name, repr(example), n, dtype)
        if key not in cache:
            cache.clear()      # the parametrisation order keeps one key live at a time
            cache[key] = peers.make_input(entry, example, n, dtype)
        return cache[key]
    return get


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("threads", THREADS, ids=lambda t: f"t{t}")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES, ids=_size_id)
@pytest.mark.parametrize("entry, example", CASES)
def test_activation(benchmark, _inputs, entry, example, n, dtype, threads, impl):
    x, kw, out = _inputs(entry, example, n, dtype)
    fn = getattr(fastact, entry.name)
    backend = "numpy" if impl == "numpy_ref" else None
    benchmark.group = f"{_case_id(entry, example)} {dtype} n={n} threads={threads}"
    benchmark.extra_info.update(function=entry.name, family=entry.family, dtype=dtype, n=int(x.size),
                                threads=threads, impl=impl)
    with fastact.threads(threads), np.errstate(all="ignore"):
        if impl == "numpy_ref":
            result = benchmark(lambda: fn(x, **kw, out=out, backend=backend))
        else:
            result = benchmark(lambda: fn(x, **kw, out=out))
    assert result is out
