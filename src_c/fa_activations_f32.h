/*
 * fa_activations_f32.h -- float32 cores evaluated in float lanes.
 *
 * Why: the double cores of fa_activations.h give float32 results that are
 * correctly rounded, but a double lane holds half as many elements as a
 * float lane and double division is slow, so exp-based float32 functions ran
 * at 0.2-0.4x the speed of the peers.  The cores below compute in float
 * (16 lanes per zmm) and keep the float32 bound of `fastact check` (1 ULP,
 * subnormal results counted in units of 2^-149), verified over all 2^32
 * inputs (`python -m fastact check NAME --dtype float32 --exhaustive`).
 *
 * How 1 ULP is kept with 24-bit arithmetic (design points):
 * 1. exp's reduced argument is exact: z = k ln2 + r with ln2 = L1 + L2, L1
 *    holding 16 significant bits, so k*L1 is exact for |k| < 2^8 and
 *    z - k*L1 is exact (Sterbenz-like: the difference is a multiple of
 *    ulp(z) no larger than 0.35); k*L2 and any low part of z are kept as a
 *    separate small term.
 * 2. e^r is returned unrounded as e + el (1 + q by Fast2Sum, q = s + s^2 P(s)
 *    by Fast2Sum), so the only error left in e^r is the polynomial's
 *    (degree 6, |r| <= 0.347, fitted with float coefficients: 4.6e-9
 *    absolute, ~0.08 ULP) and P's rounding (~0.1 ULP).
 * 3. Quotients n/d are formed as Q = n * (1/d) and corrected once with the
 *    exact residual fma(-Q, d, n) plus the low parts of n and d, so a
 *    quotient costs ~0.5 ULP instead of ~1.5.
 * 4. 2^k is applied as two normal factors (k/2 each), the last product
 *    rounding once into the subnormal range: sigmoid(-100) = 3.7e-44 is
 *    right to ~0.8 subnormal units, never flushed.
 * 5. Same rules as fa_math.h: no data-dependent branches, NaN-preserving
 *    clamps, explicit FMAs only, so the vector body, the scalar remainder
 *    and every thread split give bitwise-identical results.
 *
 * One `fa_core32_<name>(x, P)` per entry of FA_F32_NATIVE_LIST; every other
 * activation of FA_UNARY_LIST is listed in FA_F32_VIA_DOUBLE_LIST and keeps
 * the double core (piecewise functions whose float evaluation would round
 * twice, and the log1p/erfc-based ones that have no float core yet).
 * A name missing from both lists fails to link; one in both fails to compile.
 */
#ifndef FA_ACTIVATIONS_F32_H
#define FA_ACTIVATIONS_F32_H

#include "fa_activations.h"

#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
#define FA_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
#else
/* No FMA (baseline x86-64): a*b is exact in double (24 x 24 bits), so
 * the residuals of design point 3, whose exact value is a float, stay
 * exact; elsewhere the double rounding is far below a float ULP. */
FA_INLINE float fa_fmaf_soft(float a, float b, float c)
{
    return (float)((double)a * (double)b + (double)c);
}
#define FA_FMAF(a, b, c) fa_fmaf_soft((a), (b), (c))
#endif

FA_INLINE uint32_t fa_asu32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
FA_INLINE float fa_asf32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
FA_INLINE float fa_minf(float x, float hi) { return x > hi ? hi : x; }
FA_INLINE float fa_maxf(float x, float lo) { return x < lo ? lo : x; }
/* 2^k for k in [-126, 127] */
FA_INLINE float fa_pow2f(int32_t k) { return fa_asf32((uint32_t)(k + 127) << 23); }

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

#define FA_SHIFTF 12582912.0f            /* 1.5 * 2^23: adding it rounds to an integer */
#define FA_INV_LN2F 1.44269504088896341f
#define FA_LN2F_1 0.693145751953125f     /* 0x3f317200: 16 significant bits */
#define FA_LN2F_2 1.428606765330187e-06f /* ln2 - FA_LN2F_1 */

/*
 * e^(z + zl) = 2^k (e + *el) for z in [-200, 88.8] (callers clamp), zl a
 * small low part of the argument (|zl| <= ulp(z)).  e + el is e^r to ~0.1 ULP
 * with e in [0.7, 1.42]: e^s = 1 + s + s^2/2 + s^3 P(s), where s + s^2/2 is
 * formed exactly (s^2 by fma, halving is exact) and only the small s^3 P
 * term is rounded.  P(s) ~ (e^s - 1 - s - s^2/2) / s^3, degree 4, a
 * minimax fit (Lawson iterations on 300 Chebyshev nodes of [-0.3475,
 * 0.3475], mpmath, weight s^3) with float coefficients: max error of e^s
 * 2.8e-10 absolute (0.005 ULP).
 */
FA_INLINE float fa_expf_core(float z, float zl, float *el, int32_t *k)
{
    float t = FA_FMAF(z, FA_INV_LN2F, FA_SHIFTF);
    float kf = t - FA_SHIFTF;
    *k = (int32_t)(fa_asu32(t) - fa_asu32(FA_SHIFTF));
    float rh = FA_FMAF(-kf, FA_LN2F_1, z);        /* exact (point 1) */
    float rl = FA_FMAF(-kf, FA_LN2F_2, zl);
    float s = rh + rl;
    float sl = (rh - s) + rl;                      /* Fast2Sum (|rl| tiny) */
    float p = FA_FMAF(0.00019913561118301004f, s, 0.001393564511090517f);
    p = FA_FMAF(p, s, 0.008333275094628334f);
    p = FA_FMAF(p, s, 0.04166645556688309f);
    p = FA_FMAF(p, s, 0.1666666716337204f);
    float s2 = s * s;
    float hs = 0.5f * s2, hsl = 0.5f * FA_FMAF(s, s, -s2);   /* s^2/2 exactly */
    float t3 = (s2 * s) * p;
    float u = hs + t3;                             /* Fast2Sum: hs >= |t3| */
    float ul = (hs - u) + t3;
    float q = s + u;                               /* Fast2Sum: |s| >= u */
    float ql = ((s - q) + u) + (ul + hsl);
    float e = 1.0f + q;                            /* Fast2Sum: |q| < 1 */
    float e1 = (1.0f - e) + q;
    *el = e1 + FA_FMAF(sl, e, ql);
    return e;
}

/*
 * x * sigmoid(v) with v = vh + vl, through e^-|v| (never overflows); x must
 * satisfy |x| <= 112 wherever v < -112 (callers clamp x), because e^-|v| is
 * clamped at e^-112, where x e^-112 < 2^-150 rounds to 0.
 *   v >= 0: x / (1 + E);   v < 0: x E / (1 + E) = 2^k x (e + el) / (1 + E)
 * with E = 2^k (e + el); the quotient is corrected once (point 3) and, for
 * v < 0, scaled by 2^k last (point 4).  x1: x is 1 (sigmoid itself).
 */
FA_INLINE float fa_x_sigmoid32(float x, float vh, float vl, int x1)
{
    int neg = vh < 0.0f;
    float z = -fa_minf(fabsf(vh), 112.0f);
    float zl = neg ? vl : -vl;
    zl = fabsf(vh) < 112.0f ? zl : 0.0f;           /* a clamped z has no low part */
    float el;
    int32_t k;
    float e = fa_expf_core(z, zl, &el, &k);
    int32_t k1 = k >> 1, k2 = k - k1;
    float s1 = fa_pow2f(k1), s2 = fa_pow2f(k2);
    float Eh = (e * s1) * s2, El = (el * s1) * s2;
    float d = 1.0f + Eh;                           /* Eh <= 1.42 * 2^0 */
    float dl = ((1.0f - d) + Eh) + El;
    float num = neg ? e : 1.0f;
    float numl = neg ? el : 0.0f;
    float r = 1.0f / d;
    float Q = num * r;
    float res = FA_FMAF(-Q, d, num) + FA_FMAF(-Q, dl, numl);
    float Ql = res * r;
    float y = x1 ? Q + Ql : FA_FMAF(x, Q, x * Ql);
    return neg ? (y * s1) * s2 : y;
}

FA_INLINE float fa_core32_sigmoid(float x, const fa_params32 *P)
{
    (void)P;
    return fa_x_sigmoid32(1.0f, x, 0.0f, 1);
}

/* silu(x) = x sigmoid(x); x > 112 gives x itself (also keeps +inf out of
 * the correction term, where inf * 0 would be NaN). */
FA_INLINE float fa_core32_silu(float x, const fa_params32 *P)
{
    (void)P;
    float y = fa_x_sigmoid32(fa_maxf(x, -112.0f), x, 0.0f, 0);
    return x > 112.0f ? x : y;
}

/*
 * gelu_tanh(x) = x sigmoid(v), v = C x (1 + K1 x^2), C = 2 sqrt(2/pi):
 * sigmoid's relative condition number is |v| (up to 112), so v is carried
 * as vh + vl: x^2 exact by fma, each product's rounding and the constants'
 * own rounding (C = Ch + Cl, K1 = K1h + K1l) kept in the low part.  Beyond
 * |x| = 2^20 the result is x or -0 whatever vl is, so vl is dropped there
 * (x^3 overflows from 7e12, and inf - inf would poison it).
 */
#define FA_GELU_CHF 1.5957691669464111f
#define FA_GELU_CLF (-4.534068054340423e-08f) /* 2 sqrt(2/pi) - CHF (mpmath) */
#define FA_GELU_K1HF 0.044714998453855515f
#define FA_GELU_K1LF 1.5461444347053543e-09f /* 0.044715 - K1HF */

FA_INLINE float fa_core32_gelu_tanh(float x, const fa_params32 *P)
{
    (void)P;
    float x2 = x * x;
    float x2l = FA_FMAF(x, x, -x2);
    float t = FA_GELU_K1HF * x2;
    float tl = FA_FMAF(FA_GELU_K1HF, x2, -t) + FA_FMAF(FA_GELU_K1HF, x2l, FA_GELU_K1LF * x2);
    float w = 1.0f + t;                            /* TwoSum(1, t) */
    float bb = w - t;
    float wl = ((1.0f - bb) + (t - (w - bb))) + tl;
    float m = x * w;
    float ml = FA_FMAF(x, w, -m) + x * wl;
    float vh = FA_GELU_CHF * m;
    float vl = FA_FMAF(FA_GELU_CHF, m, -vh) + FA_FMAF(FA_GELU_CHF, ml, FA_GELU_CLF * m);
    vl = fabsf(x) < 1048576.0f ? vl : 0.0f;
    float y = fa_x_sigmoid32(fa_maxf(x, -112.0f), vh, vl, 0);
    return x > 112.0f ? x : y;
}

/*
 * expm1(x) for x in [-30, 20.5] (callers clamp) as hi + *lo, from
 * 2^k (e + el) - 1: 2^k e and 1 are subtracted by TwoSum, so there is no
 * cancellation near 0 (e + el carries 1 + q exactly).
 */
FA_INLINE float fa_expm1f_hl(float x, float *lo)
{
    float el;
    int32_t k;
    float e = fa_expf_core(x, 0.0f, &el, &k);
    float S = fa_pow2f(k);                         /* k in [-44, 30]: normal */
    float a = S * e;                               /* exact */
    float h = a - 1.0f;                            /* TwoSum(a, -1) */
    float bb = h - a;
    float hl = (a - (h - bb)) + (-1.0f - bb);
    /* |x| < 2^-25: expm1(x) = x to far below an ULP; keeps -0 and the sign
     * of tiny x (h would be +0 with x in the low part) */
    int tiny = fabsf(x) < 0x1p-25f;
    float l = FA_FMAF(S, el, hl);
    float hh = h + l;                              /* renormalise: Fast2Sum */
    float ll = (h - hh) + l;
    *lo = tiny ? 0.0f : ll;
    return tiny ? x : hh;
}

/*
 * tanh(a) = E / (E + 2), E = expm1(2a), a = |x|, sign copied back (tanh(-0)
 * = -0).  2a is clamped at 20 (tanh rounds to 1 from a = 9.01).  Numerator
 * and denominator carry their low parts into the corrected quotient.
 */
FA_INLINE float fa_core32_tanh(float x, const fa_params32 *P)
{
    (void)P;
    float a = fabsf(x);
    float u = fa_minf(a + a, 20.0f);
    float El;
    float Eh = fa_expm1f_hl(u, &El);
    float d = Eh + 2.0f;                           /* TwoSum(Eh, 2) */
    float bb = d - Eh;
    float dl = ((Eh - (d - bb)) + (2.0f - bb)) + El;
    float r = 1.0f / d;
    float Q = Eh * r;
    float res = FA_FMAF(-Q, d, Eh) + FA_FMAF(-Q, dl, El);
    return copysignf(FA_FMAF(res, r, Q), x);      /* NaN passes through */
}

/* alpha * expm1(x) for x <= 0 with alpha = ah + al (expm1's low part
 * renormalised first, so the product rounds ~once); x > 0 -> pz. */
FA_INLINE float fa_elu32(float x, float ah, float al, float pz)
{
    float lo;
    float h = fa_expm1f_hl(fa_maxf(fa_minf(x, 0.0f), -30.0f), &lo);
    float n = FA_FMAF(ah, h, FA_FMAF(ah, lo, al * h));
    n = h == 0.0f ? ah * h : n;                    /* alpha * (+-0), as in double */
    return x > 0.0f ? pz : n;                      /* NaN passes through n */
}

FA_INLINE float fa_core32_elu(float x, const fa_params32 *P)
{
    return fa_elu32(x, P->ah, P->al, x);
}

#define FA_SELU_AS_HF 1.7580993175506592f
#define FA_SELU_AS_LF 2.3296717444054593e-08f /* alpha*scale - HF (mpmath) */

/* selu: x > 0 is scale * x rounded once through double (a float hi + lo
 * product would round twice where x * lo underflows, near 2^-126). */
FA_INLINE float fa_core32_selu(float x, const fa_params32 *P)
{
    (void)P;
    float pz = (float)((double)x * FA_SELU_SCALE);
    return fa_elu32(x, FA_SELU_AS_HF, FA_SELU_AS_LF, pz);
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

#define FA_F32_NATIVE_LIST(X) \
    X(sigmoid) X(silu) X(gelu_tanh) X(tanh) X(elu) X(selu) X(relu) X(relu6)

#define FA_F32_VIA_DOUBLE_LIST(X) \
    X(log_sigmoid) X(hard_sigmoid) X(hardtanh) X(tanhshrink) X(softsign) \
    X(leaky_relu) X(celu) X(gelu) X(swish) X(hardswish) X(mish) X(softplus)

#endif /* FA_ACTIVATIONS_F32_H */
