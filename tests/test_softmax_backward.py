"""Backward of the softmax family (issue 4): <name>_backward(grad_output, y,
axis) from the forward output y, for every registry entry of kind
"rowwise" (those _api.BACKWARD_KINDS has beyond _api.GRAD_KINDS).

Tolerances (derived, not tuned):
* C vs the reference (exact products, math.fsum row sums, one final
  rounding: fastact._refmath.vjp_*).  The C kernel forms S = sum(g y)
  (log_softmax: sum(g)) in double lanes -- float32: the products are exact
  in double, each addition <= eps64 of sum|g y| -- or compensated (float64:
  S + comp within ~n eps64^2 sum|g y|).  softmax/softmin: d = (g - S) - comp
  and y d (float32 with FMA: in float from S = sh + sl, TwoSum for g - sh
  and one fma, so one rounding too), so float32 is within 1 ulp plus
  eps64 |y| (2 |g| + (2 + n) sum|g y|), float64 within 2 ulp (the two
  roundings of d, one of y d, Sterbenz making g - S exact where it cancels)
  plus eps64 |y| n eps64 sum|g y|.  log_softmax: exp(y) (1 ulp) times S,
  then g - that, which cancels: 1 / 2 ulp plus eps64 (2 |g| + (3 + n')
  exp(y) sum|g|), n' = n (float32) or n eps64 (float64).
* finite differences: as tests/test_backward.py, 4th order central, h = 1e-3,
  of L(t) = sum(g * f(x + t e_i)) with the float64 reference forward:
  truncation h^4 |L^(5)| / 30 (< 1e-12 for |x| <~ 3, |g| <= 1) and rounding
  ~1.5 eps |L| / h (~3e-13 sum|g|); bound 1e-9 (1 + sum|g|).
* torch accumulates in the tensor's dtype: the float32 form above with
  eps(dtype) for eps64, plus 2 ulp.
"""
from fractions import Fraction

import numpy as np
import pytest

import fastact
import fastact.reference as ref
from fastact import _api, _refmath, _registry
from conftest import DTYPES, ulp_diff

ROWWISE = [e for e in _registry.REGISTRY.values()
           if e.kind in _api.BACKWARD_KINDS and e.kind not in _api.GRAD_KINDS]
NAMES = [e.name for e in ROWWISE]
EPS64 = np.finfo(np.float64).eps

# (shape, axis): last axis (row kernel: the 16-lane remainder, several 1024
# blocks), non-last axes (block kernel: inner < and > FA_SOFTMAX_LANES = 64),
# axis 0, a length-1 axis.
GEOMETRIES = [((7, 1000), -1), ((3, 37), 1), ((2, 2500), -1), ((3, 100, 5), 1), ((300, 70), 0),
              ((2, 3, 4), 0), ((4, 9, 130), 1), ((5, 1), -1), ((1, 6), 0)]


def fwd(name, module=fastact):
    return getattr(module, name)


def bwd(name, module=fastact):
    return getattr(module, name + "_backward")


def inputs(shape, dtype, seed, specials=False):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    g = rng.uniform(-1, 1, shape).astype(dtype)
    if specials and x.ndim == 2 and x.shape[0] >= 3 and x.shape[1] >= 2:
        x[1, 1] = np.nan   # a NaN row: y and the gradient all NaN
        x[2, :] = -5e3     # a row of equal entries
    return x, g


def slack(name, g, y, axis, peer=False):
    """Absolute error allowed on top of the ulps (see the module docstring):
    the error of the double-precision intermediates of the C kernel for g and
    y's dtype (peer=True: of an implementation that accumulates in g's own
    dtype, e.g. PyTorch's float32)."""
    g64, y64 = np.abs(g.astype(np.float64)), y.astype(np.float64)
    n = y.shape[axis]
    f32 = g.dtype == np.float32
    eps = np.finfo(g.dtype).eps if peer else EPS64
    # a double sum of n terms (float32, peers): n eps; compensated (float64): n eps^2
    nf = n if (f32 or peer) else n * EPS64
    with np.errstate(all="ignore"):
        if name == "log_softmax":  # exp(y) (1 ulp) times S, then g - that
            s = np.sum(g64, axis=axis, keepdims=True)
            return eps * (2 * g64 + (3 + nf) * np.exp(y64) * s)
        s = np.sum(g64 * np.abs(y64), axis=axis, keepdims=True)
        if not (f32 or peer):  # float64: S + comp to ~eps^2, (g - S) - comp and y*d: the 2 ulps
            return eps * np.abs(y64) * nf * s
        return eps * np.abs(y64) * (2 * g64 + (2 + nf) * s)


def assert_vjp_close(name, got, exp, g, y, axis, ulps=None, extra=None, what=""):
    assert got.shape == exp.shape and got.dtype == exp.dtype
    if ulps is None:  # the final roundings: float32 once from double; float64 see slack()
        ulps = 1.0 if exp.dtype == np.float32 else 2.0
    if exp.size == 0:
        return
    sp = np.maximum(np.spacing(np.abs(exp)).astype(np.float64), np.finfo(exp.dtype).smallest_subnormal)
    with np.errstate(all="ignore"):
        tol = ulps + np.nan_to_num((slack(name, g, y, axis) if extra is None else extra) / sp, nan=0.0)
    d = ulp_diff(got, exp)
    i = np.unravel_index(np.argmax(d - tol), d.shape)
    assert d[i] <= tol[i], (f"{what or name}: {d[i]} ULP > {tol[i]} at {i}: got {got[i]!r}, "
                            f"expected {exp[i]!r}")


# ------------------------------------------------------------------ names, signatures

def test_registry_declares_them():
    assert NAMES == ["softmax", "log_softmax", "softmin"]
    import inspect
    for name in NAMES:
        for mod in (fastact, ref):
            fn = bwd(name, mod)
            assert name + "_backward" in mod.__all__
            assert not hasattr(mod, name + "_grad")  # a Jacobian, not a per-element derivative
            s = inspect.signature(fn)
            assert list(s.parameters) == ["grad_output", "y", "axis", "out", "backend"]
            assert s.parameters["axis"].default == -1
            assert s.parameters["out"].kind is inspect.Parameter.KEYWORD_ONLY
        e = _registry.REGISTRY[name]
        assert e.vjp and e.vjp in bwd(name).__doc__
        assert hasattr(_refmath, "vjp_" + name)
    with pytest.raises(ValueError, match="has no derivative"):
        fastact.derivative("softmax", np.ones(3))


# ------------------------------------------------------------------ C vs reference

@pytest.mark.parametrize("shape,axis", GEOMETRIES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_matches_reference(name, dtype, shape, axis):
    x, g = inputs(shape, dtype, seed=len(shape) * 100 + shape[-1], specials=True)
    with np.errstate(invalid="ignore"):
        y = fwd(name)(x, axis=axis)
    got = bwd(name)(g, y, axis=axis)
    exp = bwd(name, ref)(g, y, axis=axis)
    assert got.dtype == exp.dtype == dtype
    assert_vjp_close(name, got, exp, g, y, axis)
    np.testing.assert_array_equal(bwd(name)(g, y, axis=axis, backend="numpy"), exp)
    with fastact.use_backend("numpy"):
        np.testing.assert_array_equal(bwd(name)(g, y, axis=axis), exp)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))


def test_formulas():
    """The reference is the formula of the issue, evaluated plainly in float64."""
    x, g = inputs((4, 9), np.float64, seed=1)
    for ax in (0, 1):
        y = fastact.softmax(x, axis=ax)
        want = y * (g - np.sum(g * y, axis=ax, keepdims=True))
        np.testing.assert_allclose(ref.softmax_backward(g, y, axis=ax), want, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(fastact.softmax_backward(g, y, axis=ax), want, rtol=1e-13, atol=1e-16)
        ys = fastact.softmin(x, axis=ax)
        np.testing.assert_allclose(fastact.softmin_backward(g, ys, axis=ax),
                                   -ys * (g - np.sum(g * ys, axis=ax, keepdims=True)), rtol=1e-13, atol=1e-16)
        yl = fastact.log_softmax(x, axis=ax)
        np.testing.assert_allclose(fastact.log_softmax_backward(g, yl, axis=ax),
                                   g - np.exp(yl) * np.sum(g, axis=ax, keepdims=True), rtol=1e-13, atol=1e-15)


def test_special_values():
    # y = 0 entries (an underflowed softmax) get 0; a -inf log_softmax entry gets g
    y = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    g = np.array([[1.0, 2.0, 3.0], [1.0, -1.0, 7.0]])
    yl = np.array([[0.0, -np.inf, -np.inf]])
    gl = np.array([[1.0, 2.0, 3.0]])
    for mod in (fastact, ref):
        np.testing.assert_array_equal(mod.softmax_backward(g, y), [[0.0, 0.0, 0.0], [0.5, -0.5, 0.0]])
        np.testing.assert_array_equal(mod.log_softmax_backward(gl, yl), [[1.0 - 6.0, 2.0, 3.0]])
        out = mod.softmax_backward(np.array([[1.0, np.nan, 0.0]]), np.array([[0.2, 0.3, 0.5]]))
        assert np.all(np.isnan(out))  # a NaN in g poisons its row's sum


@pytest.mark.parametrize("scale", [1e-36, 1e-30, 1e-20, 1e20, 1e37, 3e38])
@pytest.mark.parametrize("name", NAMES)
def test_extreme_scales(name, scale):
    """grad_output near float32's range ends: the float32 kernels' float write
    loop must hand such rows (|sum| + max|g| near the overflow threshold, or a
    sum too small to split into two floats) to the double loop."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        g = (rng.uniform(-1, 1, (8, 100)) * scale).astype(np.float32)
        y = fwd(name)(rng.standard_normal((8, 100)).astype(np.float32) * 3)
        for axis in (-1, 0):
            with np.errstate(over="ignore", invalid="ignore"):
                got = bwd(name)(g, y, axis=axis)
                exp = bwd(name, ref)(g, y, axis=axis)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
            assert_vjp_close(name, got, exp, g, y, axis, what=f"{name} x{scale:g}")


@pytest.mark.parametrize("isa", [i for i in ("baseline", "avx2", "avx512") if _api._ext.isa_supported(i)])
def test_every_isa(isa):
    old = _api._ext.current_isa()
    try:
        assert _api._ext.select_isa(isa) == isa
        for name in NAMES:
            for dtype in DTYPES:
                for shape, axis in GEOMETRIES[:6]:
                    x, g = inputs(shape, dtype, seed=5)
                    y = fwd(name)(x, axis=axis)
                    assert_vjp_close(name, bwd(name)(g, y, axis=axis), bwd(name, ref)(g, y, axis=axis),
                                     g, y, axis, what=f"{name}[{isa}]")
    finally:
        _api._ext.select_isa(old)


# ------------------------------------------------------------------ finite differences

def fd4(f, h):
    return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)


@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), 0), ((4, 1), -1)])
@pytest.mark.parametrize("module", [fastact, ref], ids=["c", "numpy"])
@pytest.mark.parametrize("name", NAMES)
def test_vs_finite_difference(name, module, shape, axis):
    """grad_x[i] = d/dt sum(g * f(x + t e_i)) at t = 0, f the float64 reference forward."""
    rng = np.random.default_rng(sum(shape) + axis)
    x = rng.standard_normal(shape) * 1.5
    g = rng.uniform(-1, 1, shape)
    f = getattr(_refmath, name)
    y = fwd(name, module)(x, axis=axis)
    got = bwd(name, module)(g, y, axis=axis)
    fd = np.empty(shape)
    for idx in np.ndindex(*shape):
        e = np.zeros(shape)
        e[idx] = 1.0
        fd[idx] = fd4(lambda t: np.sum(g * f(x + t * e, axis=axis)), 1e-3)
    tol = 1e-9 * (1 + np.sum(np.abs(g)))
    err = np.abs(got - fd)
    i = np.unravel_index(np.argmax(err), shape)
    assert err[i] <= tol, f"{name} axis {axis} at {i}: {got[i]!r} vs finite difference {fd[i]!r}"


# ------------------------------------------------------------------ layouts, out=, in place, threads

def lay_as(kind, a):
    """a's values in the layout `kind` (C, F, or a strided / reversed view of a bigger array)."""
    if kind == "C":
        return np.ascontiguousarray(a)
    if kind == "F":
        return np.asfortranarray(a)
    big = np.zeros((2 * a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
    v = big[::2, ::2] if kind == "strided" else big[::-2, ::-2]
    v[...] = a
    return v


LAYOUT_PAIRS = [("C", "C"), ("F", "F"), ("C", "F"), ("F", "strided"), ("strided", "negative")]


@pytest.mark.parametrize("mode", ["new", "out", "out_F", "inplace_g", "inplace_y"])
@pytest.mark.parametrize("gl,yl", LAYOUT_PAIRS)
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_layouts_out_inplace(name, dtype, axis, gl, yl, mode):
    x, g = inputs((6, 12), dtype, seed=3)
    y = lay_as(yl, fwd(name)(x, axis=axis))
    gg = lay_as(gl, g)
    exp = bwd(name, ref)(gg.copy(), y.copy(), axis=axis)
    g0, y0 = gg.copy(), y.copy()
    if mode == "new":
        got = bwd(name)(gg, y, axis=axis)
        np.testing.assert_array_equal(gg, g0)
        np.testing.assert_array_equal(y, y0)
    elif mode in ("out", "out_F"):
        out = np.full(y.shape, 7.0, dtype=dtype, order="F" if mode == "out_F" else "C")
        got = bwd(name)(gg, y, axis=axis, out=out)
        assert got is out
    else:
        tgt = gg if mode == "inplace_g" else y
        got = bwd(name)(gg, y, axis=axis, out=tgt)
        assert got is tgt
    assert_vjp_close(name, np.asarray(got), exp, g0, y0, axis)
    if mode != "new":  # out= and in place give the bits of a new result of the same layout
        np.testing.assert_array_equal(got, bwd(name)(lay_as(gl, g0), lay_as(yl, y0), axis=axis))


@pytest.mark.parametrize("name", NAMES)
def test_overlapping_out(name):
    buf = np.random.default_rng(0).standard_normal(80)
    y = fwd(name)(buf[:60].reshape(5, 12))
    buf[:60] = y.ravel()
    y = buf[:60].reshape(5, 12)
    g = np.linspace(-1, 1, 60).reshape(5, 12)
    expected = bwd(name)(g, y.copy())
    out = buf[12:72].reshape(5, 12)  # partly over y
    got = bwd(name)(g, y, out=out)
    assert got is out
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shape,axis", [((512, 300), -1), ((40, 300, 130), 1), ((300, 700), 0),
                                        ((64, 2000), -1)])
@pytest.mark.parametrize("name", NAMES)
def test_threads_bitwise_identical(name, shape, axis):
    for dtype in DTYPES:
        x, g = inputs(shape, dtype, seed=9)
        y = fwd(name)(x, axis=axis)
        res = []
        for t in (1, 2):
            with fastact.threads(t):
                res.append(bwd(name)(g, y, axis=axis).tobytes())
        assert res[0] == res[1], (name, dtype, shape, axis)


# ------------------------------------------------------------------ dtypes, empty, errors

@pytest.mark.parametrize("name", NAMES)
def test_dtype_rules(name):
    x, g = inputs((6, 12), np.float64, seed=2)
    y = fwd(name)(x)
    b = bwd(name)
    assert b(g.astype(np.float32), y.astype(np.float32)).dtype == np.float32
    assert b(g, y).dtype == np.float64
    r16 = b(g.astype(np.float16), y.astype(np.float16))
    assert r16.dtype == np.float16
    np.testing.assert_array_equal(r16, b(g.astype(np.float16).astype(np.float32),
                                         y.astype(np.float16).astype(np.float32)).astype(np.float16))
    assert b(g.astype(np.float32), y).dtype == np.float64
    gi = np.arange(72).reshape(6, 12) % 5 - 2
    assert b(gi, y).dtype == np.float64
    np.testing.assert_array_equal(b(gi, y), b(gi.astype(np.float64), y))
    assert b(g.tolist(), y.tolist()).dtype == np.float64
    np.testing.assert_array_equal(b(g.tolist(), y.tolist(), axis=0), b(g, y, axis=0))


@pytest.mark.parametrize("shape,axis", [((3, 0), -1), ((0, 4), -1), ((0, 4), 0), ((2, 0, 3), 1), ((0,), 0)])
@pytest.mark.parametrize("name", NAMES)
def test_empty(name, shape, axis):
    for dtype in DTYPES:
        g = np.empty(shape, dtype)
        for mod in (fastact, ref):
            r = bwd(name, mod)(g, np.empty(shape, dtype), axis=axis)
            assert r.shape == shape and r.dtype == dtype
            out = np.empty(shape, dtype)
            assert bwd(name, mod)(g, g, axis=axis, out=out) is out


@pytest.mark.parametrize("name", NAMES)
def test_errors(name):
    b = bwd(name)
    fn = f"{name}_backward"
    y = fwd(name)(np.linspace(-1, 1, 12).reshape(3, 4))
    g = np.ones((3, 4))
    with pytest.raises(ValueError, match=rf"{fn}\(\): grad_output has shape \(4, 3\) but y has shape \(3, 4\)"):
        b(np.ones((4, 3)), y)
    with pytest.raises(ValueError, match=rf"{fn}\(\): grad_output has shape"):
        b(np.ones(4), y)  # no broadcasting
    with pytest.raises(TypeError, match=rf"{fn}\(\): grad_output"):
        b(g.astype(complex), y)
    with pytest.raises(TypeError, match=rf"{fn}\(\): y"):
        b(g, y.astype(complex))
    with pytest.raises(TypeError, match=rf"{fn}\(\): y"):
        b(g, None)
    with pytest.raises(ValueError, match=rf"{fn}\(\): axis 2 is out of bounds"):
        b(g, y, axis=2)
    with pytest.raises(TypeError, match=rf"{fn}\(\): axis must be an integer"):
        b(g, y, axis=1.0)
    with pytest.raises(ValueError, match=rf"{fn}\(\): axis -1 is out of bounds for an array of dimension 0"):
        b(1.0, 0.5)
    with pytest.raises(TypeError, match=rf"{fn}\(\): out has dtype"):
        b(g, y, out=np.empty((3, 4), np.float32))
    with pytest.raises(ValueError, match=rf"{fn}\(\): out has shape"):
        b(g, y, out=np.empty((4, 3)))
    ro = np.zeros((3, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=rf"{fn}\(\): out is read-only"):
        b(g, y, out=ro)
    with pytest.raises(TypeError, match=rf"{fn}\(\): out must be"):
        b(g, y, out=[[0.0] * 4] * 3)
    with pytest.raises(ValueError, match="backend must be one of"):
        b(g, y, backend="gpu")
    out = np.full((3, 4), 7.0)
    for bad in (dict(axis=5), dict(axis=-1.5)):
        with pytest.raises((ValueError, TypeError)):
            b(g, y, out=out, **bad)
    with pytest.raises(ValueError):
        b(np.ones((3, 5)), y, out=out)
    np.testing.assert_array_equal(out, 7.0)  # untouched after a failed call


# ------------------------------------------------------------------ torch

TORCH_FUNCS = {"softmax": "softmax", "log_softmax": "log_softmax", "softmin": "softmin"}


@pytest.mark.parametrize("shape,axis", [((16, 1000), -1), ((8, 50, 9), 1), ((300, 70), 0)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_autograd(name, dtype, shape, axis):
    torch = pytest.importorskip("torch")
    x, g = inputs(shape, dtype, seed=11)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = getattr(torch.nn.functional, TORCH_FUNCS[name])(xt, dim=axis)
    yt.backward(torch.from_numpy(g.copy()))
    want = xt.grad.numpy()
    y = yt.detach().numpy()
    got = bwd(name)(g, y, axis=axis)
    extra = slack(name, g, y, axis, peer=True)
    assert_vjp_close(name, got, want, g, y, axis, ulps=2.0, extra=extra, what=f"{name} vs torch")
    if name in ("softmax", "log_softmax") and dtype == np.float32:
        # the op PyTorch's autograd calls, on the same y
        op = getattr(torch.ops.aten, f"_{name}_backward_data")
        w2 = op(torch.from_numpy(g), torch.from_numpy(y), axis % len(shape), torch.float32).numpy()
        assert_vjp_close(name, got, w2, g, y, axis, ulps=2.0, extra=extra, what=f"{name} vs aten")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [-1, 0, 1, -2])
@pytest.mark.parametrize("name", NAMES)
def test_fast_path_matches_general_path(name, axis, dtype):
    """C-contiguous (g, y) with an int axis take the fast path
    (_ext.fast_rowwise_backward); strided views of the same values take the
    general path, which makes C-contiguous copies for the same kernel:
    bitwise the same results, into a new array, `out`, and in place."""
    rng = np.random.default_rng(3)
    y = fwd(name)(rng.standard_normal((3, 70, 5)).astype(dtype), axis=axis)
    g = rng.uniform(-1, 1, y.shape).astype(dtype)
    ys, gs = np.repeat(y, 2, axis=-1)[..., ::2], np.repeat(g, 2, axis=-1)[..., ::2]
    assert not ys.flags.c_contiguous and np.array_equal(ys, y)
    expected = bwd(name)(gs, ys, axis=axis)
    np.testing.assert_array_equal(bwd(name)(g, y, axis=axis), expected)
    out = np.full_like(y, 7.0)
    assert bwd(name)(g, y, axis=axis, out=out) is out
    np.testing.assert_array_equal(out, expected)
    g2 = g.copy()
    assert bwd(name)(g2, y, axis=axis, out=g2) is g2
    np.testing.assert_array_equal(g2, expected)


@pytest.mark.parametrize("mode", ["new", "inplace_g"])
@pytest.mark.parametrize("name", ["softmax", "softmin"])
def test_rows_where_g_equals_the_row_sum(name, mode):
    """g constant along a row: S = sum(g y) = g sum(y) ~ g, so g - S cancels
    completely -- the AVX-512 fast pass must reject such rows (whether it
    wrote o already or not) and the fallback gives the exact answer, which
    is tiny: y (g - S) with S carried beyond float precision.  Checked
    against the exact value (fractions: S, g - S and y (g - S) exact, one
    rounding), within 1 ULP (the float32 bound is 2; float64 arithmetic
    would not do as the oracle: S rounded to double is 2e-4 relative off
    g - S here)."""
    rng = np.random.default_rng(7)
    y = fwd(name)(rng.standard_normal((6, 300)).astype(np.float32))
    g = np.repeat(rng.uniform(-2, 2, (6, 1)), 300, axis=1).astype(np.float32)
    g[3, 17] *= 1.5           # one row with a single element away from S
    sign = -1 if name == "softmin" else 1
    want = np.empty_like(y)
    for r in range(y.shape[0]):
        yr = [Fraction(float(v)) for v in y[r]]
        gr = [Fraction(float(v)) for v in g[r]]
        S = sum(a * b for a, b in zip(gr, yr))
        want[r] = [float(sign * a * (b - S)) for a, b in zip(yr, gr)]
    got = bwd(name)(g, y) if mode == "new" else bwd(name)(g, y, out=g)
    assert np.all(ulp_diff(got, want) <= 1)


# g - e^y S for float64 log_softmax rows built to cancel: the top two
# entries tie (y = fl(log 1/2) and the like) and g is S times e^y's exact
# neighbour, so the result is ~2^-55 g and needs e^y to ~2^-110 (the plain
# double formula returned 0 for -2.6e-17, 8.5e15 ULP).  Exact values from
# mpmath at 700 digits (sums exact), as fastact check does:
#   S = fsum(g_row); want = g - exp(mpf(y)) * S, rounded once.
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("mode", ["new", "inplace_g", "inplace_y"])
def test_log_softmax_backward_float64_cancelling(isa, axis, mode):
    mp = pytest.importorskip("mpmath")
    if not _api._ext.has_binary128():
        pytest.skip("no 113-bit float type in this build: only the double-double level")
    rng = np.random.default_rng(11)
    rows = []
    for n in (2, 3, 10, 50):
        for _ in range(6):
            x = rng.standard_normal(n) * 3
            x[1] = x[0] = x.max() + 0.0   # a tied top pair: y0 = y1 ~ log(1/2) or below
            rows.append(x)
    width = max(len(r) for r in rows)
    x = np.full((len(rows), width), -np.inf)
    for i, r in enumerate(rows):
        x[i, :len(r)] = r
    y = fastact.log_softmax(x, axis=-1)
    # g: the tied pair gets S e^y0 rounded (S = sum(g) of the others and them),
    # the rest small multiples of 0.375, so g - e^y S cancels to ~2^-53 |g|
    g = ((np.arange(x.size) % 7 - 3.0) * 0.375).reshape(x.shape)
    g[:, 0] = 1.125
    g[:, 1] = 1.125
    rest = g[:, 2:].sum(axis=1)
    g[:, 2] -= rest           # sum(g) = 2.25 exactly: g0 = S/2, e^y0 ~ 1/2 when the pair dominates
    if axis == 0:
        g, y = np.ascontiguousarray(g.T), np.ascontiguousarray(y.T)
    want = np.empty_like(y)
    with mp.workdps(700):
        gt, yt = (g, y) if axis == -1 else (g.T, y.T)
        wt = want if axis == -1 else want.T
        for r in range(gt.shape[0]):
            S = mp.fsum(mp.mpf(float(v)) for v in gt[r])
            for c in range(gt.shape[1]):
                yv = float(yt[r, c])
                e = mp.exp(mp.mpf(yv)) if np.isfinite(yv) else mp.mpf(0)
                wt[r, c] = float(mp.mpf(float(gt[r, c])) - e * S)
    gg, yy = g.copy(), y.copy()
    out = {"new": None, "inplace_g": gg, "inplace_y": yy}[mode]
    got = fastact.log_softmax_backward(gg, yy, axis=axis, out=out)
    assert np.all(ulp_diff(got, want) <= 1), np.max(ulp_diff(got, want))
    assert np.count_nonzero(np.abs(want) < 1e-15) > 10     # the test does cancel


# The AVX-512 float32 softmax/softmin backward writes y (g - S) in float
# lanes (S split into three floats, TwoSum, one fma), blocks whose outputs
# fall below 2^-100 from double lanes, and takes S0 as a blocked double sum
# (<= 32 products per lane per block).  Checked against the exact value of
# the expression on the float inputs (fractions: S, g - S and y (g - S)
# exact, then compared with the float result in units of the exact value's
# float32 spacing): within 0.56 ULP (the fast pass's bound: one rounding
# plus 2^-28 relative from S0 and 2^-32 from the float split), on rows that
# cross the 16-lane, 512-element block and prefetch boundaries, with logits
# wide enough that outputs reach the subnormal range, in every output mode.
@pytest.mark.parametrize("mode", ["new", "inplace_g", "inplace_y"])
@pytest.mark.parametrize("name", ["softmax", "softmin"])
def test_float_lane_write_vs_exact(isa, name, mode):
    sign = -1 if name == "softmin" else 1
    worst = 0.0
    for n, xs, gs in [(17, 3.0, 1.0), (513, 30.0, 1e-3), (1000, 10.0, 1e3), (2100, 30.0, 1.0)]:
        rng = np.random.default_rng(n)
        x = (rng.standard_normal((3, n)) * xs).astype(np.float32)
        y = fwd(name)(x)
        g = (rng.uniform(-1, 1, (3, n)) * gs).astype(np.float32)
        if mode == "new":
            got = bwd(name)(g, y)
        elif mode == "inplace_g":
            gc = g.copy()
            got = bwd(name)(gc, y, out=gc)
        else:
            yc = y.copy()
            got = bwd(name)(g, yc, out=yc)
        for r in range(3):
            yr = [Fraction(float(v)) for v in y[r]]
            gr = [Fraction(float(v)) for v in g[r]]
            S = sum(a * b for a, b in zip(gr, yr))
            for c in range(n):
                ex = sign * yr[c] * (gr[c] - S)
                sp = Fraction(float(np.spacing(np.float32(abs(float(ex))))))
                worst = max(worst, float(abs(Fraction(float(got[r, c])) - ex) / sp))
    assert worst <= 0.56, worst
