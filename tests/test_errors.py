"""Bad input raises TypeError/ValueError naming the argument and the
problem, never crashes, and leaves `out` untouched."""
import numpy as np
import pytest

import fastact
from conftest import call, cases, resolve_params

X = np.linspace(-3, 3, 72).reshape(6, 12)


def _out_for(entry, example):
    kw = resolve_params(entry, example, X)
    return np.asarray(call(entry, X, kw)), kw


BAD_INPUTS = [
    (np.array([1 + 2j, 3j]), TypeError, "complex"),
    (np.array([object(), object()]), TypeError, "object"),
    (np.array(["a", "b"]), TypeError, "<U1"),
    ("hello", TypeError, "<U5"),
    (np.array([1.0], dtype=np.longdouble) if np.dtype(np.longdouble) != np.float64 else np.array([1j]),
     TypeError, "x "),
    ([[1.0, 2.0], [3.0]], TypeError, "x could not be converted"),
]


@pytest.mark.parametrize("bad,exc,text", BAD_INPUTS)
@pytest.mark.parametrize("entry,example", cases())
def test_bad_x(entry, example, bad, exc, text):
    kw = resolve_params(entry, example, X)
    if entry.kind == "prelu" and np.ndim(kw["weight"]):
        kw["weight"] = 0.3
    with pytest.raises(exc) as info:
        call(entry, bad, kw)
    assert text in str(info.value)


@pytest.mark.parametrize("entry,example", cases())
def test_bad_out(entry, example):
    good, kw = _out_for(entry, example)
    wrong_dtype = np.zeros(good.shape, dtype=np.float32)
    wrong_shape = np.zeros(good.shape + (1,), dtype=good.dtype)
    readonly = np.zeros(good.shape, dtype=good.dtype)
    readonly.flags.writeable = False
    for out, exc, text in [
        (wrong_dtype, TypeError, "out has dtype float32 but the result has dtype float64"),
        (wrong_shape, ValueError, "out has shape"),
        (readonly, ValueError, "out is read-only"),
        ([0.0] * good.size, TypeError, "out must be a numpy.ndarray"),
    ]:
        before = out.copy() if isinstance(out, np.ndarray) else None
        with pytest.raises(exc, match=text):
            call(entry, X, kw, out=out)
        if before is not None:
            np.testing.assert_array_equal(out, before)


@pytest.mark.parametrize("entry,example", cases())
def test_bad_backend(entry, example):
    kw = resolve_params(entry, example, X)
    with pytest.raises(ValueError, match="backend must be one of"):
        call(entry, X, kw, backend="fortran")


PARAM_ERRORS = [
    ("gelu", {"approximate": "fast"}, ValueError, "approximate must be one of"),
    ("gelu", {"approximate": None}, ValueError, "approximate must be one of"),
    ("hardtanh", {"min_val": 2.0, "max_val": 1.0}, ValueError, "min_val .* must be <= max_val"),
    ("hardtanh", {"min_val": float("nan")}, ValueError, "min_val must not be NaN"),
    ("leaky_relu", {"negative_slope": "0.1"}, TypeError, "negative_slope must be a real number"),
    ("leaky_relu", {"negative_slope": float("inf")}, ValueError, "negative_slope must be finite"),
    ("elu", {"alpha": [1.0]}, TypeError, "alpha must be a real number"),
    ("celu", {"alpha": 0.0}, ValueError, "alpha must be a finite number > 0"),
    ("celu", {"alpha": -1.0}, ValueError, "alpha must be a finite number > 0"),
    ("softplus", {"beta": 0.0}, ValueError, "beta must be finite and non-zero"),
    ("softplus", {"threshold": float("nan")}, ValueError, "threshold must not be NaN"),
    ("swish", {"beta": True}, TypeError, "beta must be a real number"),
    ("maxout", {"pool_size": 5}, ValueError, "pool_size 5 does not divide the length 12 of axis 1"),
    ("maxout", {"pool_size": 0}, ValueError, "pool_size must be >= 1"),
    ("maxout", {"pool_size": 2.0}, TypeError, "pool_size must be an integer"),
    ("maxout", {"pool_size": 2, "axis": 2}, ValueError, "axis 2 is out of bounds"),
    ("prelu", {"weight": np.ones(5)}, ValueError, "weight has 5 entries but x has 12 channels"),
    ("prelu", {"weight": np.ones((2, 2))}, ValueError, "weight must be a scalar or 1-D"),
    ("prelu", {"weight": []}, ValueError, "weight must not be empty"),
    ("prelu", {"weight": [np.nan] * 12}, ValueError, "weight must be finite"),
    ("prelu", {"weight": ["a"] * 12}, TypeError, "weight must be a real number"),
    ("prelu", {"weight": np.ones(12), "axis": 5}, ValueError, "axis 5 is out of bounds"),
    ("prelu", {"weight": 0.1, "axis": "x"}, TypeError, "axis must be an integer"),
]


@pytest.mark.parametrize("name,kw,exc,text", PARAM_ERRORS)
def test_bad_params(name, kw, exc, text):
    out = np.full_like(X, 5.0) if name != "maxout" else None
    for backend in ("c", "numpy"):
        with pytest.raises(exc, match=text):
            getattr(fastact, name)(X, **kw, out=out, backend=backend)
        if out is not None:
            assert np.all(out == 5.0)


def test_prelu_zero_d_per_channel():
    with pytest.raises(ValueError, match="needs an input with a channel axis"):
        fastact.prelu(1.0, [0.1, 0.2])


def test_maxout_zero_d():
    with pytest.raises(ValueError, match="at least one dimension"):
        fastact.maxout(1.0, 1)
