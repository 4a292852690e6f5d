/*
 * fa_v512_f64.h -- float64 activations in AVX-512 registers, hand-written.
 * Included only by fa_kern_avx512.c, after fa_v512_f32.h (whose helpers it
 * shares); the other ISAs keep the auto-vectorised double cores of
 * fa_activations.h.
 *
 * Why: the double cores are written for the compiler's vectoriser (every
 * element goes through the scalar exp with a 2^k built from integer bits,
 * branchless double-double corrections); GCC turns them into ~0.5 Gelem/s
 * kernels, a third of PyTorch's Sleef-based float64 sigmoid/silu.  Here the
 * same accuracy comes from a table exp whose result is carried as hi + lo,
 * and quotients corrected once, ~40 vector operations per 8 elements.
 *
 * Design points:
 * 1. exp: z = (j/16) ln2 + r, |r| <= ln2/32 (+ a hair), with the table
 *    value 2^((j mod 16)/16) held as hi + lo (4 registers, vpermt2pd, the
 *    index straight from the shifted argument as in fa_v512_f32.h).  The
 *    reduction is exact up to one rounding of r (ln2 split as LN2_HI with 21
 *    significant bits, so kf LN2_HI is exact for |kf| < 2^11, plus LN2_LO);
 *    e^r - 1 = r + r^2 Q(r), Q the Taylor polynomial to r^5/5040 (truncation
 *    r^8/8! = 2^-59.5 relative to e^z; expm1, whose result can be 40x
 *    smaller, takes one more term: r^9/9! = 2^-68).  e^z = 2^floor(kf) (Uh + Ul) with Uh + Ul =
 *    T_hi + (T_hi (e^r - 1) + T_lo) normalised by Fast2Sum: relative error
 *    ~2^-57 (16x below half an ULP).  The 2^k is applied by vscalefpd as
 *    late as possible, so products are formed before a subnormal rounding.
 * 2. Quotients n/d: q0 = n_hi/d_hi by vdivpd (correctly rounded), then the
 *    residual n - q0 d (exact with an fma, plus the low parts) times
 *    rcp14(d): the correction is ~2^-53 q0, so 14 bits of 1/d make it good
 *    to 2^-67.  Results are q0 + corr rounded once: ~0.5 ULP + 2^-56.
 * 3. Special values as in the double cores (the test suite runs both paths
 *    against the same reference): NaN through every max/min (constant first
 *    operand), +-inf to the limits, the sign of zero kept by odd functions.
 *    The tail of an array goes through the same code with masked loads and
 *    stores, so every position gives the same bits.
 */
#ifndef FA_V512_F64_H
#define FA_V512_F64_H

#include "fa_v512_f32.h"

/* point 1: e^(zh + zl), zh in [-800, 0] (callers clamp), |zl| <= 2^-50 |zh|,
 * in parts: returns T_hi, sets *tl = T_lo, *p = e^r - 1 and *kf, with
 * e^z = 2^floor(kf) (T_hi + T_hi p + T_lo); with w non-NULL also
 * *w = e^r - 1 - r and r as *rh + *rl (the reduction's rounding kept; only
 * without zl) for the double-double users (fa_wexp_terms) */
FA_V_INLINE __m512d fa_wexp_parts(__m512d zh, __m512d zl, __m512d *p, __m512d *tl, __m512d *kf,
                                  __m512d *w, __m512d *rh, __m512d *rl, int deg8, int has_zl)
{
    const __m512d th_lo = _mm512_loadu_pd(fa_vexp2_16), th_hi = _mm512_loadu_pd(fa_vexp2_16 + 8);
    const __m512d tl_lo = _mm512_setr_pd(        /* 2^(i/16) - fa_vexp2_16[i], mpmath */
        0.0, 8.551889705537965e-17, -3.046782079812471e-17, 8.912812676025408e-17,
        3.982015231465646e-17, 4.658027591836937e-17, 2.5382502794888315e-17,
        7.70094837980299e-17);
    const __m512d tl_hi = _mm512_setr_pd(
        -9.667293313452913e-17, -3.483994556892796e-17, 7.949834809697621e-17,
        2.4707192569797888e-17, 8.199010020581497e-17, 2.960140695448873e-17,
        3.283107224245627e-17, -1.0619946056195963e-16);
    const __m512d shift = fa_vset(422212465065984.0);     /* 1.5 * 2^48: ulp 1/16 */
    __m512d t = _mm512_fmadd_pd(zh, fa_vset(FA_INV_LN2), shift);
    *kf = _mm512_sub_pd(t, shift);
    __m512i j = _mm512_castpd_si512(t);
    __m512d r1 = _mm512_fnmadd_pd(*kf, fa_vset(FA_LN2_HI), zh);    /* exact */
    __m512d r = _mm512_fnmadd_pd(*kf, fa_vset(FA_LN2_LO), r1);
    if (w) {
        *rh = r;
        *rl = _mm512_fnmadd_pd(*kf, fa_vset(FA_LN2_LO), _mm512_sub_pd(r1, r));
    }
    if (has_zl) r = _mm512_add_pd(r, zl);
    __m512d q = deg8 ? _mm512_fmadd_pd(_mm512_fmadd_pd(fa_vset(1.0 / 40320), r, fa_vset(1.0 / 5040)),
                                       r, fa_vset(1.0 / 720))
                     : _mm512_fmadd_pd(fa_vset(1.0 / 5040), r, fa_vset(1.0 / 720));
    q = _mm512_fmadd_pd(q, r, fa_vset(1.0 / 120));
    q = _mm512_fmadd_pd(q, r, fa_vset(1.0 / 24));
    q = _mm512_fmadd_pd(q, r, fa_vset(1.0 / 6));
    q = _mm512_fmadd_pd(q, r, fa_vset(0.5));
    __m512d r2 = _mm512_mul_pd(r, r);
    *p = _mm512_fmadd_pd(r2, q, r);                                 /* e^r - 1 */
    if (w) *w = _mm512_mul_pd(r2, q);                                /* e^r - 1 - r */
    *tl = _mm512_permutex2var_pd(tl_lo, j, tl_hi);
    return _mm512_permutex2var_pd(th_lo, j, th_hi);
}

/* e^z = 2^floor(kf) (Uh + Ul), returns Uh */
FA_V_INLINE __m512d fa_wexp(__m512d zh, __m512d zl, __m512d *ul, __m512d *kf, int has_zl)
{
    __m512d p, tl;
    __m512d Th = fa_wexp_parts(zh, zl, &p, &tl, kf, NULL, NULL, NULL, 0, has_zl);
    __m512d u = _mm512_fmadd_pd(Th, p, tl);                          /* |u| < 0.023 Th */
    __m512d Uh = _mm512_add_pd(Th, u);
    *ul = _mm512_add_pd(_mm512_sub_pd(Th, Uh), u);
    return Uh;
}

/* e^-|v| for v = vh (+ zl, the low part already signed as -sign(v) vl),
 * unscaled (U = uh + ul, kf) and scaled (E = eh + el = 2^floor(kf) U);
 * |v| clamped at 800 (NaN passes) */
typedef struct {
    __m512d uh, ul, eh, el, kf;
    __mmask8 near;             /* the lanes computed (fa_wexp_neg_far; else all) */
} fa_wexpneg;

FA_V_INLINE fa_wexpneg fa_wexp_neg(__m512d vh, __m512d zl, int has_zl)
{
    fa_wexpneg r;
    r.uh = fa_wexp(_mm512_max_pd(fa_vset(-800.0), fa_vnegabs(vh)), zl, &r.ul, &r.kf, has_zl);
    r.eh = _mm512_scalef_pd(r.uh, r.kf);
    r.el = _mm512_scalef_pd(r.ul, r.kf);
    r.near = 0xFF;
    return r;
}

/* fa_wexp_neg for callers that never use a lane with |v| > lim (lim >=
 * 745.14, where E = e^-|v| rounds to 0) beyond its E = 0: those lanes are
 * computed from |v| = 700 and get eh = el = 0 from the scalef's zero mask,
 * so no vscalefpd underflows there (a microcode assist per instruction on
 * Intel cores: sigmoid of x * 1000 ran 20x slower than of x).  eh, el are
 * bitwise fa_wexp_neg's on every lane; uh, ul, kf differ on the far lanes,
 * which the caller must mask (fa_wx_sigmoid: lim = 800, its -800 mask). */
FA_V_INLINE fa_wexpneg fa_wexp_neg_far(__m512d vh, __m512d zl, int has_zl, double lim)
{
    fa_wexpneg r;
    __m512d z = fa_vnegabs(vh);
    r.near = _mm512_cmp_pd_mask(z, fa_vset(-lim), _CMP_NLT_UQ);   /* NaN stays near */
    z = _mm512_mask_mov_pd(fa_vset(-700.0), r.near, z);
    if (has_zl) zl = _mm512_maskz_mov_pd(r.near, zl);
    r.uh = fa_wexp(z, zl, &r.ul, &r.kf, has_zl);
    r.eh = _mm512_maskz_scalef_pd(r.near, r.uh, r.kf);
    r.el = _mm512_maskz_scalef_pd(r.near, r.ul, r.kf);
    return r;
}

/* 1 + E (E in [0, 1]) as hi + *lo, by Fast2Sum */
FA_V_INLINE __m512d fa_w1p(__m512d eh, __m512d el, __m512d *lo)
{
    __m512d one = fa_vset(1.0);
    __m512d sh = _mm512_add_pd(one, eh);
    *lo = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(one, sh), eh), el);
    return sh;
}

/* point 2: (nh + nl) / (dh + dl) = q0 + *corr, dh >= 1/2 normal */
FA_V_INLINE __m512d fa_wdiv(__m512d nh, __m512d nl, __m512d dh, __m512d dl, __m512d *corr)
{
    __m512d q0 = _mm512_div_pd(nh, dh);
    __m512d rr = _mm512_add_pd(_mm512_fnmadd_pd(q0, dh, nh), nl);   /* nh - q0 dh exact */
    rr = _mm512_fnmadd_pd(q0, dl, rr);
    *corr = _mm512_mul_pd(rr, _mm512_rcp14_pd(dh));
    return q0;
}

/* sigmoid(v), v = vh + vl (vl = 0 unless has_lo): e = e^-|v| = 2^k U,
 * sigmoid = (v < 0 ? e : 1) / (1 + e).  Returns q0, sets *corr:
 * sigmoid = (q0 + corr) 2^kn.  With `scaled`, the numerator is e itself and
 * kn = 0: right for sigmoid, whose subnormal results are e rounded once
 * (1 + e = 1 there).  Without it the numerator is U and kn = k for v < 0,
 * so that a caller's product (silu: x sigmoid) is formed before a subnormal
 * rounding. */
FA_V_INLINE __m512d fa_wsig(__m512d vh, __m512d vl, int has_lo, __mmask8 neg, __m512d *corr,
                            __m512d *kn, int scaled)
{
    __m512d zl = has_lo ? _mm512_mask_sub_pd(vl, ~neg, _mm512_setzero_pd(), vl)  /* -sign(v) vl */
                        : vl;
    /* scaled: only eh, el are used (bitwise for any lim >= 745.14); not
     * scaled: the far lanes are those fa_wx_sigmoid masks (v < -800) or
     * positive ones, which use eh = el = 0 only */
    fa_wexpneg e = fa_wexp_neg_far(vh, zl, has_lo, scaled ? 745.14 : 800.0);
    __m512d sl, sh = fa_w1p(e.eh, e.el, &sl);
    __m512d one = fa_vset(1.0);
    __m512d nh = _mm512_mask_mov_pd(one, neg, scaled ? e.eh : e.uh);
    __m512d nl = _mm512_maskz_mov_pd(neg, scaled ? e.el : e.ul);
    *kn = scaled ? _mm512_setzero_pd() : _mm512_maskz_mov_pd(neg, e.kf);
    return fa_wdiv(nh, nl, sh, sl, corr);
}

FA_V_INLINE __m512d fa_w8_sigmoid(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d corr, kn;
    __mmask8 neg = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d q0 = fa_wsig(x, _mm512_setzero_pd(), 0, neg, &corr, &kn, 1);
    return _mm512_add_pd(q0, corr);
}

/* x (q0 + corr) in one rounding, fma(x, q0, x corr), where x corr is +-0
 * with x's sign if corr = 0 (-0 + -0 stays -0; x = inf: never inf * 0) */
FA_V_INLINE __m512d fa_wxmul(__m512d x, __m512d q0, __m512d corr)
{
    __mmask8 cz = _mm512_cmp_pd_mask(corr, _mm512_setzero_pd(), _CMP_NEQ_UQ);
    __m512d xz = _mm512_and_pd(x, fa_vset(-0.0));
    return _mm512_fmadd_pd(x, q0, _mm512_mask_mul_pd(xz, cz, x, corr));
}

/* x sigmoid(v), v = vh + vl; where v < -800 (sigmoid below 2^-1150) the
 * result is +-0 with x's sign, never inf * 0.  big_x: |x| may exceed ~1e308
 * while v >= -800 (swish with a tiny beta), so the scaling goes in two steps
 * (2^max(k, -600) before the product, keeping it normal, the rest after). */
FA_V_INLINE __m512d fa_wx_sigmoid(__m512d x, __m512d vh, __m512d vl, int has_lo, int big_x)
{
    __m512d corr, kn;
    __mmask8 neg = _mm512_cmp_pd_mask(vh, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d q0 = fa_wsig(vh, vl, has_lo, neg, &corr, &kn, 0);
    __m512d y;
    if (big_x) {
        __m512d k1 = _mm512_max_pd(fa_vset(-600.0), kn);
        y = fa_wxmul(x, _mm512_scalef_pd(q0, k1), _mm512_scalef_pd(corr, k1));
        y = _mm512_scalef_pd(y, _mm512_sub_pd(kn, k1));
    } else {
        y = _mm512_scalef_pd(fa_wxmul(x, q0, corr), kn);
    }
    __mmask8 zero = _mm512_cmp_pd_mask(vh, fa_vset(-800.0), _CMP_LT_OQ);
    return _mm512_mask_and_pd(y, zero, x, fa_vset(-0.0));
}

FA_V_INLINE __m512d fa_w8_silu(__m512d x, const fa_vparams *P)
{
    (void)P;
    return fa_wx_sigmoid(x, x, _mm512_setzero_pd(), 0, 0);
}

/* v = beta x carried as hi + lo: sigmoid's condition number is |v| in the
 * left tail, so the product's rounding must enter exp (as in fa_core_swish);
 * lo = 0 where |v| >= 1000: there exp's argument is clamped and lo (up to
 * 2^-53 |v|, i.e. 1e183 for v = 6e199) must not reach the reduced argument,
 * and where v is not finite the fma would give inf - inf (the fuzzer found
 * swish(-6.97e199, beta=-0.805) = NaN) */
FA_V_INLINE __m512d fa_w8_swish(__m512d x, const fa_vparams *P)
{
    if (P->a == 1.0)                 /* beta x exact, |x| = |v|: silu's path */
        return fa_wx_sigmoid(x, x, _mm512_setzero_pd(), 0, 0);
    __m512d b = fa_vset(P->a);
    __m512d vh = _mm512_mul_pd(b, x);
    __m512d vl = _mm512_fmsub_pd(b, x, vh);
    __mmask8 ok = _mm512_cmp_pd_mask(fa_vnegabs(vh), fa_vset(-1000.0), _CMP_GT_OQ);
    return fa_wx_sigmoid(x, vh, _mm512_maskz_mov_pd(ok, vl), 1, 1);
}

/* e^z = 2^floor(kf) (Th + ph + rest) for the double-double users (expm1,
 * log_softmax's backward): Th the table value, ph = T_hi rh exactly (an
 * fma split; r = rh + rl, the reduction's rounding kept), rest = T_hi (e^r
 * - 1 - rh + rl) + T_lo (1 + rh) + (T_hi rh - ph), at most 1.1% of the
 * sum, rounded once.  The degree-8 polynomial (r^9/9! = 2^-68) and T_lo r
 * (2^-57 of 1) matter where the sum is small (expm1 near j = +-1, where
 * the two terms cancel to 0.023) or multiplies a large S. */
FA_V_INLINE __m512d fa_wexp_terms(__m512d z, __m512d *ph, __m512d *rest, __m512d *kf)
{
    __m512d p, tl, w, rh, rl;
    __m512d Th = fa_wexp_parts(z, _mm512_setzero_pd(), &p, &tl, kf, &w, &rh, &rl, 1, 0);
    (void)p;                            /* p's own rounding would be half an ULP of m at j = 0 */
    *ph = _mm512_mul_pd(Th, rh);
    __m512d pl = _mm512_fmsub_pd(Th, rh, *ph);                       /* exact */
    *rest = _mm512_fmadd_pd(Th, _mm512_add_pd(w, rl),
                            _mm512_add_pd(pl, _mm512_fmadd_pd(tl, rh, tl)));
    return Th;
}

/* e^z = 2^floor(kf) (H + *lo) to ~2^-64, z in [-1100, 700] */
FA_V_INLINE __m512d fa_wexp_dd(__m512d z, __m512d *lo, __m512d *kf)
{
    __m512d ph, rest;
    __m512d Th = fa_wexp_terms(z, &ph, &rest, kf);
    __m512d h = _mm512_add_pd(Th, ph);                               /* |ph| < 0.023 Th */
    __m512d l = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(Th, h), ph), rest);
    __m512d H = _mm512_add_pd(h, l);
    *lo = _mm512_add_pd(_mm512_sub_pd(h, H), l);
    return H;
}

/* e^z - 1 = mh + *ml for z in [-40, 0] (z = -0 included), to ~2^-60
 * relative: (S - 1) + 2^k (ph + rest) with S = 2^k T_hi, S - 1 by Fast2Sum
 * (exact where Sterbenz applies, its error kept otherwise).  Near 0 the two
 * terms cancel by up to a factor 0.85 (z = -0.0232: S - 1 = -0.0424, S p =
 * +0.0195), hence the exact ph.  |S - 1| >= 0.042 > |2^k ph| unless j = 0,
 * where S - 1 = 0: so the final sum is a Fast2Sum too, and m keeps full
 * relative accuracy at every z (m = e^r - 1 for |z| < ln2/32). */
FA_V_INLINE __m512d fa_wexpm1(__m512d z, __m512d *ml)
{
    __m512d ph, rest, kf;
    __m512d Th = fa_wexp_terms(z, &ph, &rest, &kf);
    __m512d S = _mm512_scalef_pd(Th, kf);
    ph = _mm512_scalef_pd(ph, kf);
    rest = _mm512_scalef_pd(rest, kf);
    __m512d ch = _mm512_sub_pd(S, fa_vset(1.0));
    __m512d cl = _mm512_add_pd(_mm512_sub_pd(fa_vset(-1.0), ch), S); /* Fast2Sum(-1, S) */
    __m512d mh = _mm512_add_pd(ch, ph);
    __m512d lo = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(ch, mh), ph), _mm512_add_pd(cl, rest));
    /* renormalise: rest is up to 1% of m, the quotient's correction wants
     * a low part of ~2^-53 */
    __m512d h = _mm512_add_pd(mh, lo);
    *ml = _mm512_add_pd(_mm512_sub_pd(mh, h), lo);
    return h;
}

/* double-double helpers: (ah + al) + (bh + bl) by TwoSum of the heads
 * (either may be larger), (ah + al)(bh + bl) by an exact head product;
 * each returns the head and sets *lo (not renormalised beyond that) */
FA_V_INLINE __m512d fa_dd_add(__m512d ah, __m512d al, __m512d bh, __m512d bl, __m512d *lo)
{
    __m512d s = _mm512_add_pd(ah, bh);
    __m512d bb = _mm512_sub_pd(s, ah);
    __m512d e = _mm512_add_pd(_mm512_sub_pd(ah, _mm512_sub_pd(s, bb)), _mm512_sub_pd(bh, bb));
    __m512d l = _mm512_add_pd(e, _mm512_add_pd(al, bl));
    __m512d h = _mm512_add_pd(s, l);
    *lo = _mm512_add_pd(_mm512_sub_pd(s, h), l);
    return h;
}

FA_V_INLINE __m512d fa_dd_mul(__m512d ah, __m512d al, __m512d bh, __m512d bl, __m512d *lo)
{
    __m512d p = _mm512_mul_pd(ah, bh);
    __m512d l = _mm512_fmadd_pd(ah, bl, _mm512_fmadd_pd(al, bh, _mm512_fmsub_pd(ah, bh, p)));
    __m512d h = _mm512_add_pd(p, l);
    *lo = _mm512_add_pd(_mm512_sub_pd(p, h), l);
    return h;
}

/* mish(x) = x t, t = tanh(softplus(x)) = n / (n + 2), n = e^x (e^x + 2).
 * With E = e^-|x| = 2^k U (hi + lo):
 *   x < 0:  t = 2^k U (E + 2) / (2 + E (E + 2))   (numerator unscaled: the
 *           product with x is formed before a subnormal rounding, as silu)
 *   x >= 0: t = (1 + 2E) / (1 + 2E + 2E^2)
 * every sum and product in double-double, one corrected quotient. */
FA_V_INLINE __m512d fa_w8_mish(__m512d x, const fa_vparams *P)
{
    (void)P;
    /* lim 800: the x < -800 lanes are overridden below, and for x > 800
     * only E = 0 is used (no underflowing vscalefpd: a microcode assist) */
    fa_wexpneg e = fa_wexp_neg_far(x, _mm512_setzero_pd(), 0, 800.0);
    __mmask8 neg = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d zero = _mm512_setzero_pd(), two = fa_vset(2.0), one = fa_vset(1.0);
    __m512d e2l, e2h = fa_dd_add(e.eh, e.el, two, zero, &e2l);          /* E + 2 */
    /* x < 0 */
    __m512d nnl, nnh = fa_dd_mul(e.uh, e.ul, e2h, e2l, &nnl);           /* U (E + 2) */
    __m512d nl, nh = fa_dd_mul(e.eh, e.el, e2h, e2l, &nl);              /* n */
    __m512d ndl, ndh = fa_dd_add(nh, nl, two, zero, &ndl);               /* n + 2 */
    /* x >= 0 */
    __m512d al, ah = fa_dd_add(one, zero, _mm512_add_pd(e.eh, e.eh), _mm512_add_pd(e.el, e.el), &al);
    /* E^2 from E clamped at 2^-500 (E^2 would underflow for x > 354):
     * 2E^2 is then below 2^-106 of the low part of 1 + 2E, so d and the
     * result are unchanged (bitwise, checked); E = 0 (x > 745, +inf) stays
     * 0, or x = inf would meet a nonzero correction (inf - inf) */
    __mmask8 te = _mm512_cmp_pd_mask(e.eh, fa_vset(0x1p-500), _CMP_LT_OQ)
                & _mm512_cmp_pd_mask(e.eh, _mm512_setzero_pd(), _CMP_GT_OQ);   /* E = 0 stays */
    __m512d ech = _mm512_mask_mov_pd(e.eh, te, fa_vset(0x1p-500)), ecl = _mm512_maskz_mov_pd(~te, e.el);
    __m512d ssl, ssh = fa_dd_mul(ech, ecl, ech, ecl, &ssl);              /* E^2 */
    __m512d pdl, pdh = fa_dd_add(ah, al, _mm512_add_pd(ssh, ssh), _mm512_add_pd(ssl, ssl), &pdl);
    __m512d numh = _mm512_mask_mov_pd(ah, neg, nnh), numl = _mm512_mask_mov_pd(al, neg, nnl);
    __m512d denh = _mm512_mask_mov_pd(pdh, neg, ndh), denl = _mm512_mask_mov_pd(pdl, neg, ndl);
    __m512d corr;
    __m512d q0 = fa_wdiv(numh, numl, denh, denl, &corr);
    __m512d kn = _mm512_maskz_mov_pd(neg, e.kf);
    __m512d y = _mm512_scalef_pd(fa_wxmul(x, q0, corr), kn);
    /* x < -800: -0 (t underflows; x t is -0, never -inf * 0) */
    __mmask8 tiny = _mm512_cmp_pd_mask(x, fa_vset(-800.0), _CMP_LT_OQ);
    return _mm512_mask_mov_pd(y, tiny, fa_vset(-0.0));
}


/* gelu_tanh(x) = x sigmoid(v), v = C x (1 + K x^2), C = 2 sqrt(2/pi), K =
 * 0.044715 (decimal: hi + lo, mpmath), and its derivative's m = x v'(x) =
 * C x (1 + 3K x^2): both as hi + lo (sigmoid's condition number is |v|),
 * from x clamped to [-64, 64] (|v| > 18000 beyond: sigmoid is 0 or 1) */
#define FA_WG_C 1.5957691216057308
#define FA_WG_CL (-9.96930880911092e-17)
#define FA_WG_K 0.044715
#define FA_WG_KL 2.1960211427085595e-18
#define FA_WG_K3 0.134145
#define FA_WG_K3L 1.3526957332032908e-17

FA_V_INLINE __m512d fa_wgelu_v(__m512d x, double k, double kl, __m512d *vl)
{
    __m512d x2 = _mm512_mul_pd(x, x);
    __m512d x2l = _mm512_fmsub_pd(x, x, x2);
    __m512d t = _mm512_mul_pd(fa_vset(k), x2);
    __m512d tl = _mm512_fmadd_pd(fa_vset(k), x2l,
                                 _mm512_fmadd_pd(fa_vset(kl), x2, _mm512_fmsub_pd(fa_vset(k), x2, t)));
    __m512d one = fa_vset(1.0);
    __m512d w = _mm512_add_pd(one, t);                               /* TwoSum: t may exceed 1 */
    __m512d bb = _mm512_sub_pd(w, one);
    __m512d wl = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(one, _mm512_sub_pd(w, bb)),
                                             _mm512_sub_pd(t, bb)), tl);
    __m512d mm = _mm512_mul_pd(x, w);
    __m512d ml = _mm512_fmadd_pd(x, wl, _mm512_fmsub_pd(x, w, mm));
    __m512d vh = _mm512_mul_pd(fa_vset(FA_WG_C), mm);
    *vl = _mm512_fmadd_pd(fa_vset(FA_WG_C), ml,
                          _mm512_fmadd_pd(fa_vset(FA_WG_CL), mm,
                                          _mm512_fmsub_pd(fa_vset(FA_WG_C), mm, vh)));
    return vh;
}

FA_V_INLINE __m512d fa_wclamp64(__m512d x)
{
    return _mm512_min_pd(fa_vset(64.0), _mm512_max_pd(fa_vset(-64.0), x));   /* NaN passes */
}

FA_V_INLINE __m512d fa_w8_gelu_tanh(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d vl;
    __m512d vh = fa_wgelu_v(fa_wclamp64(x), FA_WG_K, FA_WG_KL, &vl);
    return fa_wx_sigmoid(x, vh, vl, 1, 0);
}

/* tanh(a), a = min(|x|, 20) (tanh rounds to 1 from 19.06): m = expm1(-2a)
 * in (-1, 0] as hi + lo, tanh = -m / (2 + m), one corrected quotient.
 * The sign of x (and of -0) is copied back by one ternary-logic operation. */
FA_V_INLINE __m512d fa_w8_tanh(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d a = _mm512_min_pd(fa_vset(20.0), _mm512_abs_pd(x));
    __m512d ml;
    __m512d mh = fa_wexpm1(_mm512_mul_pd(a, fa_vset(-2.0)), &ml);
    __m512d two = fa_vset(2.0);
    __m512d dh = _mm512_add_pd(two, mh);
    __m512d dl = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(two, dh), mh), ml);
    __m512d corr;
    __m512d q0 = fa_wdiv(mh, ml, dh, dl, &corr);                       /* -tanh(a) */
    __m512d y = _mm512_add_pd(q0, corr);
    return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(
        _mm512_castpd_si512(fa_vset(-0.0)), _mm512_castpd_si512(y), _mm512_castpd_si512(x), 0xAC));
}

/* log1p(E), E = eh + el in [0, 1], as hi + *lo.  j = round(15 eh), C =
 * 15 / (15 + j) rounded (C - 1 exact), f = C (1 + E) - 1 = (15 E - j) /
 * (15 + j), |f| <= 1/30: C eh exactly as ph + pl (fma), and ph + (C - 1)
 * is exact (Sterbenz: ph / (1 - C) = 15 E / j in [1/2, 3/2] for j >= 1;
 * for j = 0, C = 1 and f = E), so f = fh + fl with fl = pl + C el.
 * log1p(E) = -log(C) + log1p(f), -log(C) as hi + lo (fa_vl1p_l of
 * fa_v512_f32.h and the low parts below, mpmath, for the rounded C), log1p(f) = f + f^2 P(f), P the Taylor series to f^12/12
 * (truncation (1/30)^13/13 = 2^-67.5 of f's scale), plus fl (1 - f).
 * hi = -log(C)_hi + fh is a Fast2Sum (|-log C| >= 0.0645 > |fh| unless
 * j = 0, where it is 0), so tiny E keep full relative accuracy. */
FA_V_INLINE __m512d fa_wlog1p01(__m512d eh, __m512d el, __m512d *lo, int norm)
{
    const __m512d c_lo = _mm512_loadu_pd(fa_vl1p_c), c_hi = _mm512_loadu_pd(fa_vl1p_c + 8);
    const __m512d m_lo = _mm512_loadu_pd(fa_vl1p_cm1), m_hi = _mm512_loadu_pd(fa_vl1p_cm1 + 8);
    const __m512d lh_lo = _mm512_loadu_pd(fa_vl1p_l), lh_hi = _mm512_loadu_pd(fa_vl1p_l + 8);
    const __m512d ll_lo = _mm512_setr_pd(             /* -log(C) - hi, mpmath */
        0.0, -6.470486661692933e-18, -1.977712360111645e-18, -1.0443212798015191e-17,
        -1.34181263365586e-17, 2.607160616442564e-17, 1.3741735906944748e-17,
        2.527022197490479e-17);
    const __m512d ll_hi = _mm512_setr_pd(
        -1.132458355229289e-18, -2.3229412495470032e-17, -1.5233815099851014e-18,
        -3.659934424604737e-18, 1.443122479165108e-17, 3.61125986559532e-17,
        3.781233647982255e-17, 2.3190468138462996e-17);
    __m512i j = _mm512_castpd_si512(
        _mm512_fmadd_pd(eh, fa_vset(15.0), fa_vset(6755399441055744.0)));
    __m512d C = _mm512_permutex2var_pd(c_lo, j, c_hi);
    __m512d ph = _mm512_mul_pd(eh, C);
    __m512d pl = _mm512_fmsub_pd(eh, C, ph);
    __m512d fh = _mm512_add_pd(ph, _mm512_permutex2var_pd(m_lo, j, m_hi));   /* exact */
    __m512d fl = _mm512_fmadd_pd(el, C, pl);
    __m512d p = fa_vset(-1.0 / 12);
    p = _mm512_fmadd_pd(p, fh, fa_vset(1.0 / 11));
    p = _mm512_fmadd_pd(p, fh, fa_vset(-1.0 / 10));
    p = _mm512_fmadd_pd(p, fh, fa_vset(1.0 / 9));
    p = _mm512_fmadd_pd(p, fh, fa_vset(-1.0 / 8));
    p = _mm512_fmadd_pd(p, fh, fa_vset(1.0 / 7));
    p = _mm512_fmadd_pd(p, fh, fa_vset(-1.0 / 6));
    p = _mm512_fmadd_pd(p, fh, fa_vset(1.0 / 5));
    p = _mm512_fmadd_pd(p, fh, fa_vset(-1.0 / 4));
    p = _mm512_fmadd_pd(p, fh, fa_vset(1.0 / 3));
    p = _mm512_fmadd_pd(p, fh, fa_vset(-1.0 / 2));
    /* the small terms: f^2 P(f) + fl (1 - f) + (-log C)_lo */
    __m512d rest = _mm512_fmadd_pd(_mm512_mul_pd(fh, fh), p,
                                   _mm512_fmadd_pd(fl, _mm512_sub_pd(fa_vset(1.0), fh),
                                                   _mm512_permutex2var_pd(ll_lo, j, ll_hi)));
    __m512d Lh = _mm512_permutex2var_pd(lh_lo, j, lh_hi);
    __m512d hi = _mm512_add_pd(Lh, fh);
    __m512d l = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(Lh, hi), fh), rest);
    if (!norm) {               /* callers that only add hi + lo */
        *lo = l;
        return hi;
    }
    /* norm: renormalised -- rest holds f^2 P(f), up to 2% of the sum where
     * j = 0, and a quotient's correction (softplus / beta) wants a low part
     * of ~2^-53 (without it every beta but a power of two was ~1e-8 off) */
    __m512d h = _mm512_add_pd(hi, l);
    *lo = _mm512_add_pd(_mm512_sub_pd(hi, h), l);
    return h;
}

/* a + (bh + bl) rounded once: TwoSum(a, bh) (either may be larger), then
 * the low parts; where a is +-inf the sum is a (the TwoSum error would be
 * inf - inf) */
FA_V_INLINE __m512d fa_wadd(__m512d a, __m512d bh, __m512d bl)
{
    __m512d s = _mm512_add_pd(a, bh);
    __m512d bb = _mm512_sub_pd(s, a);
    __m512d e = _mm512_add_pd(_mm512_sub_pd(a, _mm512_sub_pd(s, bb)), _mm512_sub_pd(bh, bb));
    __m512d y = _mm512_add_pd(s, _mm512_add_pd(e, bl));
    __mmask8 inf = _mm512_fpclass_pd_mask(a, 0x18);                  /* +inf | -inf */
    return _mm512_mask_mov_pd(y, inf, a);
}

/* log1p(e^-|v|) as hi + *lo, v = vh (+ zl as in fa_wexp_neg); norm: see
 * fa_wlog1p01 */
FA_V_INLINE __m512d fa_wlog1pexp(__m512d vh, __m512d zl, int has_zl, __m512d *lo, int norm)
{
    fa_wexpneg e = fa_wexp_neg_far(vh, zl, has_zl, 745.14);     /* (only eh, el used) */
    return fa_wlog1p01(e.eh, e.el, lo, norm);
}

/* log_sigmoid(x) = min(x, 0) - log1p(e^-|x|): x + (-L) rounded once for
 * x < 0 (same signs: no cancellation), -L for x >= 0 (-0 at +inf) */
FA_V_INLINE __m512d fa_w8_log_sigmoid(__m512d x, const fa_vparams *P)
{
    (void)P;
    __m512d lo;
    __m512d hi = fa_wlog1pexp(x, _mm512_setzero_pd(), 0, &lo, 0);
    __m512d nh = _mm512_sub_pd(_mm512_setzero_pd(), hi);
    __m512d nl = _mm512_sub_pd(_mm512_setzero_pd(), lo);
    __mmask8 neg = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d yneg = fa_wadd(x, nh, nl);
    __m512d ypos = _mm512_xor_pd(_mm512_add_pd(hi, lo), fa_vset(-0.0));
    return _mm512_mask_mov_pd(ypos, neg, yneg);
}

/* softplus(x) = x if v > threshold (P->b), else (v > 0 ? x : 0) + L / beta,
 * v = beta x (hi + lo as in swish: the rounding of the product enters exp),
 * L = log1p(e^-|v|) (hi + lo): the double core's formula, rounded once.
 * beta = 1 skips the quotient; 1/beta not a normal double takes the double
 * core (FA_W512_COVERS). */
FA_V_INLINE __m512d fa_w8_softplus(__m512d x, const fa_vparams *P)
{
    __m512d b = fa_vset(P->a), q0, corr;
    __m512d vh = x, vl = _mm512_setzero_pd();
    int unit = P->a == 1.0;
    if (!unit) {
        vh = _mm512_mul_pd(b, x);
        __mmask8 ok = _mm512_cmp_pd_mask(fa_vnegabs(vh), fa_vset(-1000.0), _CMP_GT_OQ);
        vl = _mm512_maskz_fmsub_pd(ok, b, x, vh);
    }
    __mmask8 neg = _mm512_cmp_pd_mask(vh, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d zl = _mm512_mask_sub_pd(vl, ~neg, _mm512_setzero_pd(), vl);   /* -sign(v) vl */
    __m512d lo;
    __m512d hi = fa_wlog1pexp(vh, zl, !unit, &lo, !unit);
    if (unit) {
        q0 = hi;
        corr = lo;
    } else {
        q0 = fa_wdiv(hi, lo, b, _mm512_setzero_pd(), &corr);
    }
    __mmask8 pos = _mm512_cmp_pd_mask(vh, _mm512_setzero_pd(), _CMP_GT_OQ);
    __mmask8 cz = _mm512_cmp_pd_mask(corr, _mm512_setzero_pd(), _CMP_EQ_OQ);
    __m512d yl = _mm512_mask_mov_pd(_mm512_add_pd(q0, corr), cz, q0);  /* keeps -0 / beta */
    __mmask8 big = _mm512_cmp_pd_mask(vh, fa_vset(P->b), _CMP_GT_OQ);
    __m512d y = _mm512_mask_mov_pd(yl, pos, fa_wadd(x, q0, corr));
    return _mm512_mask_mov_pd(y, big, x);
}

/* ---- derivatives: cores return hi and set *corr, f' = hi + corr ---- */

/* c E / (1 + E)^2 with E = e^z = 2^k (Uh + Ul), z in [-800, 0], c = 2^cexp:
 * sigmoid' (c = 1, z = -|x|) and tanh' = 4 e^-2|x| / (1 + e^-2|x|)^2.
 * (1 + E)^2 is formed as hi + lo (an fma for the square's rounding), the
 * quotient is corrected once: ~0.5 ULP where the double cores give up to
 * 3.4.  The numerator is scaled by 2^(k + cexp) in one step, so a
 * subnormal result is rounded once (1 + E = 1 there). */
FA_V_INLINE __m512d fa_wdsig(__m512d z, double cexp, __m512d *corr)
{
    /* lanes where 2^cexp e^z rounds to 0 (z < -(745.14 + cexp ln2)) take
     * n = E = 0 from the scalefs' zero masks (fa_wexp_neg_far: no
     * underflowing vscalefpd, each a microcode assist): the quotient is
     * then 0 / 1 = 0 with corr 0, as when they underflowed */
    fa_wexpneg e = fa_wexp_neg_far(z, _mm512_setzero_pd(), 0,        /* z <= 0: e^z */
                                   745.14 + cexp * 0.6931471805599453);
    __m512d kc = _mm512_add_pd(e.kf, fa_vset(cexp));
    __m512d nh = _mm512_maskz_scalef_pd(e.near, e.uh, kc);
    __m512d nl = _mm512_maskz_scalef_pd(e.near, e.ul, kc);
    __m512d sl, sh = fa_w1p(e.eh, e.el, &sl);
    __m512d dh = _mm512_mul_pd(sh, sh);
    __m512d dl = _mm512_fmadd_pd(_mm512_add_pd(sh, sh), sl, _mm512_fmsub_pd(sh, sh, dh));
    return fa_wdiv(nh, nl, dh, dl, corr);
}

FA_V_INLINE __m512d fa_w8dk_sigmoid(__m512d x, const fa_vparams *P, __m512d *corr, __m512d *kn)
{
    *kn = _mm512_setzero_pd();   /* no final scaling */
    (void)P;
    return fa_wdsig(_mm512_max_pd(fa_vset(-800.0), fa_vnegabs(x)), 0.0, corr);
}

FA_V_INLINE __m512d fa_w8dk_tanh(__m512d x, const fa_vparams *P, __m512d *corr, __m512d *kn)
{
    *kn = _mm512_setzero_pd();   /* no final scaling */
    (void)P;
    __m512d a = fa_vnegabs(x);
    return fa_wdsig(_mm512_max_pd(fa_vset(-800.0), _mm512_add_pd(a, a)), 2.0, corr);
}

/* relu, relu6, hardtanh, leaky_relu: the double core's selections as one
 * or two instructions (the auto-vectorised core spent 6-10 on the NaN and
 * signed-zero rules: float64 relu6 ran at 0.65-0.87x torch's clamp).
 * Bitwise the core's results: vmaxpd/vminpd with the bound first return
 * the second operand for a NaN and for two zeros, which is x < a ? a : x
 * and y > b ? b : y exactly; relu keeps x where x > 0 or NaN, else +0. */
FA_V_INLINE __m512d fa_w8_relu(__m512d x, const fa_vparams *P)
{
    (void)P;
    return _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_NLE_UQ), x);
}

FA_V_INLINE __m512d fa_w8_relu6(__m512d x, const fa_vparams *P)
{
    return _mm512_min_pd(fa_vset(6.0), fa_w8_relu(x, P));
}

FA_V_INLINE __m512d fa_w8_hardtanh(__m512d x, const fa_vparams *P)
{
    return _mm512_min_pd(fa_vset(P->b), _mm512_max_pd(fa_vset(P->a), x));
}

/* x > 0 ? x : x a (NaN: x a, the NaN, as the core) */
FA_V_INLINE __m512d fa_w8_leaky_relu(__m512d x, const fa_vparams *P)
{
    return _mm512_mask_mul_pd(x, _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_NGT_UQ), x,
                              fa_vset(P->a));
}

#define FA_V512_F64_LIST(X) X(sigmoid) X(silu) X(swish) X(tanh) X(log_sigmoid) X(softplus) \
    X(gelu_tanh) X(mish) X(relu) X(relu6) X(hardtanh) X(leaky_relu)

/* the float64 kernels: 32 doubles per step, the tail 8 at a time with masks */
/* parameters the vector core does not cover go to the double core */
#define FA_W512_COVERS(name, p) (FA_VID_##name != FA_VID_softplus || fa_vinv((p)->a) != 0.0)

#define FA_W512_UNARY(name, kname, core)                                      \
    static void kname(const double *x, double *y, fa_index n, const fa_params *p) \
    {                                                                         \
        if (!FA_W512_COVERS(name, p)) {  /* a local copy: the loop vectorises */ \
            const fa_params Q = {p->a, p->b, p->c, p->d};                     \
            for (fa_index i = 0; i < n; i++) y[i] = fa_core_##name(x[i], &Q, 0); \
            return;                                                           \
        }                                                                     \
        const fa_vparams P = FA_VPARAMS(p);                                   \
        fa_index i = 0;                                                       \
        for (; i + 32 <= n; i += 32) {                                        \
            __m512d a0 = _mm512_loadu_pd(x + i);                              \
            __m512d a1 = _mm512_loadu_pd(x + i + 8);                          \
            __m512d a2 = _mm512_loadu_pd(x + i + 16);                         \
            __m512d a3 = _mm512_loadu_pd(x + i + 24);                         \
            _mm512_storeu_pd(y + i, core(a0, &P));                            \
            _mm512_storeu_pd(y + i + 8, core(a1, &P));                        \
            _mm512_storeu_pd(y + i + 16, core(a2, &P));                       \
            _mm512_storeu_pd(y + i + 24, core(a3, &P));                       \
        }                                                                     \
        for (; i < n; i += 8) {                                               \
            fa_index k = n - i < 8 ? n - i : 8;                               \
            __mmask8 m = (__mmask8)((1u << k) - 1u);                          \
            _mm512_mask_storeu_pd(y + i, m, core(_mm512_maskz_loadu_pd(m, x + i), &P)); \
        }                                                                     \
    }

/* log_sigmoid'(x) = sigmoid(-x) */
FA_V_INLINE __m512d fa_w8dk_log_sigmoid(__m512d x, const fa_vparams *P, __m512d *corr, __m512d *kn)
{
    *kn = _mm512_setzero_pd();   /* no final scaling */
    (void)P;
    __m512d k0, v = _mm512_xor_pd(x, fa_vset(-0.0));
    __mmask8 neg = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_LT_OQ);
    return fa_wsig(v, _mm512_setzero_pd(), 0, neg, corr, &k0, 1);
}

/* softplus'(x) = sigmoid(v), v = beta x (hi + lo as in swish), 1 where
 * v > threshold */
FA_V_INLINE __m512d fa_w8dk_softplus(__m512d x, const fa_vparams *P, __m512d *corr, __m512d *kn)
{
    *kn = _mm512_setzero_pd();   /* no final scaling */
    __m512d b = fa_vset(P->a), k0;
    __m512d vh = _mm512_mul_pd(b, x);
    __mmask8 ok = _mm512_cmp_pd_mask(fa_vnegabs(vh), fa_vset(-1000.0), _CMP_GT_OQ);
    __m512d vl = _mm512_maskz_fmsub_pd(ok, b, x, vh);
    __mmask8 neg = _mm512_cmp_pd_mask(vh, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d h = fa_wsig(vh, vl, 1, neg, corr, &k0, 1);
    __mmask8 lin = _mm512_cmp_pd_mask(vh, fa_vset(P->b), _CMP_GT_OQ);
    *corr = _mm512_mask_mov_pd(*corr, lin, _mm512_setzero_pd());
    return _mm512_mask_mov_pd(h, lin, fa_vset(1.0));
}

/* Taylor window of silu' around its zero (in v), float64: src_c/gen_deriv_zeros.py --float64 */
/* silu: zero of f' at -1.2784645427610737951, window +-0.1332, degree 13 */
#define FA_WZ64_SILU_HI -1.2784645427610737
#define FA_WZ64_SILU_LO -1.0946994183093437e-16
#define FA_WZ64_SILU_W 0.13319606080175156
#define FA_WZ64_SILU_C1LO -3.974332795880862e-18
#define FA_WZ64_SILU_N 13
static const double fa_wz64_silu[13] = {0.2178117057198001, 0.1466487969969469, 0.018874814223782312, -0.015222655223188032, -0.006606589138356696, 0.000126627410081122, 0.0007985218818397998, 0.00018570724361186496, -4.090534237428612e-05, -2.9733542213263917e-05, -2.942631888842464e-06, 2.346029682463866e-06, 8.599695028268575e-07};

/* f' = s (1 + m c) for the x sigmoid(v) family: s = sigmoid(v), c = 1 - s,
 * v = vh + vl, m = mh + ml (silu/swish: m = v; gelu_tanh: m = x v'(x)).
 * With D = 1 + e^-|v| and (ns, nc) = (U, 1) for v < 0, (1, E) else,
 * f' = 2^kn ns (D + m nc) / D^2.  D + m nc cancels near the zero of f'
 * (silu: v0 = -1.2785, D = 1.279, m nc = -1.278), so it is a TwoSum of
 * exact products; outside the window the amplification |s| / |f'| is <= 8
 * and the ~2^-57 terms give ~2^-54.  Returns hi, sets *corr and *kn:
 * f' = (hi + corr) 2^kn.  No window and no |v| > 800 limits here. */
FA_V_INLINE __m512d fa_wdxsig(__m512d vh, __m512d vl, int has_lo, __m512d mh, __m512d ml,
                              int has_ml, __m512d *corr, __m512d *kn)
{
    __mmask8 neg = _mm512_cmp_pd_mask(vh, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d zl = has_lo ? _mm512_mask_sub_pd(vl, ~neg, _mm512_setzero_pd(), vl) : vl;
    /* lim 800: fa_wdxsig_limits (every caller's last step) overrides the
     * lanes with |v| > 800, so their uh, ul, kf may be fa_wexp_neg_far's */
    fa_wexpneg e = fa_wexp_neg_far(vh, zl, has_lo, 800.0);
    __m512d one = fa_vset(1.0);
    __m512d Dl, Dh = fa_w1p(e.eh, e.el, &Dl);
    __m512d nsh = _mm512_mask_mov_pd(one, neg, e.uh);
    __m512d nsl = _mm512_maskz_mov_pd(neg, e.ul);
    __m512d nch = _mm512_mask_mov_pd(e.eh, neg, one);
    __m512d ncl = _mm512_maskz_mov_pd(~neg, e.el);
    /* inner = D + m nc */
    __m512d ph = _mm512_mul_pd(mh, nch);
    __m512d pl = _mm512_fmadd_pd(mh, ncl, _mm512_fmsub_pd(mh, nch, ph));
    if (has_ml) pl = _mm512_fmadd_pd(ml, nch, pl);
    __m512d sh = _mm512_add_pd(Dh, ph);
    __m512d bb = _mm512_sub_pd(sh, Dh);
    __m512d se = _mm512_add_pd(_mm512_sub_pd(Dh, _mm512_sub_pd(sh, bb)), _mm512_sub_pd(ph, bb));
    __m512d il = _mm512_add_pd(_mm512_add_pd(se, Dl), pl);
    __m512d ih = _mm512_add_pd(sh, il);
    il = _mm512_add_pd(_mm512_sub_pd(sh, ih), il);
    /* N = ns inner, D^2 */
    __m512d Nh = _mm512_mul_pd(nsh, ih);
    __m512d Nl = _mm512_fmadd_pd(nsl, ih, _mm512_fmadd_pd(nsh, il, _mm512_fmsub_pd(nsh, ih, Nh)));
    __m512d D2h = _mm512_mul_pd(Dh, Dh);
    __m512d D2l = _mm512_fmadd_pd(_mm512_add_pd(Dh, Dh), Dl, _mm512_fmsub_pd(Dh, Dh, D2h));
    *kn = _mm512_maskz_mov_pd(neg, e.kf);
    return fa_wdiv(Nh, Nl, D2h, D2l, corr);
}

/* inside |t| < w, t = (u - hi) + (ul - lo) (u - hi exact, Sterbenz): f' =
 * t c1 + t^2 Q(t), c1 = c[0] + c1lo, as hw + cw (t c1 exact by an fma,
 * plus the rest by Fast2Sum), kn = 0; no cancellation there */
FA_V_INLINE __m512d fa_wwindow64(__m512d h, __m512d *corr, __m512d *kn, __m512d u, __m512d ul,
                                 int has_ul, double hi, double lo, double w, double c1lo,
                                 const double *c, int n)
{
    __m512d a = _mm512_sub_pd(u, fa_vset(hi));
    __mmask8 in = _mm512_cmp_pd_mask(_mm512_abs_pd(a), fa_vset(w), _CMP_LT_OQ);
    if (!in) return h;
    __m512d b = has_ul ? _mm512_sub_pd(ul, fa_vset(lo)) : fa_vset(-lo);
    __m512d th = _mm512_add_pd(a, b);                       /* |a| >= |b| unless both tiny */
    __m512d tl = _mm512_add_pd(_mm512_sub_pd(a, th), b);
    __m512d q = fa_vset(c[n - 1]);
    for (int i = n - 2; i >= 1; i--) q = _mm512_fmadd_pd(q, th, fa_vset(c[i]));
    __m512d c1 = fa_vset(c[0]);
    __m512d small = _mm512_fmadd_pd(th, fa_vset(c1lo), _mm512_mul_pd(tl, c1));
    small = _mm512_fmadd_pd(_mm512_mul_pd(th, th), q, small);
    __m512d ph = _mm512_mul_pd(th, c1);
    __m512d pe = _mm512_fmsub_pd(th, c1, ph);
    __m512d hw = _mm512_add_pd(ph, small);                  /* |t c1| >= 10 |small| */
    __m512d cw = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(ph, hw), small), pe);
    *corr = _mm512_mask_mov_pd(*corr, in, cw);
    *kn = _mm512_mask_mov_pd(*kn, in, _mm512_setzero_pd());
    return _mm512_mask_mov_pd(h, in, hw);
}

/* |v| > 800: f' = 1 (v > 0); for v < 0 the double cores' zeros: -0 for
 * finite v (s (1 + m) underflows from below), +0 where u (v, or x for
 * gelu_tanh, whose v is formed from a clamped x) is -inf */
FA_V_INLINE __m512d fa_wdxsig_limits(__m512d h, __m512d *corr, __m512d *kn, __m512d vh,
                                     __m512d u)
{
    __mmask8 hi_v = _mm512_cmp_pd_mask(vh, fa_vset(800.0), _CMP_GT_OQ);
    __mmask8 lo_v = _mm512_cmp_pd_mask(vh, fa_vset(-800.0), _CMP_LT_OQ);
    __mmask8 ninf = _mm512_cmp_pd_mask(u, fa_vset(-INFINITY), _CMP_EQ_OQ);
    h = _mm512_mask_mov_pd(h, hi_v, fa_vset(1.0));
    h = _mm512_mask_mov_pd(h, lo_v, fa_vset(-0.0));
    h = _mm512_mask_mov_pd(h, ninf, _mm512_setzero_pd());
    /* corr -0 below: -0 + -0 keeps the sign, +0 + -0 = +0 */
    *corr = _mm512_mask_mov_pd(*corr, hi_v, _mm512_setzero_pd());
    *corr = _mm512_mask_mov_pd(*corr, lo_v, fa_vset(-0.0));
    *kn = _mm512_mask_mov_pd(*kn, hi_v | lo_v, _mm512_setzero_pd());
    return h;
}

/* swish'(x) = s (1 + v c) in v = beta x (silu: beta = 1), window around
 * v0 = -1.2785 of width 0.133 (src_c/gen_deriv_zeros.py --float64) */
FA_V_INLINE __m512d fa_wdswish(__m512d vh, __m512d vl, int has_lo, __m512d *corr, __m512d *kn)
{
    __m512d h = fa_wdxsig(vh, vl, has_lo, vh, vl, has_lo, corr, kn);
    h = fa_wwindow64(h, corr, kn, vh, vl, has_lo, FA_WZ64_SILU_HI, FA_WZ64_SILU_LO,
                     FA_WZ64_SILU_W, FA_WZ64_SILU_C1LO, fa_wz64_silu, FA_WZ64_SILU_N);
    return fa_wdxsig_limits(h, corr, kn, vh, vh);
}

FA_V_INLINE __m512d fa_w8dk_silu(__m512d x, const fa_vparams *P, __m512d *corr, __m512d *kn)
{
    (void)P;
    return fa_wdswish(x, _mm512_setzero_pd(), 0, corr, kn);
}

FA_V_INLINE __m512d fa_w8dk_swish(__m512d x, const fa_vparams *P, __m512d *corr, __m512d *kn)
{
    if (P->a == 1.0) return fa_wdswish(x, _mm512_setzero_pd(), 0, corr, kn);
    __m512d b = fa_vset(P->a);
    __m512d vh = _mm512_mul_pd(b, x);
    __mmask8 ok = _mm512_cmp_pd_mask(fa_vnegabs(vh), fa_vset(-1000.0), _CMP_GT_OQ);
    return fa_wdswish(vh, _mm512_maskz_fmsub_pd(ok, b, x, vh), 1, corr, kn);
}

/* gelu_tanh' = s (1 + m c), m = x v'(x); window around x0 = -0.7525 */
/* gelu_tanh: zero of f' at -0.75246142207101625849, window +-0.07096, degree 12 */
#define FA_WZ64_GELU_TANH_HI -0.7524614220710163
#define FA_WZ64_GELU_TANH_LO 3.635560509207687e-17
#define FA_WZ64_GELU_TANH_W 0.07095682835871865
#define FA_WZ64_GELU_TANH_C1LO 2.028254970529195e-17
#define FA_WZ64_GELU_TANH_N 12
static const double fa_wz64_gelu_tanh[12] = {0.4304000910248585, 0.38751844613578895, -0.01578285352184803, -0.11394448308095899, -0.01661932834305256, 0.019682309459833118, 0.005261059254921912, -0.0024227318458750974, -0.0009274420230205449, 0.00026392764052681053, 0.00012425227802639782, -3.4956171694436116e-05};

FA_V_INLINE __m512d fa_w8dk_gelu_tanh(__m512d x, const fa_vparams *P, __m512d *corr, __m512d *kn)
{
    (void)P;
    __m512d xc = fa_wclamp64(x), vl, ml;
    __m512d vh = fa_wgelu_v(xc, FA_WG_K, FA_WG_KL, &vl);
    __m512d mh = fa_wgelu_v(xc, FA_WG_K3, FA_WG_K3L, &ml);
    __m512d h = fa_wdxsig(vh, vl, 1, mh, ml, 1, corr, kn);
    h = fa_wwindow64(h, corr, kn, x, _mm512_setzero_pd(), 0, FA_WZ64_GELU_TANH_HI,
                     FA_WZ64_GELU_TANH_LO, FA_WZ64_GELU_TANH_W, FA_WZ64_GELU_TANH_C1LO,
                     fa_wz64_gelu_tanh, FA_WZ64_GELU_TANH_N);
    return fa_wdxsig_limits(h, corr, kn, vh, x);
}

/* mish'(x) = t + x sigmoid(x) (1 - t^2), over one denominator:
 *   x < 0:  2^k U [(E + 2)(n + 2) + 4x (1 + E)] / (n + 2)^2
 *   x >= 0: [a d + 4x E^2 (1 + E)] / d^2,  a = 1 + 2E, d = a + 2E^2
 * The x < 0 bracket cancels at the zero x0 = -1.1924 (TwoSum of exact
 * products; amplification <= 8 outside the window), inside |x - x0| <
 * 0.1286 the Taylor polynomial (gen_deriv_zeros.py --float64). */
/* mish: zero of f' at -1.1924312145154952121, window +-0.1286, degree 15 */
#define FA_WZ64_MISH_HI -1.1924312145154952
#define FA_WZ64_MISH_LO -4.8484829848031044e-17
#define FA_WZ64_MISH_W 0.12858090742375997
#define FA_WZ64_MISH_C1LO 1.5332816617135587e-17
#define FA_WZ64_MISH_N 15
static const double fa_wz64_mish[15] = {0.2669479140495345, 0.20473126408010586, 0.04190782104360987, -0.020271822716684245, -0.01582112656173338, -0.0033606849270232685, 0.0010924055409445854, 0.0009898181021289196, 0.00025412936386191073, -4.1961496031696126e-05, -5.582891567360688e-05, -1.72992708103044e-05, 9.427361327376651e-07, 2.9088199364912223e-06, 1.071676702702074e-06};

FA_V_INLINE __m512d fa_w8dk_mish(__m512d x, const fa_vparams *P, __m512d *corr, __m512d *kn)
{
    (void)P;
    __m512d xc = _mm512_max_pd(fa_vset(-1000.0), x);   /* keeps 4x finite; NaN passes */
    fa_wexpneg e = fa_wexp_neg(xc, _mm512_setzero_pd(), 0);
    __mmask8 neg = _mm512_cmp_pd_mask(xc, _mm512_setzero_pd(), _CMP_LT_OQ);
    __m512d zero = _mm512_setzero_pd(), two = fa_vset(2.0), one = fa_vset(1.0);
    __m512d x4 = _mm512_mul_pd(xc, fa_vset(4.0));
    __m512d e1l, e1h = fa_dd_add(one, zero, e.eh, e.el, &e1l);           /* 1 + E */
    __m512d bl, bh = fa_dd_mul(x4, zero, e1h, e1l, &bl);                 /* 4x (1 + E) */
    /* x < 0 */
    __m512d e2l, e2h = fa_dd_add(e.eh, e.el, two, zero, &e2l);           /* E + 2 */
    __m512d nl, nh = fa_dd_mul(e.eh, e.el, e2h, e2l, &nl);               /* n */
    __m512d ndl, ndh = fa_dd_add(nh, nl, two, zero, &ndl);                /* n + 2 */
    __m512d Al, Ah = fa_dd_mul(e2h, e2l, ndh, ndl, &Al);
    __m512d Il, Ih = fa_dd_add(Ah, Al, bh, bl, &Il);                      /* the bracket */
    __m512d Nnl, Nnh = fa_dd_mul(e.uh, e.ul, Ih, Il, &Nnl);
    __m512d Dnl, Dnh = fa_dd_mul(ndh, ndl, ndh, ndl, &Dnl);
    /* x >= 0 */
    __m512d al, ah = fa_dd_add(one, zero, _mm512_add_pd(e.eh, e.eh), _mm512_add_pd(e.el, e.el), &al);
    __m512d ssl, ssh = fa_dd_mul(e.eh, e.el, e.eh, e.el, &ssl);           /* E^2 */
    __m512d dl, dh = fa_dd_add(ah, al, _mm512_add_pd(ssh, ssh), _mm512_add_pd(ssl, ssl), &dl);
    __m512d adl, adh = fa_dd_mul(ah, al, dh, dl, &adl);
    __m512d cl, ch = fa_dd_mul(ssh, ssl, bh, bl, &cl);                    /* 4x E^2 (1 + E) */
    __m512d Npl, Nph = fa_dd_add(adh, adl, ch, cl, &Npl);
    __m512d Dpl, Dph = fa_dd_mul(dh, dl, dh, dl, &Dpl);
    __m512d Nh = _mm512_mask_mov_pd(Nph, neg, Nnh), Nl = _mm512_mask_mov_pd(Npl, neg, Nnl);
    __m512d Dh = _mm512_mask_mov_pd(Dph, neg, Dnh), Dl = _mm512_mask_mov_pd(Dpl, neg, Dnl);
    __m512d h = fa_wdiv(Nh, Nl, Dh, Dl, corr);
    *kn = _mm512_maskz_mov_pd(neg, e.kf);
    h = fa_wwindow64(h, corr, kn, x, zero, 0, FA_WZ64_MISH_HI, FA_WZ64_MISH_LO, FA_WZ64_MISH_W,
                     FA_WZ64_MISH_C1LO, fa_wz64_mish, FA_WZ64_MISH_N);
    /* x > 800 would give inf * 0 terms: mish' = 1 there; x < -800: the
     * double core's zeros (see fa_wdxsig_limits) */
    return fa_wdxsig_limits(h, corr, kn, x, x);
}

/* f'(x) = hi + corr rounded once, and g f'(x) = fma(g, hi, g corr): one
 * rounding too (g corr is 2^-53 of it); where g = +-inf, g hi (inf, or
 * NaN for f' = 0, as the reference's g * f'), never inf - inf */
FA_V_INLINE __m512d fa_wd_val(__m512d h, __m512d c) { return _mm512_add_pd(h, c); }
FA_V_INLINE __m512d fa_wb_val(__m512d g, __m512d h, __m512d c)
{
    __m512d y = _mm512_fmadd_pd(g, h, _mm512_mul_pd(g, c));
    __mmask8 inf = _mm512_fpclass_pd_mask(g, 0x18);                  /* +inf | -inf */
    return _mm512_mask_mul_pd(y, inf, g, h);
}

/* the same with a final 2^kn (the cores that keep products unscaled):
 * f' = (hi + corr) 2^kn rounded once into the subnormals; g f' scales in
 * two steps, 2^max(kn, -600) before the product (no overflow of g hi where
 * g f' is finite), the rest after */
FA_V_INLINE __m512d fa_wdk_val(__m512d h, __m512d c, __m512d kn)
{
    return _mm512_scalef_pd(_mm512_add_pd(h, c), kn);
}
FA_V_INLINE __m512d fa_wbk_val(__m512d g, __m512d h, __m512d c, __m512d kn)
{
    __m512d k1 = _mm512_max_pd(fa_vset(-600.0), kn);
    __m512d y = fa_wb_val(g, _mm512_scalef_pd(h, k1), _mm512_scalef_pd(c, k1));
    return _mm512_scalef_pd(y, _mm512_sub_pd(kn, k1));
}

/* K = 1: the core's result carries a final 2^kn */
#define FA_WDV(K, h, c, kn) ((K) ? fa_wdk_val(h, c, kn) : fa_wd_val(h, c))
#define FA_WBV(K, g, h, c, kn) ((K) ? fa_wbk_val(g, h, c, kn) : fa_wb_val(g, h, c))

#define FA_W512_DERIV(kname, core, K)                                         \
    static void kname(const double *x, double *y, fa_index n, const fa_params *p) \
    {                                                                         \
        const fa_vparams P = FA_VPARAMS(p);                                   \
        fa_index i = 0;                                                       \
        __m512d c0, c1, k0, k1;                                               \
        for (; i + 16 <= n; i += 16) {                                        \
            __m512d h0 = core(_mm512_loadu_pd(x + i), &P, &c0, &k0);          \
            __m512d h1 = core(_mm512_loadu_pd(x + i + 8), &P, &c1, &k1);      \
            _mm512_storeu_pd(y + i, FA_WDV(K, h0, c0, k0));                   \
            _mm512_storeu_pd(y + i + 8, FA_WDV(K, h1, c1, k1));               \
        }                                                                     \
        for (; i < n; i += 8) {                                               \
            fa_index k = n - i < 8 ? n - i : 8;                               \
            __mmask8 m = (__mmask8)((1u << k) - 1u);                          \
            __m512d h0 = core(_mm512_maskz_loadu_pd(m, x + i), &P, &c0, &k0); \
            _mm512_mask_storeu_pd(y + i, m, FA_WDV(K, h0, c0, k0));           \
        }                                                                     \
    }

#define FA_W512_BACKWARD(kname, core, K)                                      \
    static void kname(const double *g, const double *x, double *y, fa_index n, \
                      const fa_params *p)                                     \
    {                                                                         \
        const fa_vparams P = FA_VPARAMS(p);                                   \
        fa_index i = 0;                                                       \
        __m512d c0, c1, k0, k1;                                               \
        for (; i + 16 <= n; i += 16) {                                        \
            __m512d h0 = core(_mm512_loadu_pd(x + i), &P, &c0, &k0);          \
            __m512d h1 = core(_mm512_loadu_pd(x + i + 8), &P, &c1, &k1);      \
            _mm512_storeu_pd(y + i, FA_WBV(K, _mm512_loadu_pd(g + i), h0, c0, k0)); \
            _mm512_storeu_pd(y + i + 8, FA_WBV(K, _mm512_loadu_pd(g + i + 8), h1, c1, k1)); \
        }                                                                     \
        for (; i < n; i += 8) {                                               \
            fa_index k = n - i < 8 ? n - i : 8;                               \
            __mmask8 m = (__mmask8)((1u << k) - 1u);                          \
            __m512d h0 = core(_mm512_maskz_loadu_pd(m, x + i), &P, &c0, &k0); \
            _mm512_mask_storeu_pd(y + i, m, FA_WBV(K, _mm512_maskz_loadu_pd(m, g + i), h0, c0, k0)); \
        }                                                                     \
    }

/* X(name, K): K = 1 where the core returns a final scale 2^kn */
#define FA_V512_D64_KLIST(X) X(sigmoid, 0) X(tanh, 0) X(log_sigmoid, 0) X(softplus, 0) \
    X(silu, 1) X(swish, 1) X(gelu_tanh, 1) X(mish, 1)

#define FA_W512_GEN(name) FA_W512_UNARY(name, fa_v512_##name##_f64, fa_w8_##name)
#define FA_W512_GEN_D(name, K)                                                \
    FA_W512_DERIV(fa_v512_d_##name##_f64, fa_w8dk_##name, K)                  \
    FA_W512_BACKWARD(fa_v512_b_##name##_f64, fa_w8dk_##name, K)
FA_V512_F64_LIST(FA_W512_GEN)
FA_V512_D64_KLIST(FA_W512_GEN_D)

#endif /* FA_V512_F64_H */
