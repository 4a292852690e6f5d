/*
 * fa_math.h -- branch-free, vectorisable building blocks for fastact.
 *
 * Design rationale
 * ----------------
 * 1. Every activation is written ONCE as a scalar `static inline double`
 *    function (see fa_activations.h).  Array kernels are plain loops over it
 *    that GCC/Clang auto-vectorise; the same translation unit is compiled once
 *    per instruction set (baseline, AVX2+FMA, AVX-512) and the fastest one is
 *    picked at import time (fa_dispatch.c).
 * 2. All arithmetic here is in double (the float-lane float32 cores of the
 *    exp-based functions are in fa_activations_f32.h, with their own
 *    rationale).  Other float32 kernels widen to double, evaluate,
 *    and round once at the end: a double core with relative error ~1e-12
 *    gives float32 results that are correctly rounded except within ~1e-4 ULP
 *    of a rounding tie, so the float32 bound is 1 ULP, subnormal results
 *    included (the double range covers every float32 tail: sigmoid(-103),
 *    silu(-89), gelu(2.8e38) never under/overflow in double).
 *    The `lowp` argument (a compile-time constant after inlining) selects
 *    shorter polynomials that are accurate enough for float32 (~1e-11), and
 *    full-length ones for float64 (~1 ULP of double).
 * 3. Nothing here branches on data: `c ? a : b` on values that are both
 *    already computed becomes a vector blend.  NaN is preserved by writing
 *    every clamp as `x > hi ? hi : x` (a comparison with NaN is false, so
 *    NaN falls through) -- never fmin/fmax, which drop NaN.
 * 4. Contraction is off (-ffp-contract=off) and fused multiply-adds are only
 *    ever written explicitly with FA_FMA: the vector body and the scalar
 *    remainder of a loop then execute the same operations and give bitwise
 *    identical results, so results never depend on where a thread's chunk
 *    starts.
 */
#ifndef FA_MATH_H
#define FA_MATH_H

#include <stdint.h>
#include <string.h>
#include <math.h>

#if defined(_MSC_VER)
#define FA_INLINE static __forceinline
#else
#define FA_INLINE static inline __attribute__((always_inline))
#endif

/* Explicit FMA on ISAs that have it; separate multiply and add elsewhere. */
#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
#define FA_FMA(a, b, c) __builtin_fma((a), (b), (c))
#else
#define FA_FMA(a, b, c) ((a) * (b) + (c))
#endif

FA_INLINE uint64_t fa_asu64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
FA_INLINE double fa_asf64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* The rounding error of a*b (a*b = p + lo exactly); 0 where a*b is huge. */
FA_INLINE double fa_prod_lo(double a, double b, double p)
{
#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
    double lo = __builtin_fma(a, b, -p);
#else
    /* Veltkamp's split of a factor over 2^996 would overflow (inf - inf):
     * move 2^60 from the big factor to the other one (exact; where that
     * one overflows in turn, |p| > 1e300 and the result is 0 anyway) */
    double sc = fabs(a) > 0x1p996 ? 0x1p-60 : (fabs(b) > 0x1p996 ? 0x1p60 : 1.0);
    a = a * sc;
    b = b / sc;
    const double split = 134217729.0; /* 2^27 + 1, Veltkamp */
    double ta = a * split, ah = ta - (ta - a), al = a - ah;
    double tb = b * split, bh = tb - (tb - b), bl = b - bh;
    double lo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
    return fabs(p) < 1e300 ? lo : 0.0;
}

/* a + b = s + *err exactly (Knuth's TwoSum: no condition on the order of
 * magnitudes; 6 additions, no branch). */
FA_INLINE double fa_two_sum(double a, double b, double *err)
{
    double s = a + b;
    double bb = s - a;
    *err = (a - (s - bb)) + (b - bb);
    return s;
}

/* (ah + al)(bh + bl) = hi + *lo to ~2^-104 relative (al bl dropped). */
FA_INLINE double fa_ddmul(double ah, double al, double bh, double bl, double *lo)
{
    double p = ah * bh;
    *lo = fa_prod_lo(ah, bh, p) + (ah * bl + al * bh);
    return p;
}

/* (nh + nl)/(dh + dl) = hi + *lo from rd ~ 1/dh (within a few ulps: the
 * quotient nh rd need not be rounded, *lo corrects it): nh - hi dh is
 * exact (Sterbenz plus the product's low part), the rest first order. */
FA_INLINE double fa_dd_quot(double nh, double nl, double dh, double dl, double rd, double *lo)
{
    double q = nh * rd;
    double p = q * dh;
    *lo = (((nh - p) - fa_prod_lo(q, dh, p)) + (nl - q * dl)) * rd;
    return q;
}

/* NaN-preserving clamps (see rationale 3). */
FA_INLINE double fa_min(double x, double hi) { return x > hi ? hi : x; }
FA_INLINE double fa_max(double x, double lo) { return x < lo ? lo : x; }

#define FA_LN2_HI 6.93147180369123816490e-01 /* 0x3fe62e42fee00000: 32 trailing zero bits */
#define FA_LN2_LO 1.90821492927058770002e-10 /* ln2 - LN2_HI */
#define FA_INV_LN2 1.44269504088896338700e+00
#define FA_SHIFT 6755399441055744.0 /* 1.5 * 2^52: adding it rounds to an integer */

/*
 * Range reduction x = k*ln2 + r, |r| <= ln2/2 (+ a hair), k an integer held
 * both as a double (kd) and as a two's complement integer in the low bits of
 * `kbits` (valid for |k| < 2^31).
 */
FA_INLINE double fa_reduce(double x, double *kd_out, int64_t *k_out)
{
    double t = FA_FMA(x, FA_INV_LN2, FA_SHIFT);
    double kd = t - FA_SHIFT;
    *k_out = (int64_t)(fa_asu64(t) - fa_asu64(FA_SHIFT));
    *kd_out = kd;
    double r = x - kd * FA_LN2_HI; /* exact: kd*LN2_HI is exact for |k| < 2^21 */
    return r - kd * FA_LN2_LO;
}

/*
 * expm1(r) - r - r^2/2 ... as a polynomial, |r| <= 0.35: Taylor terms.
 * Returns q = expm1(r) = r + r^2 * P(r).
 * lowp: degree 9 (truncation 0.35^10/10! < 7e-12 relative) for float32 cores;
 * else degree 13 (0.35^14/14! < 5e-18) for float64 cores.
 */
FA_INLINE double fa_expm1_poly(double r, int lowp)
{
    double p;
    if (lowp) {
        p = 1.0 / 362880.0;                 /* 1/9! */
        p = FA_FMA(p, r, 1.0 / 40320.0);
        p = FA_FMA(p, r, 1.0 / 5040.0);
        p = FA_FMA(p, r, 1.0 / 720.0);
        p = FA_FMA(p, r, 1.0 / 120.0);
        p = FA_FMA(p, r, 1.0 / 24.0);
        p = FA_FMA(p, r, 1.0 / 6.0);
        p = FA_FMA(p, r, 0.5);
    } else {
        p = 1.0 / 6227020800.0;             /* 1/13! */
        p = FA_FMA(p, r, 1.0 / 479001600.0);
        p = FA_FMA(p, r, 1.0 / 39916800.0);
        p = FA_FMA(p, r, 1.0 / 3628800.0);
        p = FA_FMA(p, r, 1.0 / 362880.0);
        p = FA_FMA(p, r, 1.0 / 40320.0);
        p = FA_FMA(p, r, 1.0 / 5040.0);
        p = FA_FMA(p, r, 1.0 / 720.0);
        p = FA_FMA(p, r, 1.0 / 120.0);
        p = FA_FMA(p, r, 1.0 / 24.0);
        p = FA_FMA(p, r, 1.0 / 6.0);
        p = FA_FMA(p, r, 0.5);
    }
    return FA_FMA(r * r, p, r);
}

/*
 * exp(x) for any double x, including subnormal results.
 *   x < -746      -> 0 (true value below half the smallest subnormal)
 *   x > 710       -> +inf (true value above DBL_MAX)
 *   NaN           -> NaN (the clamps let it through, NaN*anything = NaN)
 * 2^k is applied as two factors 2^k1 * 2^k2 (k1 = floor(k/2)) so that
 * k in [-1076, 1025] is handled by ONE final rounding, into the subnormal
 * range or to infinity, instead of a wrong exponent field.
 */
FA_INLINE double fa_exp(double x, int lowp)
{
    x = fa_max(x, -746.0);
    x = fa_min(x, 710.0);
    double kd;
    int64_t k;
    double r = fa_reduce(x, &kd, &k);
    double p = 1.0 + fa_expm1_poly(r, lowp);
    uint64_t ku = (uint64_t)(k + 2048);      /* positive for k >= -2048 */
    uint64_t k1 = (ku >> 1);                 /* floor(k/2) + 1024        */
    uint64_t k2 = ku - k1;                   /* k - floor(k/2) + 1024    */
    double s1 = fa_asf64((k1 - 1) << 52);
    double s2 = fa_asf64((k2 - 1) << 52);
    return (p * s1) * s2;
}

/*
 * expm1(x) for x <= 88 (callers clamp), accurate to ~1 ULP for all such x
 * including |x| -> 0 (no cancellation: expm1 = 2^k*q + (2^k - 1) with q the
 * reduced expm1 and 2^k - 1 exact for the k that matter).
 *   x < -60  -> -1 exactly (e^-60 < 2^-86 is below half an ULP of 1)
 */
FA_INLINE double fa_expm1(double x, int lowp)
{
    x = fa_max(x, -60.0);
    x = fa_min(x, 88.0);
    double kd;
    int64_t k;
    double r = fa_reduce(x, &kd, &k);
    double q = fa_expm1_poly(r, lowp);
    double s = fa_asf64((uint64_t)(k + 1023) << 52);
    double y = FA_FMA(s, q, s - 1.0);
    return x == 0.0 ? x : y; /* expm1(-0) = -0 */
}

/*
 * log1p(t) for t in [0, 1] (callers pass exp(-|x|)); NaN passes through.
 * log1p(t) = 2 atanh(s) with s = t / (2 + t)               for t <= 1/2
 *          = ln2 + 2 atanh(s) with s = (t - 1) / (t + 3)    for t >  1/2
 * (t - 1 is exact for t in [1/2, 1] by Sterbenz, so no bits of t are lost;
 *  |s| <= 1/5 in both branches.)  2 atanh(s) = 2s + 2s^3 (1/3 + s^2/5 + ...)
 * lowp: terms to s^12 (error < 0.04^7/15 ~ 1e-11); else to s^24 (< 1e-18).
 */
FA_INLINE double fa_log1p01(double t, int lowp)
{
    int big = t > 0.5;
    double num = big ? t - 1.0 : t;
    double den = big ? t + 3.0 : t + 2.0;
    double s = num / den;
    double z = s * s;
    double p;
    if (lowp) {
        p = 1.0 / 13.0;
        p = FA_FMA(p, z, 1.0 / 11.0);
        p = FA_FMA(p, z, 1.0 / 9.0);
        p = FA_FMA(p, z, 1.0 / 7.0);
        p = FA_FMA(p, z, 1.0 / 5.0);
        p = FA_FMA(p, z, 1.0 / 3.0);
    } else {
        p = 1.0 / 25.0;
        p = FA_FMA(p, z, 1.0 / 23.0);
        p = FA_FMA(p, z, 1.0 / 21.0);
        p = FA_FMA(p, z, 1.0 / 19.0);
        p = FA_FMA(p, z, 1.0 / 17.0);
        p = FA_FMA(p, z, 1.0 / 15.0);
        p = FA_FMA(p, z, 1.0 / 13.0);
        p = FA_FMA(p, z, 1.0 / 11.0);
        p = FA_FMA(p, z, 1.0 / 9.0);
        p = FA_FMA(p, z, 1.0 / 7.0);
        p = FA_FMA(p, z, 1.0 / 5.0);
        p = FA_FMA(p, z, 1.0 / 3.0);
    }
    double two_s = s + s;
    double a = FA_FMA(two_s * z, p, big ? FA_LN2_LO : 0.0);
    if (!lowp) {
        /* float64: the quotient's rounding error (and the denominator's)
         * would be ~1 ULP of the result; recover it (fa_prod_lo) and add
         * it before the final rounding. */
        double c = big ? 3.0 : 2.0;
        double dl = (c - den) + t;                    /* den + dl = t + c exactly */
        double ph = s * den;
        double sl = (((num - ph) - fa_prod_lo(s, den, ph)) - s * dl) / den;
        a = a + (sl + sl);
    }
    return (big ? FA_LN2_HI : 0.0) + (two_s + a);
}

/*
 * Logistic sigmoid through e = exp(-|x|) in (0, 1]: never overflows.
 *   x >= 0: 1 / (1 + e);   x < 0: e / (1 + e).
 * Subnormal results (x < -708 in double) come out of fa_exp correctly.
 */
FA_INLINE double fa_sigmoid(double x, int lowp)
{
    double e = fa_exp(-fabs(x), lowp);
    double num = x < 0.0 ? e : 1.0;
    return num / (1.0 + e);
}

/*
 * tanh(|x|) = expm1(2|x|) / (expm1(2|x|) + 2): no cancellation anywhere
 * (expm1 is accurate near 0), then the sign of x is copied back, so
 * tanh(-0) = -0.  |x| > 20 gives exactly 1 in double (and float).
 */
FA_INLINE double fa_tanh(double x, int lowp)
{
    double a = fa_min(fabs(x), 20.0);
    double e = fa_expm1(a + a, lowp);
    double t = e / (e + 2.0);
    if (!lowp) {
        /* float64: expm1's final rounding (exact by TwoSum: 2^k q and
         * 2^k - 1 are exact for these k) and the quotient's rounding are
         * recovered and added once: ~0.8 ULP instead of ~1.6. */
        double kd;
        int64_t k;
        double r = fa_reduce(a + a, &kd, &k);
        double q = fa_expm1_poly(r, 0);
        double sc = fa_asf64((uint64_t)(k + 1023) << 52);
        double sq = sc * q, c = sc - 1.0;
        double eh = sq + c;
        double bb = eh - sq;
        double el = (sq - (eh - bb)) + (c - bb);
        el = a == 0.0 ? 0.0 : el;
        double dh = eh + 2.0;
        double b2 = dh - eh;
        double dl = ((eh - (dh - b2)) + (2.0 - b2)) + el;
        double th = eh / dh;
        double ph = th * dh;
        double corr = (((eh - ph) - fa_prod_lo(th, dh, ph)) + (el - th * dl)) / dh;
        t = th + corr;
        t = a == a ? t : a;  /* NaN */
    }
    return copysign(t, x);
}

#endif /* FA_MATH_H */
