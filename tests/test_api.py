"""Threads, backends, ISA paths, aliases and the exact values of the issue."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastact
import fastact.reference as ref
from fastact import _api, _registry
from conftest import assert_close_ulp, call, cases, resolve_params, sample_values


def test_known_values_float32():
    x = np.array([-1, 0, 1], dtype=np.float32)
    np.testing.assert_array_equal(fastact.sigmoid(x), np.array([0.26894143, 0.5, 0.7310586], dtype=np.float32))
    np.testing.assert_array_equal(fastact.tanh(x), np.array([-0.7615942, 0, 0.7615942], dtype=np.float32))
    np.testing.assert_array_equal(fastact.relu(x), np.array([0, 0, 1], dtype=np.float32))


def test_public_names_and_aliases():
    for name in _registry.REGISTRY:
        assert callable(getattr(fastact, name))
        assert callable(getattr(ref, name))
        assert name in fastact.available()
    assert fastact.logistic is fastact.sigmoid
    assert fastact.hard_swish is fastact.hardswish
    x = np.linspace(-5, 5, 101)
    np.testing.assert_array_equal(fastact.swish(x), fastact.silu(x))
    np.testing.assert_array_equal(fastact.prelu(x, 0.2), fastact.leaky_relu(x, 0.2))


def test_signatures_are_real():
    import inspect
    sig = inspect.signature(fastact.softplus)
    assert list(sig.parameters) == ["x", "beta", "threshold", "out", "backend"]
    assert sig.parameters["beta"].default == 1.0
    assert "f(x) = " in fastact.softplus.__doc__


def test_use_backend():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    with fastact.use_backend("numpy"):
        assert fastact.gelu(x).tobytes() == ref.gelu(x).tobytes()
    with pytest.raises(ValueError, match="backend must be one of"):
        with fastact.use_backend("gpu"):
            pass


def test_thread_api():
    n0 = fastact.get_num_threads()
    assert n0 >= 1
    with fastact.threads(1):
        assert fastact.get_num_threads() == 1
    assert fastact.get_num_threads() == n0
    with pytest.raises(ValueError):
        fastact.set_num_threads(0)
    with pytest.raises(TypeError):
        fastact.set_num_threads(1.5)


def test_openmp_enabled():
    assert _api._ext.openmp_enabled(), "this build has no OpenMP"


def test_omp_num_threads_respected():
    code = "import fastact; print(fastact.get_num_threads())"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    outp = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert outp.stdout.strip() == "1"


def test_threadpoolctl():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    info = threadpoolctl.threadpool_info()
    assert any(i["user_api"] == "openmp" for i in info), info
    with fastact.threads(2):
        with threadpoolctl.threadpool_limits(1, user_api="openmp"):
            assert fastact.get_num_threads() == 1


SUPPORTED_ISAS = [i for i in ("baseline", "avx2", "avx512") if _api._ext.isa_supported(i)]


@pytest.mark.parametrize("isa", SUPPORTED_ISAS)
@pytest.mark.parametrize("entry,example", cases())
def test_every_isa_matches_reference(isa, entry, example):
    old = _api._ext.current_isa()
    try:
        assert _api._ext.select_isa(isa) == isa
        for dtype in (np.float32, np.float64):
            x = sample_values(3000, dtype, seed=7)[:5400].reshape(90, 60)
            kw = resolve_params(entry, example, x)
            assert_close_ulp(call(entry, x, kw), call(entry, x, kw, backend="numpy"),
                             what=f"{entry.name}[{isa}]")
    finally:
        _api._ext.select_isa(old)


def test_bad_isa():
    with pytest.raises(ValueError, match="not supported"):
        _api._ext.select_isa("sse9")


def test_fastact_isa_env():
    code = "import fastact, fastact._api as a; print(a._ext.current_isa())"
    env = dict(os.environ, FASTACT_ISA="baseline")
    outp = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert outp.stdout.strip() == "baseline"


@pytest.mark.parametrize("entry,example", cases())
def test_body_and_remainder_agree(entry, example):
    """The same value at every position of arrays of length 1..70 gives the
    same bits (vector body vs scalar remainder)."""
    if entry.kind != "unary":
        pytest.skip("elementwise kernels only")
    for dtype in (np.float32, np.float64):
        vals = sample_values(4, dtype, seed=9)
        for n in range(1, 71):
            x = np.empty(n, dtype=dtype)
            for v in vals[:6]:
                x[:] = v
                y = call(entry, x, dict(example))
                assert len(set(y.view(np.uint32 if dtype == np.float32 else np.uint64).tolist())) == 1
