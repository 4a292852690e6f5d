"""Taylor windows for the float32 derivatives that cross zero: silu/swish
(in v = beta x), gelu, gelu_tanh, mish -- the AVX-512 kernels
(fa_v512_f32.h, fa_vwindow) and the scalar lowp cores of gelu' and mish'
(fa_derivatives.h, FA_LWIN), whose terms carry a lowp exp's ~2^-37.

    python src_c/gen_deriv_zeros.py            # prints the C block (float32, in fa_derivatives.h)
    python src_c/gen_deriv_zeros.py --float64  # the float64 block (fa_v512_f64.h)

Near a zero x0 of f', f' = A - B with A, B ~ 0.2-0.5 each, so the 2^-34
relative error of the double-lane terms becomes |A| / |f'| times larger.
Outside [x0 - W, x0 + W] that factor is <= 2^6 (so the result keeps 2^-28
relative, 1/16 float ULP); inside, f' is evaluated as its Taylor polynomial
in t = x - x0 (x0 = hi + lo, t = (x - hi) - lo exact enough: x - hi is exact
by Sterbenz), which has no cancellation.  The degree makes the truncation
< 2^-40 relative to f' on the window.  Needs mpmath.

--float64 (fa_v512_f64.h, whose terms are good to ~2^-57): the window is
where the amplification exceeds 2^3 (so outside it the result keeps
~2^-54), the truncation < 2^-60, and the names are FA_WZ64_* / fa_wz64_*.

--cores (the float64 double cores of fa_derivatives.h, used off AVX-512
and for gelu everywhere; their terms carry ~1-2 ULP): the window is where
the amplification exceeds 2, truncation < 2^-60, names FA_WZC_* / fa_wzc_*.
"""
import sys
import mpmath as mp

mp.mp.dps = 60

C = 2 * mp.sqrt(2 / mp.pi)
K = mp.mpf("0.044715")


def sig(v):
    return 1 / (1 + mp.exp(-v))


FUNS = {
    # f'(x) and the larger-magnitude term |A| (for the amplification)
    "silu": (lambda v: sig(v) * (1 + v * (1 - sig(v))), lambda v: sig(v)),
    "gelu": (lambda x: mp.ncdf(x) + x * mp.npdf(x), lambda x: mp.ncdf(x)),
    "gelu_tanh": (lambda x: sig(C * (x + K * x**3))
                  + x * sig(C * (x + K * x**3)) * (1 - sig(C * (x + K * x**3))) * C * (1 + 3 * K * x**2),
                  lambda x: sig(C * (x + K * x**3))),
    "mish": (lambda x: mp.tanh(mp.log1p(mp.exp(x)))
             + x * (1 - mp.tanh(mp.log1p(mp.exp(x)))**2) * sig(x),
             lambda x: mp.tanh(mp.log1p(mp.exp(x)))),
}
START = {"silu": -1.28, "gelu": -0.75, "gelu_tanh": -0.75, "mish": -1.19}


def _bisect(f, a, b):
    fa = f(a)
    for _ in range(80):
        m = (a + b) / 2
        if (f(m) > 0) == (fa > 0):
            a, fa = m, f(m)
        else:
            b = m
    return (a + b) / 2


def main(float64=False, cores=False):
    amp_limit, tail_exp, max_deg = (8, -60, 30) if float64 else (64, -40, 14)
    names = ("silu", "gelu_tanh", "mish") if float64 else tuple(FUNS)
    tag, ctag = ("FA_WZ64_", "fa_wz64_") if float64 else ("FA_WZ_", "fa_wz_")
    if cores:
        amp_limit, tail_exp, max_deg = (2, -60, 40)
        names, tag, ctag = tuple(FUNS), "FA_WZC_", "fa_wzc_"
    for name in names:
        d, big = FUNS[name]
        x0 = mp.findroot(d, START[name])
        amp = lambda x: abs(big(x)) / abs(d(x)) - amp_limit  # noqa: E731
        reach = mp.mpf("1.2") if cores else mp.mpf("0.5")
        W = max(abs(_bisect(amp, x0 + s * mp.mpf("1e-9"), x0 + s * reach) - x0)
                for s in (-1, 1))
        W = float(W) * 1.05
        coef = mp.taylor(d, x0, max_deg)
        for deg in range(2, max_deg):
            tail = max(abs(coef[deg + 1] * W ** (deg + 1)) / abs(d(x0 + s * W)) for s in (-1, 1))
            if tail < mp.mpf(2) ** tail_exp:
                break
        hi = float(x0)
        lo = float(x0 - hi)
        up = name.upper()
        print(f"/* {name}: zero of f' at {mp.nstr(x0, 20)}, window +-{W:.4g}, degree {deg} */")
        print(f"#define {tag}{up}_HI {hi!r}")
        print(f"#define {tag}{up}_LO {lo!r}")
        print(f"#define {tag}{up}_W {W!r}")
        cs = ", ".join(repr(float(c)) for c in coef[1:deg + 1])
        if deg == max_deg - 1:
            raise SystemExit(f"{name}: degree {max_deg} does not reach 2^{tail_exp}")
        if float64 or cores:  # the leading coefficient as hi + lo (t c1 carries the result)
            print(f"#define {tag}{up}_C1LO {float(coef[1] - float(coef[1]))!r}")
        print(f"#define {tag}{up}_N {deg}")
        print(f"static const double {ctag}{name}[{deg}] = {{{cs}}};")


if __name__ == "__main__":
    main(float64="--float64" in sys.argv[1:], cores="--cores" in sys.argv[1:])
