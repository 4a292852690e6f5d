"""``python -m fastact check``: measured error bounds, in ULPs.

float32: fastact against the float64 reference formulas (fastact._refmath,
stable forms; about 1e-15 relative error, i.e. ~1e-8 float32 ULP; with
--exhaustive, fastact's own float64 kernels, for speed), the error
measured in float32 ULPs of the float64 value -- so a correctly rounded
result scores <= 0.5 and a flush to zero of a representable result scores
its size in units of 2^-149.  A dense sample by default; with --exhaustive,
all 2^32 bit patterns.
float64: fastact against mpmath at 50 digits (fastact._exact) on a sample
that includes the edges, in float64 ULPs of the exact value.
"""
from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np

from . import _ext


# The published bounds, in ULPs (see the module docstring for how they are
# measured).  float32 results come from double-precision cores rounded once
# or from float-lane cores that carry exp as hi + lo and correct each
# quotient (src_c/fa_activations_f32.h: <= 0.79 over all 2^32 inputs), so
# every float32 quantity is bounded by 1.  float64 functions and their
# derivatives are within 2 on every path: the derivatives round once from
# double-double terms (fa_v512_f64.h on AVX-512; fa_sig_dd, fa_dx_sig_dd
# and the float64 branches of fa_derivatives.h elsewhere).  Where f' has a zero at finite x (gelu at -0.75,
# gelu_tanh at -0.75, silu/swish at -1.28/beta, mish at -1.19) f' is a
# difference of two O(1) terms, so the error of the terms grows without
# bound in ULPs of the tiny f' there: every path carries those terms as
# double-doubles and switches to a Taylor polynomial of f' in a window
# around the zero (fa_zwindow, fa_dx_sig_dd and fa_dcore_gelu/mish in
# src_c/fa_derivatives.h; fa_v512_f64.h on AVX-512), so they have the
# ordinary bound too.  gelu (erf form) float64 is fastact's own (fa_gelu64_*
# in fa_activations.h, src_c/gen_erfc.py --float64), not libm's erfc.
BOUND = {"float32": 1.0, "float64": 2.0}
BOUND_GRAD64 = 2.0
EXCEPTIONS: Dict[Tuple[str, str, str], Optional[float]] = {}
# The softmax family's backward (g*f' rows: the vector-Jacobian product from
# the saved output y).  softmax/softmin float32 write y (g - S) in float
# lanes with S carried as three floats: within 2 (the accuracy issue's
# bound), not 1 (the AVX-512 path re-does rows where g ~ S in double-double:
# 0.50 there).  log_softmax's g - e^y sum(g) has an unbounded condition
# number in y where g ~ e^y sum(g): float32 is computed with e^y and the
# sums far beyond float precision (0.56 ULP measured against mpmath, once
# the float64 oracle's own cancellation is arbitrated away, which had
# scored it 34 ULP); float64 carries e^y S as a double-double to ~2^-62
# and redoes the elements that cancel past 2^-8 in 113-bit and then
# ~226-bit arithmetic (fa_smb_logsm64 in src_c/fa_softmax_bwd_tmpl.h), so
# both have the ordinary bounds -- where the build has a 113-bit type (not
# MSVC or Apple arm64: bound_for reports the row there, unenforced).
EXCEPTIONS.update({("softmax", "float32", "g*f'"): 2.0, ("softmin", "float32", "g*f'"): 2.0})


def _bound_key(name: str, params: Optional[Dict]) -> str:
    if name == "gelu" and (params or {}).get("approximate") == "tanh":
        return "gelu_tanh"
    return name


def bound_for(name: str, dtype: str, what: str, params: Optional[Dict] = None) -> Optional[float]:
    key = _bound_key(name, params)
    if (key, dtype, what) == ("log_softmax", "float64", "g*f'") and not _ext.has_binary128():
        return None     # only the double-double level in this build (src_c/fa_kernels.h)
    if (key, dtype, what) in EXCEPTIONS:
        return EXCEPTIONS[(key, dtype, what)]
    if dtype == "float64" and what != "f":
        return BOUND_GRAD64
    return BOUND[dtype]


SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0]

# Points where kernels switch formula or where results under/overflow; each
# is probed +- a few ULPs (both signs where it makes sense).
CUTOFFS = [1e-3, 0.01, 0.1, 0.5, 0.85, 1.0, 2.0, 3.0, 5.0, 5.19, 6.0, 10.0, 20.0, 26.0 * math.sqrt(2),
           36.8, 37.5, 40.0 * math.sqrt(2), 60.0, 87.33, 88.72, 89.07, 103.28, 104.0, 708.4, 709.78,
           710.0, 745.13, 746.0, 1e4, 1e10, 1e30, 1e38]


@dataclass
class Row:
    name: str
    params: Dict
    dtype: str
    what: str = "f"          # f (forward), f' (derivative), g*f' (backward), g*f'(y) (from y)
    max_ulp: float = 0.0
    at: float = float("nan")
    over1: int = 0
    count: int = 0
    specials: str = "ok"
    seconds: float = 0.0

    @property
    def bound(self) -> Optional[float]:
        return bound_for(self.name, self.dtype, self.what, self.params)

    @property
    def ok(self) -> bool:
        within = self.bound is None or self.max_ulp <= self.bound
        return within and self.specials in ("ok", "-")


def _ulp_err32(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|got - ref| in float32 ULPs of ref (ref float64, unrounded)."""
    a = np.abs(ref)
    with np.errstate(all="ignore"):
        _, ex = np.frexp(a)
        ulp = np.ldexp(1.0, np.maximum(ex - 24, -149))
        err = np.abs(got.astype(np.float64) - ref) / ulp
        r32 = ref.astype(np.float32)
    same = (got == r32) & np.isinf(r32)          # overflow both ways
    both_nan = np.isnan(got) & np.isnan(ref)
    err = np.where(same | both_nan, 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


def _float32_samples(kw: Dict) -> np.ndarray:
    rng = np.random.default_rng(20261122)
    lim = int(np.array(2.0 ** -10, np.float32).view(np.uint32))
    walk = np.arange(0, lim, max(1, lim // 400_000), dtype=np.uint32).view(np.float32)
    grid = np.linspace(-100, 100, 2_000_001, dtype=np.float32)
    rand = rng.integers(0, 2 ** 32, 1_000_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    pts = list(CUTOFFS) + [float(v) for v in kw.values() if isinstance(v, float)]
    pts += [float(kw["threshold"]) / float(kw.get("beta", 1.0))] if "threshold" in kw else []
    base = np.array(pts + [-p for p in pts], dtype=np.float32)
    steps = np.arange(-8, 9, dtype=np.int32)
    near = (base.view(np.int32)[:, None] + steps[None, :]).ravel().view(np.float32)
    return np.concatenate([walk, -walk, grid, rand, near, np.array(SPECIALS, np.float32)])


def _float64_samples(n: int, kw: Dict) -> np.ndarray:
    rng = np.random.default_rng(20261122)
    pts = list(CUTOFFS) + [float(v) for v in kw.values() if isinstance(v, float)]
    base = np.array(pts + [-p for p in pts], dtype=np.float64)
    near = (base.view(np.int64)[:, None] + np.arange(-3, 4)[None, :]).ravel().view(np.float64)
    m = max(0, n - near.size)
    parts = [near,
             rng.uniform(-40, 40, m // 2),
             rng.standard_normal(m // 4) * 3,
             np.ldexp(rng.uniform(0.5, 1, m - m // 2 - m // 4), rng.integers(-60, 12, m - m // 2 - m // 4))
             * rng.choice([-1, 1], m - m // 2 - m // 4)]
    return np.concatenate(parts)


def _specials(entry, kw, dtype) -> str:
    """NaN -> NaN, +-inf -> the reference's limit, zeros' signs, tiny inputs."""
    import fastact
    f = fastact.get(entry.name)
    info = np.finfo(dtype)
    x = np.array(SPECIALS + [float(info.smallest_subnormal), -float(info.smallest_subnormal),
                             float(info.max), -float(info.max)], dtype=dtype)
    got = f(x, **kw)
    with np.errstate(all="ignore"):
        ref = entry.reference(x.astype(np.float64), **kw).astype(dtype)
    bad = []
    for xi, g, r in zip(x, got, ref):
        if np.isnan(r) != np.isnan(g) or (np.isinf(r) and g != r) or \
                (r == 0 and g == 0 and np.signbit(r) != np.signbit(g) and not np.isnan(r)):
            bad.append(f"f({xi})={g} want {r}")
    return "ok" if not bad else "FAIL: " + "; ".join(bad[:3])


def _entries(names: Optional[Iterable[str]]):
    from . import _registry
    ents = [_registry.lookup(n) for n in names] if names else list(_registry.REGISTRY.values())
    return [e for e in ents if e.kind in ("unary", "prelu", "python", "rowwise")]


def _examples(entry):
    for ex in entry.examples:
        if ex.get("weight") == "per-channel":
            continue
        yield dict(ex)


def _g_pattern(n: int) -> np.ndarray:
    """The backward checks' grad_output: fixed and exactly representable."""
    return (np.arange(n, dtype=np.float64) % 7 - 3.0) * 0.375


def _grad_pair(entry, kw, what):
    """(fastact callable, float64 reference callable) for one kind of check."""
    import fastact
    from . import _refmath
    rkw = _ref_kw(entry, kw)
    if what == "f":
        return (lambda x: fastact.get(entry.name)(x, **kw),
                lambda x64: entry.reference(x64, **rkw))
    dref = getattr(_refmath, "d_" + entry.name)
    if what == "f'":
        return (lambda x: fastact.derivative(entry.name, x, **kw),
                lambda x64: dref(x64, **rkw))
    back = getattr(fastact, entry.name + "_backward")

    def g_of(x):
        return _g_pattern(x.size).astype(x.dtype)

    if what == "g*f'(y)":       # the backward from the forward output: inputs are y
        from . import reference
        rback = getattr(reference, entry.name + "_backward")
        return (lambda y: back(g_of(y), None, y=y, **kw),
                lambda y64: rback(g_of(y64), None, y=y64, **rkw))

    def run_back(x):
        r = back(g_of(x), x, **kw)
        return r[0] if isinstance(r, tuple) else r   # prelu: (grad_x, grad_weight)

    return (run_back, lambda x64: g_of(x64) * dref(x64, **rkw))


SUSPECT_ULP = 0.75


def _arbitrate(entry, kw, what, x, got, ref, err):
    """Exhaustive runs: the float64 oracle is itself only ~1e-16 *absolute*
    accurate where the result cancels (f' near its zeros: 7.6e-8 relative
    for mish' at x = -1.19243121, i.e. 1.3 float32 ULP of a result that
    fastact gets within 0.12).  Every input scoring above SUSPECT_ULP (a
    handful per function) is re-scored against mpmath at 50 digits
    (fastact._exact), in place."""
    idx = np.flatnonzero(err > SUSPECT_ULP)
    if idx.size == 0 or idx.size > 4096 or what not in ("f", "f'", "g*f'"):
        return
    import mpmath as mp
    from . import _exact
    fname = entry.name if what == "f" else "d_" + entry.name
    fx = getattr(_exact, fname, None)
    if fx is None:
        return
    g = _g_pattern(x.size) if what == "g*f'" else None
    with mp.workdps(50):
        for i in idx:
            xi = float(x[i])
            if not np.isfinite(xi):
                continue
            v = fx(mp.mpf(xi), **_ref_kw(entry, kw))
            if g is not None:
                v = v * mp.mpf(g[i])
            ref[i] = float(v)
    err[idx] = _ulp_err32(got[idx], ref[idx])


def check_float32(entry, kw, exhaustive=False, progress=None, what="f") -> Row:
    import fastact
    mine, ref_f = _grad_pair(entry, kw, what)
    if exhaustive:
        # 2^32 inputs: the oracle is fastact's float64 kernels (full-precision
        # cores, themselves checked against mpmath to <= 2 float64 ULP, i.e.
        # ~1e-16 relative: 1e-9 of a float32 ULP) -- about 10x faster than
        # the NumPy formulas, which remain the oracle of the sampled check.
        ref_f = mine
    row = Row(entry.name, kw, "float32", what)
    t0 = time.perf_counter()

    def one(x):
        with fastact.threads(1), np.errstate(all="ignore"):  # the pool gives the parallelism
            got = mine(x)
            ref = ref_f(x.astype(np.float64))
        err = _ulp_err32(got, ref)
        if exhaustive:
            _arbitrate(entry, kw, what, x, got, ref, err)
        i = int(np.argmax(err))
        return float(err[i]), float(x[i]), int(np.count_nonzero(err > 1.0)), x.size

    if exhaustive:
        chunk = 1 << 20
        starts = range(0, 1 << 32, chunk)

        def job(s):
            return one(np.arange(s, s + chunk, dtype=np.uint32).view(np.float32))
        with ThreadPoolExecutor(max_workers=max(1, fastact.get_num_threads())) as pool:
            results = []
            for k, r in enumerate(pool.map(job, starts)):
                results.append(r)
                if progress and (k % 64 == 63 or k + 1 == len(starts)):
                    progress(k + 1, len(starts))
    else:
        xs = _float32_samples(kw)
        if what == "g*f'(y)":   # the outputs of the sampled inputs, and y itself as sampled
            with np.errstate(all="ignore"):
                xs = np.concatenate([fastact.get(entry.name)(xs, **kw), xs])
        results = [one(xs)]
    for m, at, over, cnt in results:
        if m > row.max_ulp or (row.count == 0 and m == 0):
            row.max_ulp, row.at = m, at
        row.over1 += over
        row.count += cnt
    row.specials = _specials(entry, kw, np.float32) if what == "f" else "-"
    row.seconds = time.perf_counter() - t0
    return row


def _ref_kw(entry, kw):
    if entry.kind == "prelu":
        return {"weight": kw["weight"]}
    return kw


def _check_float64_python(entry, kw, samples) -> Row:
    """A registered (Python) activation has no mpmath formula: its float64
    result is compared with its reference (the one given to register(), or
    forward itself in float64), in float64 ULPs of the reference."""
    import fastact
    row = Row(entry.name, kw, "float64", "f")
    t0 = time.perf_counter()
    x = _float64_samples(samples, kw)
    with np.errstate(all="ignore"):
        got = np.asarray(fastact.get(entry.name)(x), dtype=np.float64)
        ref = entry.reference(x)
        sp = np.maximum(np.spacing(np.abs(ref)), np.finfo(np.float64).smallest_subnormal)
        err = np.abs(got - ref) / sp
    err = np.where((got == ref) | (np.isnan(got) & np.isnan(ref)), 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    i = int(np.argmax(err))
    row.max_ulp, row.at, row.over1, row.count = float(err[i]), float(x[i]), int(np.count_nonzero(err > 1)), x.size
    row.specials = _specials(entry, kw, np.float64)
    row.seconds = time.perf_counter() - t0
    return row


def check_float64(entry, kw, samples=100_000, what="f") -> Row:
    if entry.kind == "python":
        return _check_float64_python(entry, kw, samples)
    import mpmath as mp
    from . import _exact
    mine, _ = _grad_pair(entry, kw, what)
    exact_f = getattr(_exact, entry.name if what == "f" else "d_" + entry.name)
    row = Row(entry.name, kw, "float64", what)
    t0 = time.perf_counter()
    x = _float64_samples(samples, kw)
    if what != "f":
        # the derivative is checked away from the kinks (where it is a
        # convention, tested separately) and from +-inf
        full = {p.name: p.default for p in entry.params}
        full.update(kw)
        kinks = [0.0, 3.0, -3.0, 6.0] + [float(v) for v in full.values() if isinstance(v, float)]
        if "threshold" in full:
            kinks.append(float(full["threshold"]) / float(full.get("beta", 1.0)))
        far = np.all(np.abs(x[:, None] - np.array(kinks)[None, :]) > 1e-6, axis=1)
        x = x[far & np.isfinite(x) & (np.abs(x) < 700)]
    got = mine(x)
    mp.mp.dps = 50
    g = (np.arange(x.size, dtype=np.float64) % 7 - 3.0) * 0.375
    worst, at, over = 0.0, float("nan"), 0
    for i, (xi, gi) in enumerate(zip(x.tolist(), got.tolist())):
        v = exact_f(mp.mpf(xi), **kw)
        if what == "g*f'":
            v = v * mp.mpf(float(g[i]))
        if not mp.isfinite(v):
            e = 0.0 if gi == float(v) else math.inf
        else:
            av = abs(v)
            ulp = mp.ldexp(1, max(int(mp.floor(mp.log(av, 2))) - 52, -1074)) if av else mp.ldexp(1, -1074)
            if av and av > mp.mpf(np.finfo(np.float64).max) and math.isinf(gi):
                e = 0.0
            else:
                e = float(abs(mp.mpf(gi) - v) / ulp) if math.isfinite(gi) else math.inf
        if e > worst:
            worst, at = e, xi
        over += e > 1.0
    row.max_ulp, row.at, row.over1, row.count = worst, at, over, x.size
    row.specials = _specials(entry, kw, np.float64) if what == "f" else "-"
    row.seconds = time.perf_counter() - t0
    return row


# ------------------------------------------------------------ softmax family
# Rows rather than single inputs: lengths 1 to 32000 along the last axis
# and axis 0, entries at scales 0.1 to 1000 (so that outputs reach the
# subnormal range and log_softmax outputs reach 0), plus rows whose max is
# repeated.  float32 is compared with the float64 reference; float64 with
# mpmath at 50 digits (shorter rows).  Backward (g*f') takes y = the
# forward output of the same dtype, rounded, as its exact input.
_ROW_LENGTHS32 = (1, 2, 3, 10, 100, 1000, 1025, 5000, 32000)
_ROW_LENGTHS64 = (1, 2, 3, 10, 50)
_ROW_SCALES = (0.1, 1.0, 10.0, 30.0, 100.0, 1000.0)


def _rows(dtype, axis, lengths, budget):
    rng = np.random.default_rng(20261201)
    for n in lengths:
        for sc in _ROW_SCALES:
            m = max(1, min(64, budget // (n * len(lengths) * len(_ROW_SCALES))))
            x = rng.standard_normal((m, n)) * sc
            if n > 2:
                x[:, 1] = x.max(axis=1)          # a repeated max
            x = x.astype(dtype)
            yield (x if axis == -1 else np.ascontiguousarray(x.T))


def _mp_rowwise(name, x_row, g_row=None, y_row=None):
    import mpmath as mp
    # enough digits that the sums of terms from 1 down to 1e-300 are exact
    mp.mp.dps = 50 if g_row is None else 700
    if g_row is None:
        v = [mp.mpf(float(t)) for t in x_row]
        if name == "softmin":
            v = [-t for t in v]
        m = max(v)
        e = [mp.exp(t - m) for t in v]
        top = v.index(m)
        L = mp.log1p(mp.fsum(e[:top] + e[top + 1:]))   # log S, S = 1 + rest
        return [t - m - L for t in v] if name == "log_softmax" else [t / mp.exp(L) for t in e]
    g = [mp.mpf(float(t)) for t in g_row]
    y = [mp.mpf(float(t)) for t in y_row]
    if name == "log_softmax":
        S = mp.fsum(g)
        return [gi - mp.exp(yi) * S for gi, yi in zip(g, y)]
    S = mp.fsum([gi * yi for gi, yi in zip(g, y)])
    sign = -1 if name == "softmin" else 1
    return [sign * yi * (gi - S) for gi, yi in zip(g, y)]


def _arbitrate_rows(name, axis, g, y, got, ref, err):
    """The float64 vector-Jacobian product is only ~1e-16 *absolute*
    accurate where it cancels: log_softmax's g - e^y sum(g) at
    -9.1e-16 scored 34 float32 ULP against it while fastact was 0.50 from
    the mpmath value.  Elements scoring above SUSPECT_ULP (a few per run)
    are re-scored against the exact formula (sums at 700 digits, as
    _mp_rowwise), in place."""
    idx = np.flatnonzero(err > SUSPECT_ULP)
    if idx.size == 0 or idx.size > 4096:
        return
    import mpmath as mp
    gt, yt = np.moveaxis(g, axis, -1), np.moveaxis(y, axis, -1)
    sums = {}
    with mp.workdps(700):
        for i in idx:
            pos = np.unravel_index(i, g.shape)
            r, c = (pos[0], pos[1]) if axis in (-1, 1) else (pos[1], pos[0])
            gc, yc = mp.mpf(float(gt[r, c])), mp.mpf(float(yt[r, c]))
            if not (mp.isfinite(gc) and mp.isfinite(yc)):
                continue
            if r not in sums:
                sums[r] = (mp.fsum(mp.mpf(float(t)) for t in gt[r]) if name == "log_softmax" else
                           mp.fsum(mp.mpf(float(a)) * mp.mpf(float(b)) for a, b in zip(gt[r], yt[r])))
            S = sums[r]
            if not mp.isfinite(S):
                continue
            v = gc - mp.exp(yc) * S if name == "log_softmax" else yc * (gc - S)
            ref.flat[i] = float(-v if name == "softmin" else v)
    err.flat[idx] = _ulp_err32(got.flat[idx], ref.flat[idx])


def check_rowwise(entry, kw, dtype, samples, what="f") -> Row:
    import fastact
    from . import _refmath
    axis = kw.get("axis", -1)
    f = fastact.get(entry.name)
    back = getattr(fastact, entry.name + "_backward")
    vjp = getattr(_refmath, "vjp_" + entry.name)
    row = Row(entry.name, kw, dtype, what)
    t0 = time.perf_counter()
    dt = np.dtype(dtype)
    lengths = _ROW_LENGTHS32 if dt == np.float32 else _ROW_LENGTHS64
    budget = 2_000_000 if dt == np.float32 else max(2000, samples)
    worst, at, over, count = 0.0, float("nan"), 0, 0
    for x in _rows(dt, axis, lengths, budget):
        with np.errstate(all="ignore"):
            if what == "f":
                got = f(x, axis=axis)
            else:
                y = f(x, axis=axis)
                g = ((np.arange(x.size) % 7 - 3.0) * 0.375).reshape(x.shape).astype(dt)
                got = back(g, y, axis=axis)
            if dt == np.float32:
                ref = (entry.reference(x.astype(np.float64), axis=axis) if what == "f"
                       else vjp(g.astype(np.float64), y.astype(np.float64), axis=axis))
                err = _ulp_err32(got, ref)
                if what == "g*f'":
                    _arbitrate_rows(entry.name, axis, g, y, got, ref, err)
            else:
                gt = np.moveaxis(got, axis, -1)
                xt = np.moveaxis(x, axis, -1)
                ref = np.empty(gt.shape, dtype=object)
                for i in range(xt.shape[0]):
                    ref[i] = (_mp_rowwise(entry.name, xt[i]) if what == "f" else
                              _mp_rowwise(entry.name, None, np.moveaxis(g, axis, -1)[i],
                                          np.moveaxis(y, axis, -1)[i]))
                err = np.zeros(gt.shape)
                for idx in np.ndindex(gt.shape):
                    v, gv = ref[idx], float(gt[idx])
                    av = abs(v)
                    ulp = 2.0 ** max(math.frexp(float(av))[1] - 53, -1074) if av else 2.0 ** -1074
                    err[idx] = float(abs(v - gv)) / ulp if math.isfinite(gv) else math.inf
                err = np.moveaxis(err, -1, axis)
        i = int(np.argmax(err))
        if err.flat[i] > worst:
            worst, at = float(err.flat[i]), float(x.flat[i])
        over += int(np.count_nonzero(err > 1.0))
        count += err.size
    row.max_ulp, row.at, row.over1, row.count = worst, at, over, count
    row.specials = _rowwise_specials(f, axis, dt) if what == "f" else "-"
    row.seconds = time.perf_counter() - t0
    return row


def _rowwise_specials(f, axis, dt) -> str:
    """A row with NaN is all NaN; an entry at -inf (softmin: +inf) is no
    NaN; an empty axis gives an empty result."""
    bad = []
    low = np.inf if f.__name__ == "softmin" else -np.inf     # an entry that gives 0
    x = np.array([[1.0, np.nan, 2.0], [0.0, low, 1.0]], dt)
    got = f(x if axis == -1 else x.T, axis=axis)
    got = got if axis == -1 else got.T
    if not np.all(np.isnan(got[0])):
        bad.append(f"NaN row gave {got[0]}")
    if np.isnan(got[1]).any():
        bad.append(f"-inf entry gave {got[1]}")
    if f(np.zeros((0, 3) if axis == 0 else (3, 0), dt), axis=axis).size != 0:
        bad.append("empty axis")
    return "ok" if not bad else "FAIL: " + "; ".join(bad)


def _bar(label):
    def show(k, n):
        w = 30
        done = int(w * k / n)
        print(f"\r{label:<28} [{'#' * done}{'.' * (w - done)}] {k}/{n}", end="", file=sys.stderr, flush=True)
        if k == n:
            print(file=sys.stderr)
    return show


WHATS = {"f": "forward", "f'": "derivative", "g*f'": "backward",
         "g*f'(y)": "backward from the forward output (float32)"}


def _from_y_ok(entry, kw) -> bool:
    """Whether `<name>_backward(g, None, y=...)` exists for these parameters
    (sigmoid, tanh; elu, celu, selu with alpha >= 0)."""
    import fastact
    back = getattr(fastact, entry.name + "_backward", None)
    if back is None or entry.kind != "unary":
        return False
    try:
        back(np.ones(1, np.float32), None, y=np.full(1, 0.5, np.float32), **kw)
    except (TypeError, ValueError):
        return False
    return True


def run(names=None, dtype="float32", exhaustive=False, samples=100_000, markdown=False,
        out=sys.stdout, grads=True, only=None) -> int:
    """`only`: a subset of WHATS' keys to check (None: all that apply)."""
    dtypes = ["float32", "float64"] if dtype == "both" else [dtype]
    if exhaustive and dtypes != ["float32"]:
        raise ValueError("--exhaustive visits all 2^32 float32 inputs; use it with --dtype float32")
    import fastact
    rows: List[Row] = []
    for dt in dtypes:
        for e in _entries(names):
            whats = ["f"]
            if grads and hasattr(fastact, e.name + "_backward"):
                whats += ["g*f'"] if e.kind == "rowwise" else ["f'", "g*f'"]
            if only:
                whats = [w for w in whats if w in only]
            for kw in _examples(e):
                yw = ["g*f'(y)"] if (grads and dt == "float32" and _from_y_ok(e, kw)
                                     and (not only or "g*f'(y)" in only)) else []
                for what in whats + yw:
                    label = f"{e.name}{kw or ''} {what} {dt}"
                    if e.kind == "rowwise":
                        print(f"\r{label:<50}", end="", file=sys.stderr, flush=True)
                        r = check_rowwise(e, kw, dt, samples, what)
                    elif dt == "float32":
                        r = check_float32(e, kw, exhaustive, _bar(label) if exhaustive else None, what)
                    else:
                        print(f"\r{label:<50}", end="", file=sys.stderr, flush=True)
                        r = check_float64(e, kw, samples if what == "f" else max(1, samples // 5), what)
                    rows.append(r)
    print(file=sys.stderr)
    _print(rows, markdown, exhaustive, out)
    return 0 if all(r.ok for r in rows) else 1


def _print(rows: List[Row], markdown: bool, exhaustive: bool, out) -> None:
    head = ["function", "params", "what", "dtype", "max ULP", "at x", "> 1 ULP", "inputs", "bound", "specials"]
    lines = []
    for r in rows:
        p = ", ".join(f"{k}={v}" for k, v in r.params.items())
        lines.append([r.name, p, r.what, r.dtype, f"{r.max_ulp:.3g}", f"{r.at:.9g}", str(r.over1),
                      "2^32" if (exhaustive and r.dtype == "float32") else str(r.count),
                      ("not yet bounded" if r.bound is None else
                       f"<= {r.bound:g}" + ("" if r.max_ulp <= r.bound else " FAIL")), r.specials])
    if markdown:
        print("| " + " | ".join(head) + " |", file=out)
        print("|" + "---|" * len(head), file=out)
        for ln in lines:
            print("| " + " | ".join(ln) + " |", file=out)
        return
    widths = [max(len(h), *(len(ln[i]) for ln in lines)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)), file=out)
    for ln in lines:
        print("  ".join(c.ljust(w) for c, w in zip(ln, widths)), file=out)
