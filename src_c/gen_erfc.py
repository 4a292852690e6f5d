"""Generate the coefficients of fastact's float32-path erfc (fa_erfc_lowp in
fa_activations.h, used by gelu's float32 kernels).

    python src_c/gen_erfc.py            # prints the C block, and the fit errors

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
import mpmath as mp
import numpy as np
from numpy.polynomial import chebyshev as cheb
from numpy.polynomial import polynomial as poly

mp.mp.dps = 40
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
    print(f"#define FA_ERFC_Z0 {Z0!r}")
    print(f"#define FA_ERFC_ZMAX {ZMAX!r}")
    print(f"#define FA_ERFC_K {K!r}")
    print(f"#define FA_ERFC_ALPHA {alpha!r}")
    print(f"#define FA_ERFC_BETA {beta!r}")
    print(f"static const double fa_erfc_tail_coef[{len(pt)}] = {{")
    print("".join(f"    {float(c)!r},\n" for c in pt) + "};")
    print(f"static const double fa_erf_small_coef[{len(ps)}] = {{")
    print("".join(f"    {float(c)!r},\n" for c in ps) + "};")


if __name__ == "__main__":
    main()
