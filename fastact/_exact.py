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
