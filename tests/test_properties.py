"""Property-based tests (issue 9), hypothesis-driven, for every registry
function: forward (fastact.<name>), and where gradients exist <name>_grad
and <name>_backward.

Each example draws
* an input: 0-d to 5-d, dims 0..4 (so empty arrays too), dtype float16/32/64,
  int8/int32/int64/uint8 or bool, values anywhere in the dtype (hypothesis'
  float strategy favours NaN, +-inf, +-0, subnormals, the largest finite
  values) mixed with a few chosen specials; then a view of it: per-axis
  slices with steps (negative included) and an axis permutation;
  occasionally an invalid input (complex, object, str, ragged list);
* parameters: valid values, extreme-but-valid values, and invalid ones
  (NaN, +-inf, 0 where > 0 is needed, wrong types, min_val > max_val, bad
  choices, pool sizes that do not divide, axes out of range, bad weights);
* an output mode: new array, out= (contiguous or a strided view, pre-filled
  with a sentinel), out=x (in place), or a wrong out (dtype/shape/read-only).

The property: fastact either
* returns what the reference (backend="numpy") returns, within the
  documented bound (tests/conftest.py TOL_ULP: 1 ULP float32, 4 ULP float64;
  float16 results -- float32 computation rounded again -- 1 ULP; gradients
  use test_backward's derived bounds: 1 ULP float32, 8 ULP float64, plus its
  absolute slack where f' has a root), with the result's shape and dtype,
  in `out` when given, and leaves a distinct input untouched; or
* raises TypeError/ValueError, exactly when the reference raises the same
  class, and leaves `out` (and x) byte-for-byte untouched.

Budget: max_examples=50 per function and mode, deadline=None, derandomized
(reproducible in CI); FASTACT_SLOW=1 runs 500 random examples each.
"""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import fastact  # noqa: E402
import fastact.reference as ref  # noqa: E402
from fastact import _api, _refmath, _registry  # noqa: E402
from conftest import TOL_ULP, ulp_diff  # noqa: E402

SLOW = os.environ.get("FASTACT_SLOW") == "1"
SETTINGS = settings(
    max_examples=500 if SLOW else 50,
    deadline=None,
    derandomize=not SLOW,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

ENTRIES = list(_registry.REGISTRY.values())
GRAD_ENTRIES = [e for e in ENTRIES if e.kind in _api.GRAD_KINDS and hasattr(fastact, e.name + "_grad")]
WITH_ROOT = {"gelu", "silu", "swish", "mish"}  # as test_backward: f' cancels near its root

IN_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]
SPECIALS = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1.0, -1.0, 3.0, -3.0, 6.0, 20.0, -20.0,
            88.72, -88.72, -103.9, 709.78, -745.1, 1e-300, -1e-300, 5e-324, -5e-324,
            1e-45, -1e-45, 1.1754942e-38, 3.4028235e38, -3.4028235e38, 65504.0, -65504.0,
            1.7976931348623157e308, -1.7976931348623157e308]

# ------------------------------------------------------------------ strategies


DIMS = st.sampled_from([0] + [1, 2, 3, 4] * 3)   # an empty dim 1 time in 13


@st.composite
def arrays(draw, min_ndim=0):
    """A possibly non-contiguous view with arbitrary values."""
    dtype = np.dtype(draw(st.sampled_from(IN_DTYPES)))
    ndim = draw(st.integers(min_ndim, 5))
    base_shape = tuple(draw(st.lists(DIMS, min_size=ndim, max_size=ndim)))
    if dtype.kind == "f":
        with np.errstate(over="ignore"):  # specials beyond float16/32 range become inf
            specials = sorted({float(np.array(v).astype(dtype)) for v in SPECIALS}, key=repr)
        elems = hnp.from_dtype(dtype) | st.sampled_from(specials)
    else:
        elems = hnp.from_dtype(dtype)
    base = draw(hnp.arrays(dtype, base_shape, elements=elems))
    if ndim == 0:
        return base
    # view: a slice per axis (steps of either sign), then maybe a transpose
    idx = []
    for n in base_shape:
        step = draw(st.sampled_from([1, 1, 1, 2, -1, -2, 3]))
        start = draw(st.integers(0, n // 2)) if draw(st.integers(0, 3)) == 0 else None
        idx.append(slice(start, None, step))
    view = base[tuple(idx)]
    if draw(st.booleans()):
        view = view.transpose(draw(st.permutations(range(ndim))))
    return view


BAD_X = [np.array([1 + 2j, 3j]), np.array([object(), object()], dtype=object), np.array(["a", "b"]),
         "hello", [[1.0, 2.0], [3.0]], None]

# parameters: "valid" draws (the default, nice values, moderate random values
# -- the ones the parameter's own check rejects fall back to the default) or,
# 1 time in 4 per parameter, "wild" draws (extreme, non-finite, wrong types)
FLOAT_VALID = st.one_of(
    st.sampled_from([0.5, 1.0, 2.0, -1.0, -0.5, 1e-3, 1.702, 10.0, 20.0, 0.01, -2.0, 3.0]),
    st.floats(-10, 10),
)
FLOAT_WILD = st.one_of(
    st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 5e-324, 1e-30,
                     float("nan"), float("inf"), float("-inf")]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([np.float32(0.25), np.float64(-2.0), np.int64(3), 2, -3, 0]),
    st.sampled_from([None, "1.0", True, 1 + 0j, [1.0]]),
)
AXIS_WILD = st.sampled_from([1.0, None, "0", True, 10 ** 20, -(10 ** 20), 7, -7])


def _valid_float(p, v):
    try:
        p.convert("f", v)
        return v
    except (TypeError, ValueError):
        return p.default


@st.composite
def params_for(draw, entry, x):
    """Keyword arguments for `entry`: usually valid, sometimes extreme or invalid."""
    isarr = isinstance(x, np.ndarray)
    nd = x.ndim if isarr else 1
    shape = x.shape if isarr else ()
    kw = {}
    for p in entry.params:
        how = draw(st.sampled_from(["default", "valid", "valid", "wild"]))
        if how == "default" and p.kind != "array":
            continue
        wild = how == "wild"
        if p.kind == "float":
            kw[p.name] = draw(FLOAT_WILD) if wild else _valid_float(p, draw(FLOAT_VALID))
        elif p.kind == "choice":
            kw[p.name] = draw(st.sampled_from(["fast", "", None, 1, p.choices[0].upper()]) if wild
                              else st.sampled_from(p.choices))
        elif p.kind == "axis":
            kw[p.name] = draw(AXIS_WILD if wild else st.integers(-max(nd, 1), max(nd, 1) - 1)
                              | st.sampled_from([np.int64(0), np.int32(-1)]))
        elif p.kind == "int":  # maxout pool_size: a divisor of the axis length when valid
            if wild:
                kw[p.name] = draw(st.sampled_from([0, -1, 2.0, None, True, "2", 2 ** 70, 5]))
            else:
                ax = kw.get("axis", p.default if p.name == "axis" else -1)
                n = shape[ax] if isarr and isinstance(ax, (int, np.integer)) and -nd <= ax < nd else 1
                divs = [d for d in range(1, max(n, 1) + 1) if n % d == 0] or [1]
                kw[p.name] = draw(st.sampled_from(divs) | st.integers(1, 4))
    if entry.kind == "prelu":
        if "axis" not in kw and draw(st.booleans()):
            kw["axis"] = draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
        ax = kw.get("axis", 1)
        nch = (shape[ax] if isarr and isinstance(ax, (int, np.integer)) and not isinstance(ax, bool)
               and -nd <= ax < nd else 3)
        kw["weight"] = draw(st.one_of(
            st.floats(-3, 3), st.integers(-2, 2),
            hnp.arrays(np.float64, nch, elements=st.floats(-3, 3)),
            hnp.arrays(np.float32, nch, elements=st.floats(-3, 3, width=32)),
            st.lists(st.floats(-3, 3), min_size=nch, max_size=nch),
            st.sampled_from([float("nan"), float("inf"), [], [[0.1, 0.2]], "w", 1j, None,
                             np.array([0.1, np.nan] * 2), [0.1] * (nch + 1), [0.5], np.float32(0.5)]),
        ))
    return kw


def _snapshot(a):
    return None if not isinstance(a, np.ndarray) else (a.shape, a.dtype, a.tobytes())


def _grad_tol(entry_name, kw, x, exp, fwd_entry):
    """test_backward's bounds: 1 ULP float32 (and float16), 8 ULP float64,
    plus an absolute slack for the derivatives with a root."""
    dt = exp.dtype
    tol = np.full(exp.shape, 8.0 if dt == np.float64 else 1.0)
    if entry_name in WITH_ROOT and x is not None:
        p = {q.name: q.default for q in fwd_entry.params}
        p.update({k: v for k, v in kw.items() if k in p})
        x64 = np.asarray(x).astype(np.float64)
        with np.errstate(all="ignore"):
            f = fwd_entry.reference(x64, **{k: (float(v) if k != "approximate" else v) for k, v in p.items()})
            d64 = getattr(_refmath, "d_" + fwd_entry.name)(x64, **{k: (float(v) if k != "approximate" else v)
                                                                   for k, v in p.items()})
            s = np.where(x64 != 0, f / x64, d64)
            env = np.abs(s) + np.abs(d64 - s)
            slack = 16 * np.finfo(np.float64).eps * env / np.maximum(
                np.spacing(np.abs(exp)).astype(np.float64), np.finfo(dt).smallest_subnormal)
        tol = tol + np.nan_to_num(slack)
    return tol


def _compare(got, exp, tol, what):
    got = np.asarray(got)
    exp = np.asarray(exp)
    assert got.shape == exp.shape, (what, got.shape, exp.shape)
    assert got.dtype == exp.dtype, (what, got.dtype, exp.dtype)
    if exp.size == 0:
        return
    d = ulp_diff(got, exp)
    tol = np.broadcast_to(tol, d.shape)
    i = np.unravel_index(np.argmax(d - tol), d.shape)
    assert d[i] <= tol[i], f"{what}: {d[i]} ULP > {tol[i]} at {i}: got {got[i]!r}, expected {exp[i]!r}"


def _fwd_tol(dt):
    return TOL_ULP.get(np.dtype(dt), 1.0)  # float16: 1 ULP


BAD_OUT = ("wrong_dtype", "wrong_shape", "readonly", "list")


def _run_both(fn_c, fn_ref, args, kw, out, mode):
    """(C result or exception, reference result or exception).  The
    reference gets copies of the inputs, and of `out` when it is a bad one
    (so that it validates the same thing)."""
    rkw = dict(kw)
    if mode in BAD_OUT:
        rkw["out"] = out.copy() if isinstance(out, np.ndarray) else list(out)
        if isinstance(out, np.ndarray) and not out.flags.writeable:
            rkw["out"].flags.writeable = False
    try:
        exp = fn_ref(*[a.copy() if isinstance(a, np.ndarray) else a for a in args], **rkw)
        exp_exc = None
    except (TypeError, ValueError) as e:
        exp, exp_exc = None, e
    try:
        got = fn_c(*args, **kw, out=out) if out is not None else fn_c(*args, **kw)
        got_exc = None
    except (TypeError, ValueError) as e:  # anything else propagates: a failure
        got, got_exc = None, e
    return got, got_exc, exp, exp_exc


@st.composite
def out_mode(draw, shape, dtype, x):
    """(out, description): None, fresh, strided view, x itself, or a wrong one."""
    m = draw(st.sampled_from(["none", "none", "none", "fresh", "fresh", "strided", "strided", "inplace",
                              "inplace", "wrong_dtype", "wrong_shape", "readonly", "list"]))
    if shape is None or dtype is None:
        return None, "none"
    if m == "strided" and len(shape):
        big = np.full(tuple(2 * n for n in shape), 7, dtype=dtype)
        return big[tuple(slice(None, None, -2) for _ in shape)], m
    if m in ("fresh", "strided"):
        return np.full(shape, 7, dtype=dtype), "fresh"
    if m == "inplace":
        if isinstance(x, np.ndarray) and x.shape == tuple(shape) and x.dtype == dtype:
            return x, m
        return None, "none"
    if m == "wrong_dtype":
        other = np.float32 if np.dtype(dtype) != np.float32 else np.float64
        return np.full(shape, 7, dtype=other), m
    if m == "wrong_shape":
        return np.full(tuple(shape) + (2,), 7, dtype=dtype), m
    if m == "readonly":
        o = np.full(shape, 7, dtype=dtype)
        o.flags.writeable = False
        return o, m
    if m == "list":
        return [7.0] * int(np.prod(shape)), m
    return None, "none"


def _expected_meta(fn_ref, args, kw):
    """Shape/dtype of the reference result (to build an `out`), or (None, None)."""
    try:
        r = fn_ref(*[a.copy() if isinstance(a, np.ndarray) else a for a in args], **kw)
    except (TypeError, ValueError):
        return None, None
    if isinstance(r, tuple):
        r = r[0]
    r = np.asarray(r)
    return r.shape, r.dtype


def _check(data, what, fn_c, fn_ref, args, kw, tol_fn):
    shape, dtype = _expected_meta(fn_ref, args, kw)
    out, mode = data.draw(out_mode(shape, dtype, args[-1] if args else None), label="out")
    inputs_before = [_snapshot(a) for a in args]
    out_before = _snapshot(out)
    got, got_exc, exp, exp_exc = _run_both(fn_c, fn_ref, args, kw, out, mode)
    label = f"{what}({', '.join(f'{k}={v!r}' for k, v in kw.items())}) out={mode}"
    if got_exc is not None:
        event(f"raised {type(got_exc).__name__}")
        assert exp_exc is not None, f"{label}: fastact raised {got_exc!r} but the reference returned"
        assert type(got_exc) is type(exp_exc), f"{label}: {got_exc!r} vs reference {exp_exc!r}"
        assert _snapshot(out) == out_before, f"{label}: out modified by a call that raised {got_exc!r}"
        for a, b in zip(args, inputs_before):
            assert _snapshot(a) == b, f"{label}: input modified by a call that raised"
        return
    assert exp_exc is None, f"{label}: the reference raised {exp_exc!r} but fastact returned"
    assert mode not in BAD_OUT, f"{label}: accepted a bad out"
    extra_got = extra_exp = ()
    if isinstance(exp, tuple):  # prelu_backward (gx, gw), swish_backward(beta_grad=True) (gx, dbeta)
        assert isinstance(got, tuple) and len(got) == len(exp), label
        got, *extra_got = got
        exp, *extra_exp = exp
        for a, b in zip(extra_got, extra_exp):  # float64 NumPy sums in both backends
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=label)
    if out is not None:
        assert got is out, f"{label}: did not return out"
    else:
        for a, b in zip(args, inputs_before):
            assert _snapshot(a) == b, f"{label}: input modified"
        if np.ndim(exp) == 0 and isinstance(exp, np.generic):
            assert isinstance(got, np.generic), f"{label}: 0-d result is {type(got)}"
    event("compared, empty" if np.size(exp) == 0 else "compared, non-empty")
    _compare(got, exp, tol_fn(np.asarray(exp)), label)


def _x_or_bad(data, min_ndim=0):
    if data.draw(st.integers(0, 19), label="bad x?") == 0:
        return data.draw(st.sampled_from(BAD_X), label="bad x")
    x = data.draw(arrays(min_ndim), label="x")
    if x.ndim == 0 and data.draw(st.booleans(), label="as scalar"):
        return x[()].item() if x.dtype.kind in "fiub" else x  # a Python scalar
    return x


# ------------------------------------------------------------------ tests


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
@SETTINGS
@given(data=st.data())
def test_forward_property(entry, data):
    x = _x_or_bad(data)
    kw = data.draw(params_for(entry, x), label="params")
    fn_c = getattr(fastact, entry.name)
    fn_r = getattr(ref, entry.name)
    with np.errstate(all="ignore"):
        _check(data, entry.name, fn_c, fn_r, (x,), kw, lambda e: _fwd_tol(e.dtype))


@pytest.mark.parametrize("entry", GRAD_ENTRIES, ids=[e.name for e in GRAD_ENTRIES])
@SETTINGS
@given(data=st.data())
def test_grad_property(entry, data):
    x = _x_or_bad(data)
    kw = data.draw(params_for(entry, x), label="params")
    fn_c = getattr(fastact, entry.name + "_grad")
    fn_r = getattr(ref, entry.name + "_grad")
    xa = x if isinstance(x, np.ndarray) else None
    with np.errstate(all="ignore"):
        _check(data, entry.name + "_grad", fn_c, fn_r, (x,), kw,
               lambda e: _grad_tol(entry.name, kw, xa, e, entry))


def _grad_output_for(data, entry, x, kw):
    """grad_output: x's shape (maxout: the output's), any dtype, any values;
    sometimes a wrong shape."""
    if not isinstance(x, np.ndarray):
        return 1.0
    shape = x.shape
    if entry.kind == "maxout":
        try:
            shape = np.shape(ref.maxout(x, **kw))
        except (TypeError, ValueError):
            pass
    if data.draw(st.integers(0, 19), label="wrong g shape?") == 0:
        shape = shape + (1,)
    dt = np.dtype(data.draw(st.sampled_from(IN_DTYPES), label="g dtype"))
    g = data.draw(hnp.arrays(dt, shape, elements=hnp.from_dtype(dt)), label="g")
    if g.ndim and data.draw(st.booleans(), label="g reversed"):
        g = np.ascontiguousarray(g[..., ::-1])[..., ::-1]  # a negative-stride view
    return g


@pytest.mark.parametrize("entry", GRAD_ENTRIES, ids=[e.name for e in GRAD_ENTRIES])
@SETTINGS
@given(data=st.data())
def test_backward_property(entry, data):
    x = _x_or_bad(data)
    kw = data.draw(params_for(entry, x), label="params")
    g = _grad_output_for(data, entry, x, kw)
    fn_c = getattr(fastact, entry.name + "_backward")
    fn_r = getattr(ref, entry.name + "_backward")
    if entry.kind == "unary" and isinstance(x, np.ndarray) and data.draw(st.booleans(), label="y="):
        try:  # the forward output: selects the output-based kernel where one exists
            kw["y"] = getattr(ref, entry.name)(x, **kw)
        except (TypeError, ValueError):
            pass
    if entry.name == "swish" and data.draw(st.booleans(), label="beta_grad"):
        kw["beta_grad"] = True
    xa = x if isinstance(x, np.ndarray) else None
    with np.errstate(all="ignore"):
        _check(data, entry.name + "_backward", fn_c, fn_r, (g, x), kw,
               lambda e: _grad_tol(entry.name, {k: v for k, v in kw.items() if k != "y"}, xa, e, entry))


ROW_ENTRIES = [e for e in ENTRIES if e.kind == "rowwise" and hasattr(fastact, e.name + "_backward")]


@pytest.mark.parametrize("entry", ROW_ENTRIES, ids=[e.name for e in ROW_ENTRIES])
@SETTINGS
@given(data=st.data())
def test_rowwise_backward_property(entry, data):
    """softmax-family backward(grad_output, y, axis): y is the forward output
    of x (or x itself, any values), grad_output any dtype and values,
    sometimes the wrong shape; the tolerance is test_softmax_backward's
    (final roundings plus the intermediates' derived error)."""
    from test_softmax_backward import slack
    x = _x_or_bad(data)
    kw = data.draw(params_for(entry, x), label="params")
    g = _grad_output_for(data, entry, x, kw)
    y = x
    if isinstance(x, np.ndarray) and data.draw(st.booleans(), label="y = f(x)"):
        try:
            y = getattr(ref, entry.name)(x, **kw)
        except (TypeError, ValueError):
            pass
    fn_c = getattr(fastact, entry.name + "_backward")
    fn_r = getattr(ref, entry.name + "_backward")

    def tol(e):
        ulps = _fwd_tol(e.dtype)
        if e.size == 0 or e.ndim == 0:
            return ulps
        ax = kw.get("axis", -1)
        ga = np.broadcast_to(np.asarray(g, dtype=e.dtype), e.shape)
        ya = np.asarray(y, dtype=e.dtype)
        sp = np.maximum(np.spacing(np.abs(e)).astype(np.float64), np.finfo(e.dtype).smallest_subnormal)
        with np.errstate(all="ignore"):
            return ulps + np.nan_to_num(slack(entry.name, ga, ya, ax) / sp, nan=0.0, posinf=np.inf)

    with np.errstate(all="ignore"):
        _check(data, entry.name + "_backward", fn_c, fn_r, (g, y), kw, tol)
