#!/usr/bin/env python3
"""Generate ``tests/exact_values.py``: the oracle of exact activation values.

Usage::

    python tests/make_exact_values.py

For every activation function (and parameter variant) and every probe point
this script

1. rounds the probe to the target dtype (float32 / float64), so that the input
   is exactly representable, and records that input;
2. evaluates the *mathematically exact* function value at that input with
   mpmath (baseline ``mp.dps = 60``; formulas are written so that no
   catastrophic cancellation happens: ``expm1``/``log1p`` are used, the
   tanh-GELU uses ``1 + tanh(u) = 2 / (1 + exp(-2u))``, ``tanhshrink`` raises
   the working precision by the bits lost to cancellation, and piecewise
   linear functions are evaluated exactly with ``fractions.Fraction``);
3. rounds the exact value *correctly* (round-to-nearest, ties-to-even) to the
   dtype with exact integer arithmetic -- no double rounding through float64,
   gradual underflow down to the smallest subnormal, and overflow to +-inf;
4. repeats the evaluation at twice the precision and requires the rounded
   results to agree (Ziv's test); otherwise precision is raised further.

Only numpy and mpmath are needed.  Runs in a few seconds.
"""

import math
import os
import sys
from fractions import Fraction

import mpmath as mp
import numpy as np

mp.mp.dps = 60

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "exact_values.py")

# --------------------------------------------------------------------------
# Floating-point formats and correct rounding
# --------------------------------------------------------------------------

# name -> (precision p in bits incl. hidden bit, emax, exponent of smallest subnormal)
FORMATS = {
    "float32": (24, 127, -149),
    "float64": (53, 1023, -1074),
}


def binary_exponent(v):
    """floor(log2|v|) of a nonzero mpf or Fraction, without building huge ints."""
    if isinstance(v, mp.mpf):
        _sign, _man, exp, bc = v._mpf_
        return int(exp) + int(bc) - 1
    n, d = abs(v.numerator), v.denominator
    e = n.bit_length() - d.bit_length()
    if e >= 0:
        if n < (d << e):
            e -= 1
    else:
        if (n << (-e)) < d:
            e -= 1
    return e


def to_fraction(v):
    """Exact conversion of an mpf (a dyadic rational) or Fraction to Fraction.

    Only call this for values of moderate binary exponent (mpmath values such
    as exp(-1e10) have exponents far beyond what a Fraction can hold)."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, int):
        return Fraction(v)
    v = mp.mpf(v) if not isinstance(v, mp.mpf) else v
    if not mp.isfinite(v):
        raise ValueError("non-finite exact value %r" % (v,))
    sign, man, exp, _bc = v._mpf_
    man = int(man)
    if exp >= 0:
        f = Fraction(man << exp)
    else:
        f = Fraction(man, 1 << (-exp))
    return -f if sign else f


def round_to_format(v, dtype_name, zero_sign=1):
    """Correctly round the exact rational ``v`` to ``dtype_name``.

    Returns a Python float holding the rounded value exactly (for float32 the
    value is a float32 number).  Round-to-nearest, ties-to-even, subnormals,
    overflow to +-inf.  A (nonzero) value that underflows to zero keeps its
    sign; an exact zero gets the sign ``zero_sign``.
    """
    return round_to_format_tie(v, dtype_name, zero_sign)[0]


def round_to_format_tie(v, dtype_name, zero_sign=1):
    """Like ``round_to_format`` but returns ``(result, tie)`` where ``tie``
    says that ``v`` lies exactly halfway between two neighbours."""
    tie = False
    p, emax, qmin = FORMATS[dtype_name]
    if isinstance(v, mp.mpf) and not mp.isfinite(v):
        raise ValueError("non-finite exact value %r" % (v,))
    if v == 0:
        return math.copysign(0.0, zero_sign), False
    neg = v < 0
    e = binary_exponent(v)              # floor(log2|v|)
    q = max(e - (p - 1), qmin)          # exponent of the unit in the last place
    if e > emax:
        r = math.inf                    # >= 2**(emax+1): overflow
    elif e < qmin - 1:
        r = 0.0                         # < half the smallest subnormal
    else:
        v = to_fraction(v)
        n, d = abs(v.numerator), v.denominator
        if q >= 0:
            num, den = n, d << q
        else:
            num, den = n << (-q), d
        m, rem = divmod(num, den)
        tie = 2 * rem == den
        if 2 * rem > den or (2 * rem == den and (m & 1)):
            m += 1
        maxm = (1 << p) - 1
        if q == emax - p + 1 and m > maxm:
            r = math.inf                # rounded up past the largest finite
        else:
            r = math.ldexp(m, q)        # exact: m * 2**q is representable
            # (m may equal 2**p after rounding up; still exact)
    return (-r if neg else r), tie


def round_to_format_crosscheck(v, dtype_name, result):
    """Independent check of ``round_to_format`` (the neighbour method).

    float64: compare against mpmath's float() in the normal range.
    float32: take the nearest double, convert with numpy (which may double
    round), then pick among that float32 and its two float32 neighbours the
    one nearest to the exact value (ties to even).
    """
    if v == 0:
        return
    e = binary_exponent(v)
    if e < -1200 or e > 1100:
        # far outside both formats: the result must be a signed 0 or inf
        assert abs(result) == (0.0 if e < 0 else math.inf), (e, result)
        assert math.copysign(1, result) == (-1 if v < 0 else 1), (v, result)
        return
    vf = to_fraction(v)
    if dtype_name == "float64":
        if vf != 0 and 2.0 ** -1022 <= abs(vf) <= Fraction(np.finfo(np.float64).max):
            with mp.workprec(4000):
                ref = float(mp.mpf(vf.numerator) / mp.mpf(vf.denominator))
            assert ref == result, (vf, ref, result)
        return
    # float32
    if vf == 0:
        return
    big = Fraction(2) ** 128 - Fraction(2) ** 103   # overflow threshold
    if abs(vf) >= big:
        assert math.isinf(result) and (result < 0) == (vf < 0), (vf, result)
        return
    assert not math.isinf(result), (vf, result)
    d = round_to_format(vf, "float64")
    with np.errstate(over="ignore"):
        f = np.float32(d)
        cands = {float(f),
                 float(np.nextafter(f, np.float32(-np.inf))),
                 float(np.nextafter(f, np.float32(np.inf)))}
    cands = [c for c in cands if math.isfinite(c)]

    def key(c):
        dist = abs(Fraction(c) - vf)
        mant_odd = int(np.float32(c).view(np.uint32)) & 1
        return (dist, mant_odd)

    best = min(cands, key=key)
    if best == 0.0:
        best = math.copysign(0.0, -1.0 if vf < 0 else 1.0)
    assert best == result and math.copysign(1, best) == math.copysign(1, result), \
        (vf, best, result)


# --------------------------------------------------------------------------
# Activation functions (exact definitions)
# --------------------------------------------------------------------------
# Each function gets the exact input (mpf for the transcendental ones,
# Fraction for the piecewise linear ones) plus keyword parameters, and is
# evaluated at the current mpmath working precision.

def D(s):
    """An exact decimal parameter as a Fraction."""
    return Fraction(str(s))


def M(s):
    """An exact decimal parameter as an mpf at the current precision."""
    return mp.mpf(str(s))


SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"


# mpmath's erfc with the asymptotic series past z = 1e6 (one definition,
# shared with `fastact check`'s float64 oracle).
from fastact._exact import erfc as erfc_safe  # noqa: E402


def f_sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def f_log_sigmoid(x):
    return -mp.log1p(mp.exp(-x))


def f_hard_sigmoid(x):               # Fraction
    return min(max(x + 3, Fraction(0)), Fraction(6)) / 6


def f_tanh(x):
    return mp.tanh(x)


def f_hardtanh(x, min_val=-1.0, max_val=1.0):   # Fraction
    return min(max(x, D(min_val)), D(max_val))


def f_tanhshrink(x):
    # x - tanh(x) ~ x**3/3 for small x: about -2*log2|x| bits cancel.
    extra = max(0, -2 * int(mp.mag(x))) + 20
    with mp.workprec(mp.mp.prec + extra):
        r = x - mp.tanh(x)
    return +r


def f_softsign(x):
    return x / (1 + abs(x))


def f_relu(x):                       # Fraction
    return max(x, Fraction(0))


def f_relu6(x):                      # Fraction
    return min(max(x, Fraction(0)), Fraction(6))


def f_leaky_relu(x, negative_slope=0.01):   # Fraction
    return x if x > 0 else D(negative_slope) * x


def f_elu(x, alpha=1.0):
    return x if x > 0 else M(alpha) * mp.expm1(x)


def f_celu(x, alpha=1.0):
    a = M(alpha)
    return x if x > 0 else a * mp.expm1(x / a)


def f_selu(x):
    inner = x if x > 0 else M(SELU_ALPHA) * mp.expm1(x)
    return M(SELU_SCALE) * inner


def f_gelu(x, approximate="none"):
    if approximate == "none":
        # x * Phi(x) = x * erfc(-x/sqrt(2)) / 2
        return x * erfc_safe(-x / mp.sqrt(2)) / 2
    if approximate == "tanh":
        # 0.5*x*(1 + tanh(u)) == x / (1 + exp(-2u))   (no cancellation)
        u = mp.sqrt(2 / mp.pi) * (x + M("0.044715") * x ** 3)
        return x / (1 + mp.exp(-2 * u))
    raise ValueError(approximate)


def f_silu(x):
    return x / (1 + mp.exp(-x))


def f_swish(x, beta=1.0):
    return x / (1 + mp.exp(-M(beta) * x))


def f_hardswish(x):                  # Fraction
    return x * min(max(x + 3, Fraction(0)), Fraction(6)) / 6


def f_mish(x):
    return x * mp.tanh(mp.log1p(mp.exp(x)))


def f_softplus(x, beta=1.0, threshold=20.0):
    b = M(beta)
    if b * x > M(threshold):
        return x
    return mp.log1p(mp.exp(b * x)) / b


# name -> (callable, exact kind, list of params tuples (sorted by name))
#   kind "frac": piecewise linear, evaluated exactly in Fraction arithmetic
#   kind "mp":   transcendental, evaluated with mpmath + Ziv test
FUNCTIONS = [
    ("sigmoid", f_sigmoid, "mp", [()]),
    ("log_sigmoid", f_log_sigmoid, "mp", [()]),
    ("hard_sigmoid", f_hard_sigmoid, "frac", [()]),
    ("tanh", f_tanh, "mp", [()]),
    ("hardtanh", f_hardtanh, "frac", [()]),
    ("tanhshrink", f_tanhshrink, "mp", [()]),
    ("softsign", f_softsign, "mp", [()]),
    ("relu", f_relu, "frac", [()]),
    ("relu6", f_relu6, "frac", [()]),
    ("leaky_relu", f_leaky_relu, "frac", [(), (("negative_slope", 0.2),)]),
    ("elu", f_elu, "mp", [(), (("alpha", 0.5),)]),
    ("celu", f_celu, "mp", [(), (("alpha", 2.0),)]),
    ("selu", f_selu, "mp", [()]),
    ("gelu", f_gelu, "mp", [(), (("approximate", "tanh"),)]),
    ("silu", f_silu, "mp", [()]),
    # swish's default is beta=1.0 (then it equals silu); () is that default.
    ("swish", f_swish, "mp", [(), (("beta", 1.0),), (("beta", 0.5),), (("beta", 2.0),)]),
    ("hardswish", f_hardswish, "frac", [()]),
    ("mish", f_mish, "mp", [()]),
    ("softplus", f_softplus, "mp", [(), (("beta", 2.0), ("threshold", 20.0))]),
]

# Functions whose value at -0.0 is -0.0 (odd, or of the form x*something).
SIGNED_ZERO_AT_ZERO = {
    "tanh", "hardtanh", "tanhshrink", "softsign", "leaky_relu", "elu", "celu",
    "selu", "gelu", "silu", "swish", "hardswish", "mish",
}


def exact_zero_sign(name, x):
    """Sign to give an *exactly zero* result at input x (a Python float)."""
    if x == 0.0:
        return math.copysign(1.0, x) if name in SIGNED_ZERO_AT_ZERO else 1.0
    if name == "hardswish":
        # x * max(x+3, 0) / 6 with x <= -3  ->  (-x) * (+0) = -0.0 in IEEE
        return math.copysign(1.0, x)
    return 1.0                       # relu, relu6, hard_sigmoid: max(.., 0) = +0


# --------------------------------------------------------------------------
# Probe points
# --------------------------------------------------------------------------

COMMON_PROBES = (
    [0.0, -0.0]
    + [s * v for v in (1e-30, 1e-8, 1e-4, 0.1, 0.5, 1.0, 2.0, 2.9999, 3.0, 3.0001,
                       5.0, 5.19, 6.0, 10.0, 20.0, 20.5, 30.0) for s in (1.0, -1.0)]
    + [-87.5, -88.7, -89.07, -100.0, -103.0, 500.0, -500.0, -710.0, -745.0,
       1e10, -1e10, 1e30, -1e30]
)
EXTRA_PROBES = {
    "float32": [2.86e38, -2.86e38],
    "float64": [1e300, -1e300],
}


def probes_for(dtype_name):
    npdt = np.dtype(dtype_name).type
    fi = np.finfo(dtype_name)
    tiny = float(fi.smallest_subnormal)
    big = float(fi.max)
    raw = COMMON_PROBES + EXTRA_PROBES[dtype_name] + [tiny, -tiny, big, -big]
    out, seen = [], set()
    for p in raw:
        x = float(npdt(p))           # exactly representable in the dtype
        k = x.hex()
        if k not in seen:
            seen.add(k)
            out.append(x)
    return out


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def evaluate(name, fn, kind, params, x, dtype_name):
    """Correctly rounded value of fn at the exact input x (a Python float)."""
    kw = dict(params)
    zsign = exact_zero_sign(name, x)
    if x == 0.0 and name in SIGNED_ZERO_AT_ZERO:
        return math.copysign(0.0, x)
    if kind == "frac":
        v = fn(Fraction(x), **kw)
        y = round_to_format(v, dtype_name, zsign)
        round_to_format_crosscheck(v, dtype_name, y)
        return y
    # mpmath: Ziv's strategy -- accept once two successive precisions give
    # the same rounded result.  A computed value that is *exactly* halfway
    # between two floats is a finite-precision artefact (the exact values are
    # transcendental), e.g. gelu(2**-1074) = 2**-1075 * (1 + 2**-1073/...)
    # rounds to exactly 2**-1075 at 200 bits; such ties force more precision.
    prev = None
    dps = mp.mp.dps                   # 60
    for _ in range(10):
        with mp.workdps(dps):
            v = fn(mp.mpf(x), **kw)   # mpf(float) is exact
            v = +v
        y, tie = round_to_format_tie(v, dtype_name, zsign)
        if tie:
            prev = None
        elif prev is not None and prev.hex() == y.hex():
            round_to_format_crosscheck(v, dtype_name, y)
            return y
        else:
            prev = y
        dps *= 2
    raise RuntimeError("no convergence: %s %r %s %r" % (name, params, dtype_name, x))


def build():
    exact = {}
    for name, fn, kind, variants in FUNCTIONS:
        for params in variants:
            for dtype_name in ("float32", "float64"):
                rows = []
                for x in probes_for(dtype_name):
                    y = evaluate(name, fn, kind, params, x, dtype_name)
                    if dtype_name == "float32":
                        assert float(np.float32(y)) == y or math.isnan(y)
                    rows.append((x.hex(), y.hex()))
                exact[(name, params, dtype_name)] = rows
    return exact


HEADER = '''\
# Generated by `python tests/make_exact_values.py` -- DO NOT EDIT BY HAND.
# Regenerate with:  python tests/make_exact_values.py
"""Exact (correctly rounded) reference values of the fastact activations.

``EXACT`` maps ``(name, params, dtype_name)`` to a list of ``(x, y)`` pairs:

* ``name``      -- activation name, e.g. ``"gelu"``.
* ``params``    -- tuple of ``(param_name, value)`` pairs sorted by name; the
                   empty tuple means "all parameters at their defaults"
                   (gelu: approximate="none"; swish: beta=1.0, which is
                   also listed explicitly as (("beta", 1.0),)).
* ``dtype_name``-- ``"float32"`` or ``"float64"``.
* ``x``         -- the probe input, exactly representable in ``dtype_name``.
* ``y``         -- the mathematically exact ``f(x)`` (computed with mpmath),
                   rounded correctly (nearest, ties-to-even, with subnormals
                   and overflow to inf) to ``dtype_name``.

``x`` and ``y`` are ``float.hex()`` strings (``"inf"``/``"-inf"`` for
infinities, ``"-0x0.0p+0"`` for negative zero) so that no decimal rounding is
involved; decode with ``float.fromhex(s)`` and, for float32, ``np.float32(...)``
(exact, since the values are float32 numbers).

Conventions: at x = -0.0 the odd / ``x*g(x)`` functions return -0.0; relu,
relu6 return +0.0; hardswish(x) for x <= -3 is -0.0 (``x * 0``); a nonzero
exact value that underflows keeps its sign (e.g. silu(-1e10) -> -0.0).
Parameters such as 0.01, 0.2, 0.044715 and the SELU constants are taken as the
exact decimal numbers, not as their float32/float64 approximations.
"""

'''


def write_module(exact, path):
    lines = [HEADER, "EXACT = {\n"]
    for key, rows in exact.items():
        lines.append("    %r: [\n" % (key,))
        for x, y in rows:
            lines.append("        (%r, %r),\n" % (x, y))
        lines.append("    ],\n")
    lines.append("}\n")
    with open(path, "w") as fh:
        fh.write("".join(lines))


# --------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------

def lookup(exact, name, params, dtype_name, x):
    npdt = np.dtype(dtype_name).type
    xh = float(npdt(x)).hex()
    for xs, ys in exact[(name, params, dtype_name)]:
        if xs == xh:
            return float.fromhex(ys)
    raise KeyError((name, params, dtype_name, x))


def self_check(exact):
    L = lambda *a: lookup(exact, *a)
    f32 = np.float32

    assert L("sigmoid", (), "float32", 0.0) == 0.5
    assert L("sigmoid", (), "float64", 0.0) == 0.5
    assert f32(L("sigmoid", (), "float32", -1.0)) == f32(0.26894143)
    assert f32(L("tanh", (), "float32", 1.0)) == f32(0.7615942)

    # exact value is -6.11097e-8 (about -5.96e-8 = -2**-24 was only a rough
    # estimate); the point is that it is negative and nonzero, not -0.0 or
    # a cancellation artefact.
    g = L("gelu", (("approximate", "tanh"),), "float32", -5.19)
    assert g < 0 and 5.5e-8 < -g < 6.5e-8, g
    assert g == float(f32(-6.1109733e-08)), g

    s = L("silu", (), "float32", -89.07)
    assert s < 0 and abs(s / -1.85e-37 - 1) < 0.01, s

    x = float(f32(2.86e38))
    y = L("gelu", (), "float32", 2.86e38)
    assert math.isfinite(y) and y == x, (x, y)

    # signs of zero
    assert L("tanh", (), "float32", -0.0).hex() == "-0x0.0p+0"
    assert L("relu", (), "float64", -0.0).hex() == "0x0.0p+0"
    assert L("silu", (), "float64", -1e10).hex() == "-0x0.0p+0"
    assert L("log_sigmoid", (), "float64", 0.0) == float(-mp.log(2))
    assert L("softplus", (), "float64", -0.0) == float(mp.log(2))
    # subnormal / overflow handling
    tiny64 = 5e-324
    assert L("relu", (), "float64", tiny64) == tiny64
    assert L("tanh", (), "float64", tiny64) == tiny64
    assert L("softplus", (), "float32", -100.0) == float(f32(3.7200760e-44)), \
        L("softplus", (), "float32", -100.0)
    big32 = float(np.finfo(np.float32).max)
    assert L("relu", (), "float32", big32) == big32
    assert L("sigmoid", (), "float32", -big32).hex() == "0x0.0p+0"
    # halfway cases that finite precision would get wrong:
    # gelu(2**-1074) = 2**-1075 + O(2**-2148) rounds *up*, gelu(-2**-1074) to -0
    assert L("gelu", (), "float64", tiny64) == tiny64
    assert L("gelu", (), "float64", -tiny64).hex() == "-0x0.0p+0"
    assert L("silu", (), "float64", tiny64) == tiny64
    assert L("gelu", (("approximate", "tanh"),), "float64", tiny64) == tiny64
    assert L("hardswish", (), "float64", tiny64) == tiny64
    assert L("hardswish", (), "float64", -tiny64).hex() == "-0x0.0p+0"
    assert L("elu", (("alpha", 0.5),), "float64", -tiny64).hex() == "-0x0.0p+0"
    # tanhshrink cancellation: x - tanh(x) ~ x**3/3
    assert L("tanhshrink", (), "float64", 1e-30) == float(mp.mpf(1e-30) ** 3 / 3)
    print("self-check passed")


def main():
    exact = build()
    write_module(exact, OUT_PATH)
    self_check(exact)
    n = sum(len(v) for v in exact.values())
    print("wrote %s: %d entries, %d values" % (os.path.relpath(OUT_PATH), len(exact), n))


if __name__ == "__main__":
    sys.exit(main())
