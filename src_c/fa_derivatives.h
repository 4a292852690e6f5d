/*
 * fa_derivatives.h -- the scalar derivative of every elementwise activation
 * (issue 4, gradients).
 *
 * ONE `fa_dcore_<name>(x, p, lowp)` = f'(x) per entry of FA_UNARY_LIST, in
 * double, with the same house rules as the forward cores (fa_math.h design
 * points 2-4): no data-dependent branches (both sides computed, then
 * selected), NaN-preserving comparisons, FMAs only via FA_FMA.
 *
 * Conventions (shared with fastact._refmath.d_<name>, checked by the tests):
 *   NaN -> NaN for every derivative (a NaN input never becomes a finite
 *     gradient, even in the piecewise-constant ones);
 *   +-inf -> the limit of f'(x);
 *   non-differentiable points follow PyTorch's backward: relu'(0) = 0,
 *     leaky_relu'(0) = negative_slope, hardtanh' = 0 at and outside the
 *     edges, relu6' = 0 at 0 and 6, hardsigmoid' = 1/6 strictly inside
 *     (-3, 3), hardswish' = 0 for x < -3, (2x+3)/6 for -3 <= x <= 3, 1 above,
 *     elu'(0) = alpha (the x <= 0 side), softplus' = 1 where beta x > threshold.
 *
 * FA_FROM_Y_LIST: activations whose derivative is cheaper from the forward
 * output y = f(x); `fa_ycore_<name>(y, p, lowp)` = f'(x) written in y.
 */
#ifndef FA_DERIVATIVES_H
#define FA_DERIVATIVES_H

#include "fa_activations.h"
#include "fa_activations_f32.h"   /* fa_lexp: the float32-grade exp of the lowp cores */

/* NaN in, NaN out, for the piecewise-constant derivatives: `d` is the value
 * the comparisons chose (they are all false for NaN). */
FA_INLINE double fa_dnan(double x, double d)
{
    return x != x ? x : d;
}

/* s(v) (1 - s(v)) = e / (1 + e)^2 with e = exp(-|v|) in (0, 1]: symmetric
 * in v, never cancels (s (1 - s) would, for v > 0 where s -> 1). */
FA_INLINE double fa_dsig(double e)
{
    double q = 1.0 + e;
    return e / (q * q);
}

/* lowp (float32) e^-|v| for the sigmoid-shaped derivatives: the float32-grade
 * exp (fa_lexp, 2^-29 relative, one scaling; the lowp fa_exp's degree-9
 * polynomial and two-factor scaling halved the AVX2 sigmoid backward) at
 * max(-|v|, -FA_LSIG_VCUT): each caller's result is <= e (times g <= 2^128)
 * there, so e^-200 rounds to 0 in float32 exactly as the true value does.
 * Exactly 0 where e^-|v| is 0 in double (|v| > 1075 ln 2, +-inf included),
 * as in the double cores and the AVX-512 kernels, so that an infinite g
 * meets 0 there (NaN), not e^-200.  NaN passes (fa_max keeps it). */
#define FA_EXP_ZERO 745.1332191019412     /* e^-z rounds to 0 in double beyond */
FA_INLINE double fa_lsig_e(double v)
{
    double e = fa_lexp(fa_max(-fabs(v), -FA_LSIG_VCUT));
    return fabs(v) > FA_EXP_ZERO ? 0.0 : e;
}

/* lowp sigmoid(v) from it: (v < 0 ? e : 1) / (1 + e) */
FA_INLINE double fa_lsig(double v)
{
    double e = fa_lsig_e(v);
    return (v < 0.0 ? e : 1.0) / (1.0 + e);
}

/* d/dx [x sigmoid(v)] with v = c x (c = beta, v = hi + lo exactly):
 * s(v) + v s(v)(1 - s(v)).  With e = exp(-|v|):
 *   v <  0:  e (1 + e + v) / (1 + e)^2   (1 + e + v cancels only at the
 *            derivative's own root, v = -1.2785, where the absolute error
 *            is ~1 ulp of 1: inherent)
 *   v >= 0:  (1 + e + v e) / (1 + e)^2   (three positive terms)
 * e is scaled by 2^S (fa_exp_s) until the final product so that results
 * below 2^-1022 are rounded once; v e is 0 (not inf * 0) where e = 0. */
FA_INLINE double fa_dx_sigmoid(double v, double lo, int lowp)
{
    double m;
    double es = fa_exp_s(-fabs(v), v < 0.0 ? lo : -lo, lowp, &m);
    double e = es * m;
    double q = 1.0 + e;
    double neg = (es * (q + v)) / (q * q) * m;
    neg = es == 0.0 ? 0.0 : neg;                  /* v = -inf: 0, not 0 * -inf */
    double pos = (q + fa_mul_lim(v, e)) / (q * q);
    return v < 0.0 ? neg : pos;
}

/* float64: s(v) + u s(v)(1 - s(v)) with v = vh + vl and u = uh + ul
 * (silu, swish: u = v; gelu_tanh: u = x v'(x)), every term a double-double
 * and one corrected quotient, rounded once (the plain form above: up to
 * 3.5 ULP from e's and the sums' roundings).  With e = exp(-|v|) (hi + lo,
 * scaled by 2^S as in fa_dx_sigmoid) and q = 1 + e:
 *   v <  0:  e (q + u) / q^2      v >= 0:  (q + u e) / q^2
 * q + u cancels only at the zero of f' (the caller's Taylor window). */
FA_INLINE double fa_dx_sig_dd(double vh, double vl, double uh, double ul)
{
    double m, el;
    double es = fa_exp_s2(-fabs(vh), vh < 0.0 ? vl : -vl, 0, &m, &el);
    double eu = es * m, eul = el * m;            /* unscaled (q = 1 where m != 1) */
    double e1, e2;
    double qh = fa_two_sum(1.0, eu, &e1);
    double ql = e1 + eul;
    double Q = qh * qh;
    double Ql = fa_prod_lo(qh, qh, Q) + 2.0 * qh * ql;
    /* v < 0: N = es (q + u), scaled */
    double ah = fa_two_sum(qh, uh, &e2);
    double al = e2 + (ql + ul);
    double nl;
    double nh = fa_ddmul(es, el, ah, al, &nl);
    /* v >= 0: N = q + u e (unscaled: m = 1 there) */
    double pl;
    double ph = fa_ddmul(uh, ul, eu, eul, &pl);
    ph = es == 0.0 ? 0.0 : ph;                   /* u = inf, e = 0 */
    pl = es == 0.0 ? 0.0 : pl;
    double bh = fa_two_sum(qh, ph, &e2);
    double bl = e2 + (ql + pl);
    int neg = vh < 0.0;
    double Nh = neg ? nh : bh, Nl = neg ? nl : bl;
    double c;
    double r = fa_dd_quot(Nh, Nl, Q, Ql, 1.0 / Q, &c);
    c = fabs(r * Q) < INFINITY ? c : 0.0;
    double y = (r + c) * (neg ? m : 1.0);
    y = (neg && es == 0.0) ? 0.0 : y;            /* v = -inf: 0, not 0 * -inf */
    return vh != vh ? vh : y;
}

/* ---------------- windows around the zeros of f' (float64) ----------------
 * Near a zero x0 of f' (silu/swish in v = beta x, gelu, gelu_tanh, mish)
 * f' is the difference of two O(1) terms, so the double cores' ~1-2 ULP
 * terms would become |term| / |f'| times larger in ULPs of the result,
 * without bound at x0.  Where that amplification exceeds 2, f' is instead
 * its Taylor polynomial in t = u - x0 (x0 = hi + lo; u - hi is exact by
 * Sterbenz over the whole window), t c1 + t^2 Q(t), which has no
 * cancellation: t c1 exactly (fa_prod_lo) plus the small rest, one
 * rounding.  Truncation < 2^-60 relative to f' on the window.  Computed for
 * every element and selected (no branch), float64 only (lowp: the float32
 * cores whose terms carry only their lowp exp's ~2^-37 -- gelu', mish' --
 * take the FA_LWIN windows below; silu/swish and gelu_tanh, whose lowp
 * terms are good to ~2^-50, need none: test_float32_derivative_near_its_zero
 * checks every float32 within 0.01 of each zero on every path).
 * Generated by: python src_c/gen_deriv_zeros.py --cores */
/* silu: zero of f' at -1.2784645427610737951, window +-0.5666, degree 26 */
#define FA_WZC_SILU_HI -1.2784645427610737
#define FA_WZC_SILU_LO -1.0946994183093437e-16
#define FA_WZC_SILU_W 0.5666109872109394
#define FA_WZC_SILU_C1LO -3.974332795880862e-18
#define FA_WZC_SILU_N 26
static const double fa_wzc_silu[26] = {0.2178117057198001, 0.1466487969969469, 0.018874814223782312, -0.015222655223188032, -0.006606589138356696, 0.000126627410081122, 0.0007985218818397998, 0.00018570724361186496, -4.090534237428612e-05, -2.9733542213263917e-05, -2.942631888842464e-06, 2.346029682463866e-06, 8.599695028268575e-07, -3.051244750055421e-08, -9.266646309267441e-08, -1.8877622907727957e-08, 4.619379769031606e-09, 2.9177603026903803e-09, 2.3648315053103244e-10, -2.251366201881081e-10, -7.50344609385287e-11, 3.998547874723996e-12, 8.04274075537398e-12, 1.4842855116792256e-12, -4.1428341124873365e-13, -2.3496573817834053e-13};
/* gelu: zero of f' at -0.75179152469356445746, window +-0.3148, degree 19 */
#define FA_WZC_GELU_HI -0.7517915246935645
#define FA_WZC_GELU_LO 1.4956759177009883e-17
#define FA_WZC_GELU_W 0.314767645812921
#define FA_WZC_GELU_C1LO 2.7308688141129613e-17
#define FA_WZC_GELU_N 19
static const double fa_wzc_gelu[19] = {0.4314939923140469, 0.388284982990552, -0.018199676398671087, -0.1140082332972217, -0.014771522148244337, 0.019421679838189067, 0.004539228379125415, -0.002239538068073497, -0.0007448268386746817, 0.00018633974623233514, 8.615947861116571e-05, -1.121438018842664e-05, -7.74846130700372e-06, 4.3284506257392273e-07, 5.702764979242107e-07, -1.6044265494246427e-09, -3.5459866461783865e-08, -1.396942086426202e-09, 1.90319840501314e-09};
/* gelu_tanh: zero of f' at -0.75246142207101625849, window +-0.3153, degree 21 */
#define FA_WZC_GELU_TANH_HI -0.7524614220710163
#define FA_WZC_GELU_TANH_LO 3.635560509207687e-17
#define FA_WZC_GELU_TANH_W 0.3152811614625497
#define FA_WZC_GELU_TANH_C1LO 2.028254970529195e-17
#define FA_WZC_GELU_TANH_N 21
static const double fa_wzc_gelu_tanh[21] = {0.4304000910248585, 0.38751844613578895, -0.01578285352184803, -0.11394448308095899, -0.01661932834305256, 0.019682309459833118, 0.005261059254921912, -0.0024227318458750974, -0.0009274420230205449, 0.00026392764052681053, 0.00012425227802639782, -3.4956171694436116e-05, -1.5950896871645105e-05, 5.918611710894005e-06, 2.4335516344299543e-06, -9.898647747433667e-07, -4.3102482988029016e-07, 1.4157556987729473e-07, 7.520740909289922e-08, -1.6978217459781023e-08, -1.196180847972441e-08};
/* mish: zero of f' at -1.1924312145154952121, window +-0.538, degree 27 */
#define FA_WZC_MISH_HI -1.1924312145154952
#define FA_WZC_MISH_LO -4.8484829848031044e-17
#define FA_WZC_MISH_W 0.5380259683776211
#define FA_WZC_MISH_C1LO 1.5332816617135587e-17
#define FA_WZC_MISH_N 27
static const double fa_wzc_mish[27] = {0.2669479140495345, 0.20473126408010586, 0.04190782104360987, -0.020271822716684245, -0.01582112656173338, -0.0033606849270232685, 0.0010924055409445854, 0.0009898181021289196, 0.00025412936386191073, -4.1961496031696126e-05, -5.582891567360688e-05, -1.72992708103044e-05, 9.427361327376651e-07, 2.9088199364912223e-06, 1.071676702702074e-06, 2.6879417855557728e-08, -1.4117255919499382e-07, -6.174424363104907e-08, -5.460186173028381e-09, 6.3895954615089855e-09, 3.3604012383661332e-09, 4.817646300218697e-10, -2.6751871594311224e-10, -1.7442209713382678e-10, -3.3904729895707114e-11, 1.0101727316036154e-11, 8.681382594457511e-12};

FA_INLINE double fa_zwindow(double d, double u, double ul, double hi, double lo, double w,
                            double c1lo, const double *c, int n)
{
    double a = u - hi;                        /* TwoSum: not exact far from x0 */
    double bb = a - u;
    double ae = (u - (a - bb)) + (-hi - bb);
    double b = (ul - lo) + ae;
    double th = a + b;
    double tl = (a - th) + b;
    double q = c[n - 1];
#pragma GCC unroll 32   /* n <= 27: unrolled, the callers' loops vectorise */
    for (int i = n - 2; i >= 1; i--) q = FA_FMA(q, th, c[i]);
    double c1 = c[0];
    double small = FA_FMA(th, c1lo, tl * c1);
    small = FA_FMA(th * th, q, small);
    double ph = th * c1;
    double y = ph + (small + fa_prod_lo(th, c1, ph));
    return fabs(a) < w ? y : d;
}
/* ---------------- windows for the float32 (lowp) terms ----------------
 * The same idea for terms good to ~2^-34 (the AVX-512 double lanes, and the
 * lowp erfc of gelu' everywhere): the window is where the cancellation
 * would amplify that beyond 2^6 (outside it the result keeps 2^-28, 1/16
 * float ULP), the Taylor truncation < 2^-40 relative to f'.
 * Generated by: python src_c/gen_deriv_zeros.py */
/* silu: zero of f' at -1.2784645427610737951, window +-0.01643, degree 5 */
#define FA_WZ_SILU_HI -1.2784645427610737
#define FA_WZ_SILU_LO -1.0946994183093437e-16
#define FA_WZ_SILU_W 0.016434460956626883
#define FA_WZ_SILU_N 5
static const double fa_wz_silu[5] = {0.2178117057198001, 0.1466487969969469, 0.018874814223782312, -0.015222655223188032, -0.006606589138356696};
/* gelu: zero of f' at -0.75179152469356445746, window +-0.008627, degree 6 */
#define FA_WZ_GELU_HI -0.7517915246935645
#define FA_WZ_GELU_LO 1.4956759177009883e-17
#define FA_WZ_GELU_W 0.008626799339291776
#define FA_WZ_GELU_N 6
static const double fa_wz_gelu[6] = {0.4314939923140469, 0.388284982990552, -0.018199676398671087, -0.1140082332972217, -0.014771522148244337, 0.019421679838189067};
/* gelu_tanh: zero of f' at -0.75246142207101625849, window +-0.008645, degree 6 */
#define FA_WZ_GELU_TANH_HI -0.7524614220710163
#define FA_WZ_GELU_TANH_LO 3.635560509207687e-17
#define FA_WZ_GELU_TANH_W 0.008644501736232305
#define FA_WZ_GELU_TANH_N 6
static const double fa_wz_gelu_tanh[6] = {0.4304000910248585, 0.38751844613578895, -0.01578285352184803, -0.11394448308095899, -0.01661932834305256, 0.019682309459833118};
/* mish: zero of f' at -1.1924312145154952121, window +-0.01594, degree 6 */
#define FA_WZ_MISH_HI -1.1924312145154952
#define FA_WZ_MISH_LO -4.8484829848031044e-17
#define FA_WZ_MISH_W 0.01593551150842917
#define FA_WZ_MISH_N 6
static const double fa_wz_mish[6] = {0.2669479140495345, 0.20473126408010586, 0.04190782104360987, -0.020271822716684245, -0.01582112656173338, -0.0033606849270232685};

/* f' where |t| >= W, else t (c[0] + c[1] t + ...), t = (u - hi) - lo
 * (u - hi exact by Sterbenz on the window) */
FA_INLINE double fa_lwindow(double d, double u, double hi, double lo, double w, const double *c,
                            int n)
{
    double t = (u - hi) - lo;
    double q = c[n - 1];
#pragma GCC unroll 16
    for (int i = n - 2; i >= 0; i--) q = FA_FMA(q, t, c[i]);
    return fabs(t) < w ? q * t : d;
}
#define FA_LWIN(d, u, NAME, name) \
    fa_lwindow((d), (u), FA_WZ_##NAME##_HI, FA_WZ_##NAME##_LO, FA_WZ_##NAME##_W, fa_wz_##name, \
               FA_WZ_##NAME##_N)

#define FA_ZWIN(d, u, ul, NAME, name) \
    fa_zwindow((d), (u), (ul), FA_WZC_##NAME##_HI, FA_WZC_##NAME##_LO, FA_WZC_##NAME##_W, \
               FA_WZC_##NAME##_C1LO, fa_wzc_##name, FA_WZC_##NAME##_N)

/* ---------------- sigmoid family ---------------- */

/* float64: sigmoid(v) (deriv = 0) or sigmoid'(v) = e / (1 + e)^2
 * (deriv = 1), e = exp(-|v|) for v = vh + vl, from e as hi + lo (scaled
 * by 2^S, fa_exp_s2), q = 1 + e as a double-double and one corrected
 * quotient, rounded once (the plain e / (q q): up to 3.2 ULP, and g f'
 * 4.0).  `scale` (a power of two) multiplies the result before the
 * final unscaling. */
FA_INLINE double fa_sig_dd(double vh, double vl, int deriv, double scale)
{
    double m, el;
    double es = fa_exp_s2(-fabs(vh), vh < 0.0 ? vl : -vl, 0, &m, &el);
    double eu = es * m, eul = el * m;            /* unscaled (q = 1 where m != 1) */
    double e1;
    double qh = fa_two_sum(1.0, eu, &e1);
    double ql = e1 + eul;
    double Dh = qh, Dl = ql;
    if (deriv) {
        Dh = qh * qh;
        Dl = fa_prod_lo(qh, qh, Dh) + 2.0 * qh * ql;
    }
    int sc = deriv || vh < 0.0;                  /* numerator e (scaled) or 1 */
    double Nh = sc ? es : 1.0, Nl = sc ? el : 0.0;
    double c;
    double r = fa_dd_quot(Nh, Nl, Dh, Dl, 1.0 / Dh, &c);
    double y = ((r + c) * scale) * (sc ? m : 1.0);
    return vh != vh ? vh : y;
}

FA_INLINE double fa_dcore_sigmoid(double x, const fa_params *p, int lowp)
{
    (void)p;
    /* lowp: sigmoid' = e/(1+e)^2 has relative condition number <= 1 in e */
    return lowp ? fa_dsig(fa_lsig_e(x)) : fa_sig_dd(x, 0.0, 1, 1.0);
}

/* log_sigmoid'(x) = sigmoid(-x). */
FA_INLINE double fa_dcore_log_sigmoid(double x, const fa_params *p, int lowp)
{
    (void)p;
    return lowp ? fa_lsig(-x) : fa_sig_dd(-x, 0.0, 0, 1.0);
}

/* 1/6 strictly inside (-3, 3) (PyTorch: 0 at the kinks). */
FA_INLINE double fa_dcore_hard_sigmoid(double x, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    double d = (x > -3.0 && x < 3.0) ? 1.0 / 6.0 : 0.0;
    return fa_dnan(x, d);
}

/* ---------------- tanh family ---------------- */

/* tanh' = 1 - tanh^2 = sech^2 = 4e / (1 + e)^2, e = exp(-2|x|): no
 * cancellation for large |x| (1 - t^2 loses everything there). */
FA_INLINE double fa_dcore_tanh(double x, const fa_params *p, int lowp)
{
    (void)p;
    if (!lowp)
        return fa_sig_dd(2.0 * x, 0.0, 1, 4.0);     /* sech^2 x = 4 sigmoid'(2x) */
    return 4.0 * fa_dsig(fa_lsig_e(2.0 * x));      /* 4 e/(1+e)^2 <= 4 e: the clamp holds */
}

/* 1 strictly inside (min_val, max_val), 0 at and outside the edges. */
FA_INLINE double fa_dcore_hardtanh(double x, const fa_params *p, int lowp)
{
    (void)lowp;
    double d = (x > p->a && x < p->b) ? 1.0 : 0.0;
    return fa_dnan(x, d);
}

/* tanhshrink' = tanh^2 (tanh keeps relative accuracy near 0).
 * float64: t*t from a ~0.8-ULP tanh was 2.6 ULP (and g t^2 3.3), so tanh^2
 * is formed from tanhshrink's double-double pieces and rounded once:
 *   a <  0.85: tanh = a w, w = 1 - z (P + Pl) in [0.76, 1]  ->  z w^2
 *   a >= 0.85: tanh = 1 - u, u = 2/(e^2a + 1) <= 0.31       ->  1 - u (2 - u)
 * (every difference is a Fast2Sum: its larger operand is the exact 1 or 2). */
FA_INLINE double fa_dcore_tanhshrink(double x, const fa_params *p, int lowp)
{
    (void)p;
    if (lowp) {
        double t = fa_tanh(x, lowp);
        return t * t;
    }
    double a = fabs(x);
    double z, zl, Pl;
    double P = fa_tanhshrink_series(fa_min(a, 0.85), &z, &zl, &Pl);
    double zp = z * P;
    double zpl = fa_prod_lo(z, P, zp) + (zl * P + z * Pl);
    double w = 1.0 - zp;
    double wl = ((1.0 - w) - zp) - zpl;
    double W = w * w;
    double Wl = fa_prod_lo(w, w, W) + 2.0 * w * wl;
    double zW = z * W;
    double small = zW + (fa_prod_lo(z, W, zW) + (zl * W + z * Wl));
    double ul;
    double u = fa_one_minus_tanh(a, &ul);
    double b = 2.0 - u;
    double bl = ((2.0 - b) - u) - ul;
    double v = u * b;
    double vl = fa_prod_lo(u, b, v) + (u * bl + ul * b);
    double h = 1.0 - v;
    double big = h + (((1.0 - h) - v) - vl);
    double y = a < 0.85 ? small : big;
    return a == a ? y : a;                           /* NaN */
}

/* softsign' = 1 / (1 + |x|)^2 (0 at +-inf).
 * float64: q = 1 + |x| and q^2 as double-doubles, then one Newton
 * correction of the reciprocal: one rounding (~0.5 ULP) instead of four
 * (3.2 ULP measured).  |x| > 2^500 is scaled by 2^-600 (exact; 1 + |x| =
 * |x| there) and the result unscaled by two factors 2^-600, the second
 * rounding once into the subnormals: 1/x^2 is representable up to
 * |x| = 4.5e161, which the plain 1/(q q) flushed to 0 from 1.3e154. */
FA_INLINE double fa_dcore_softsign(double x, const fa_params *p, int lowp)
{
    (void)p;
    double a = fabs(x);
    double q = 1.0 + a;
    if (lowp)
        return 1.0 / (q * q);
    int huge = a > 0x1p500;
    double bb = q - a;
    double ql = huge ? 0.0 : (1.0 - bb) + (a - (q - bb));   /* TwoSum(a, 1) */
    double qs = huge ? a * 0x1p-600 : q;
    double Q = qs * qs;
    double Ql = fa_prod_lo(qs, qs, Q) + 2.0 * qs * ql;
    double rq = 1.0 / Q;
    double pr = rq * Q;
    double e = ((1.0 - pr) - fa_prod_lo(rq, Q, pr)) - rq * Ql;
    double c = FA_FMA(rq, e, rq);
    c = huge ? (c * 0x1p-600) * 0x1p-600 : c;
    return a == INFINITY ? 0.0 : c;                          /* NaN falls through */
}

/* ---------------- ReLU family ---------------- */

FA_INLINE double fa_dcore_relu(double x, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    return fa_dnan(x, x > 0.0 ? 1.0 : 0.0);            /* relu'(0) = 0 */
}

FA_INLINE double fa_dcore_relu6(double x, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    return fa_dnan(x, (x > 0.0 && x < 6.0) ? 1.0 : 0.0);  /* 0 at 0 and 6 */
}

FA_INLINE double fa_dcore_leaky_relu(double x, const fa_params *p, int lowp)
{
    (void)lowp;
    return fa_dnan(x, x > 0.0 ? 1.0 : p->a);           /* slope at 0 */
}

/* elu' = alpha exp(x) for x <= 0 (the min() keeps exp finite for x > 0). */
FA_INLINE double fa_dcore_elu(double x, const fa_params *p, int lowp)
{
    double n = p->a * fa_exp(fa_min(x, 0.0), lowp);
    return x > 0.0 ? 1.0 : n;
}

/* celu' = exp(x / alpha) for x <= 0.  exp's relative condition number is
 * |x / alpha| (up to ~745), so in float64 the rounding error of the
 * quotient q is recovered exactly (x - q alpha is exact: Sterbenz plus the
 * product's low part) and enters exp through fa_exp_dd. */
FA_INLINE double fa_dcore_celu(double x, const fa_params *p, int lowp)
{
    double xn = fa_min(x, 0.0);
    double q = xn / p->a;
    double lo = 0.0;
    if (!lowp) {
        double pr = q * p->a;
        lo = ((xn - pr) - fa_prod_lo(q, p->a, pr)) / p->a;
        lo = fabs(q) < 1e300 ? lo : 0.0;
    }
    double n = fa_exp_dd(q, lo, lowp);
    return x > 0.0 ? 1.0 : n;
}

/* selu' = scale alpha e^x for x <= 0.  float64: the constant (its own
 * rounding FA_SELU_ALPHA_SCALE_LO) and e^x (exp's low part) as
 * double-doubles, one rounding: 1.4 ULP -> ~0.9 (and g f' 2.1 -> ~1.4). */
#define FA_SELU_ALPHA_SCALE_LO 1.41535193800845e-17 /* mpmath: alpha*scale - the double */
FA_INLINE double fa_dcore_selu(double x, const fa_params *p, int lowp)
{
    (void)p;
    double n;
    if (lowp) {
        n = FA_SELU_ALPHA_SCALE * fa_exp(fa_min(x, 0.0), lowp);
    } else {
        double el;
        double e = fa_exp_dd2(fa_min(x, 0.0), 0.0, &el);
        double y = FA_SELU_ALPHA_SCALE * e;
        double yl = fa_prod_lo(FA_SELU_ALPHA_SCALE, e, y)
                  + (FA_SELU_ALPHA_SCALE * el + FA_SELU_ALPHA_SCALE_LO * e);
        n = y + yl;
    }
    return x > 0.0 ? FA_SELU_SCALE : n;
}

/* ---------------- smooth ReLUs ---------------- */

/* gelu' = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi).
 * float32 (lowp): Phi = erfc(-x/sqrt2)/2 (no 1 + erf cancellation in the
 * left tail) by fa_erfc_lowp, the forward's vectorisable erfc (the C
 * library's erfc, called here until 2026-12-04, kept the loop scalar: the
 * AVX2/baseline gelu backward ran at 0.04x torch's), exp with x^2 rounded
 * (float32 needs ~2^-29), x phi(x) = 0 (not inf * 0) at +-inf; near the
 * zero at x = -0.7518 the ~2^-37 of those terms would cancel, so FA_LWIN
 * takes gelu''s Taylor polynomial there, as the AVX-512 kernel does.
 * float64: the pieces of fa_core_gelu (fa_gelu64_common), every term a
 * double-double, rounded once.  With a = |x|/sqrt2, e = exp(-a^2):
 *   C = Phi(-|x|) = erfc(a)/2,   X = |x| phi(x) = a e / sqrt(pi),
 *   gelu' = C - X (x < 0),  1 - C + X (x > 0).
 *   a < Z0:        Phi = 1/2 + x S(w)/2 (S of the forward's erf series),
 *                  gelu' = 1/2 + x (S/2 + e/sqrt(2 pi));
 *   Z0 <= a <= 15: C = e G / (2a), one corrected quotient;
 *   a > 15:        x < 0: gelu' = -X (1 - t A) (C/X = t A <= 1/450), the
 *                  scaling of e removed after the final product; x > 0: 1.
 * Near the zero of gelu' at x = -0.7518 C and X cancel without bound:
 * FA_ZWIN switches to the Taylor polynomial of gelu' around it there
 * (src_c/gen_deriv_zeros.py). */
#define FA_INV_SQRT_2PI 0.39894228040143267794
#define FA_INV_SQRT_2PI_LO (-2.4923272022777316e-17) /* 1/sqrt(2 pi) - FA_INV_SQRT_2PI */
#define FA_INV_SQRT_PI_LO 7.66772980658294e-18       /* 1/sqrt(pi) - FA_INV_SQRT_PI */
FA_INLINE double fa_dgelu64(double x, int with_tail);
FA_INLINE double fa_dcore_gelu(double x, const fa_params *p, int lowp)
{
    (void)p;
    if (!lowp)
        return fa_dgelu64(x, 1);
    double Phi = 0.5 * fa_erfc_lowp(-x * FA_INV_SQRT2);
    double xc = fa_min(fa_max(x, -60.0), 60.0);      /* exp(-1800) = 0 anyway */
    double m;
    double es = fa_exp_s(-0.5 * (xc * xc), 0.0, 1, &m);
    double xphi = ((x * FA_INV_SQRT_2PI) * es) * m;
    xphi = es == 0.0 ? 0.0 : xphi;
    return FA_LWIN(Phi + xphi, x, GELU, gelu);
}

/* float64 gelu'; with_tail = 0 (a constant) leaves out the x < -15 sqrt2
 * branch, for blocks without such an element (fa_dgelu64_blocks) */
FA_INLINE double fa_dgelu64(double x, int with_tail)
{
    fa_gelu64_st s;
    fa_gelu64_common(x, &s, with_tail);
    /* X = a e / sqrt(pi) (scaled by 1/m) */
    double xl, Xl, tl;
    double xh = fa_ddmul(s.a, s.al, s.e, s.el, &xl);
    double Xh = fa_ddmul(xh, xl, FA_INV_SQRT_PI, FA_INV_SQRT_PI_LO, &Xl);
    /* middle: C = e G / (2a) */
    double th = fa_ddmul(s.e, s.el, s.gh, s.gl, &tl);
    double am = fa_min(fa_max(s.a, FA_GELU64_Z0), FA_GELU64_ZMAX);
    double aml = am == s.a ? s.al : 0.0;
    double cl;
    double ch = fa_dd_quot(th, tl, 2.0 * am, 2.0 * aml, 0.5 * s.ia, &cl);
    double e1, e2;
    double dneg = fa_two_sum(ch, -Xh, &e1);
    dneg = dneg + (e1 + (cl - Xl));
    double u1 = fa_two_sum(1.0, -ch, &e1);
    double u2 = fa_two_sum(u1, Xh, &e2);
    double dpos = u2 + ((e1 + e2) + (Xl - cl));
    double d = x > 0.0 ? dpos : dneg;
    /* small: 1/2 + x (S/2 + e/sqrt(2 pi)) */
    double wh, wl, sl;
    double sh = fa_gelu64_S(x, &wh, &wl, &sl);
    double bl;
    double bh = fa_ddmul(s.e, s.el, FA_INV_SQRT_2PI, FA_INV_SQRT_2PI_LO, &bl);
    double Bh = fa_two_sum(0.5 * sh, bh, &e1);
    double Bl = e1 + (0.5 * sl + bl);
    double xs = fa_min(fa_max(x, -1.0), 1.0);
    double ph = xs * Bh;
    double pl = fa_prod_lo(xs, Bh, ph) + xs * Bl;
    double r1 = fa_two_sum(0.5, ph, &e1);
    double dsmall = r1 + (e1 + pl);
    d = s.ah < FA_GELU64_Z0 ? dsmall : d;
    if (with_tail) {
        /* left tail: -X (1 - t A) m */
        double P2 = s.t * s.Ah;
        double Wh = 1.0 - P2;
        double Wl = ((1.0 - Wh) - P2) - (fa_prod_lo(s.t, s.Ah, P2) + s.t * s.Al);
        double rl;
        double rh = fa_ddmul(Xh, Xl, Wh, Wl, &rl);
        double dtail = -((rh + rl) * s.m);
        d = (s.ah > FA_GELU64_ZMAX && x < 0.0) ? dtail : d;
    }
    d = (s.ah > FA_GELU64_ZMAX && x > 0.0) ? 1.0 : d;
    d = d == 0.0 ? 0.0 : d;                          /* gelu'(-inf) = +0 */
    return FA_ZWIN(d, x, 0.0, GELU, gelu);
}

/* gelu' (g = NULL) or g gelu' in float64, by blocks as fa_gelu64_blocks */
static inline void fa_dgelu64_blocks(const double *g, const double *x, double *y, fa_index n)
{
    for (fa_index i0 = 0; i0 < n; i0 += FA_GELU64_BLK) {
        fa_index m = n - i0 < FA_GELU64_BLK ? n - i0 : FA_GELU64_BLK;
        int any = fa_gelu64_has_tail(x + i0, m);
        if (g && any)
            for (fa_index i = 0; i < m; i++) y[i0 + i] = g[i0 + i] * fa_dgelu64(x[i0 + i], 1);
        else if (g)
            for (fa_index i = 0; i < m; i++) y[i0 + i] = g[i0 + i] * fa_dgelu64(x[i0 + i], 0);
        else if (any)
            for (fa_index i = 0; i < m; i++) y[i0 + i] = fa_dgelu64(x[i0 + i], 1);
        else
            for (fa_index i = 0; i < m; i++) y[i0 + i] = fa_dgelu64(x[i0 + i], 0);
    }
}

/* C x (1 + t) as hi + *lo, t = th + tl (C = 2 sqrt(2/pi) with its rounding). */
FA_INLINE double fa_gelu_tanh_cxw(double x, double th, double tl, double *lo)
{
    double e1, ml;
    double w = fa_two_sum(1.0, th, &e1);
    double mm = fa_ddmul(x, 0.0, w, e1 + tl, &ml);
    return fa_ddmul(FA_GELU_C, FA_GELU_C_LO, mm, ml, lo);
}

/* gelu_tanh(x) = x sigmoid(v), v = C (x + K1 x^3), C = 2 sqrt(2/pi):
 * derivative s(v) + x s(v)(1 - s(v)) v'(x), v' = C (1 + 3 K1 x^2).
 * With e = exp(-|v|) (scaled, see fa_dx_sigmoid): s = num / (1 + e),
 * s (1 - s) = e / (1 + e)^2.  float64: v and x v' as double-doubles (v
 * exactly as in fa_core_gelu_tanh: sigmoid's condition number is |v|) into
 * fa_dx_sig_dd, and the Taylor window around the zero at -0.7525. */
FA_INLINE double fa_dcore_gelu_tanh(double x, const fa_params *p, int lowp)
{
    (void)p;
    double xc = fa_min(fa_max(x, -64.0), 64.0);   /* |v| > 1400 beyond: e = 0 */
    if (!lowp) {
        /* v = C x (1 + K1 x^2) and u = x v' = C x (1 + 3 K1 x^2), both as
         * double-doubles (the constants' roundings included), then the
         * double-double s + u s (1 - s) of fa_dx_sig_dd */
        double x2l, tl, t3l, vl, ul;
        double x2 = fa_ddmul(xc, 0.0, xc, 0.0, &x2l);
        double t = fa_ddmul(FA_GELU_K1, FA_GELU_K1_LO, x2, x2l, &tl);
        double t3 = fa_ddmul(3.0, 0.0, t, tl, &t3l);
        double v = fa_gelu_tanh_cxw(xc, t, tl, &vl);
        double u = fa_gelu_tanh_cxw(xc, t3, t3l, &ul);
        double d = fa_dx_sig_dd(v, vl, u, ul);
        d = FA_ZWIN(d, x, 0.0, GELU_TANH, gelu_tanh);
        return x != x ? x : d;
    }
    double v = FA_GELU_C * xc * FA_FMA(FA_GELU_K1 * xc, xc, 1.0);
    double m;
    double es = fa_exp_s(-fabs(v), 0.0, 1, &m);
    double e = es * m;
    double q = 1.0 + e;
    double s = (v < 0.0 ? e : 1.0) / q;
    double vp = FA_GELU_C * FA_FMA(3.0 * FA_GELU_K1 * xc, xc, 1.0);
    double t2 = ((xc * vp) * es) / (q * q) * m;    /* x v' s (1 - s) */
    t2 = es == 0.0 ? 0.0 : t2;
    /* the x < 0 tail: s = e/q and t2 share the scaling; sum them scaled */
    double neg = ((es / q) + ((xc * vp) * es) / (q * q)) * m;
    neg = es == 0.0 ? 0.0 : neg;
    double y = v < 0.0 ? neg : s + t2;
    return x != x ? x : y;
}

FA_INLINE double fa_dcore_silu(double x, const fa_params *p, int lowp)
{
    (void)p;
    if (lowp)
        return fa_dx_sigmoid(x, 0.0, 1);
    double d = fa_dx_sig_dd(x, 0.0, x, 0.0);
    return FA_ZWIN(d, x, 0.0, SILU, silu);
}

/* swish'(x) = s(v) + v s(v)(1 - s(v)), v = beta x: the silu derivative at
 * v (float64: beta x's rounding error enters exp exactly, as in the
 * forward core). */
FA_INLINE double fa_dcore_swish(double x, const fa_params *p, int lowp)
{
    double v = p->a * x;
    double lo = lowp ? 0.0 : fa_prod_lo(p->a, x, v);
    lo = fabs(v) < 1e300 ? lo : 0.0;
    if (lowp)
        return fa_dx_sigmoid(v, lo, 1);
    double d = fa_dx_sig_dd(v, lo, v, lo);
    return FA_ZWIN(d, v, lo, SILU, silu);
}

/* PyTorch: 0 for x < -3, (2x + 3)/6 for -3 <= x <= 3, 1 above. */
FA_INLINE double fa_dcore_hardswish(double x, const fa_params *p, int lowp)
{
    (void)p;
    double d;
    if (lowp) {
        d = (2.0 * x + 3.0) * (1.0 / 6.0);
    } else {   /* 2x + 3 as a double-double, one corrected product by 1/6 */
        double sl;
        double sh = fa_two_sum(2.0 * x, 3.0, &sl);
        double c;
        double q = fa_dd_quot(sh, sl, 6.0, 0.0, 1.0 / 6.0, &c);
        d = q + c;
    }
    d = x < -3.0 ? 0.0 : d;
    d = x > 3.0 ? 1.0 : d;
    return d;                                     /* NaN falls through */
}

/* mish'(x) = tanh(sp) + x sigmoid(x) sech^2(sp), sp = softplus(x).  With
 * t = e^x, n = t (t + 2), D = n + 2: tanh(sp) = n / D and
 * sigmoid(x) sech^2(sp) = 4 t (t + 1) / D^2, so
 *   mish' = t ((t + 2) D + 4 x (t + 1)) / D^2
 * one exp, one division.  For x > 0 every term is positive; for x < 0 the
 * sum cancels only near the root x = -1.19 (inherent).  t is scaled
 * (fa_exp_s) so subnormal results round once; from x = 25 on the result is
 * 1 to double precision ((4x - 2) e^-2x < 1e-20), which also keeps D^2
 * finite. */
FA_INLINE double fa_dcore_mish(double x, const fa_params *p, int lowp)
{
    (void)p;
    double m;
    if (!lowp) {
        /* float64: t = e^x (hi + lo, scaled), A = t + 2, D = t A + 2,
         * B = t + 1, num = A D + 4 x B and D^2 as double-doubles, one
         * corrected quotient (the rounded form: up to 4.5 ULP, mish' at
         * -5.19).  t < 2^-1000 (scaled): A = 2, D = 2, B = 1 exactly. */
        double xc = fa_min(x, 25.0);
        double tl0;
        double ts = fa_exp_s2(xc, 0.0, 0, &m, &tl0);
        double tu = ts * m, tul = tl0 * m;
        double e1;
        double Ah = fa_two_sum(tu, 2.0, &e1);
        double Al = e1 + tul;
        double tlo;
        double th = fa_ddmul(tu, tul, Ah, Al, &tlo);
        double Dh = fa_two_sum(th, 2.0, &e1);
        double Dl = e1 + tlo;
        double Bh = fa_two_sum(tu, 1.0, &e1);
        double Bl = e1 + tul;
        double p1l;
        double p1 = fa_ddmul(Ah, Al, Dh, Dl, &p1l);
        double x4 = 4.0 * xc;
        double p2 = x4 * Bh;
        double p2l = fa_prod_lo(x4, Bh, p2) + x4 * Bl;
        double Nh = fa_two_sum(p1, p2, &e1);
        double Nl = e1 + (p1l + p2l);
        double Q = Dh * Dh;
        double Ql = fa_prod_lo(Dh, Dh, Q) + 2.0 * Dh * Dl;
        /* y = t N / D^2: (ts + tl) N as a double-double, then the quotient */
        double Ml;
        double Mh = fa_ddmul(ts, tl0, Nh, Nl, &Ml);
        double c;
        double r = fa_dd_quot(Mh, Ml, Q, Ql, 1.0 / Q, &c);
        double y = (r + c) * m;
        y = ts == 0.0 ? 0.0 : y;                  /* x = -inf: 0, not 0 * -inf */
        y = x >= 25.0 ? 1.0 : y;
        y = FA_ZWIN(y, x, 0.0, MISH, mish);
        return x != x ? x : y;
    }
    double ts = fa_exp_s(fa_min(x, 25.0), 0.0, lowp, &m);
    double t = ts * m;
    double D = FA_FMA(t, t + 2.0, 2.0);
    double num = FA_FMA(t + 2.0, D, 4.0 * fa_min(x, 25.0) * (t + 1.0));
    double y = (ts * num) / (D * D) * m;
    y = ts == 0.0 ? 0.0 : y;                      /* x = -inf: 0, not 0 * -inf */
    y = x >= 25.0 ? 1.0 : y;
    /* num cancels near the zero at x = -1.1924 (15 ULP there without the
     * window until 2026-12-04, on the AVX2/baseline paths) */
    return FA_LWIN(y, x, MISH, mish);
}

/* softplus' = sigmoid(beta x), 1 where beta x > threshold (PyTorch).
 * float64: beta x's rounding error enters exp (sigmoid's relative
 * condition number |beta x| in the left tail). */
FA_INLINE double fa_dcore_softplus(double x, const fa_params *p, int lowp)
{
    double v = p->a * x;
    double lo = lowp ? 0.0 : fa_prod_lo(p->a, x, v);
    lo = fabs(v) < 1e300 ? lo : 0.0;
    double s = lowp ? fa_lsig(v) : fa_sig_dd(v, lo, 0, 1.0);
    return v > p->b ? 1.0 : s;
}

/* ---------------- derivatives from the forward output y ---------------- */

/* sigmoid' = y (1 - y): 1 - y is exact for y >= 1/2 (Sterbenz). */
FA_INLINE double fa_ycore_sigmoid(double y, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    return y * (1.0 - y);
}

/* tanh' = 1 - y^2 = (1 - y)(1 + y): both factors exact near |y| = 1. */
FA_INLINE double fa_ycore_tanh(double y, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    return (1.0 - y) * (1.0 + y);
}

/* elu, alpha >= 0 (checked in Python): x <= 0 <=> y <= 0, and there
 * alpha e^x = y + alpha (cancels as x -> -inf: the from-y form is
 * absolutely, not relatively, accurate there -- use x for that). */
FA_INLINE double fa_ycore_elu(double y, const fa_params *p, int lowp)
{
    (void)lowp;
    return y > 0.0 ? 1.0 : y + p->a;
}

/* celu: exp(x/alpha) = y / alpha + 1 for y <= 0. */
FA_INLINE double fa_ycore_celu(double y, const fa_params *p, int lowp)
{
    (void)lowp;
    return y > 0.0 ? 1.0 : y / p->a + 1.0;
}

/* selu: scale alpha e^x = y + scale alpha for y <= 0; scale above. */
FA_INLINE double fa_ycore_selu(double y, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    return y > 0.0 ? FA_SELU_SCALE : y + FA_SELU_ALPHA_SCALE;
}

/* The output-based backward kernels: X(name) for every fa_ycore_<name>. */
#define FA_FROM_Y_LIST(X) X(sigmoid) X(tanh) X(elu) X(celu) X(selu)

#endif /* FA_DERIVATIVES_H */
