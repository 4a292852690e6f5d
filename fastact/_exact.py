"""Mathematically exact definitions of the activations, in mpmath.

The high-accuracy oracle of ``python -m fastact check --dtype float64`` and
of the test tables (tests/make_exact_values.py): one function per registry
name, taking an mpf ``x`` and the parameters as the floats the caller passes
(the function fastact actually computes for those parameter values).
Formulas avoid cancellation (expm1/log1p, 1 + tanh u = 2/(1 + e^-2u)) and
raise the working precision where bits cancel anyway (tanhshrink).
"""
from __future__ import annotations

import mpmath as mp

SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"


def _m(v) -> mp.mpf:
    return mp.mpf(v) if not isinstance(v, str) else mp.mpf(v)


def erfc(z):
    """mpmath erfc, with the asymptotic series where mpmath's own overflows
    (z > 1e6; the value is far below any float's range there anyway)."""
    if z < 10 ** 6:
        return mp.erfc(z)
    with mp.workprec(mp.mp.prec + 2 * int(mp.mag(z)) + 20):
        z2 = z * z
        s, term, k = mp.mpf(1), mp.mpf(1), 1
        while abs(term) > mp.eps:
            term = -term * (2 * k - 1) / (2 * z2)
            s += term
            k += 1
        r = mp.exp(-z2) / (z * mp.sqrt(mp.pi)) * s
    return +r


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def log_sigmoid(x):
    return -mp.log1p(mp.exp(-x))


def hard_sigmoid(x):
    return min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6


def tanh(x):
    return mp.tanh(x)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return min(max(x, _m(min_val)), _m(max_val))


def tanhshrink(x):
    # x - tanh x ~ x^3/3: about 2 |log2 x| bits cancel.
    if x == 0:
        return mp.mpf(0)
    with mp.workprec(mp.mp.prec + max(0, -2 * int(mp.mag(x))) + 20):
        r = x - mp.tanh(x)
    return +r


def softsign(x):
    return x / (1 + abs(x))


def relu(x):
    return max(x, mp.mpf(0))


def relu6(x):
    return min(max(x, mp.mpf(0)), mp.mpf(6))


def leaky_relu(x, negative_slope=0.01):
    return x if x > 0 else _m(negative_slope) * x


def prelu(x, weight=0.25):
    return leaky_relu(x, weight)


def elu(x, alpha=1.0):
    return x if x > 0 else _m(alpha) * mp.expm1(x)


def celu(x, alpha=1.0):
    a = _m(alpha)
    return x if x > 0 else a * mp.expm1(x / a)


def selu(x):
    inner = x if x > 0 else mp.mpf(SELU_ALPHA) * mp.expm1(x)
    return mp.mpf(SELU_SCALE) * inner


def gelu(x, approximate="none"):
    if approximate == "tanh":
        u = mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x ** 3)
        return x / (1 + mp.exp(-2 * u))
    return x * erfc(-x / mp.sqrt(2)) / 2


def silu(x):
    return x / (1 + mp.exp(-x))


def swish(x, beta=1.0):
    return x / (1 + mp.exp(-_m(beta) * x))


def hardswish(x):
    return x * min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6


def mish(x):
    return x * mp.tanh(mp.log1p(mp.exp(x)))


def softplus(x, beta=1.0, threshold=20.0):
    b = _m(beta)
    if b * x > _m(threshold):
        return x
    return mp.log1p(mp.exp(b * x)) / b


# ---------------------------------------------------------------- derivatives
# Closed forms (no numerical differentiation: mp.diff loses everything in the
# tails where f' is tiny).  At kinks these return the one-sided value the
# check never asks for; the conventions are tested separately.

def _sig(v):
    return 1 / (1 + mp.exp(-v))


def d_sigmoid(x):
    e = mp.exp(-abs(x))
    return e / (1 + e) ** 2


def d_log_sigmoid(x):
    return _sig(-x)


def d_hard_sigmoid(x):
    return mp.mpf(1) / 6 if -3 < x < 3 else mp.mpf(0)


def d_tanh(x):
    return 1 / mp.cosh(x) ** 2


def d_hardtanh(x, min_val=-1.0, max_val=1.0):
    return mp.mpf(1) if _m(min_val) < x < _m(max_val) else mp.mpf(0)


def d_tanhshrink(x):
    return mp.tanh(x) ** 2


def d_softsign(x):
    return 1 / (1 + abs(x)) ** 2


def d_relu(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)


def d_relu6(x):
    return mp.mpf(1) if 0 < x < 6 else mp.mpf(0)


def d_leaky_relu(x, negative_slope=0.01):
    return mp.mpf(1) if x > 0 else _m(negative_slope)


def d_prelu(x, weight=0.25):
    return d_leaky_relu(x, weight)


def d_elu(x, alpha=1.0):
    return mp.mpf(1) if x > 0 else _m(alpha) * mp.exp(x)


def d_celu(x, alpha=1.0):
    return mp.mpf(1) if x > 0 else mp.exp(x / _m(alpha))


def d_selu(x):
    s = mp.mpf(SELU_SCALE)
    return s if x > 0 else s * mp.mpf(SELU_ALPHA) * mp.exp(x)


def d_gelu(x, approximate="none"):
    if approximate == "tanh":
        k0 = mp.sqrt(2 / mp.pi)
        k1 = mp.mpf("0.044715")
        v = 2 * k0 * (x + k1 * x ** 3)
        s = _sig(v)
        return s + x * s * _sig(-v) * 2 * k0 * (1 + 3 * k1 * x ** 2)
    return erfc(-x / mp.sqrt(2)) / 2 + x * mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def d_silu(x):
    return d_swish(x, 1.0)


def d_swish(x, beta=1.0):
    b = _m(beta)
    s = _sig(b * x)
    return s + b * x * s * _sig(-b * x)


def d_hardswish(x):
    if x < -3:
        return mp.mpf(0)
    if x > 3:
        return mp.mpf(1)
    return (2 * x + 3) / 6


def d_mish(x):
    sp = mp.log1p(mp.exp(x))
    return mp.tanh(sp) + x * _sig(x) / mp.cosh(sp) ** 2


def d_softplus(x, beta=1.0, threshold=20.0):
    b = _m(beta)
    if b * x > _m(threshold):
        return mp.mpf(1)
    return _sig(b * x)
