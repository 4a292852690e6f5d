"""Issue 8: Dask arrays, array-likes (pandas, memoryview, __array__),
threadpoolctl, and the type stub (mypy --strict on tests/typing_check.py).
Optional dependencies skip their tests cleanly when absent."""
import array
import os
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

import fastact
from conftest import assert_close_ulp

HERE = os.path.dirname(os.path.abspath(__file__))


# ------------------------------------------------------------ dask

def _rng_matrix(shape=(60, 50), dtype=np.float32, seed=3):
    return (np.random.default_rng(seed).standard_normal(shape) * 4).astype(dtype)


DASK_CASES = [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("softplus", {"beta": 2.0}), ("sigmoid", {}),
    ("softmax", {}), ("softmax", {"axis": 0}), ("log_softmax", {}), ("softmin", {"axis": 0}),
    ("maxout", {"pool_size": 2}), ("maxout", {"pool_size": 3, "axis": 0}),
    ("prelu", {"weight": 0.2}), ("prelu", {"weight": "per-channel", "axis": 1}),
]


def _kw(kw, x):
    kw = dict(kw)
    if kw.get("weight") == "per-channel":
        kw["weight"] = np.linspace(0.05, 0.5, x.shape[kw["axis"]])
    return kw


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", DASK_CASES, ids=[f"{n}-{k}" for n, k in DASK_CASES])
def test_dask_matches_numpy(name, kw, dtype):
    da = pytest.importorskip("dask.array")
    x = _rng_matrix(dtype=dtype)
    x[3, 4] = np.inf
    x[5, :] = -np.inf
    kw = _kw(kw, x)
    for chunks in ((7, 9), (60, 9), (7, 50)):   # the reduction axis split, or not
        d = da.from_array(x, chunks=chunks)
        y = getattr(fastact, name)(d, **kw)
        assert isinstance(y, da.Array)
        expected = getattr(fastact, name)(x, **kw, backend="numpy")   # the reference
        assert y.dtype == expected.dtype and y.shape == expected.shape
        got = y.compute(scheduler="synchronous")
        assert isinstance(got, np.ndarray)
        assert_close_ulp(got, expected, what=f"{name} chunks={chunks}")


def test_dask_is_lazy_and_checks_eagerly():
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")

    @dask.delayed
    def boom():
        raise RuntimeError("computed")

    d = da.from_delayed(boom(), shape=(4, 6), dtype=np.float32)
    y = fastact.gelu(d)              # builds a graph only
    z = fastact.softmax(d, axis=0)
    assert isinstance(y, da.Array) and isinstance(z, da.Array)
    with pytest.raises(RuntimeError, match="computed"):
        y.compute(scheduler="synchronous")
    # argument errors surface at call time, with fastact's messages
    with pytest.raises(TypeError, match=r"gelu\(\): out= is not supported for dask arrays"):
        fastact.gelu(d, out=np.empty((4, 6), np.float32))
    with pytest.raises(ValueError, match="approximate must be one of"):
        fastact.gelu(d, approximate="fast")
    with pytest.raises(ValueError, match="out of bounds"):
        fastact.softmax(d, axis=2)
    with pytest.raises(ValueError, match="does not divide"):
        fastact.maxout(d, pool_size=4)
    with pytest.raises(ValueError, match="channels"):
        fastact.prelu(d, np.ones(5), axis=1)
    with pytest.raises(TypeError, match="dtype"):
        fastact.relu(da.zeros(3, dtype=np.complex128))


def test_dask_dtypes_and_backend():
    da = pytest.importorskip("dask.array")
    i = da.arange(10, chunks=3)
    assert fastact.relu(i).dtype == np.float64
    h = da.from_array(np.linspace(-3, 3, 11).astype(np.float16), chunks=4)
    assert fastact.gelu(h).dtype == np.float16
    x = _rng_matrix()
    d = da.from_array(x, chunks=(8, 8))
    with fastact.use_backend("numpy"):   # resolved when the graph is built
        y = fastact.gelu(d)
    np.testing.assert_array_equal(y.compute(scheduler="synchronous"),
                                  fastact.gelu(x, backend="numpy"))


def test_importing_fastact_does_not_import_dask():
    code = ("import sys, numpy as np, fastact; fastact.gelu(np.ones(3)); fastact.gelu([1.0]); "
            "fastact.softmax(np.ones((2, 3))); print('dask' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"


def test_dask_on_a_local_cluster(tmp_path):
    """The issue's acceptance test: two worker processes, one thread each."""
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    x = _rng_matrix((400, 300), np.float32, seed=11)
    d = da.from_array(x, chunks=(100, 75))         # softmax's axis spans 4 chunks
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=":0", local_directory=str(tmp_path)) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        lazy = {
            "gelu": fastact.gelu(d),
            "softmax": fastact.softmax(fastact.gelu(d), axis=-1),
            "log_softmax0": fastact.log_softmax(d, axis=0),
            "prelu": fastact.prelu(d, np.linspace(0.1, 0.3, 300), axis=1),
            "maxout": fastact.maxout(d, pool_size=3),
        }
        got = client.compute(lazy, sync=True)
    with fastact.use_backend("numpy"):   # the reference
        expected = {
            "gelu": fastact.gelu(x),
            "softmax": fastact.softmax(fastact.gelu(x), axis=-1),
            "log_softmax0": fastact.log_softmax(x, axis=0),
            "prelu": fastact.prelu(x, np.linspace(0.1, 0.3, 300), axis=1),
            "maxout": fastact.maxout(x, pool_size=3),
        }
    for k in expected:
        assert_close_ulp(got[k], expected[k], what=k)


# ------------------------------------------------------------ array-likes

def test_memoryview_and_array_array():
    x = np.linspace(-4, 4, 17, dtype=np.float32)
    y = fastact.gelu(memoryview(x))
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    np.testing.assert_array_equal(y, fastact.gelu(x))
    a = array.array("d", [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(fastact.silu(a), fastact.silu(np.array(a)))


def test_dunder_array_object():
    class Wrapped:
        def __init__(self, a):
            self.a = a

        def __array__(self, dtype=None, copy=None):
            return self.a if dtype is None else self.a.astype(dtype)

    x = np.linspace(-4, 4, 12).reshape(3, 4)
    np.testing.assert_array_equal(fastact.softmax(Wrapped(x)), fastact.softmax(x))
    np.testing.assert_array_equal(fastact.tanh(Wrapped(x)), fastact.tanh(x))


def test_pandas_gives_numpy_arrays():
    pd = pytest.importorskip("pandas")
    s = pd.Series(np.linspace(-3, 3, 7, dtype=np.float32), index=list("abcdefg"), name="s")
    y = fastact.gelu(s)
    assert type(y) is np.ndarray and y.dtype == np.float32      # documented: NumPy out
    np.testing.assert_array_equal(y, fastact.gelu(s.to_numpy()))
    df = pd.DataFrame(np.random.default_rng(0).standard_normal((5, 4)), columns=list("wxyz"))
    np.testing.assert_array_equal(fastact.softmax(df, axis=1), fastact.softmax(df.to_numpy(), axis=1))
    wrapped = pd.Series(fastact.sigmoid(s), index=s.index, name=s.name)  # the documented round-trip
    assert list(wrapped.index) == list("abcdefg")


# ------------------------------------------------------------ threadpoolctl

def test_threadpoolctl_default_limits_fastact():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    libs = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]
    assert libs, "threadpoolctl sees no OpenMP runtime"
    with fastact.threads(2):
        with threadpoolctl.threadpool_limits(1):        # no user_api: every library
            assert fastact.get_num_threads() == 1
        assert fastact.get_num_threads() == 2


# ------------------------------------------------------------ typing

def test_py_typed_and_stub_shipped():
    pkg = os.path.dirname(fastact.__file__)
    assert os.path.exists(os.path.join(pkg, "py.typed"))
    assert os.path.exists(os.path.join(pkg, "__init__.pyi"))


def test_stub_is_up_to_date():
    from fastact import _stubgen
    with open(_stubgen.stub_path()) as f:
        current = f.read()
    assert current == _stubgen.generate(), \
        "fastact/__init__.pyi is out of date: run `python -m fastact._stubgen`"


def _mypy_env():
    """mypy cannot follow setuptools' editable-install import hook: if
    fastact is not in site-packages, point MYPYPATH at its parent."""
    env = dict(os.environ)
    parent = os.path.dirname(os.path.dirname(os.path.abspath(fastact.__file__)))
    site = {os.path.realpath(p) for p in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])}
    if os.path.realpath(parent) not in site:
        env["MYPYPATH"] = parent
    return env


def test_mypy_strict(tmp_path):
    pytest.importorskip("mypy")
    script = os.path.join(HERE, "typing_check.py")
    cmd = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
           str(tmp_path / "cache"), "--python-executable", sys.executable, script]
    r = subprocess.run(cmd, capture_output=True, text=True, env=_mypy_env(), cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([sys.executable, script], capture_output=True, text=True, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
