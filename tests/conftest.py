"""Shared helpers for the registry-driven tests.

Tolerances (documented, derived, not tuned):
* float32: the kernels evaluate in double and round once; the reference
  evaluates in float64 and rounds once.  Both are within 0.5 ULP + ~1e-4 ULP
  of the exact value, so they may differ by at most 1 ULP (at a near-tie).
* float64: kernel <= ~2 ULP and reference <= ~2 ULP (both stable double
  formulas; the reference uses long double where the condition number is
  large), so they may differ by at most 4 ULP.
ULPs are measured in the spacing of the reference value, with subnormal
values measured in units of the smallest subnormal (a flush to zero counts).
"""
import numpy as np
import pytest

import fastact
from fastact import _registry

TOL_ULP = {np.dtype(np.float32): 1.0, np.dtype(np.float64): 4.0}
DTYPES = [np.float32, np.float64]


def ulp_diff(a, b):
    """Elementwise |a - b| in ULPs of b's dtype; NaN vs NaN and equal
    infinities are 0; a NaN mismatch or an infinity mismatch is inf."""
    a = np.asarray(a)
    b = np.asarray(b)
    dt = b.dtype
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    tiny = float(np.finfo(dt).smallest_subnormal)
    with np.errstate(invalid="ignore", over="ignore"):
        sp = np.maximum(np.spacing(np.abs(b)).astype(np.float64), tiny)
        d = np.abs(a64 - b64) / sp
    same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
    d = np.where(same, 0.0, d)
    d = np.where(np.isnan(d), np.inf, d)
    return d


def assert_close_ulp(actual, expected, tol=None, what=""):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    if actual.size == 0:
        return
    tol = TOL_ULP[expected.dtype] if tol is None else tol
    d = ulp_diff(actual, expected)
    i = np.unravel_index(np.argmax(d), d.shape)
    assert d[i] <= tol, (f"{what}: {d[i]} ULP > {tol} at index {i}: got {actual[i]!r}, "
                         f"expected {expected[i]!r}")


def sample_values(n, dtype, seed=0):
    """Moderate values, tails and special values, in `dtype`."""
    rng = np.random.default_rng(seed)
    v = np.concatenate([
        rng.standard_normal(n) * 4,
        rng.uniform(-40, 40, n),
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 3.0, -3.0, 6.0, 20.0, 21.0, -20.0, -88.0, -100.0],
    ])
    with np.errstate(over="ignore"):
        return v.astype(dtype)


def cases():
    """(entry, example) for every registry entry and parameter set."""
    return [pytest.param(e, ex, id=f"{e.name}-{'-'.join(f'{k}={v}' for k, v in ex.items()) or 'default'}")
            for e in _registry.REGISTRY.values() for ex in e.examples]


def resolve_params(entry, example, x):
    """Turn a registry example into concrete keyword arguments for input x
    (a per-channel PReLU weight needs the channel count)."""
    kw = dict(example)
    if kw.get("weight") == "per-channel":
        axis = kw.get("axis", 1)
        kw["weight"] = np.linspace(0.05, 0.5, x.shape[axis])
    return kw


def applicable(entry, example, x):
    """Whether this (entry, example) can take input x at all."""
    kw = dict(example)
    if entry.kind == "maxout":
        if x.ndim == 0:
            return False
        axis = kw.get("axis", -1)
        return x.shape[axis] % kw["pool_size"] == 0
    if entry.kind == "rowwise":  # a reduction: needs the axis to exist
        return -x.ndim <= kw.get("axis", -1) < x.ndim
    if entry.kind == "prelu" and kw.get("weight") == "per-channel":
        return x.ndim >= 2
    return True


def call(entry, x, kw, **extra):
    return getattr(fastact, entry.name)(x, **kw, **extra)


def pytest_report_header(config):
    """Which fastact is under test (the checkout, or an installed wheel)."""
    return f"fastact {fastact.__version__} from {fastact.__file__}"


def _supported_isas():
    from fastact import _api
    return [i for i in ("baseline", "avx2", "avx512") if _api._ext.isa_supported(i)]


@pytest.fixture(params=_supported_isas())
def isa(request):
    """Run the test on each SIMD path this machine supports (then restore)."""
    from fastact import _api
    old = _api._ext.current_isa()
    assert _api._ext.select_isa(request.param) == request.param
    try:
        yield request.param
    finally:
        _api._ext.select_isa(old)
