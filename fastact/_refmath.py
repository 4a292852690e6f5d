"""The reference formulas: one pure-NumPy function per activation.

Accuracy first, speed second.  Each function takes a float64 array (the
public layer in ``_api`` widens float32/float16 input to float64 and rounds
the result once, so float32 results are essentially correctly rounded) and
returns a float64 array.  The formulas are the numerically careful ones:
through -|x|, expm1/log1p forms, sigmoid instead of 1 + tanh, erfc instead
of 1 + erf; each special case says why it is there.

This module never imports the compiled extension: it is the independent
oracle the kernels are tested against.
"""
import math

import numpy as np

_erfc_obj = np.frompyfunc(math.erfc, 1, 1)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA_SCALE = 1.7580993408473768599402175208123  # alpha*scale, rounded once
GELU_K0 = math.sqrt(2.0 / math.pi)
GELU_K1 = 0.044715


def _erfc(z):
    return np.asarray(_erfc_obj(z), dtype=np.float64).reshape(np.shape(z))


def _mul_lim(x, s):
    """x * s, but +-0 (sign of x) where s underflowed to 0 (x = +-inf would
    otherwise give NaN)."""
    with np.errstate(invalid="ignore"):
        return np.where(s == 0, np.copysign(0.0, x), x * s)


def _sigmoid(v):
    # exp(-|v|) never overflows; the quotient never cancels.
    e = np.exp(-np.abs(v))
    return np.where(v < 0, e, 1.0) / (1.0 + e)


def sigmoid(x):
    return _sigmoid(x)


def log_sigmoid(x):
    # min(x, 0) - log1p(exp(-|x|)): exact-ish in both tails.
    # written as -(l - min(x, 0)) so that an underflowed result is -0.
    return -(np.log1p(np.exp(-np.abs(x))) - np.minimum(x, 0.0))


def hard_sigmoid(x):
    # (x + 3) / 6 is exact near -3 where x/6 + 0.5 cancels.
    with np.errstate(invalid="ignore"):
        y = (x + 3.0) / 6.0
        return np.where(x <= -3.0, 0.0, np.where(x >= 3.0, 1.0, y))


def tanh(x):
    return np.tanh(x)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    with np.errstate(invalid="ignore"):
        return np.where(x < min_val, min_val, np.where(x > max_val, max_val, x))


_TANH_SERIES = None


def _tanhshrink_series(a):
    # x - tanh x = sum_{n>=2} -c_n x^(2n-1), c_n the tanh Taylor coefficients
    # 2^(2n) (2^(2n) - 1) B_2n / (2n)!, from the Bernoulli numbers (exact
    # fractions) so this does not share constants with the C kernel.
    global _TANH_SERIES
    if _TANH_SERIES is None:
        from fractions import Fraction
        B = [Fraction(1)]
        for m in range(1, 90):  # Bernoulli numbers by the recurrence
            B.append(-sum(math.comb(m + 1, k) * B[k] for k in range(m)) / (m + 1))
        _TANH_SERIES = [float(-(2 ** (2 * n)) * (2 ** (2 * n) - 1) * B[2 * n] / math.factorial(2 * n))
                        for n in range(2, 44)]
    z = a * a
    s = np.zeros_like(a)
    for c in reversed(_TANH_SERIES):
        s = s * z + c
    return s * z * a


def tanhshrink(x):
    a = np.abs(x)
    with np.errstate(over="ignore", invalid="ignore"):
        # |x| >= 1: (a - 1) + 2/(e^{2a} + 1), two non-negative terms.
        big = (a - 1.0) + 2.0 / (np.exp(np.minimum(2 * a, 1400.0)) + 1.0)
        # |x| < 1: x - tanh(x) cancels to a^3/3: Taylor series (0.405^42 < 1e-16).
        small = _tanhshrink_series(np.where(a < 1.0, a, 0.0))
    return np.copysign(np.where(a < 1.0, small, big), x)


def softsign(x):
    a = np.abs(x)
    with np.errstate(invalid="ignore"):
        r = np.where(np.isinf(a), 1.0, a / (1.0 + a))
    return np.copysign(r, x)


def relu(x):
    # NaN stays NaN; relu(-0) = +0.
    return np.where((x > 0) | np.isnan(x), x, 0.0)


def relu6(x):
    return np.minimum(relu(x), 6.0)


def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope)


def prelu(x, weight):
    """weight already broadcast against x by the caller."""
    return np.where(x > 0, x, x * weight)


def _neg_part(x):
    """min(x, 0) keeping -0 (np.minimum(-0.0, 0.0) is +0)."""
    return np.where(x > 0, 0.0, x)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(_neg_part(x)))


def celu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(_neg_part(x) / alpha))


def selu(x):
    return np.where(x > 0, SELU_SCALE * x, SELU_ALPHA_SCALE * np.expm1(_neg_part(x)))


def _gelu_erf(x):
    # x * erfc(-x/sqrt2)/2: no 1 + erf cancellation for x < 0, no overflow
    # for huge x.  In the left tail erfc's relative condition is 2 z^2, so
    # the rounding of z = -x/sqrt2 is recovered in extended precision
    # (np.longdouble where it is wider than double) and applied to first
    # order: erfc(z + dz) = erfc(z) - 2/sqrt(pi) exp(-z^2) dz.
    z = -x / math.sqrt(2.0)
    c = _erfc(z)
    y = _mul_lim(x, 0.5 * c)
    if np.finfo(np.longdouble).nmant > 52:
        with np.errstate(invalid="ignore", over="ignore", under="ignore", divide="ignore"):
            zl = -np.asarray(x, dtype=np.longdouble) / np.sqrt(np.longdouble(2))
            dz = np.asarray(zl - z, dtype=np.float64)
            dz = np.where(np.abs(x) < 1e300, dz, 0.0)
            zc = np.clip(z, -30.0, 30.0)
            c = c - 2 / math.sqrt(math.pi) * np.exp(-zc * zc) * dz
            y = _mul_lim(x, 0.5 * c)
            # z > 26: erfc is subnormal in double; x * erfc would round twice.
            # erfc(z) = exp(-z^2)/(z sqrt(pi)) * sum (-1)^k (2k-1)!!/(2z^2)^k,
            # all in long double, rounded once at the end.
            zt = np.clip(zl, 26, 40)
            t = 1 / (2 * zt * zt)
            a = np.ones_like(zt)
            for k in range(10, 0, -1):
                a = 1 - (2 * k - 1) * t * a
            ct = np.exp(-zt * zt) * a / (zt * np.sqrt(np.longdouble(np.pi)))
            tail = np.asarray(np.asarray(x, dtype=np.longdouble) * ct / 2, dtype=np.float64)
            y = np.where((z > 26) & (z < 40), tail, y)
    return y


def _gelu_tanh(x):
    # 0.5 x (1 + tanh u) = x sigmoid(2u): no cancellation for x < -5.
    # sigmoid's relative condition number is |2u| (up to ~745), so 2u and the
    # sigmoid are evaluated in np.longdouble where that is wider than double.
    xl = _wide(x)
    wide = xl.dtype.type
    with np.errstate(over="ignore", invalid="ignore"):
        pi = wide("3.14159265358979323846264338327950288")
        u = 2 * np.sqrt(2 / pi) * xl * (1 + wide("0.044715") * xl * xl)
        e = np.exp(-np.abs(u))
        s = np.where(u < 0, e, 1) / (1 + e)
        return np.asarray(_mul_lim(xl, s), dtype=np.float64)


def gelu(x, approximate="none"):
    return _gelu_tanh(x) if approximate == "tanh" else _gelu_erf(x)


def silu(x):
    return swish(x, 1.0)


def _wide(x):
    """x in np.longdouble where that is wider than double (x86: 64-bit
    mantissa), for the few formulas whose relative condition number is large."""
    wide = np.longdouble if np.finfo(np.longdouble).nmant > 52 else np.float64
    return np.asarray(x, dtype=wide)


def swish(x, beta=1.0):
    # sigmoid(beta x) has relative condition |beta x|: form beta*x wide.
    xl = _wide(x)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(_mul_lim(xl, _sigmoid(xl * beta)), dtype=np.float64)


def hardswish(x):
    with np.errstate(invalid="ignore"):
        y = x * (x + 3.0) / 6.0
        return np.where(x <= -3.0, np.copysign(0.0, x), np.where(x >= 3.0, x, y))


def mish(x):
    # tanh(softplus(x)) = n / (n + 2), n = e^x (e^x + 2): one exp, no
    # cancellation for x < 0, exactly 1 from x = 20 on.  Evaluated wide so
    # that x * e^x is not rounded twice where e^x is subnormal in double.
    xl = _wide(x)
    t = np.exp(np.minimum(xl, 20.0))
    n = t * (t + 2.0)
    return np.asarray(_mul_lim(xl, n / (n + 2.0)), dtype=np.float64)


def softplus(x, beta=1.0, threshold=20.0):
    # PyTorch's definition: linear where beta*x > threshold (beta*x in double).
    # log1p(exp(-|v|)) has relative condition ~|v|, so the rounding of
    # v = beta*x in double would cost up to |v|/2 ULP: form v wide (as swish).
    with np.errstate(over="ignore", invalid="ignore"):
        v = beta * x
        xl = _wide(x)
        vl = xl * beta
        l = np.log1p(np.exp(-np.abs(vl))) / beta
        y = np.asarray(np.where(vl > 0, xl + l, l), dtype=np.float64)
        return np.where(v > threshold, x, y)


def maxout(x, pool_size, axis=-1):
    axis = axis % x.ndim
    shape = x.shape[:axis] + (x.shape[axis] // pool_size, pool_size) + x.shape[axis + 1:]
    return np.max(x.reshape(shape), axis=axis + 1)


# ---------------------------------------------------------------------------
# Derivatives (issue 4): d_<name>(x, <params>) = f'(x), float64 in and out,
# with the kernels' conventions (fa_derivatives.h): NaN -> NaN, +-inf -> the
# limit, PyTorch's values at the kinks.  Formulas are written independently
# of the C cores; the ill-conditioned exponent arguments (x^2/2, beta x,
# x/alpha, gelu_tanh's v) are formed in np.longdouble where that is wider.


def _nan_keep(x, d):
    """d, but NaN where x is NaN (the piecewise-constant derivatives)."""
    return np.where(np.isnan(x), x, d)


def _dsig(v):
    # s (1 - s) = e / (1 + e)^2, e = exp(-|v|): never cancels.
    e = np.exp(-np.abs(v))
    return e / ((1.0 + e) * (1.0 + e))


def d_sigmoid(x):
    return _dsig(x)


def d_log_sigmoid(x):
    return _sigmoid(-x)


def d_hard_sigmoid(x):
    return _nan_keep(x, np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0))


def d_tanh(x):
    # sech^2 = 4 e / (1 + e)^2, e = exp(-2|x|); 1 - tanh^2 cancels for large |x|.
    return 4.0 * _dsig(2.0 * x)


def d_hardtanh(x, min_val=-1.0, max_val=1.0):
    return _nan_keep(x, np.where((x > min_val) & (x < max_val), 1.0, 0.0))


def d_tanhshrink(x):
    return np.tanh(x) ** 2


def d_softsign(x):
    q = 1.0 + np.abs(x)
    with np.errstate(over="ignore"):  # q^2 = inf for |x| > 1e154: the limit 0
        return 1.0 / (q * q)


def d_relu(x):
    return _nan_keep(x, np.where(x > 0, 1.0, 0.0))


def d_relu6(x):
    return _nan_keep(x, np.where((x > 0) & (x < 6.0), 1.0, 0.0))


def d_leaky_relu(x, negative_slope=0.01):
    return _nan_keep(x, np.where(x > 0, 1.0, negative_slope))


def d_prelu(x, weight):
    """weight already broadcast against x by the caller."""
    return _nan_keep(x, np.where(x > 0, 1.0, weight))


def d_elu(x, alpha=1.0):
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def d_celu(x, alpha=1.0):
    # exp's condition number is |x/alpha|: form the quotient wide.
    q = np.asarray(np.exp(_wide(np.minimum(x, 0.0)) / alpha), dtype=np.float64)
    return np.where(x > 0, 1.0, q)


def d_selu(x):
    return np.where(x > 0, SELU_SCALE, SELU_ALPHA_SCALE * np.exp(np.minimum(x, 0.0)))


def _dx_sigmoid(v):
    """d/dx [x sigmoid(c x)] at v = c x (v wide): s(v) + v s(v) (1 - s(v)),
    with 0 (not inf * 0) at v = +-inf."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-np.abs(v))
        q = 1 + e
        s = np.where(v < 0, e, 1) / q
        r = s + _mul_lim(v, e / (q * q))
        r = np.where(np.isneginf(v), 0.0, r)
    return np.asarray(r, dtype=np.float64)


def d_gelu(x, approximate="none"):
    if approximate == "tanh":
        # x sigmoid(u), u = c (x + k1 x^3): s(u) + x u'(x) s(u) (1 - s(u)).
        xl = _wide(x)
        wide = xl.dtype.type
        with np.errstate(over="ignore", invalid="ignore"):
            pi = wide("3.14159265358979323846264338327950288")
            c = 2 * np.sqrt(2 / pi)
            k1 = wide("0.044715")
            xc = np.clip(xl, -64, 64)
            u = c * xc * (1 + k1 * xc * xc)
            e = np.exp(-np.abs(u))
            q = 1 + e
            s = np.where(u < 0, e, 1) / q
            up = c * (1 + 3 * k1 * xc * xc)
            r = s + xc * up * e / (q * q)
        return np.asarray(np.where(np.isnan(x), x, r), dtype=np.float64)
    # Phi(x) + x phi(x); exp(-x^2/2) has condition x^2/2: evaluate it wide.
    Phi = 0.5 * _erfc(-x / math.sqrt(2.0))
    xl = _wide(np.clip(x, -60.0, 60.0))
    with np.errstate(under="ignore"):
        xphi = np.asarray(xl * np.exp(-xl * xl / 2) / np.sqrt(2 * _wide(np.pi)), dtype=np.float64)
    return np.where(np.isnan(x), x, Phi + xphi)


def d_silu(x):
    return _dx_sigmoid(_wide(x))


def d_swish(x, beta=1.0):
    return _dx_sigmoid(_wide(x) * beta)


def d_hardswish(x):
    d = (2.0 * x + 3.0) / 6.0
    return np.where(x < -3.0, 0.0, np.where(x > 3.0, 1.0, d))


def d_mish(x):
    # tanh(sp) + x sigmoid(x) sech^2(sp), evaluated wide (x e^x is rounded
    # once where e^x is subnormal in double); 1 beyond x = 25 (the rest is
    # below 1e-20), 0 at -inf.
    xl = _wide(x)
    with np.errstate(over="ignore", invalid="ignore"):
        xc = np.minimum(xl, 25.0)
        t = np.exp(xc)
        n = t * (t + 2)
        tsp = n / (n + 2)
        sig = t / (1 + t)
        sech2 = 4 * (n + 1) / ((n + 2) * (n + 2))   # 1 - tsp^2 without cancellation
        r = tsp + xc * sig * sech2
        r = np.where(t == 0, 0.0, r)
        r = np.where(xl >= 25.0, 1.0, r)
    return np.asarray(r, dtype=np.float64)


def d_softplus(x, beta=1.0, threshold=20.0):
    v = beta * x
    s = np.asarray(_sigmoid(_wide(x) * beta), dtype=np.float64)
    return np.where(v > threshold, 1.0, s)


def maxout_mask(x, pool_size, axis=-1):
    """1.0 at the first maximum of each group (NaN counts as the maximum,
    as in the forward), else 0.0; float64, x's shape."""
    axis = axis % x.ndim
    shape = x.shape[:axis] + (x.shape[axis] // pool_size, pool_size) + x.shape[axis + 1:]
    xr = x.reshape(shape)
    idx = np.argmax(np.where(np.isnan(xr), np.inf, xr), axis=axis + 1)
    # a NaN anywhere wins over +inf: take the first NaN if there is one
    has_nan = np.isnan(xr).any(axis=axis + 1)
    idx = np.where(has_nan, np.argmax(np.isnan(xr), axis=axis + 1), idx)
    mask = np.zeros(shape)
    np.put_along_axis(mask, np.expand_dims(idx, axis + 1), 1.0, axis=axis + 1)
    return mask.reshape(x.shape)


# From the forward output y (FA_FROM_Y_LIST): dy_<name>(y, <params>) = f'(x).

def dy_sigmoid(y):
    return y * (1.0 - y)


def dy_tanh(y):
    return (1.0 - y) * (1.0 + y)


def dy_elu(y, alpha=1.0):
    return np.where(y > 0, 1.0, y + alpha)


def dy_celu(y, alpha=1.0):
    return np.where(y > 0, 1.0, y / alpha + 1.0)


def dy_selu(y):
    return np.where(y > 0, SELU_SCALE, y + SELU_ALPHA_SCALE)


def _softmax_parts(x, axis):
    """(d, t) in np.longdouble (where wider than double): d = x - max and
    t = sum(exp(d)) - 1 formed as the sum over the non-maximal entries plus
    (count of maxima - 1), so log1p(t) keeps full relative accuracy when one
    entry dominates.  A row whose max is not finite (NaN, +inf, only -inf)
    gets max = NaN: all-NaN, as PyTorch."""
    xl = _wide(x)
    with np.errstate(invalid="ignore", over="ignore"):
        m = np.max(xl, axis=axis, keepdims=True) if xl.shape[axis] else np.zeros_like(xl)
        m = np.where(np.isfinite(m), m, np.nan)
        d = xl - m
        eq = d == 0
        e = np.where(eq, 0.0, np.exp(np.where(eq, 0.0, d)))
        t = np.sum(e, axis=axis, keepdims=True) + (np.sum(eq, axis=axis, keepdims=True) - 1)
    return d, t


def softmax(x, axis=-1):
    # exp(x - max) / sum: the max-shift makes every term <= 1 (no overflow)
    # and the sum >= 1; x - max and the exps in long double.
    d, t = _softmax_parts(x, axis)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.exp(d) / (t + 1), dtype=np.float64)


def log_softmax(x, axis=-1):
    # (x - max) - log1p(sum over the others): never log(softmax(x)).
    d, t = _softmax_parts(x, axis)
    with np.errstate(invalid="ignore", divide="ignore"):    # divide: an empty axis has t = -1
        return np.asarray(d - np.log1p(t), dtype=np.float64)


def softmin(x, axis=-1):
    return softmax(-x, axis)


# Backward of the softmax family from the forward output y (issue 4):
# vjp_<name>(g, y, axis) = the vector-Jacobian product g^T J at y.  The row
# sums are exact until one rounding: each product g*y is split exactly into
# p + e (Veltkamp/Dekker), and math.fsum adds a row's terms correctly
# rounded, S = s_hi + s_lo (s_lo: fsum of the terms and -s_hi), so that
# g - S -- which cancels when g is close to the sum, the problem's own
# conditioning -- is formed from the exact sum.  The rest in long double.

def _two_prod(a, b):
    """(p, e): p = fl(a*b) and, where no step can overflow, a*b = p + e exactly."""
    sp = 134217729.0  # 2^27 + 1
    with np.errstate(all="ignore"):
        p = a * b
        ta = a * sp
        ah = ta - (ta - a)
        al = a - ah
        tb = b * sp
        bh = tb - (tb - b)
        bl = b - bh
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        ok = (np.abs(a) < 1e290) & (np.abs(b) < 1e290) & (np.abs(p) < 1e300)
    return p, np.where(ok, e, 0.0)


def _row_sum2(terms, axis):
    """(s_hi, s_lo), keepdims, over `axis` and over the leading axis of
    `terms` (the parts of each entry): s_hi = the correctly rounded sum and
    s_lo = what it leaves; rows holding inf/NaN (or overflowing) fall back to
    NumPy's long double sum with s_lo = 0."""
    t = np.moveaxis(np.asarray(terms, dtype=np.float64), axis % (terms.ndim - 1) + 1, -1)
    shape = t.shape[1:-1]
    rows = np.moveaxis(t, 0, -2).reshape(math.prod(shape), t.shape[0] * t.shape[-1])
    hi = np.empty(rows.shape[0])
    lo = np.zeros(rows.shape[0])
    for r, row in enumerate(rows):
        v = row.tolist()
        try:
            h = math.fsum(v)
            if math.isfinite(h):
                v.append(-h)
                lo[r] = math.fsum(v)
        except (ValueError, OverflowError):  # inf - inf, or an intermediate overflow
            with np.errstate(all="ignore"):
                h = float(np.sum(_wide(row)))
        hi[r] = h
    out = lambda a: np.expand_dims(a.reshape(shape), axis % (terms.ndim - 1))
    return out(hi), out(lo)


def vjp_softmax(g, y, axis=-1):
    g = np.asarray(g, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    hi, lo = _row_sum2(np.stack(_two_prod(g, y)), axis)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.asarray(_wide(y) * ((_wide(g) - hi) - lo), dtype=np.float64)


def vjp_log_softmax(g, y, axis=-1):
    g = np.asarray(g, dtype=np.float64)
    hi, lo = _row_sum2(g[None], axis)
    with np.errstate(invalid="ignore", over="ignore"):
        S = _wide(hi) + lo
        t = np.exp(_wide(y)) * S
        # e^y * 0 = 0 for every finite y, also where e^y overflows
        t = np.where((S == 0) & (np.asarray(y) < np.inf), 0.0, t)
        return np.asarray(_wide(g) - t, dtype=np.float64)


def vjp_softmin(g, y, axis=-1):
    # softmin(x) = softmax(-x): the chain rule flips the sign
    return -vjp_softmax(g, y, axis)
