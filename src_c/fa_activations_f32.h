/*
 * fa_activations_f32.h -- the float32 cores of the AVX2 and baseline paths
 * (the AVX-512 path has its own kernels, fa_v512_f32.h, and falls back to
 * these for parameters it does not cover).
 *
 * Two kinds, both keeping the float32 bound of `fastact check` (1 ULP,
 * subnormal results counted in units of 2^-149), verified over all 2^32
 * inputs (`python -m fastact check NAME --dtype float32 --exhaustive`):
 * - exp-based functions in double lanes over a float32-grade exponential
 *   (fa_lexp, fa_lexpm1 below): one final rounding, no hi + lo pairs;
 * - piecewise-linear functions in float lanes: selections are exact, and
 *   the few products and sums are carried as hi + lo (Fast2Sum, fma
 *   residuals) so the result is within 2^-40 of one rounding.
 * Same rules as fa_math.h: no data-dependent branches, NaN-preserving
 * clamps, explicit FMAs only, so the vector body, the scalar remainder and
 * every thread split give bitwise-identical results.
 *
 * One `fa_core32_<name>(x, P)` per entry of FA_F32_NATIVE_LIST and
 * FA_F32_OWN_LIST (the latter's kernel loops over blocks itself); every
 * other activation of FA_UNARY_LIST is listed in FA_F32_VIA_DOUBLE_LIST and
 * keeps the double core (gelu's erfc, softsign, tanhshrink).  A name missing
 * from all three lists fails to link; one in two fails to compile.
 */
#ifndef FA_ACTIVATIONS_F32_H
#define FA_ACTIVATIONS_F32_H

#include <float.h>
#include "fa_activations.h"

#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
#define FA_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
#else
/* No FMA (baseline x86-64): a*b is exact in double (24 x 24 bits), so
 * an fma residual whose exact value is a float stays exact; elsewhere the
 * double rounding is far below a float ULP. */
FA_INLINE float fa_fmaf_soft(float a, float b, float c)
{
    return (float)((double)a * (double)b + (double)c);
}
#define FA_FMAF(a, b, c) fa_fmaf_soft((a), (b), (c))
#endif

/* Parameters split into float hi + lo once per call (a = hi + lo to ~2^-48
 * relative), so a double parameter loses nothing in a float product. */
typedef struct { float ah, al, bh, bl; } fa_params32;

/* 1 if a and b split into float hi + lo without loss: 0, or magnitudes in
 * [2^-60, 2^60] (a float hi of 1e300 would be inf and its lo NaN; of 1e-40,
 * subnormal).  Kernels fall back to the double core otherwise. */
FA_INLINE int fa_params_fit32(const fa_params *p)
{
    double a = fabs(p->a), b = fabs(p->b);
    return (a == 0.0 || (a >= 0x1p-60 && a <= 0x1p60)) && (b == 0.0 || (b >= 0x1p-60 && b <= 0x1p60));
}

FA_INLINE fa_params32 fa_params_to32(const fa_params *p)
{
    fa_params32 q;
    q.ah = (float)p->a;
    q.al = (float)(p->a - (double)q.ah);
    q.bh = (float)p->b;
    q.bl = (float)(p->b - (double)q.bh);
    return q;
}

/* An open interval (a, b) of doubles as float thresholds: for a float x,
 * x > a <=> x >= up (up the least float above a) and x < b <=> x <= down
 * (the piecewise derivatives' "strictly inside", on every path). */
typedef struct { float up, down; } fa_in32;
FA_INLINE fa_in32 fa_in32_make(double a, double b)
{
    fa_in32 I;
    float af = (float)a, bf = (float)b;
    I.up = (double)af <= a ? nextafterf(af, INFINITY) : af;
    I.down = (double)bf >= b ? nextafterf(bf, -INFINITY) : bf;
    return I;
}

/*
 * The exp-based cores below compute in double lanes (float in, float out,
 * one rounding at the end; GCC widens 8 floats into two ymm of doubles):
 * the double range holds every float32 tail (x e^v stays a normal double
 * down to v = -700), so there is no scaling by 2^k in two steps, no hi + lo
 * pairs and no corrected quotients, and the only error besides the final
 * rounding is the polynomial's:
 *   fa_lexp:   e^z = 2^k p(r), z = k ln2 + r, |r| <= ln2/2, p of degree 6
 *              (relative error 1.9e-9 = 2^-29);
 *   fa_lexpm1: e^z - 1 = 2^k q + (2^k - 1), q = r + r^2 P(r), P of degree 5
 *              (relative error of q 2.4e-10 = 2^-32), no cancellation for
 *              z near 0 (k = 0: q itself).
 * Both: Lawson-weighted least squares at 300 Chebyshev nodes of |r| <=
 * 1.0005 ln2/2 against mpmath, errors re-measured with the double
 * coefficients in double Horner (src_c/gen_lexp.py prints both tables and
 * the errors).  The reduction's error, |k| ulp(ln2)/2 < 2^-46 absolute for
 * |z| <= 200, is far below that.  So a float result is within 0.5 ULP +
 * 2^-29 relative (<= 0.57 ULP) unless a caller's formula cancels, and a
 * subnormal float result is rounded once.  Callers clamp z to [-700, 700].
 */
#define FA_LN2D 0.69314718055994530942

/* z = k ln2 + r, |r| <= ln2/2 (+ a hair): returns r, *s = 2^k (normal for
 * the callers' |z| <= 700) */
FA_INLINE double fa_lreduce(double z, double *s)
{
    double t = FA_FMA(z, FA_INV_LN2, FA_SHIFT);
    double kd = t - FA_SHIFT;
    uint64_t k = fa_asu64(t) - fa_asu64(FA_SHIFT);    /* k in the low bits */
    *s = fa_asf64((k + 1023) << 52);
    return FA_FMA(-kd, FA_LN2D, z);
}

/* e^z; coefficients: python src_c/gen_lexp.py (degree 6 fit of e^r, relative) */
FA_INLINE double fa_lexp(double z)
{
    double s;
    double r = fa_lreduce(z, &s);
    double p = FA_FMA(0.0013836778042777263, r, 0.008374856984318144);
    p = FA_FMA(p, r, 0.04166822896887178);
    p = FA_FMA(p, r, 0.1666641968179662);
    p = FA_FMA(p, r, 0.49999992054827674);
    p = FA_FMA(p, r, 1.0000000364306256);
    p = FA_FMA(p, r, 1.0000000005564589);
    return p * s;
}

/* e^z - 1 (P: src_c/gen_lexp.py); -0 in gives +0 (callers that need -0
 * select it) */
FA_INLINE double fa_lexpm1(double z)
{
    double s;
    double r = fa_lreduce(z, &s);
    double P = FA_FMA(0.00019846002910522636, r, 0.0013940672834719095);
    P = FA_FMA(P, r, 0.008333389245966912);
    P = FA_FMA(P, r, 0.041666360355794844);
    P = FA_FMA(P, r, 0.16666666370606573);
    P = FA_FMA(P, r, 0.5000000044295051);
    double q = FA_FMA(r * r, P, r);
    return FA_FMA(s, q, s - 1.0);
}

/* x * sigmoid(v) in double, v < -VCUT giving +-0 (sign of x): e^-|v| is
 * taken at max(-|v|, -VCUT), and below -VCUT the true |x| e^v is under
 * 2^-150 for every float x (|x| < 2^128 = e^88.7, e^-200 2^128 < 2^-160),
 * so the clamp never shows -- and x = +-inf with v = -inf gives 0, not
 * inf * 0.  v >= 0: x / (1 + e); v < 0: x e / (1 + e). */
#define FA_LSIG_VCUT 200.0
FA_INLINE double fa_lx_sigmoid(double x, double v)
{
    double e = fa_lexp(fa_max(-fabs(v), -FA_LSIG_VCUT));   /* NaN passes */
    double s = (v < 0.0 ? e : 1.0) / (1.0 + e);
    return v < -FA_LSIG_VCUT ? copysign(0.0, x) : x * s;
}

FA_INLINE float fa_core32_sigmoid(float x, const fa_params32 *P)
{
    (void)P;
    return (float)fa_lx_sigmoid(1.0, (double)x);
}

FA_INLINE float fa_core32_silu(float x, const fa_params32 *P)
{
    (void)P;
    double xd = x;
    return (float)fa_lx_sigmoid(xd, xd);
}

/* swish(x) = x sigmoid(beta x), beta = ah + al (exact in double): beta x
 * rounded once in double (relative 2^-53, times sigmoid's condition number
 * |v| <= 200: 2^-45) */
FA_INLINE float fa_core32_swish(float x, const fa_params32 *P)
{
    double b = (double)P->ah + (double)P->al;
    double xd = x;
    return (float)fa_lx_sigmoid(xd, b * xd);
}

/* gelu_tanh(x) = x sigmoid(v), v = C x (1 + K1 x^2), C = 2 sqrt(2/pi):
 * v in double (x^2 exact, four roundings: 2^-51 relative, times |v| <=
 * 200: 2^-43); x^3 is finite in double for every float x */
FA_INLINE float fa_core32_gelu_tanh(float x, const fa_params32 *P)
{
    (void)P;
    double xd = x;
    double v = FA_GELU_C * (xd * FA_FMA(FA_GELU_K1 * xd, xd, 1.0));
    return (float)fa_lx_sigmoid(xd, v);
}

/* tanh(a) = E / (E + 2), E = expm1(2a), a = |x|, the sign copied back
 * (tanh(-0) = -0, NaN passes).  2a is clamped at 40: tanh rounds to 1.0f
 * from a = 9.01. */
FA_INLINE float fa_core32_tanh(float x, const fa_params32 *P)
{
    (void)P;
    double a = fabs((double)x);
    double E = fa_lexpm1(fa_min(a + a, 40.0));
    return (float)copysign(E / (E + 2.0), (double)x);
}

/* alpha expm1(x) for x <= 0 (clamped at -120, where expm1 is -1 in double),
 * alpha = ah + al; x > 0 -> pz; alpha * (+-0) for x = +-0, as the double
 * core.  NaN passes through expm1. */
FA_INLINE float fa_lelu32(float x, double alpha, double pz)
{
    double xd = x;
    double h = fa_lexpm1(fa_max(fa_min(xd, 0.0), -120.0));
    h = xd == 0.0 ? xd : h;
    return (float)(xd > 0.0 ? pz : alpha * h);
}

FA_INLINE float fa_core32_elu(float x, const fa_params32 *P)
{
    return fa_lelu32(x, (double)P->ah + (double)P->al, (double)x);
}

/* selu: scale x for x > 0 (one rounding: the product is exact in double
 * to 2^-53), scale * alpha * expm1(x) below */
FA_INLINE float fa_core32_selu(float x, const fa_params32 *P)
{
    (void)P;
    return fa_lelu32(x, FA_SELU_ALPHA_SCALE, (double)x * FA_SELU_SCALE);
}

/* celu(x) = alpha expm1(x / alpha) for x <= 0, x above; x / alpha in
 * double (relative 2^-53, and expm1's condition number is <= 1 for
 * negative arguments) */
FA_INLINE float fa_core32_celu(float x, const fa_params32 *P)
{
    double a = (double)P->ah + (double)P->al;
    double xd = x;
    double z = fa_max(fa_min(xd, 0.0) / a, -120.0);
    double h = z == 0.0 ? z : fa_lexpm1(z);        /* alpha * (+-0) as the double core */
    return (float)(xd > 0.0 ? xd : a * h);
}

/* log_sigmoid(x) = min(x, 0) - log1p(e^-|x|): both terms <= 0 after the
 * sign change, so no cancellation; e^-|x| clamped at e^-200, where
 * log1p(e) is below 2^-280 of min(x, 0) for |x| > 200 */
FA_INLINE float fa_core32_log_sigmoid(float x, const fa_params32 *P)
{
    (void)P;
    double xd = x;
    double l = fa_log1p01(fa_lexp(fa_max(-fabs(xd), -200.0)), 1);
    return (float)(-(l - fa_min(xd, 0.0)));    /* -0 where l underflows */
}

/* softplus(x) = log1p(e^v) / beta (v = beta x <= 0), x + log1p(e^-v) /
 * beta (v > 0), x where v > threshold (PyTorch); beta, threshold = ah + al,
 * bh + bl.  e^-|v| clamped at e^-200: below, log1p(e) / beta < e^-200 2^60
 * rounds to 0 in float32 (|beta| >= 2^-60, fa_params_fit32). */
FA_INLINE float fa_core32_softplus(float x, const fa_params32 *P)
{
    double b = (double)P->ah + (double)P->al;
    double th = (double)P->bh + (double)P->bl;
    double xd = x;
    double v = b * xd;
    double l = fa_log1p01(fa_lexp(fa_max(-fabs(v), -200.0)), 1) / b;
    double y = v > 0.0 ? xd + l : l;
    return (float)(v > th ? xd : y);
}

/* mish(x) = x n / (n + 2), n = e^x (e^x + 2): no cancellation; n / (n + 2)
 * is 1 in double from x = 20 on (x itself there), and below x = -200 the
 * true value x e^x is under 2^-150 for every float: -0 */
FA_INLINE float fa_core32_mish(float x, const fa_params32 *P)
{
    (void)P;
    double xd = x;
    double e = fa_lexp(fa_max(fa_min(xd, 20.0), -200.0));
    double n = e * (e + 2.0);
    double y = xd * (n / (n + 2.0));
    y = xd >= 20.0 ? xd : y;
    return (float)(xd < -200.0 ? -0.0 : y);
}

/* relu and relu6 are exact in any precision: no reason to widen. */
FA_INLINE float fa_core32_relu(float x, const fa_params32 *P)
{
    (void)P;
    return (x > 0.0f || x != x) ? x : 0.0f;
}

FA_INLINE float fa_core32_relu6(float x, const fa_params32 *P)
{
    (void)P;
    float y = (x > 0.0f || x != x) ? x : 0.0f;
    return y > 6.0f ? 6.0f : y;
}

/* hardtanh: (x < a ? a : x), then (y > b ? b : y) with a, b rounded to
 * float.  Bitwise the double core's result: a float x can lie strictly
 * between a and (float)a only if it equals (float)a, which both branches
 * return; a = +-0 or |a| >= 2^-60 (fa_params_fit32), so no rounding of a
 * to a zero of the other sign.  NaN passes both comparisons. */
FA_INLINE float fa_core32_hardtanh(float x, const fa_params32 *P)
{
    float y = x < P->ah ? P->ah : x;
    return y > P->bh ? P->bh : y;
}

/* 1/6 = SIXTH_HF + SIXTH_LF (floats) */
#define FA_SIXTH_HF 0.16666667163372040f
#define FA_SIXTH_LF (-4.9670537312825521e-09f)   /* 1/6 - FA_SIXTH_HF (mpmath) */

/* hard_sigmoid(x) = (x + 3)/6 inside (-3, 3), 0 at and below -3, 1 at and
 * above 3.  x + 3 = t + tl exactly (Fast2Sum: |x| < 3 where it is used),
 * then (t + tl)(1/6) with 1/6 as hi + lo: the low terms are rounded at
 * 2^-24 of themselves, so the result is within 2^-40 of one rounding of
 * the exact value (the double core rounds (x + 3) * (1/6) twice).  The
 * result is >= 2^-25 wherever it is not 0, so nothing is subnormal. */
FA_INLINE float fa_core32_hard_sigmoid(float x, const fa_params32 *P)
{
    (void)P;
    float t = 3.0f + x;
    float tl = x - (t - 3.0f);
    float y = FA_FMAF(t, FA_SIXTH_HF, FA_FMAF(tl, FA_SIXTH_HF, t * FA_SIXTH_LF));
    y = x <= -3.0f ? 0.0f : y;
    return x >= 3.0f ? 1.0f : y;                   /* NaN passes through y */
}

/* hardswish(x) = x (x + 3) / 6 for -3 < x < 3, rounded once: x + 3 = t + tl
 * exactly (Fast2Sum), x t = ph + pl exactly (fma), and (ph + pl + x tl)
 * (1/6 as hi + lo) with the low terms rounded at 2^-24 of themselves
 * (within 2^-40 of one rounding); -0 for x <= -3, x from 3 on (t, tl may be
 * inf or NaN there: unused).  |x| < 2^-60: x / 2 (x^2/6 is below 2^-61 of
 * it), which keeps -0 and avoids the low terms' underflow. */
FA_INLINE float fa_core32_hardswish(float x, const fa_params32 *P)
{
    (void)P;
    float t = 3.0f + x;
    float tl = x - (t - 3.0f);
    float ph = x * t;
    float lo = FA_FMAF(x, tl, FA_FMAF(x, t, -ph));
    float corr = FA_FMAF(lo, FA_SIXTH_HF, ph * FA_SIXTH_LF);
    float y = FA_FMAF(ph, FA_SIXTH_HF, corr);
    y = fabsf(x) < 0x1p-60f ? x * 0.5f : y;
    y = x <= -3.0f ? -0.0f : y;
    return x >= 3.0f ? x : y;                      /* NaN passes through y */
}

/* leaky_relu(x) = x for x > 0, else x * slope rounded once.  A float slope
 * (al = 0): x ah, exactly the double core's product.  Otherwise fma(x, ah,
 * x al), within 2^-48 relative of the exact product before its one
 * rounding, where fa_slope32_ok (x al neither underflows nor meets an
 * infinity); x = +-0 gives x ah (the sign the double core gives, whatever
 * the sign of al).  Kernels check a block for other values first and then
 * take the product in double for the whole block (fa_leaky_relu_f32c). */
/* 1 for |x| = ax where fa_core32_leaky_relu is used: x al neither
 * underflows nor meets an infinity, or x = +-0 (bitwise ops: vectorises) */
FA_INLINE int fa_slope32_ok(float ax)
{
    return ((ax >= 0x1p-90f) & (ax <= FLT_MAX)) | (ax == 0.0f);
}
FA_INLINE float fa_core32_leaky_relu(float x, const fa_params32 *P)
{
    float n = FA_FMAF(x, P->ah, x * P->al);
    n = x == 0.0f ? x * P->ah : n;
    return x > 0.0f ? x : n;
}

#define FA_F32_NATIVE_LIST(X) \
    X(sigmoid) X(silu) X(swish) X(gelu_tanh) X(tanh) X(elu) X(selu) X(relu) X(relu6) \
    X(hardtanh) X(hard_sigmoid) X(hardswish) X(celu) X(log_sigmoid) X(softplus) X(mish)

/* float lanes with a kernel of their own (fa_kernels_impl.h) */
#define FA_F32_OWN_LIST(X) X(leaky_relu)

#define FA_F32_VIA_DOUBLE_LIST(X) X(tanhshrink) X(softsign) X(gelu)

#endif /* FA_ACTIVATIONS_F32_H */
