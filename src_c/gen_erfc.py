"""Generate the coefficients of fastact's erfc fits (fa_activations.h).

    python src_c/gen_erfc.py            # float32 kernels: fa_erfc_lowp
    python src_c/gen_erfc.py --float64  # float64 gelu and gelu': fa_gelu64_*

Each prints the C block and the fit errors.

Needs mpmath and numpy.  What it fits (a = |z|, float32 gelu needs
z = -x/sqrt2 in (-inf, 10.6]; below x = -14.36 gelu rounds to -0 in float32):

* a >= Z0 (= 0.75): erfc(a) = exp(-a^2) * H(a), H(a) = exp(a^2) erfc(a)
  (the scaled complementary error function, smooth and monotone,
  ~ 1/(a sqrt(pi)) for large a), fitted as a polynomial of degree 14 in
      u = (ALPHA a - BETA) / (a + K),   K = sqrt(Z0 * ZMAX),
  i.e. the Moebius map t = (a - K)/(a + K) (Shepherd & Laframboise, Math.
  Comp. 36, 1981, use the same idea for (1 + 2a) H) rescaled so that
  [Z0, ZMAX] maps onto [-1, 1]; the poles of the map are far away, so the
  polynomial converges geometrically.  Negative z: erfc(z) = 2 - erfc(|z|)
  (no cancellation: the result is in [1, 2]).
* |z| < Z0: erfc(z) = 1 - z * Q(z^2), Q(w) = erf(sqrt w)/sqrt w, degree 8
  in w (erf <= 0.72 there, so the subtraction loses nothing).

Both fits are Chebyshev interpolation-like least squares at 400 Chebyshev
nodes (near-minimax) of values computed by mpmath at 40 digits, converted to
monomial coefficients; the monomial forms are then evaluated in float64
(Horner, as the C code does) and compared with mpmath on a dense grid.
Printed relative errors: tail ~8e-14, small branch ~2e-14; the kernel's lowp
exp (~7e-12) dominates, far inside the ~1e-11 float32 cores are built to.
"""
import sys

import mpmath as mp
import numpy as np
from numpy.polynomial import chebyshev as cheb
from numpy.polynomial import polynomial as poly

mp.mp.dps = 40


def print_c(defines, arrays):
    """The C block: #defines (values as doubles) and static const arrays."""
    for name, v in defines.items():
        print(f"#define {name} {float(v)!r}")
    for name, vals, comment in arrays:
        print(f"static const double {name}[{len(vals)}] = {{{comment}")
        print("".join(f"    {float(c)!r},\n" for c in vals) + "};")
Z0, ZMAX = 0.75, 10.6
DEG_TAIL, DEG_SMALL = 14, 8
N = 400


def tail_fit():
    K = mp.sqrt(mp.mpf(Z0) * ZMAX)
    t0, t1 = (Z0 - K) / (Z0 + K), (ZMAX - K) / (ZMAX + K)
    tc, th = (t0 + t1) / 2, (t1 - t0) / 2
    us = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / N) for k in range(N)]
    hs = []
    for u in us:
        t = tc + th * u
        a = K * (1 + t) / (1 - t)
        hs.append(float(mp.exp(a * a) * mp.erfc(a)))
    c = cheb.chebfit(np.array([float(u) for u in us]), np.array(hs), DEG_TAIL)
    p = cheb.cheb2poly(c)
    # u = (t - tc)/th with t = (a - K)/(a + K)  ->  u = (ALPHA a - BETA)/(a + K)
    alpha = (1 - tc) / th
    beta = K * (1 + tc) / th
    return float(K), float(alpha), float(beta), p


def small_fit():
    us = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / N) for k in range(N)]
    fs = []
    for u in us:
        w = mp.mpf(Z0) ** 2 * (1 + u) / 2
        fs.append(float(mp.erf(mp.sqrt(w)) / mp.sqrt(w)))
    c = cheb.chebfit(np.array([float(u) for u in us]), np.array(fs), DEG_SMALL)
    pu = cheb.cheb2poly(c)
    # poly in u = 2 w / Z0^2 - 1  ->  poly in w
    pw, acc, lin = np.zeros(1), np.array([1.0]), np.array([-1.0, 2.0 / Z0 ** 2])
    for ci in pu:
        pw = poly.polyadd(pw, ci * acc)
        acc = poly.polymul(acc, lin)
    return pw


def horner(p, v):
    s = np.full_like(v, p[-1])
    for ci in p[-2::-1]:
        s = s * v + ci
    return s


def main():
    K, alpha, beta, pt = tail_fit()
    ps = small_fit()
    a = np.linspace(Z0, ZMAX, 4001)
    u = (alpha * a - beta) / (a + K)
    got = horner(pt, u)
    ref = np.array([float(mp.exp(mp.mpf(v) ** 2) * mp.erfc(mp.mpf(v))) for v in a])
    print(f"/* tail: max rel error {np.max(np.abs(got / ref - 1)):.2g} on [{Z0}, {ZMAX}] */")
    z = np.linspace(-Z0, Z0, 4001)
    got = 1 - z * horner(ps, z * z)
    ref = np.array([float(mp.erfc(mp.mpf(v))) for v in z])
    print(f"/* small: max rel error {np.max(np.abs(got / ref - 1)):.2g} on [-{Z0}, {Z0}] */")
    print_c({"FA_ERFC_Z0": Z0, "FA_ERFC_ZMAX": ZMAX, "FA_ERFC_K": K, "FA_ERFC_ALPHA": alpha,
             "FA_ERFC_BETA": beta},
            [("fa_erfc_tail_coef", pt, ""), ("fa_erf_small_coef", ps, "")])


# ---------------------------------------------------------------------------
# float64 (--float64).  gelu(x) = max(x, 0) - |x| Phi(-|x|) and, with
# a = |x|/sqrt2, |x| Phi(-|x|) = |x| erfc(a)/2 = exp(-a^2) G(a) / sqrt2, where
#     G(a) = a exp(a^2) erfc(a)
# rises from 0.31 (a = 0.5) to 1/sqrt(pi) = 0.564 (a -> inf): flat, so a
# polynomial in the Moebius variable u = (A a - B)/(a + K) (the constants
# rounded to double FIRST, so that the fit is of the map the C code
# evaluates) holds it to ~1e-17 relative on [Z0, ZMAX64] at degree 22, and
# no division by a is needed (x/a = -sqrt2 exactly).  What the C code has to
# add (measured by the emulation below): c0 = G(u = 0) as hi + lo (its
# rounding alone is 1.2 ULP of G at a = 0.86) and the last Horner step as
# a double-double; u's rounding (and a's, a = |x|/sqrt2 is rounded) enter
# through G'(a) = G/a + 2a (G - 1/sqrt(pi)) to first order.
# |x| < Z064 sqrt2: gelu(x) = x/2 + w S(w), w = x^2/2, S(w) = erf(sqrt w) /
# sqrt(2w) = S0 + w R(w), S0 = sqrt(2/pi) as hi + lo, R of degree 13
# (Chebyshev interpolation in w on [0, Z064^2]).  Z064 = 0.5 (not the
# float32 split, 0.75): x/2 + w S cancels up to 3.5-fold at z = 0.75 (x/2 =
# -0.53, w S = 0.38) but only 2-fold at 0.5, so R's rounding matters less.
Z064, ZMAX64, DEG_G, DEG_R = 0.5, 15.0, 22, 13


def cheb_interp_mono(f, deg):
    """Chebyshev interpolation of f on [-1, 1] at deg + 1 nodes, as
    monomial coefficients in mpmath precision (rounded by the caller)."""
    n = deg + 1
    xs = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    fs = [f(x) for x in xs]
    c = [mp.fsum(fs[k] * mp.cos(j * mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n))
         * (1 if j == 0 else 2) / n for j in range(n)]
    T = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]
    while len(T) < n:
        a = [mp.mpf(0)] + [2 * v for v in T[-1]]
        b = T[-2] + [mp.mpf(0)] * (len(a) - len(T[-2]))
        T.append([a[i] - b[i] for i in range(len(a))])
    p = [mp.mpf(0)] * n
    for j in range(n):
        for i, v in enumerate(T[j]):
            p[i] += c[j] * v
    return p


def rnd(v):
    """v rounded to double, returned as an mpf (for the emulation)."""
    return mp.mpf(float(v))


def fma(a, b, c):
    return rnd(mp.mpf(a) * b + c)


def float64_fits():
    mp.mp.dps = 60
    z0, zm = mp.mpf(Z064), mp.mpf(ZMAX64)
    K = mp.sqrt(z0 * zm)
    t0, t1 = (z0 - K) / (z0 + K), (zm - K) / (zm + K)
    tc, th = (t0 + t1) / 2, (t1 - t0) / 2
    A, B, K = rnd((1 - tc) / th), rnd(K * (1 + tc) / th), rnd(K)

    def G(a):
        return a * mp.exp(a * a) * mp.erfc(a)

    g = cheb_interp_mono(lambda u: G((K * u + B) / (A - u)), DEG_G)
    s0 = mp.sqrt(2 / mp.pi)
    w1 = z0 ** 2

    def R(v):  # v in [-1, 1] -> w in [0, Z0^2]
        w = w1 * (1 + v) / 2
        return (mp.erf(mp.sqrt(w)) / mp.sqrt(2 * w) - s0) / w
    rv = cheb_interp_mono(R, DEG_R)
    return A, B, K, g, s0, rv, w1


def poly_in_w(rv, w1):
    """Coefficients in w of sum rv_j v^j, v = 2 w / w1 - 1 (mpmath)."""
    out = [mp.mpf(0)] * len(rv)
    powv = [mp.mpf(1)]                       # v^j as a polynomial in w
    lin = [mp.mpf(-1), 2 / w1]
    for cv in rv:
        for i, v in enumerate(powv):
            out[i] += cv * v
        nxt = [mp.mpf(0)] * (len(powv) + 1)
        for i, v in enumerate(powv):
            nxt[i] += v * lin[0]
            nxt[i + 1] += v * lin[1]
        powv = nxt
    return out


def emulate_tail(A, B, K, gf, c0h, c0l, a):
    """|x| Phi(-|x|) sqrt2 / exp(-a^2) = G, as the C code forms it (double
    roundings emulated), relative error against mpmath."""
    ah = float(a)
    al = mp.mpf(a) - ah
    p = rnd(A * ah)
    pl = mp.mpf(A) * ah - p
    nh = rnd(p - B)
    nl = (p - B - nh) + pl
    dh = rnd(ah + K)
    dl = (mp.mpf(ah) + K) - dh
    uh = rnd(nh / dh)
    ul = rnd(rnd(fma(-uh, dh, nh) + nl - uh * dl) / dh)
    h = gf[-1]
    for c in gf[-2:0:-1]:
        h = fma(h, uh, c)
    ph = rnd(uh * h)
    gh = rnd(c0h + ph)
    hh = mp.mpf(ah)
    Gd = gh + 0  # first-order corrections, low accuracy is enough
    dG = Gd / hh + 2 * hh * (Gd - 1 / mp.sqrt(mp.pi))
    corr = rnd(dG * rnd(ul * rnd(dh * dh) / (A * K + B) + al))
    gl = (c0h + ph - gh) + (mp.mpf(uh) * h - ph) + c0l + corr
    return (gh + gl) / (mp.mpf(a) * mp.exp(mp.mpf(a) ** 2) * mp.erfc(mp.mpf(a))) - 1


def main64():
    A, B, K, g, s0, rv, w1 = float64_fits()
    r = poly_in_w(rv, w1)
    gf = [float(c) for c in g]
    c0h = float(g[0])
    c0l = float(g[0] - c0h)
    worst = max(abs(emulate_tail(A, B, K, gf, c0h, c0l, mp.mpf(a)))
                for a in np.linspace(Z064, ZMAX64, 3001))
    print(f"/* G: max rel error {float(worst):.2g} (C operations emulated) on [{Z064}, {ZMAX64}] */")
    rf = [float(c) for c in r]
    worst = 0
    for w in np.linspace(0, Z064 ** 2, 2001)[1:]:
        wm = mp.mpf(w)
        ref = (mp.erf(mp.sqrt(wm)) / mp.sqrt(2 * wm) - s0) / wm
        h = mp.mpf(rf[-1])
        for c in rf[-2::-1]:
            h = fma(h, w, c)
        worst = max(worst, abs(h / ref - 1))
    print(f"/* R: max rel error {float(worst):.2g} (w R is <= 0.15 of S) on [0, {Z064 ** 2}] */")
    s0h = float(s0)
    print_c({"FA_GELU64_Z0": Z064, "FA_GELU64_ZMAX": ZMAX64, "FA_GELU64_A": A, "FA_GELU64_B": B,
             "FA_GELU64_K": K, "FA_GELU64_G0_HI": c0h, "FA_GELU64_G0_LO": c0l,
             "FA_GELU64_S0_HI": s0h, "FA_GELU64_S0_LO": s0 - s0h},
            [("fa_gelu64_g", gf, " /* [0] unused: G0_HI + G0_LO */"), ("fa_gelu64_r", rf, "")])


if __name__ == "__main__":
    main64() if "--float64" in sys.argv[1:] else main()
