"""Coefficients of the lean double-lane exponentials of the float32 cores
(fa_lexp, fa_lexpm1 in fa_activations_f32.h).

    python src_c/gen_lexp.py        # prints both tables and their errors

Needs mpmath and numpy.  On |r| <= 1.0005 ln2/2 (the reduced argument
with a margin for the unfused reduction of the baseline build):
* fa_lexp:   p(r) ~ e^r, degree 6, relative error;
* fa_lexpm1: P(r) ~ (e^r - 1 - r)/r^2, degree 5, weighted so that the
  relative error of q = r + r^2 P is minimised.
Both are Lawson iterations (reweighted least squares at 300 Chebyshev
nodes, values from mpmath at 40 digits), which converge to near-minimax
fits; the errors printed are re-measured with the coefficients rounded to
double and evaluated by double Horner, on a dense grid against mpmath
(expected: 1.9e-9 for p, 2.4e-10 for q).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
H = float(mp.log(2) / 2) * 1.0005
N, ITERS = 300, 30


def lawson(deg, target, weight):
    xs = [mp.mpf(H) * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / N) for k in range(N)]
    ys = [target(x) for x in xs]
    wt = [weight(x) for x in xs]
    w = [mp.mpf(1)] * N
    for _ in range(ITERS):
        A = mp.matrix(N, deg + 1)
        b = mp.matrix(N, 1)
        for i, x in enumerate(xs):
            s = mp.sqrt(w[i]) * wt[i]
            for j in range(deg + 1):
                A[i, j] = x**j * s
            b[i] = ys[i] * s
        c = mp.lu_solve(A.T * A, A.T * b)
        errs = [abs((sum(c[j] * x**j for j in range(deg + 1)) - y) * wt[i])
                for i, (x, y) in enumerate(zip(xs, ys))]
        tot = sum(w[i] * errs[i] for i in range(N))
        w = [w[i] * errs[i] / tot for i in range(N)]
    return [float(v) for v in c]


def horner(c, r):
    p = np.full_like(r, c[-1])
    for cc in c[-2::-1]:
        p = p * r + cc
    return p


def main():
    r = np.linspace(-H, H, 4001)
    r = r[r != 0]
    c = lawson(6, mp.exp, lambda x: 1 / mp.exp(x))
    ex = np.array([float(mp.exp(mp.mpf(v))) for v in r])
    print("fa_lexp p (c0..c6):", repr(c))
    print("  max relative error of e^r:", np.max(np.abs(horner(c, r) / ex - 1)))
    P = lawson(5, lambda x: (mp.expm1(x) - x) / x**2, lambda x: abs(x**2 / mp.expm1(x)))
    em = np.array([float(mp.expm1(mp.mpf(v))) for v in r])
    print("fa_lexpm1 P (c0..c5):", repr(P))
    print("  max relative error of e^r - 1:", np.max(np.abs((r + r * r * horner(P, r)) / em - 1)))


if __name__ == "__main__":
    main()
