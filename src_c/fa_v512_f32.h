/*
 * fa_v512_f32.h -- float32 activations in float64 AVX-512 lanes.
 * Included only by fa_kern_avx512.c (the other ISAs keep the cores of
 * fa_activations_f32.h / fa_activations.h).
 *
 * Why: the float-lane cores of fa_activations_f32.h keep 1 ULP by carrying
 * double-float (hi + lo) values through exp and every quotient: ~70 vector
 * operations per 16 sigmoids, 0.4x the speed of onnxruntime's clamped
 * rational.  A float32 result only needs its intermediate value to ~2^-28
 * relative before the final rounding (2^-28 is 1/16 of a float ULP), and a
 * double lane gives that with cheap, short approximations: no low parts,
 * no corrected quotients, no cancellation at float precision.  Converting
 * 16 floats to two 8-double vectors and back costs 4 operations.
 *
 * Design points:
 * 1. exp: z = (j/16) ln2 + r, |r| <= ln2/32, e^z = 2^floor(j/16) T[j mod 16] p(r)
 *    with T[i] = 2^(i/16) held in two registers (vpermt2pd takes its index
 *    from the low 4 bits of the shifted j, no extraction), p the degree-4
 *    Taylor polynomial (truncation 0.0217^5/120 = 2^-34.5 relative), 2^floor(j/16)
 *    by vscalefpd, which also gives exact 0 / subnormals below -708.
 *    Callers pass z = -|v| to fa_vexp_neg, which clamps at -700 and zeroes
 *    the lanes below -745.13 (e^z = 0) by mask: -inf would make r = inf -
 *    inf, and an underflowing vscalefpd is a microcode assist.
 * 2. Quotients n/d by rcp14 (2^-14) and one residual step,
 *    q = q0 + (n - q0 d) r0: relative error (2^-14)^2 = 2^-28, 4 operations
 *    instead of a vdivpd (10+ cycles per 8 lanes on Zen 4).
 * 3. log1p(E), E in [0, 1] (softplus, log_sigmoid): j = round(15 E),
 *    C = 15 / (15 + j), f = C (1 + E) - 1 in one fma (|f| <= 1/30, and f = E
 *    exactly for j = 0, so tiny E keep full relative accuracy),
 *    log1p(E) = -log(C) + log1p(f), log1p(f) by degree-6 Taylor (f^6/7 =
 *    2^-32 relative); 16-entry tables through vpermt2pd.
 * 4. The total relative error before the float rounding is below 2^-27
 *    (1/8 ULP), so every result is within 0.5 + 1/8 ULP, subnormal results
 *    included (a double holds them normally; the float conversion rounds
 *    once).  `fastact check --exhaustive` verifies it over all 2^32 inputs.
 * 5. NaN: max/min take the constant first (vmaxpd returns its second
 *    operand when either is NaN), so NaN reaches every later operation and
 *    comes out NaN.  The tail of an array goes through the same code with a
 *    masked load and store, so every position gives the same bits.
 */
#ifndef FA_V512_F32_H
#define FA_V512_F32_H

#include <immintrin.h>
#include <float.h>
#include <stdlib.h>
#include "fa_kernels.h"
#include "fa_activations.h"
#include "fa_activations_f32.h"
#include "fa_derivatives.h"

#define FA_V_INLINE static inline __attribute__((always_inline))

typedef struct {
    double a, b, inva;       /* parameter a, b and 1/a, or 0 where 1/a is not a
                              * normal double (then v / a is divided) */
} fa_vparams;

FA_V_INLINE double fa_vinv(double a)
{
    double r = a != 0.0 ? 1.0 / a : 0.0;
    return fabs(r) >= 0x1p-1022 && fabs(r) < INFINITY ? r : 0.0;
}

/* v / a: v * (1/a) where 1/a is a normal double (2^-53 of a float ULP),
 * else a true quotient (a = 1e-320 has 1/a = inf, where v * inf != v / a) */
FA_V_INLINE __m512d fa_vdiv_a(__m512d v, const fa_vparams *P)
{
    return P->inva != 0.0 ? _mm512_mul_pd(v, _mm512_set1_pd(P->inva))
                          : _mm512_div_pd(v, _mm512_set1_pd(P->a));
}

FA_V_INLINE __m512d fa_vset(double v) { return _mm512_set1_pd(v); }

/* -|x| in one operation */
FA_V_INLINE __m512d fa_vnegabs(__m512d x)
{
    return _mm512_or_pd(x, fa_vset(-0.0));
}

/* 2^(i/16), i = 0..15, rounded (mpmath); shared with fa_v512_f64.h */
static const double fa_vexp2_16[16] = {
    1.0, 1.0442737824274138, 1.0905077326652577, 1.1387886347566916,
    1.189207115002721, 1.241857812073484, 1.2968395546510096, 1.3542555469368927,
    1.4142135623730951, 1.4768261459394993, 1.5422108254079407, 1.6104903319492543,
    1.681792830507429, 1.7562521603732995, 1.8340080864093424, 1.9152065613971474};

/* point 1: the reduced argument r, the table value T = 2^((j mod 16)/16)
 * and the scale exponent kf = j/16 (scalef applies 2^floor(kf)).  The shift
 * 1.5 * 2^48 has ulp 1/16, so t - shift is z/ln2 rounded to a multiple of
 * 1/16 and the low 4 bits of t are j mod 16: the index of vpermt2pd. */
FA_V_INLINE __m512d fa_vexp_reduce(__m512d z, __m512d *r, __m512d *kf)
{
    const __m512d shift = fa_vset(422212465065984.0);     /* 1.5 * 2^48 */
    const __m512d t_lo = _mm512_loadu_pd(fa_vexp2_16), t_hi = _mm512_loadu_pd(fa_vexp2_16 + 8);
    __m512d t = _mm512_fmadd_pd(z, fa_vset(1.4426950408889634), shift);  /* 1/ln2 */
    *kf = _mm512_sub_pd(t, shift);
    /* z - kf ln2 in one rounding; ln2's own rounding error times |kf| <=
     * 1443 is 3e-14, far below the 2^-28 this file works to */
    *r = _mm512_fnmadd_pd(*kf, fa_vset(0.6931471805599453), z);
    return _mm512_permutex2var_pd(t_lo, _mm512_castpd_si512(t), t_hi);
}

static const double fa_vinv_fact[8] = {1.0, 1.0, 0.5, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720,
                                        1.0 / 5040};

/* 2^floor(kf) T p(r), p the degree-n Taylor polynomial (Horner); the lanes
 * outside m are zeroed by the scalef's own mask */
FA_V_INLINE __m512d fa_vexp_nm(__m512d z, int n, __mmask8 m)
{
    __m512d r, kf;
    __m512d T = fa_vexp_reduce(z, &r, &kf);
    __m512d p = fa_vset(fa_vinv_fact[n]);
    for (int k = n - 1; k >= 0; k--) p = _mm512_fmadd_pd(p, r, fa_vset(fa_vinv_fact[k]));
    return _mm512_maskz_scalef_pd(m, _mm512_mul_pd(T, p), kf);
}

FA_V_INLINE __m512d fa_vexp_n(__m512d z, int n) { return fa_vexp_nm(z, n, 0xFF); }

/* e^z, z in [-1000, 0] (any finite z below ~709 works); |r| <= ln2/32, so
 * the degree-4 Taylor polynomial is within r^5/120 = 2^-34.5 */
FA_V_INLINE __m512d fa_vexp(__m512d z) { return fa_vexp_n(z, 4); }

/* e^z for z <= 0 (or NaN; -inf gives 0) without letting vscalefpd
 * underflow: an underflowing vscalefpd takes a microcode assist per
 * instruction on Intel cores (sigmoid of x * 1000, where half the lanes
 * underflow, ran 18x slower than of x; the subnormal band alone, computed
 * exactly, still 5x).  Lanes where e^z rounds to 0 in double (z < -1075
 * ln2) get that 0 from the scalef's zero mask -- the 0 the callers' rules
 * rely on (x sigmoid(x) = -0 at -inf, inf * 0 = NaN); the others are
 * computed from max(z, -700), so the band (-745.13, -700) gets the
 * positive normal e^-700 instead of a (positive) subnormal.  Every float32
 * result it enters as e^z c with |c| < 2^800 then rounds, with the same
 * sign, as for the subnormal (bitwise the -1000 clamp's results on 1.8M
 * inputs of every elementwise function, f, f' and g f'), except g f' for
 * g = +-inf where c e^z would round to 0 in double (elu with alpha < 1
 * near x = -744.5): +-inf, the limit, where the double reference has
 * inf * 0 = NaN (a corner where every ISA's kernels and the reference
 * already differ by a few inputs: see test_where_exp_underflows). */
FA_V_INLINE __m512d fa_vexp_negn(__m512d z, int n)   /* (degree n; z above 0 works too) */
{
    __mmask8 nz = _mm512_cmp_pd_mask(z, fa_vset(-745.1332191019412), _CMP_NLT_UQ);
    return fa_vexp_nm(_mm512_max_pd(fa_vset(-700.0), z), n, nz);
}

FA_V_INLINE __m512d fa_vexp_neg(__m512d z) { return fa_vexp_negn(z, 4); }

/* e^z to ~2^-50 (degree-7 Taylor: r^8/40320 = 2^-59.6; the table value,
 * Horner and the final product add a few 2^-53): where a difference with
 * e^z must be checked at near-double precision (log_softmax's backward) */
FA_V_INLINE __m512d fa_vexp_hi(__m512d z) { return fa_vexp_n(z, 7); }

/* e^z - 1 for z in [-1000, 0]: S (e^r - 1) + (S - 1) with S = 2^k T exact
 * and S - 1 exact (Sterbenz) near 0, so no cancellation; where j = 0 the
 * result is e^r - 1 itself (keeps expm1(-0) = -0). */
FA_V_INLINE __m512d fa_vexpm1(__m512d z)
{
    __m512d r, kf;
    __m512d T = fa_vexp_reduce(z, &r, &kf);
    __m512d q = _mm512_fmadd_pd(fa_vset(1.0 / 120), r, fa_vset(1.0 / 24));
    q = _mm512_fmadd_pd(q, r, fa_vset(1.0 / 6));
    q = _mm512_fmadd_pd(q, r, fa_vset(0.5));
    q = _mm512_fmadd_pd(q, r, fa_vset(1.0));
    q = _mm512_mul_pd(q, r);                 /* e^r - 1, within r^5/720 */
    __m512d S = _mm512_scalef_pd(T, kf);
    __m512d y = _mm512_fmadd_pd(S, q, _mm512_sub_pd(S, fa_vset(1.0)));
    __mmask8 j0 = _mm512_cmp_pd_mask(kf, _mm512_setzero_pd(), _CMP_EQ_OQ);
    return _mm512_mask_mov_pd(y, j0, q);
}

/* point 2: 1/d and n/d for d in [1, 5] (and d = NaN) */
FA_V_INLINE __m512d fa_vrcp(__m512d d)
{
    __m512d r0 = _mm512_rcp14_pd(d);
    return _mm512_fmadd_pd(r0, _mm512_fnmadd_pd(d, r0, fa_vset(1.0)), r0);
}

/* 1/d to ~2^-52: fa_vrcp and one more Newton step */
FA_V_INLINE __m512d fa_vrcp2(__m512d d)
{
    __m512d r = fa_vrcp(d);
    return _mm512_fmadd_pd(r, _mm512_fnmadd_pd(d, r, fa_vset(1.0)), r);
}

FA_V_INLINE __m512d fa_vdiv(__m512d n, __m512d d)
{
    __m512d r0 = _mm512_rcp14_pd(d);
    __m512d q0 = _mm512_mul_pd(n, r0);
    __m512d res = _mm512_fnmadd_pd(q0, d, n);
    return _mm512_fmadd_pd(res, r0, q0);
}

/* point 3's tables (shared with fa_v512_f64.h): C = 15 / (15 + j) rounded,
 * C - 1 (exact), -log(C) for the rounded C (mpmath) */
static const double fa_vl1p_c[16] = {
    1.0, 0.9375, 0.8823529411764706, 0.8333333333333334,
    0.7894736842105263, 0.75, 0.7142857142857143, 0.6818181818181818,
    0.6521739130434783, 0.625, 0.6, 0.5769230769230769,
    0.5555555555555556, 0.5357142857142857, 0.5172413793103449, 0.5};
static const double fa_vl1p_cm1[16] = {
    0.0, -0.0625, -0.11764705882352944, -0.16666666666666663,
    -0.21052631578947367, -0.25, -0.2857142857142857, -0.31818181818181823,
    -0.34782608695652173, -0.375, -0.4, -0.42307692307692313,
    -0.4444444444444444, -0.4642857142857143, -0.48275862068965514, -0.5};
static const double fa_vl1p_l[16] = {
    0.0, 0.06453852113757118, 0.12516314295400605, 0.1823215567939546,
    0.2363887780642304, 0.2876820724517809, 0.3364722366212129, 0.38299225225610584,
    0.4274440148269396, 0.4700036292457356, 0.5108256237659907, 0.5500463369192721,
    0.587786664902119, 0.6241543090729939, 0.6592456288842639, 0.6931471805599453};

/* point 3: log1p(E) for E in [0, 1] */
FA_V_INLINE __m512d fa_vlog1p01(__m512d E)
{
    const __m512d c_lo = _mm512_loadu_pd(fa_vl1p_c), c_hi = _mm512_loadu_pd(fa_vl1p_c + 8);
    const __m512d m_lo = _mm512_loadu_pd(fa_vl1p_cm1), m_hi = _mm512_loadu_pd(fa_vl1p_cm1 + 8);
    const __m512d l_lo = _mm512_loadu_pd(fa_vl1p_l), l_hi = _mm512_loadu_pd(fa_vl1p_l + 8);
    __m512i j = _mm512_castpd_si512(
        _mm512_fmadd_pd(E, fa_vset(15.0), fa_vset(6755399441055744.0)));
    __m512d C = _mm512_permutex2var_pd(c_lo, j, c_hi);
    __m512d Cm1 = _mm512_permutex2var_pd(m_lo, j, m_hi);
    __m512d L = _mm512_permutex2var_pd(l_lo, j, l_hi);
    __m512d f = _mm512_fmadd_pd(E, C, Cm1);
    __m512d p = _mm512_fmadd_pd(fa_vset(-1.0 / 6), f, fa_vset(1.0 / 5));
    p = _mm512_fmadd_pd(p, f, fa_vset(-0.25));
    p = _mm512_fmadd_pd(p, f, fa_vset(1.0 / 3));
    p = _mm512_fmadd_pd(p, f, fa_vset(-0.5));
    p = _mm512_fmadd_pd(p, f, fa_vset(1.0));
    return _mm512_fmadd_pd(p, f, L);
}

/* x sigmoid(v): e = e^-|v|, sigmoid = (v < 0 ? e : 1) / (1 + e); where it
 * is exactly 0 (v < -745) the product is +-0 with x's sign, never inf * 0. */
FA_V_INLINE __m512d fa_vx_sigmoid(__m512d x, __m512d v)
{
    __m512d e = fa_vexp_neg(fa_vnegabs(v));
    __mmask8 neg = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d n = _mm512_mask_mul_pd(x, neg, x, e);         /* x or x e */
    __m512d y = _mm512_mul_pd(n, fa_vrcp(_mm512_add_pd(fa_vset(1.0), e)));
    __mmask8 zero = _mm512_cmp_pd_mask(e, _mm512_setzero_pd(), _CMP_EQ_OQ);
    return _mm512_mask_and_pd(y, zero & neg, x, fa_vset(-0.0));
}

/* ---- the cores: float32 values in double lanes, params in P ---- */

FA_V_INLINE __m512d fa_v8_sigmoid(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d e = fa_vexp_neg(fa_vnegabs(x));
    __mmask8 neg = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d s = fa_vrcp(_mm512_add_pd(fa_vset(1.0), e));
    return _mm512_mask_mul_pd(s, neg, s, e);              /* x < 0: e/(1+e) */
}

FA_V_INLINE __m512d fa_v8_silu(__m512d x, const fa_vparams *P)
{
    (void)P;
    return fa_vx_sigmoid(x, x);
}

FA_V_INLINE __m512d fa_v8_swish(__m512d x, const fa_vparams *P)
{
    return fa_vx_sigmoid(x, _mm512_mul_pd(x, fa_vset(P->a)));
}

/* v = 2 sqrt(2/pi) (x + 0.044715 x^3): no overflow in double for any float
 * x (|x^3| < 4e115), and sigmoid's condition number |v| <= 1000 turns v's
 * 2^-52 rounding into 2^-42. */
FA_V_INLINE __m512d fa_v8_gelu_tanh(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d x2 = _mm512_mul_pd(x, x);
    __m512d v = _mm512_mul_pd(x, _mm512_fmadd_pd(x2, fa_vset(0.07135481627260025),   /* C * 0.044715 */
                                                 fa_vset(1.5957691216057308)));     /* C = 2 sqrt(2/pi) */
    return fa_vx_sigmoid(x, v);
}

/* tanh(|x|) = -E / (2 + E), E = expm1(-2|x|) in (-1, 0]; clamp at -40
 * (tanh rounds to 1 from |x| = 9.01); the sign of x (and of -0) copied
 * back by one ternary-logic operation. */
FA_V_INLINE __m512d fa_v8_tanh(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d z = _mm512_max_pd(fa_vset(-40.0), _mm512_add_pd(fa_vnegabs(x), fa_vnegabs(x)));
    __m512d E = fa_vexpm1(z);
    __m512d q = fa_vdiv(E, _mm512_add_pd(fa_vset(2.0), E));     /* -tanh(|x|) */
    /* (q & ~sign) | (x & sign): imm 0xAC = A ? C : B with A = sign mask */
    return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(
        _mm512_castpd_si512(fa_vset(-0.0)), _mm512_castpd_si512(q), _mm512_castpd_si512(x), 0xAC));
}

/* tanhshrink(x) = x - tanh(x), odd, in double lanes (the double core's
 * float32 split, fa_core_tanhshrink): a = |x| < 0.3 the series a^3 P(a^2)
 * with its first 7 terms (the next is c7 z^7 / c0 < 1e-10 relative at z =
 * 0.09; the double core keeps 10); a >= 0.3
 * a + q with q = E/(2 + E) = -tanh(a), E = expm1(-2a) (clamped at -100:
 * E = -1 exactly from a = 18.7, where tanh rounds to 1 in double).  a + q
 * cancels by up to tanh(a)/(a - tanh(a)) < 34 at a = 0.3, so q must be
 * good to ~2^-34: fa_vexpm1 is (2^-42), fa_vdiv (2^-28) is not, so the
 * quotient is E times fa_vrcp2's reciprocal (~2^-52).  The sign of
 * x copied back (-0 stays -0); NaN passes through the a >= 0.3 lane. */
FA_V_INLINE __m512d fa_v8_tanhshrink(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d a = _mm512_andnot_pd(fa_vset(-0.0), x);
    __m512d z = _mm512_mul_pd(a, a);
    __m512d s = fa_vset(fa_tanhshrink_coef[6]);
    for (int i = 5; i >= 0; i--) s = _mm512_fmadd_pd(s, z, fa_vset(fa_tanhshrink_coef[i]));
    s = _mm512_mul_pd(_mm512_mul_pd(s, z), a);
    __m512d E = fa_vexpm1(_mm512_max_pd(fa_vset(-100.0), _mm512_mul_pd(fa_vset(-2.0), a)));
    __m512d q = _mm512_mul_pd(E, fa_vrcp2(_mm512_add_pd(fa_vset(2.0), E)));
    __m512d big = _mm512_add_pd(a, q);
    s = _mm512_mask_mov_pd(big, _mm512_cmp_pd_mask(a, fa_vset(0.3), _CMP_LT_OQ), s);
    return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(
        _mm512_castpd_si512(fa_vset(-0.0)), _mm512_castpd_si512(s), _mm512_castpd_si512(x), 0xAC));
}

/* alpha expm1(x) for x <= 0 (clamped at -60: expm1 is -1 there), else pz */
FA_V_INLINE __m512d fa_velu(__m512d x, __m512d t, double alpha, __m512d pz)
{
    __m512d z = _mm512_max_pd(fa_vset(-60.0), _mm512_min_pd(_mm512_setzero_pd(), t));
    __m512d n = _mm512_mul_pd(fa_vset(alpha), fa_vexpm1(z));
    __mmask8 pos = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GT_OQ);
    return _mm512_mask_mov_pd(n, pos, pz);
}

FA_V_INLINE __m512d fa_v8_elu(__m512d x, const fa_vparams *P)
{
    return fa_velu(x, x, P->a, x);
}

FA_V_INLINE __m512d fa_v8_celu(__m512d x, const fa_vparams *P)
{
    return fa_velu(x, fa_vdiv_a(x, P), P->a, x);
}

FA_V_INLINE __m512d fa_v8_selu(__m512d x, const fa_vparams *P)
{
    (void)P;
    return fa_velu(x, x, 1.7580993408473768599402175208123,          /* alpha*scale */
                   _mm512_mul_pd(x, fa_vset(1.0507009873554804934193349852946)));
}

/* softplus (a = beta, b = threshold): max(v, 0)/beta + log1p(e^-|v|)/beta
 * with v = beta x, written as (v > 0 ? x : 0) + L / beta; x where v > b. */
FA_V_INLINE __m512d fa_v8_softplus(__m512d x, const fa_vparams *P)
{
    __m512d v = _mm512_mul_pd(x, fa_vset(P->a));
    __m512d L = fa_vlog1p01(fa_vexp_neg(fa_vnegabs(v)));
    __mmask8 pos = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_GT_OQ);
    __m512d base = _mm512_maskz_mov_pd(pos, x);
    __m512d y = _mm512_add_pd(fa_vdiv_a(L, P), base);
    __mmask8 lin = _mm512_cmp_pd_mask(v, fa_vset(P->b), _CMP_GT_OQ);
    return _mm512_mask_mov_pd(y, lin, x);
}

/* log_sigmoid(x) = -(log1p(e^-|x|) - min(x, 0)) (-0 where the log1p term
 * underflows, as the double core) */
FA_V_INLINE __m512d fa_v8_log_sigmoid(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d L = fa_vlog1p01(fa_vexp_neg(fa_vnegabs(x)));
    __m512d m = _mm512_min_pd(_mm512_setzero_pd(), x);
    return _mm512_xor_pd(_mm512_sub_pd(L, m), fa_vset(-0.0));
}

/* mish(x) = x tanh(softplus(x)), E = e^-|x|:
 *   x >= 0: tanh(sp) = (1 + 2E) / (1 + 2E + 2E^2)
 *   x < 0:  tanh(sp) = n / (n + 2), n = E (E + 2)
 * all terms positive (no cancellation), the denominator in [1, 5]. */
FA_V_INLINE __m512d fa_vmish_terms(__m512d x, __m512d *E, __mmask8 *neg, __m512d *add)
{
    *E = fa_vexp_neg(fa_vnegabs(x));
    *neg = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d E2 = _mm512_add_pd(*E, *E);
    __m512d np = _mm512_add_pd(fa_vset(1.0), E2);
    __m512d nn = _mm512_mul_pd(*E, _mm512_add_pd(*E, fa_vset(2.0)));
    /* 2E^2 from E clamped at 2^-500 (x >= 0): E^2 would underflow for x >
     * 354 (a microcode assist per instruction); 2^-999 for it moves no
     * result (1 + 2E + 2^-999 rounds to 1 + 2E, and sech^2 = add (..) /
     * den^2 only enters f' beside T = 1) */
    __m512d Ec = _mm512_max_pd(fa_vset(0x1p-500), *E);      /* (NaN passes) */
    *add = _mm512_mask_mov_pd(_mm512_mul_pd(_mm512_add_pd(Ec, Ec), Ec), *neg, fa_vset(2.0));
    return _mm512_mask_mov_pd(np, *neg, nn);                 /* n; den = n + add */
}

FA_V_INLINE __m512d fa_v8_mish(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d E, add;
    __mmask8 neg;
    __m512d n = fa_vmish_terms(x, &E, &neg, &add);
    __m512d s = fa_vdiv(n, _mm512_add_pd(n, add));
    __mmask8 zero = _mm512_cmp_pd_mask(s, _mm512_setzero_pd(), _CMP_EQ_OQ);
    return _mm512_mask_and_pd(_mm512_mul_pd(x, s), zero, x, fa_vset(-0.0));
}

/* gelu(x) = x erfc(z)/2, z = -x/sqrt2, with the erfc of fa_erfc_lowp
 * (fa_activations.h: the same fits and constants, ~1e-13 relative, both
 * branches evaluated and selected by mask):
 *   |z| <  Z0: 1 - z Q(z^2);   |z| >= Z0: E = e^(-a^2) H(u), 2 - E for z < 0.
 * a is clamped to [Z0, ZMAX] so e^(-a^2) stays in range; z > ZMAX (the
 * result rounds to -0 in float32 from z = 10.15) gives x's signed zero,
 * also for x = -inf, where x * tiny would be -inf. */
/* erfc(z) (see above); 0 for z > ZMAX, exactly as fa_erfc_lowp (gelu'(-inf)
 * = 0, so g * gelu' is NaN for g = inf there, as in the double core) */
FA_V_INLINE __m512d fa_verfc(__m512d z)
{
    __m512d a = _mm512_andnot_pd(fa_vset(-0.0), z);
    __m512d zs = _mm512_min_pd(fa_vset(FA_ERFC_Z0), _mm512_max_pd(fa_vset(-FA_ERFC_Z0), z));
    __m512d at = _mm512_min_pd(fa_vset(FA_ERFC_ZMAX), _mm512_max_pd(fa_vset(FA_ERFC_Z0), a));
    __m512d w = _mm512_mul_pd(zs, zs);
    __m512d q = fa_vset(fa_erf_small_coef[8]);
    for (int i = 7; i >= 0; i--) q = _mm512_fmadd_pd(q, w, fa_vset(fa_erf_small_coef[i]));
    __m512d small = _mm512_fnmadd_pd(zs, q, fa_vset(1.0));
    __m512d u = fa_vdiv(_mm512_fmsub_pd(at, fa_vset(FA_ERFC_ALPHA), fa_vset(FA_ERFC_BETA)),
                        _mm512_add_pd(at, fa_vset(FA_ERFC_K)));
    __m512d h = fa_vset(fa_erfc_tail_coef[14]);
    for (int i = 13; i >= 0; i--) h = _mm512_fmadd_pd(h, u, fa_vset(fa_erfc_tail_coef[i]));
    __m512d e = _mm512_mul_pd(fa_vexp(_mm512_mul_pd(at, _mm512_sub_pd(_mm512_setzero_pd(), at))), h);
    __mmask8 neg = _mm512_cmp_pd_mask(z, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d c = _mm512_mask_sub_pd(e, neg, fa_vset(2.0), e);
    __mmask8 sm = _mm512_cmp_pd_mask(a, fa_vset(FA_ERFC_Z0), _CMP_LT_OQ);
    c = _mm512_mask_mov_pd(c, sm, small);
    __mmask8 big = _mm512_cmp_pd_mask(z, fa_vset(FA_ERFC_ZMAX), _CMP_GT_OQ);
    return _mm512_mask_mov_pd(c, big, _mm512_setzero_pd());
}

FA_V_INLINE __m512d fa_v8_gelu(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d z = _mm512_mul_pd(x, fa_vset(-FA_INV_SQRT2));
    __m512d y = _mm512_mul_pd(_mm512_mul_pd(x, fa_vset(0.5)), fa_verfc(z));
    __mmask8 big = _mm512_cmp_pd_mask(z, fa_vset(FA_ERFC_ZMAX), _CMP_GT_OQ);
    return _mm512_mask_and_pd(y, big, x, fa_vset(-0.0));
}

/* ---- derivatives f'(x) (FA_V512_D_LIST: the ones without interior
 * zeros, where 2^-28 relative per term is 2^-28 relative in the result;
 * silu, gelu, mish, ... cancel near their derivative's zeros and keep the
 * double cores) ---- */

/* e / (1 + e)^2 = sigmoid'(v) with e = e^-|v| (one reciprocal) */
FA_V_INLINE __m512d fa_vdsig(__m512d e)
{
    __m512d r = fa_vrcp(_mm512_add_pd(fa_vset(1.0), e));
    return _mm512_mul_pd(_mm512_mul_pd(e, r), r);
}

FA_V_INLINE __m512d fa_v8d_sigmoid(__m512d x, const fa_vparams *P)
{
    (void)P;
    return fa_vdsig(fa_vexp_neg(fa_vnegabs(x)));
}

/* tanh'(x) = 4 sigmoid'(2x) */
FA_V_INLINE __m512d fa_v8d_tanh(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d z = _mm512_add_pd(fa_vnegabs(x), fa_vnegabs(x));
    return _mm512_mul_pd(fa_vset(4.0), fa_vdsig(fa_vexp_neg(z)));
}

/* sigmoid(v) itself: softplus' (v = beta x) and log_sigmoid' (v = -x) */
FA_V_INLINE __m512d fa_vsig(__m512d v)
{
    __m512d e = fa_vexp_neg(fa_vnegabs(v));
    __mmask8 neg = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d s = fa_vrcp(_mm512_add_pd(fa_vset(1.0), e));
    return _mm512_mask_mul_pd(s, neg, s, e);
}

FA_V_INLINE __m512d fa_v8d_log_sigmoid(__m512d x, const fa_vparams *P)
{
    (void)P;
    return fa_vsig(_mm512_xor_pd(x, fa_vset(-0.0)));
}

FA_V_INLINE __m512d fa_v8d_softplus(__m512d x, const fa_vparams *P)
{
    __m512d v = _mm512_mul_pd(x, fa_vset(P->a));
    __mmask8 lin = _mm512_cmp_pd_mask(v, fa_vset(P->b), _CMP_GT_OQ);
    return _mm512_mask_mov_pd(fa_vsig(v), lin, fa_vset(1.0));
}

/* c e^(t) for x <= 0 (t = x or x/alpha, clamped to [-1000, 0]), else pz */
FA_V_INLINE __m512d fa_vdelu(__m512d x, __m512d t, double c, double pz)
{
    __m512d z = _mm512_min_pd(_mm512_setzero_pd(), t);
    __m512d n = _mm512_mul_pd(fa_vset(c), fa_vexp_neg(z));
    __mmask8 pos = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GT_OQ);
    return _mm512_mask_mov_pd(n, pos, fa_vset(pz));
}

FA_V_INLINE __m512d fa_v8d_elu(__m512d x, const fa_vparams *P)
{
    return fa_vdelu(x, x, P->a, 1.0);
}

FA_V_INLINE __m512d fa_v8d_celu(__m512d x, const fa_vparams *P)
{
    return fa_vdelu(x, fa_vdiv_a(x, P), 1.0, 1.0);
}

FA_V_INLINE __m512d fa_v8d_selu(__m512d x, const fa_vparams *P)
{
    (void)P;
    return fa_vdelu(x, x, 1.7580993408473768599402175208123, 1.0507009873554804934193349852946);
}

/* ---- derivatives that cross zero: silu/swish, gelu, gelu_tanh, mish.
 * Their terms are computed to ~2^-34 (a reciprocal with two Newton steps,
 * fa_vrcp2), and within +-W of the zero x0 of f', where the cancellation
 * of the terms would amplify that beyond 2^6, f' is its Taylor polynomial
 * in t = x - x0 instead.  Windows and coefficients: src_c/gen_deriv_zeros.py
 * (mpmath), in fa_derivatives.h (gelu's also serves the scalar float32
 * core there). ---- */
/* the windows (FA_WZ_*, fa_wz_*): fa_derivatives.h */

/* f where |t| >= W, else t (c[0] + c[1] t + ...): t = ((x - hi) + xl) - lo,
 * x + xl the argument exactly (x - hi exact by Sterbenz).  The branch only
 * skips work: each lane's value is the same either way. */
FA_V_INLINE __m512d fa_vwindow(__m512d x, __m512d xl, __m512d f, double hi, double lo,
                               double w, const double *c, int n)
{
    __m512d t = _mm512_sub_pd(_mm512_add_pd(_mm512_sub_pd(x, fa_vset(hi)), xl), fa_vset(lo));
    __mmask8 in = _mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), t), fa_vset(w), _CMP_LT_OQ);
    if (!in) return f;
    __m512d p = fa_vset(c[n - 1]);
    for (int i = n - 2; i >= 0; i--) p = _mm512_fmadd_pd(p, t, fa_vset(c[i]));
    return _mm512_mask_mul_pd(f, in, p, t);
}

FA_V_INLINE __m512d fa_vclamp(__m512d x, double c)
{
    return _mm512_min_pd(fa_vset(c), _mm512_max_pd(fa_vset(-c), x));
}

/* swish'(x) = h(v), v = beta x = v + vl exactly: h = s + v s (1 - s),
 * s (1 - s) = e r^2 (e = e^-|v|, r = 1/(1 + e)); v clamped in the product
 * so that v = +-inf gives s, not inf * 0 */
FA_V_INLINE __m512d fa_vdswish(__m512d v, __m512d vl)
{
    __m512d e = fa_vexp_neg(fa_vnegabs(v));
    __m512d r = fa_vrcp2(_mm512_add_pd(fa_vset(1.0), e));
    __mmask8 neg = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d s = _mm512_mask_mul_pd(r, neg, r, e);
    __m512d d = _mm512_fmadd_pd(fa_vclamp(v, 1000.0), _mm512_mul_pd(_mm512_mul_pd(e, r), r), s);
    return fa_vwindow(v, vl, d, FA_WZ_SILU_HI, FA_WZ_SILU_LO, FA_WZ_SILU_W, fa_wz_silu, FA_WZ_SILU_N);
}

FA_V_INLINE __m512d fa_v8d_silu(__m512d x, const fa_vparams *P)
{
    (void)P;
    return fa_vdswish(x, _mm512_setzero_pd());
}

FA_V_INLINE __m512d fa_v8d_swish(__m512d x, const fa_vparams *P)
{
    __m512d b = fa_vset(P->a);
    __m512d v = _mm512_mul_pd(b, x);
    __m512d vl = _mm512_fmsub_pd(b, x, v);                  /* exact low part */
    vl = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), v),
                                                fa_vset(1e300), _CMP_LT_OQ), vl);
    return fa_vdswish(v, vl);
}

/* gelu'(x) = Phi(x) + x phi(x), x clamped to +-40 in phi (e^-800 = 0) */
FA_V_INLINE __m512d fa_v8d_gelu(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d Phi = _mm512_mul_pd(fa_vset(0.5), fa_verfc(_mm512_mul_pd(x, fa_vset(-FA_INV_SQRT2))));
    __m512d xc = fa_vclamp(x, 40.0);
    __m512d phi = fa_vexp_neg(_mm512_mul_pd(_mm512_mul_pd(xc, xc), fa_vset(-0.5)));
    __m512d d = _mm512_fmadd_pd(_mm512_mul_pd(xc, fa_vset(0.3989422804014327)), phi, Phi);
    return fa_vwindow(x, _mm512_setzero_pd(), d, FA_WZ_GELU_HI, FA_WZ_GELU_LO, FA_WZ_GELU_W,
                      fa_wz_gelu, FA_WZ_GELU_N);
}

/* gelu_tanh'(x) = s(v) + x v'(x) s (1 - s), v = C x (1 + K x^2),
 * v' = C (1 + 3 K x^2); x clamped to +-30 (|v| > 745 beyond: e = 0) */
FA_V_INLINE __m512d fa_v8d_gelu_tanh(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d xc = fa_vclamp(x, 30.0);
    __m512d x2 = _mm512_mul_pd(xc, xc);
    __m512d v = _mm512_mul_pd(xc, _mm512_fmadd_pd(x2, fa_vset(0.07135481627260025),
                                                  fa_vset(1.5957691216057308)));
    __m512d dv = _mm512_fmadd_pd(x2, fa_vset(3.0 * 0.07135481627260025), fa_vset(1.5957691216057308));
    __m512d e = fa_vexp_neg(fa_vnegabs(v));
    __m512d r = fa_vrcp2(_mm512_add_pd(fa_vset(1.0), e));
    __mmask8 neg = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d s = _mm512_mask_mul_pd(r, neg, r, e);
    __m512d d = _mm512_fmadd_pd(_mm512_mul_pd(xc, dv), _mm512_mul_pd(_mm512_mul_pd(e, r), r), s);
    return fa_vwindow(x, _mm512_setzero_pd(), d, FA_WZ_GELU_TANH_HI, FA_WZ_GELU_TANH_LO,
                      FA_WZ_GELU_TANH_W, fa_wz_gelu_tanh, FA_WZ_GELU_TANH_N);
}

/* mish'(x) = T + x sech^2(sp) sigmoid(x), T = tanh(softplus(x)) = n / den
 * as in fa_v8_mish, sech^2 = (den - n)(den + n) / den^2 with den - n the
 * exact `add` term (no 1 - T^2 cancellation); x clamped in the product */
FA_V_INLINE __m512d fa_v8d_mish(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d E, add;
    __mmask8 neg;
    __m512d n = fa_vmish_terms(x, &E, &neg, &add);
    __m512d den = _mm512_add_pd(n, add);
    __m512d rd = fa_vrcp2(den);
    __m512d T = _mm512_mul_pd(n, rd);
    __m512d sech2 = _mm512_mul_pd(_mm512_mul_pd(add, _mm512_add_pd(den, n)), _mm512_mul_pd(rd, rd));
    __m512d rs = fa_vrcp2(_mm512_add_pd(fa_vset(1.0), E));
    __m512d sg = _mm512_mask_mul_pd(rs, neg, rs, E);
    __m512d d = _mm512_fmadd_pd(_mm512_mul_pd(fa_vclamp(x, 1000.0), sech2), sg, T);
    return fa_vwindow(x, _mm512_setzero_pd(), d, FA_WZ_MISH_HI, FA_WZ_MISH_LO, FA_WZ_MISH_W,
                      fa_wz_mish, FA_WZ_MISH_N);
}

/* ---- f'(x) from the forward output y (FA_FROM_Y_LIST, the formulas of
 * fa_ycore_*: products and exact differences, so double lanes give the
 * double core's value) ---- */
FA_V_INLINE __m512d fa_v8y_sigmoid(__m512d y, const fa_vparams *P)
{
    (void)P;
    return _mm512_mul_pd(y, _mm512_sub_pd(fa_vset(1.0), y));
}

FA_V_INLINE __m512d fa_v8y_tanh(__m512d y, const fa_vparams *P)
{
    (void)P;
    return _mm512_mul_pd(_mm512_sub_pd(fa_vset(1.0), y), _mm512_add_pd(fa_vset(1.0), y));
}

FA_V_INLINE __m512d fa_vyelu(__m512d y, __m512d n, double pz)
{
    __mmask8 pos = _mm512_cmp_pd_mask(y, _mm512_setzero_pd(), _CMP_GT_OQ);
    return _mm512_mask_mov_pd(n, pos, fa_vset(pz));
}

FA_V_INLINE __m512d fa_v8y_elu(__m512d y, const fa_vparams *P)
{
    return fa_vyelu(y, _mm512_add_pd(y, fa_vset(P->a)), 1.0);
}

/* y / a + 1 without a vdivpd (one per 8 lanes cost more than the rest of
 * the loop: 0.8x torch's celu backward): q = y (1/a), the exact remainder
 * y - q a by an fma, then (q + 1) + rem (1/a) rounded once -- within an
 * ulp of double of y / a + 1 (q + 1 is exact for q in [-1, -1/2], where the
 * sum cancels).  An infinite q (y = -inf, or 1/a huge) keeps q + 1, as the
 * quotient would; a without a normal 1/a divides. */
FA_V_INLINE __m512d fa_v8y_celu(__m512d y, const fa_vparams *P)
{
    if (P->inva == 0.0)
        return fa_vyelu(y, _mm512_add_pd(_mm512_div_pd(y, fa_vset(P->a)), fa_vset(1.0)), 1.0);
    const __m512d ia = fa_vset(P->inva);
    __m512d q = _mm512_mul_pd(y, ia);
    __m512d q1 = _mm512_add_pd(q, fa_vset(1.0));
    __m512d rem = _mm512_fnmadd_pd(q, fa_vset(P->a), y);
    __m512d v = _mm512_fmadd_pd(rem, ia, q1);
    v = _mm512_mask_mov_pd(v, _mm512_fpclass_pd_mask(q, 0x18), q1);     /* +-inf */
    return fa_vyelu(y, v, 1.0);
}

FA_V_INLINE __m512d fa_v8y_selu(__m512d y, const fa_vparams *P)
{
    (void)P;
    return fa_vyelu(y, _mm512_add_pd(y, fa_vset(1.7580993408473768599402175208123)),
                    1.0507009873554804934193349852946);
}

/* ---- the derivative of hardswish: double lanes, as the double core:
 * 2x + 3 is exact there, one product by 1/6, one float rounding; results
 * bitwise the double core's (its forward is the float-lane
 * fa_v16_hardswish; hard_sigmoid is all float lanes: fa_v16b_hard_sigmoid) */
/* softsign' 1 / (1 + |x|)^2 without a vdivpd (one per 8 lanes bounded the
 * loop at ~1.3 Gelem/s): the reciprocal of d^2 by fa_vrcp2 (2^-52) and one
 * more residual step, so the double value is within an ulp or two of
 * double of the double core's and the float rounding agrees except within
 * ~2^-26 ULP of a tie.  Every finite float |x| is taken as it is (d^2 <=
 * 1.2e77: a normal double, and g f' is formed in double before its one
 * rounding, so g = 3e38 at x = 2^77 gets its 1.4e-8); infinities, where
 * rcp14 would meet inf * 0, are clamped (constant first: NaN passes) and
 * give +0, as 1/(inf inf) does in the double core (g = inf then gives NaN). */
FA_V_INLINE __m512d fa_v8d_softsign(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d a = _mm512_min_pd(fa_vset(0x1p128), _mm512_andnot_pd(fa_vset(-0.0), x));
    __m512d d = _mm512_add_pd(fa_vset(1.0), a);
    __m512d d2 = _mm512_mul_pd(d, d);
    __m512d r = fa_vrcp2(d2);
    r = _mm512_fmadd_pd(_mm512_fnmadd_pd(r, d2, fa_vset(1.0)), r, r);
    return _mm512_mask_mov_pd(r, _mm512_fpclass_pd_mask(x, 0x18), _mm512_setzero_pd());  /* +-inf */
}

/* NaN in, NaN out for the piecewise-constant derivatives */
FA_V_INLINE __m512d fa_vdnan(__m512d x, __m512d d)
{
    return _mm512_mask_mov_pd(d, _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), x);
}

FA_V_INLINE __m512d fa_v8d_hardswish(__m512d x, const fa_vparams *P)
{
    (void)P;                                       /* 0 below -3, 1 above 3 */
    __m512d d = _mm512_mul_pd(_mm512_fmadd_pd(fa_vset(2.0), x, fa_vset(3.0)), fa_vset(1.0 / 6.0));
    d = _mm512_mask_mov_pd(d, _mm512_cmp_pd_mask(x, fa_vset(-3.0), _CMP_LT_OQ), _mm512_setzero_pd());
    return _mm512_mask_mov_pd(d, _mm512_cmp_pd_mask(x, fa_vset(3.0), _CMP_GT_OQ), fa_vset(1.0));
}

/* ---- relu, relu6, hardtanh, leaky_relu in float lanes (16 per zmm): a
 * selection, or a product by 0 or 1, is exact in any precision, so these
 * are bitwise the double core's results with no conversions (but
 * leaky_relu's x * slope: see fa_v16_slope). ----
 * The thresholds of f' are the parameters rounded to the float they
 * separate: x > a <=> x >= up(a), x < b <=> x <= down(b), the nearest
 * floats strictly above a and below b (a float min_val of -1 is a
 * threshold of -0.99999994 for f').  Parameters beyond fa_params_fit32
 * take the double core. */
typedef struct {
    __m512 a, b, al, up, down;   /* al: a - (float)a, as a float */
    __m512d ad;
    int has_al;
} fa_v16params;

FA_V_INLINE __m512 fa_fset(float v) { return _mm512_set1_ps(v); }

static fa_v16params fa_v16_params(const fa_params *p)
{
    fa_v16params Q;
    float a = (float)p->a, b = (float)p->b;
    const fa_in32 I = fa_in32_make(p->a, p->b);
    Q.a = fa_fset(a);
    Q.b = fa_fset(b);
    Q.ad = _mm512_set1_pd(p->a);
    Q.al = fa_fset((float)(p->a - (double)a));
    Q.has_al = (double)a != p->a;
    Q.up = fa_fset(I.up);
    Q.down = fa_fset(I.down);
    return Q;
}

FA_V_INLINE __m512 fa_v16_fnan(__m512 x, __m512 d)
{
    return _mm512_mask_mov_ps(d, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

/* x > 0, or NaN: x; else +0 (relu(-0) = +0) */
FA_V_INLINE __m512 fa_v16_relu(__m512 x, const fa_v16params *P)
{
    (void)P;
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NLE_UQ), x);
}

FA_V_INLINE __m512 fa_v16_relu6(__m512 x, const fa_v16params *P)
{
    return _mm512_min_ps(fa_fset(6.0f), fa_v16_relu(x, P));
}

/* (x < a ? a : x), then (y > b ? b : y): vmaxps/vminps with the bound
 * first give exactly these, NaN and signed zeros included */
FA_V_INLINE __m512 fa_v16_hardtanh(__m512 x, const fa_v16params *P)
{
    return _mm512_min_ps(P->b, _mm512_max_ps(P->a, x));
}

/* v * slope, rounded once: v ah exactly when the slope is a float (al = 0:
 * the double core's product is exact too); else fma(v, ah, v al), within
 * 2^-24 of v al of the exact product, except where v al would underflow
 * or v is infinite (|v| outside [2^-90, FLT_MAX]): those lanes take the
 * product in double, as the double core (per lane, so a result depends on
 * its input alone, as in fa_leaky_relu_f32c on the other paths) */
FA_V_INLINE __m512 fa_v16_slope(__m512 v, const fa_v16params *P)
{
    if (!P->has_al) return _mm512_mul_ps(v, P->a);
    __m512 av = _mm512_abs_ps(v);
    __mmask16 odd = _mm512_cmp_ps_mask(av, fa_fset(0x1p-90f), _CMP_NGE_UQ) |
                    _mm512_cmp_ps_mask(av, fa_fset(FLT_MAX), _CMP_GT_OQ);
    if (__builtin_expect(odd != 0, 0)) {
        __m512d lo = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), P->ad);
        __m512d hi = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)), P->ad);
        __m512 d = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)),
                                      _mm512_cvtpd_ps(hi), 1);
        return _mm512_mask_mov_ps(_mm512_fmadd_ps(v, P->a, _mm512_mul_ps(v, P->al)), odd, d);
    }
    return _mm512_fmadd_ps(v, P->a, _mm512_mul_ps(v, P->al));
}

FA_V_INLINE __m512 fa_v16_leaky_relu(__m512 x, const fa_v16params *P)
{
    __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_mask_mov_ps(fa_v16_slope(x, P), pos, x);
}

/* hardswish(x) = x (x + 3) / 6 for -3 < x < 3, rounded once: x + 3 =
 * t + tl exactly (Fast2Sum, |x| < 3), x t = ph + pl exactly (fma), and
 * (ph + pl + x tl) (ch + cl) with 1/6 = ch + cl (floats) -- the low terms
 * rounded at 2^-24 of themselves, so within 2^-40 of one rounding;
 * -0 for x <= -3, x from 3 on (where t, tl may be inf or NaN: unused).
 * |x| < 2^-60: x / 2 (x^2/6 is below 2^-61 of it), which keeps -0 and
 * rounds subnormal results once (the low terms would underflow there). */
/* FA_SIXTH_HF, FA_SIXTH_LF: fa_activations_f32.h */
FA_V_INLINE __m512 fa_v16_hardswish(__m512 x, const fa_v16params *P)
{
    (void)P;
    const __m512 three = fa_fset(3.0f);
    __m512 t = _mm512_add_ps(three, x);
    __m512 tl = _mm512_sub_ps(x, _mm512_sub_ps(t, three));
    __m512 ph = _mm512_mul_ps(x, t);
    __m512 lo = _mm512_fmadd_ps(x, tl, _mm512_fmsub_ps(x, t, ph));
    __m512 corr = _mm512_fmadd_ps(lo, fa_fset(FA_SIXTH_HF), _mm512_mul_ps(ph, fa_fset(FA_SIXTH_LF)));
    __m512 y = _mm512_fmadd_ps(ph, fa_fset(FA_SIXTH_HF), corr);
    __mmask16 tiny = _mm512_cmp_ps_mask(_mm512_abs_ps(x), fa_fset(0x1p-60f), _CMP_LT_OQ);
    y = _mm512_mask_mul_ps(y, tiny, x, fa_fset(0.5f));
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, fa_fset(-3.0f), _CMP_LE_OQ), fa_fset(-0.0f));
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, three, _CMP_GE_OQ), x);
}

/* hard_sigmoid(x) = (x + 3)/6 in float lanes, the arithmetic of
 * fa_core32_hard_sigmoid (AVX2, baseline), so bitwise their results: x + 3
 * = t + tl exactly (Fast2Sum), (t + tl)(1/6) with 1/6 = hi + lo, within
 * 2^-40 of one rounding.  x is clamped to [-3, 3] first (the constant
 * first: NaN passes), so Fast2Sum's |x| <= 3 holds in every lane and the
 * ends give (0 + 0) hi = +0 and 6 hi + 6 lo, which rounds to 1 (checked
 * over all 2^32 inputs): the core's 0 and 1 without masks.  8 operations
 * per 16 floats instead of the double lanes' 12 with their conversions. */
FA_V_INLINE __m512 fa_v16_hard_sigmoid(__m512 x, const fa_v16params *P)
{
    (void)P;
    const __m512 three = fa_fset(3.0f);
    __m512 xc = _mm512_min_ps(three, _mm512_max_ps(fa_fset(-3.0f), x));
    __m512 t = _mm512_add_ps(three, xc);
    __m512 tl = _mm512_sub_ps(xc, _mm512_sub_ps(t, three));
    __m512 lo = _mm512_fmadd_ps(tl, fa_fset(FA_SIXTH_HF), _mm512_mul_ps(t, fa_fset(FA_SIXTH_LF)));
    return _mm512_fmadd_ps(t, fa_fset(FA_SIXTH_HF), lo);
}

/* softsign x / (1 + |x|) in float lanes, within 0.5 + 2^-20 ULP (so
 * bitwise the double core's rounded quotient on all but 28 of the 2^32
 * inputs, ties to within ~2^-20 ULP; 0.5 ULP over all of them):
 * a = |x| clamped at 2^60 (constant first, NaN passes; from there the
 * result rounds to 1, and inf / inf would be NaN); s + e = 1 + a
 * exactly (Fast2Sum of max(1, a), min(1, a)); q0 = a r, r = 1/s from
 * rcp14 and one Newton step (~1 float ulp); then q0 + (a - q0 s - q0 e) r,
 * where a - q0 s is exact in one fma (q0 is within a few ulps of a / s)
 * and the correction carries the last bits, rounded once.  The sign of x
 * is copied back (-0 stays -0).  Twice the lanes of the double core and no
 * vdivps. */
FA_V_INLINE __m512 fa_v16_softsign(__m512 x, const fa_v16params *P)
{
    (void)P;
    __m512 a = _mm512_min_ps(fa_fset(0x1p60f), _mm512_abs_ps(x));
    __m512 hi = _mm512_max_ps(fa_fset(1.0f), a), lo = _mm512_min_ps(fa_fset(1.0f), a);
    __m512 sh = _mm512_add_ps(hi, lo);
    __m512 sl = _mm512_sub_ps(lo, _mm512_sub_ps(sh, hi));
    __m512 r = _mm512_rcp14_ps(sh);
    r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(sh, r, fa_fset(1.0f)), r);
    __m512 q = _mm512_mul_ps(a, r);
    __m512 res = _mm512_fnmadd_ps(q, sl, _mm512_fnmadd_ps(q, sh, a));
    q = _mm512_fmadd_ps(res, r, q);
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
        _mm512_castps_si512(fa_fset(-0.0f)), _mm512_castps_si512(q), _mm512_castps_si512(x), 0xAC));
}

/* g f'(x): g where f' = 1, g * 0 (signed zero, NaN for infinite g) where
 * f' = 0, NaN where x is NaN -- the products the double core rounds */
FA_V_INLINE __m512 fa_v16_gsel(__m512 g, __m512 x, __mmask16 one)
{
    __m512 y = _mm512_mask_mov_ps(_mm512_mul_ps(g, _mm512_setzero_ps()), one, g);
    return fa_v16_fnan(x, y);
}

FA_V_INLINE __m512 fa_v16b_relu(__m512 g, __m512 x, const fa_v16params *P)
{
    (void)P;
    return fa_v16_gsel(g, x, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ));
}

FA_V_INLINE __m512 fa_v16b_relu6(__m512 g, __m512 x, const fa_v16params *P)
{
    (void)P;                                       /* 0 at 0 and 6 */
    __mmask16 in = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ),
                                           x, fa_fset(6.0f), _CMP_LT_OQ);
    return fa_v16_gsel(g, x, in);
}

FA_V_INLINE __m512 fa_v16b_hardtanh(__m512 g, __m512 x, const fa_v16params *P)
{
    /* 1 strictly inside (min_val, max_val) */
    __mmask16 in = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(x, P->up, _CMP_GE_OQ), x, P->down,
                                           _CMP_LE_OQ);
    return fa_v16_gsel(g, x, in);
}

FA_V_INLINE __m512 fa_v16b_leaky_relu(__m512 g, __m512 x, const fa_v16params *P)
{
    __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    return fa_v16_fnan(x, _mm512_mask_mov_ps(fa_v16_slope(g, P), pos, g));
}

/* hard_sigmoid: g / 6 strictly inside (-3, 3), g * 0 outside (as
 * fa_v16_gsel), NaN for a NaN x.  g / 6 is fa_v16_slope's product with the
 * slope 1/6 = hi + lo: fma(g, hi, g lo), within 2^-47 of g / 6, and g / 6
 * is never within 1/6 ULP of a rounding tie (g = m 2^e: m / 3 is exact or
 * ends in a third), so this is the correctly rounded quotient, which is
 * the double core's result too; lanes where g lo would be subnormal or
 * meet an infinity take the product in double there. */
FA_V_INLINE __m512 fa_v16b_hard_sigmoid(__m512 g, __m512 x, const fa_v16params *P)
{
    (void)P;
    fa_v16params S;
    S.a = fa_fset(FA_SIXTH_HF);
    S.al = fa_fset(FA_SIXTH_LF);
    S.ad = _mm512_set1_pd(1.0 / 6.0);
    S.has_al = 1;
    __mmask16 in = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(x, fa_fset(-3.0f), _CMP_GT_OQ), x,
                                           fa_fset(3.0f), _CMP_LT_OQ);
    return fa_v16_fnan(x, _mm512_mask_mov_ps(_mm512_mul_ps(g, _mm512_setzero_ps()), in,
                                             fa_v16_slope(g, &S)));
}

/* f' itself: g f' with g = 1 */
#define FA_V16_D(name)                                                        \
    FA_V_INLINE __m512 fa_v16d_##name(__m512 x, const fa_v16params *P)        \
    {                                                                         \
        return fa_v16b_##name(fa_fset(1.0f), x, P);                           \
    }
FA_V16_D(relu) FA_V16_D(relu6) FA_V16_D(hardtanh) FA_V16_D(leaky_relu) FA_V16_D(hard_sigmoid)

/* forward, f' and g f' in float lanes */
#define FA_V512_PW_LIST(X) X(relu) X(relu6) X(hardtanh) X(leaky_relu) X(hard_sigmoid)
/* forward only (f' and g f' of hardswish and softsign are in FA_V512_D_LIST) */
#define FA_V512_PWF_LIST(X) X(hardswish) X(softsign)

/* the 64-float main loop, STORE = _mm512_storeu_ps or _mm512_stream_ps */
#define FA_V16_MAIN(STORE, core, g, x, y, n, P, i)                            \
    for (; i + 64 <= n; i += 64)                                              \
        for (int j = 0; j < 64; j += 16)                                      \
            STORE(y + i + j, core(_mm512_loadu_ps(g + i + j), _mm512_loadu_ps(x + i + j), &P));
/* 64 floats per step, the tail 16 at a time through the same code with
 * masks; return 0 (not handled: the double core runs) for parameters
 * beyond float.  Unary: y = core(x); binary: y = core(g, x). */
#define FA_V16_BINARY(kname, core)                                            \
    static int kname(const float *g, const float *x, float *y, fa_index n,    \
                     const fa_params *p)                                      \
    {                                                                         \
        if (!fa_params_fit32(p)) return 0;                                    \
        const fa_v16params P = fa_v16_params(p);                              \
        fa_index i = 0;                                                       \
        FA_V16_MAIN(_mm512_storeu_ps, core, g, x, y, n, P, i)                 \
        for (; i < n; i += 16) {                                              \
            __mmask16 m = (__mmask16)(n - i >= 16 ? 0xFFFFu : (1u << (n - i)) - 1u); \
            _mm512_mask_storeu_ps(y + i, m, core(_mm512_maskz_loadu_ps(m, g + i), \
                                                 _mm512_maskz_loadu_ps(m, x + i), &P)); \
        }                                                                     \
        return 1;                                                             \
    }

/* unary: the binary loop with g = x (the duplicate loads fold away).
 * kname##_nt: the same values with streaming stores (y 64-byte aligned,
 * no sfence: the caller's), for outputs far beyond the caches (FA_GEN_NT
 * in fa_kernels_impl.h: no L1 block buffer in between, so the kernel runs
 * at the non-temporal copy's speed). */
#define FA_V16_UNARY(kname, core)                                             \
    FA_V_INLINE __m512 kname##_gx(__m512 g, __m512 x, const fa_v16params *P)  \
    {                                                                         \
        (void)g;                                                              \
        return core(x, P);                                                    \
    }                                                                         \
    FA_V16_BINARY(kname##_b, kname##_gx)                                      \
    static int kname(const float *x, float *y, fa_index n, const fa_params *p) \
    {                                                                         \
        return kname##_b(x, x, y, n, p);                                      \
    }                                                                         \
    static int kname##_nt(const float *x, float *y, fa_index n, const fa_params *p) \
    {                                                                         \
        if (!fa_params_fit32(p)) return 0;                                    \
        const fa_v16params P = fa_v16_params(p);                              \
        fa_index i = 0;                                                       \
        FA_V16_MAIN(_mm512_stream_ps, kname##_gx, x, x, y, n, P, i)           \
        return i >= n || kname(x + i, y + i, n - i, p);                       \
    }

#define FA_V16_GEN(name)                                                      \
    FA_V16_UNARY(fa_v512_##name##_f32, fa_v16_##name)                         \
    FA_V16_UNARY(fa_v512_d_##name##_f32, fa_v16d_##name)                      \
    FA_V16_BINARY(fa_v512_b_##name##_f32, fa_v16b_##name)
FA_V512_PW_LIST(FA_V16_GEN)
#define FA_V16_GEN_F(name) FA_V16_UNARY(fa_v512_##name##_f32, fa_v16_##name)
FA_V512_PWF_LIST(FA_V16_GEN_F)

/* ---- g f'(x) from the forward output y in float lanes: sigmoid, tanh ----
 * f'(y) is formed as an exact pair of floats P + c and g f' = fma(g, P, g c)
 * rounded once: the exact value plus g c's rounding (2^-24 of g c, and
 * |c| <= 2^-13.5 |P|: tanh's c = -pe is k^2 2^-48 for P = k 2^-23 near
 * |y| = 1), so within 0.5 + 2^-13 ULP: correctly rounded but near ties
 * (all 2^32 y, two g patterns: 0.500008 tanh, 0.5000003 sigmoid; where it
 * and the double lanes, which round y f' and then g y f', differ, it is
 * the closer in 48095 of the 48111 cases examined) -- at 16 lanes per
 * operation and no conversions (four per 16 floats held the double-lane
 * kernels to 0.6x / 0.9x torch's tanh / sigmoid backward at 256K on
 * Zen 4).  With y^2 = p + pe exactly
 * (p = y y, pe = fma(y, y, -p)):
 *   sigmoid  y - y^2:  P = y - p, and y - p = P + (y - P) - p exactly
 *            (Fast2Sum: |y| >= p for |y| <= 1); c = ((y - P) - p) - pe.
 *   tanh     1 - y^2:  P = 1 - p, c = ((1 - P) - p) - pe (Fast2Sum, p <= 1).
 * c's own rounding is 2^-24 of a term below 2^-13 of P.  The pair is exact
 * for |y| <= 1 (pe loses bits only below y^2 ~ 2^-126, i.e. 2^-75 or less
 * of f'); g c loses bits where it falls below 2^-126, i.e. where |r| is
 * below ~2^-103.  So lanes with |y| > 1 (NaN included), |r| < 2^-106
 * (not 0), or r not finite (g infinite or NaN; overflow) take the
 * double-lane formula (fa_v8y_*) instead, lane by lane: a result depends
 * on its own g and y only, whatever the block or thread split.  Blocks of
 * 64 floats screen for such lanes with two running extrema (vrangeps: the
 * least |r| with 0 mapped to 1 and NaN/inf to 0 by vfixupimmps, and the
 * largest |y|), and only a block that trips them is checked lane by lane.
 * Exact rational check over all 2^32 y (two g patterns):
 * tests/test_backward.py::test_float32_backward_from_y_rounded_once holds
 * a sample of it. */
/* vrangeps returns the other operand where one is NaN, so the screen maps
 * r first (vfixupimmps, one nibble per class: QNaN, SNaN -> +0, zero -> +1,
 * +-inf -> +0, +1 and other values -> r) and a NaN or infinite r shows as
 * a least |r| of 0; a NaN y makes r NaN */
#define FA_V16Y_SCREEN(r) _mm512_fixupimm_ps((r), (r), _mm512_set1_epi32(0x11881A88), 0)
#define FA_V16Y_BAD(r, y)                                                     \
    (_mm512_cmp_ps_mask(_mm512_abs_ps(y), fa_fset(1.0f), _CMP_NLE_UQ) |      \
     (_mm512_fpclass_ps_mask(_mm512_mul_ps((r), fa_fset(0x1p-20f)), 0xBF) &   \
      ~_mm512_fpclass_ps_mask((r), 0x06)))   /* r 2^-20 NaN, inf, 0 or subnormal; r not 0 */
/* r with the sign of g P: r = g (P + c) rounded has that sign anyway
 * where it is not 0 (|c| < 2^-23 |P|), and a zero result must have it
 * too (g = -0 and c < 0 would sum -0 and +0 to +0) */
FA_V_INLINE __m512 fa_v16y_sign0(__m512 r, __m512 g, __m512 P)
{
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
        _mm512_castps_si512(r), _mm512_castps_si512(_mm512_xor_ps(g, P)),
        _mm512_castps_si512(fa_fset(-0.0f)), 0xD8));            /* sign ? g ^ P : r */
}

FA_V_INLINE __m512 fa_v16y_sigmoid(__m512 g, __m512 y)
{
    __m512 p = _mm512_mul_ps(y, y);
    __m512 pe = _mm512_fmsub_ps(y, y, p);
    __m512 P = _mm512_sub_ps(y, p);
    __m512 c = _mm512_sub_ps(_mm512_sub_ps(_mm512_sub_ps(y, P), p), pe);
    return fa_v16y_sign0(_mm512_fmadd_ps(g, P, _mm512_mul_ps(g, c)), g, P);
}

FA_V_INLINE __m512 fa_v16y_tanh(__m512 g, __m512 y)
{
    const __m512 one = fa_fset(1.0f);
    __m512 p = _mm512_mul_ps(y, y);
    __m512 pe = _mm512_fmsub_ps(y, y, p);
    __m512 P = _mm512_sub_ps(one, p);
    __m512 c = _mm512_sub_ps(_mm512_sub_ps(_mm512_sub_ps(one, P), p), pe);
    return fa_v16y_sign0(_mm512_fmadd_ps(g, P, _mm512_mul_ps(g, c)), g, P);
}

/* the lanes of r flagged in bad, redone as g * fa_v8y_<name>(y) in double
 * lanes and rounded once */
#define FA_V16Y_FIX(name, r, g, y, bad, P)                                    \
    do {                                                                      \
        __m512d lo_ = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(g)), \
                                    fa_v8y_##name(_mm512_cvtps_pd(_mm512_castps512_ps256(y)), P)); \
        __m512d hi_ = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps((g), 1)), \
                                    fa_v8y_##name(_mm512_cvtps_pd(_mm512_extractf32x8_ps((y), 1)), P)); \
        __m512 d_ = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo_)), \
                                       _mm512_cvtpd_ps(hi_), 1);             \
        (r) = _mm512_mask_mov_ps((r), (bad), d_);                            \
    } while (0)

#define FA_V16Y_GEN(name)                                                     \
    static void fa_v512_by16_##name##_f32(const float *g, const float *yf, float *o, \
                                          fa_index n, const fa_params *p)     \
    {                                                                         \
        const fa_vparams P = FA_VPARAMS(p);                                   \
        fa_index i = 0;                                                       \
        for (; i + 64 <= n; i += 64) {                                        \
            __m512 gv[4], yv[4], r[4];                                        \
            __m512 mnr = fa_fset(1.0f), mxy = _mm512_setzero_ps();            \
            for (int j = 0; j < 4; j++) {                                     \
                gv[j] = _mm512_loadu_ps(g + i + 16 * j);                      \
                yv[j] = _mm512_loadu_ps(yf + i + 16 * j);                     \
                r[j] = fa_v16y_##name(gv[j], yv[j]);                          \
                mnr = _mm512_range_ps(mnr, FA_V16Y_SCREEN(r[j]), 0x0A);       \
                mxy = _mm512_range_ps(mxy, yv[j], 0x0B);                      \
            }                                                                 \
            if (__builtin_expect((_mm512_cmp_ps_mask(mnr, fa_fset(0x1p-106f), _CMP_LT_OQ) | \
                                  _mm512_cmp_ps_mask(mxy, fa_fset(1.0f), _CMP_GT_OQ)) != 0, 0)) \
                for (int j = 0; j < 4; j++) {                                 \
                    __mmask16 bad = FA_V16Y_BAD(r[j], yv[j]);                 \
                    if (bad) FA_V16Y_FIX(name, r[j], gv[j], yv[j], bad, &P);  \
                }                                                             \
            for (int j = 0; j < 4; j++) _mm512_storeu_ps(o + i + 16 * j, r[j]); \
        }                                                                     \
        for (; i < n; i += 16) {                                              \
            __mmask16 m = (__mmask16)(n - i >= 16 ? 0xFFFFu : (1u << (n - i)) - 1u), bad; \
            __m512 gv = _mm512_maskz_loadu_ps(m, g + i), yv = _mm512_maskz_loadu_ps(m, yf + i); \
            __m512 r = fa_v16y_##name(gv, yv);                                \
            bad = FA_V16Y_BAD(r, yv);                                         \
            if (bad) FA_V16Y_FIX(name, r, gv, yv, bad, &P);                   \
            _mm512_mask_storeu_ps(o + i, m, r);                               \
        }                                                                     \
    }
#define FA_V512_Y16_LIST(X) X(sigmoid) X(tanh)

/* the float32 kernels: 16 floats per step as two 8-double halves; the tail
 * through the same code with masked loads and stores */
#define FA_V512_F32_LIST(X) \
    X(sigmoid) X(silu) X(swish) X(gelu_tanh) X(tanh) X(elu) X(celu) X(selu) \
    X(softplus) X(log_sigmoid) X(mish) X(gelu) X(tanhshrink)

#define FA_V512_D_LIST(X) \
    X(sigmoid) X(log_sigmoid) X(tanh) X(softplus) X(elu) X(celu) X(selu) \
    X(silu) X(swish) X(gelu) X(gelu_tanh) X(mish) X(hardswish) X(softsign)

#define FA_VPARAMS(p) {(p)->a, (p)->b, fa_vinv((p)->a)}
#define FA_VLOAD(m, s) _mm512_cvtps_pd(_mm256_maskz_loadu_ps((m), (s)))

/* y = core(x) (unary) or y = g * core(x) (binary, the product in double,
 * rounded once), 16 floats per step, the tail 8 at a time with masks */
#define FA_V512_UNARY(kname, core)                                            \
    static void kname(const float *x, float *y, fa_index n, const fa_params *p) \
    {                                                                         \
        const fa_vparams P = FA_VPARAMS(p);                                   \
        fa_index i = 0;                                                       \
        for (; i + 32 <= n; i += 32) {                                        \
            __m512d a0 = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));             \
            __m512d a1 = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8));         \
            __m512d a2 = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 16));        \
            __m512d a3 = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 24));        \
            _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(core(a0, &P)));           \
            _mm256_storeu_ps(y + i + 8, _mm512_cvtpd_ps(core(a1, &P)));       \
            _mm256_storeu_ps(y + i + 16, _mm512_cvtpd_ps(core(a2, &P)));      \
            _mm256_storeu_ps(y + i + 24, _mm512_cvtpd_ps(core(a3, &P)));      \
        }                                                                     \
        for (; i < n; i += 8) {                                               \
            fa_index k = n - i < 8 ? n - i : 8;                               \
            __mmask8 m = (__mmask8)((1u << k) - 1u);                          \
            _mm256_mask_storeu_ps(y + i, m, _mm512_cvtpd_ps(core(FA_VLOAD(m, x + i), &P))); \
        }                                                                     \
    }
#define FA_V512_BINARY(kname, core)                                           \
    static void kname(const float *g, const float *x, float *y, fa_index n,   \
                      const fa_params *p)                                     \
    {                                                                         \
        const fa_vparams P = FA_VPARAMS(p);                                   \
        fa_index i = 0;                                                       \
        for (; i + 16 <= n; i += 16) {                                        \
            __m512d lo = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));             \
            __m512d hi = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8));         \
            __m512d glo = _mm512_cvtps_pd(_mm256_loadu_ps(g + i));            \
            __m512d ghi = _mm512_cvtps_pd(_mm256_loadu_ps(g + i + 8));        \
            _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(_mm512_mul_pd(glo, core(lo, &P)))); \
            _mm256_storeu_ps(y + i + 8, _mm512_cvtpd_ps(_mm512_mul_pd(ghi, core(hi, &P)))); \
        }                                                                     \
        for (; i < n; i += 8) {                                               \
            fa_index k = n - i < 8 ? n - i : 8;                               \
            __mmask8 m = (__mmask8)((1u << k) - 1u);                          \
            __m512d v = _mm512_mul_pd(FA_VLOAD(m, g + i), core(FA_VLOAD(m, x + i), &P)); \
            _mm256_mask_storeu_ps(y + i, m, _mm512_cvtpd_ps(v));              \
        }                                                                     \
    }

#define FA_V512_GEN(name) FA_V512_UNARY(fa_v512_##name##_f32, fa_v8_##name)
#define FA_V512_GEN_D(name)                                                   \
    FA_V512_UNARY(fa_v512_d_##name##_f32, fa_v8d_##name)                      \
    FA_V512_BINARY(fa_v512_b_##name##_f32, fa_v8d_##name)
#define FA_V512_GEN_Y(name) FA_V512_BINARY(fa_v512_by_##name##_f32, fa_v8y_##name)

FA_V512_D_LIST(FA_V512_GEN_D)
/* from y: double lanes for all of FA_FROM_Y_LIST, float lanes for
 * FA_V512_Y16_LIST (tried first by fa_v512_y_try) */
FA_FROM_Y_LIST(FA_V512_GEN_Y)
FA_V512_Y16_LIST(FA_V16Y_GEN)
FA_V512_F32_LIST(FA_V512_GEN)
/* Streaming stores straight from the kernel pay only where the kernel is
 * cheap (the float-lane piecewise kernels: FA_V16_UNARY's _nt): an
 * exp-based one spaces its stores ~20 ns apart, and the write-combining
 * buffers then leave as partial lines (float32 sigmoid at 64M, 2 threads:
 * 2.79 Gelem/s through FA_GEN_NT's L1 block, 1.03 streaming directly), so
 * these kernels go through the block buffer. */

#endif /* FA_V512_F32_H */
