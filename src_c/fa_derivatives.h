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

/* ---------------- sigmoid family ---------------- */

FA_INLINE double fa_dcore_sigmoid(double x, const fa_params *p, int lowp)
{
    (void)p;
    return fa_dsig(fa_exp(-fabs(x), lowp));
}

/* log_sigmoid'(x) = sigmoid(-x). */
FA_INLINE double fa_dcore_log_sigmoid(double x, const fa_params *p, int lowp)
{
    (void)p;
    return fa_sigmoid(-x, lowp);
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
    double e = fa_exp(-2.0 * fabs(x), lowp);
    return 4.0 * fa_dsig(e);
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
 * Phi = erfc(-x/sqrt2)/2 (no 1 + erf cancellation in the left tail).
 * exp's relative condition number is x^2/2 (up to ~745), so in float64 x^2
 * is carried as a double-double into the exponential; the exponential is
 * scaled (fa_exp_s) so that x phi(x) is rounded once where it is subnormal,
 * and x phi(x) is 0 (not inf * 0) at +-inf.  In the left tail Phi is
 * ~x^-2 of x phi, so the sum cancels mildly (only near the root -0.7518,
 * where the absolute error is ~1 ulp of Phi: inherent). */
#define FA_INV_SQRT_2PI 0.39894228040143267794
FA_INLINE double fa_dcore_gelu(double x, const fa_params *p, int lowp)
{
    (void)p;
    double Phi = 0.5 * erfc(-x * FA_INV_SQRT2);
    double xc = fa_min(fa_max(x, -60.0), 60.0);  /* exp(-1800) = 0 anyway */
    double xx = xc * xc;
    double xxl = lowp ? 0.0 : fa_prod_lo(xc, xc, xx);
    double m;
    double es = fa_exp_s(-0.5 * xx, -0.5 * xxl, lowp, &m);
    double xphi = ((x * FA_INV_SQRT_2PI) * es) * m;
    xphi = es == 0.0 ? 0.0 : xphi;
    return Phi + xphi;
}

/* gelu_tanh(x) = x sigmoid(v), v = C (x + K1 x^3), C = 2 sqrt(2/pi):
 * derivative s(v) + x s(v)(1 - s(v)) v'(x), v' = C (1 + 3 K1 x^2).
 * float64: v carried as a double-double exactly as in fa_core_gelu_tanh
 * (sigmoid's condition number |v|).  With e = exp(-|v|) (scaled, see
 * fa_dx_sigmoid): s = num / (1 + e), s (1 - s) = e / (1 + e)^2. */
FA_INLINE double fa_dcore_gelu_tanh(double x, const fa_params *p, int lowp)
{
    (void)p;
    double xc = fa_min(fa_max(x, -64.0), 64.0);   /* |v| > 1400 beyond: e = 0 */
    double v = FA_GELU_C * xc * FA_FMA(FA_GELU_K1 * xc, xc, 1.0);
    double lo = 0.0;
    if (!lowp) {
        double x2 = xc * xc;
        double x2l = fa_prod_lo(xc, xc, x2);
        double t = FA_GELU_K1 * x2;
        double tl = fa_prod_lo(FA_GELU_K1, x2, t) + (FA_GELU_K1 * x2l + FA_GELU_K1_LO * x2);
        double w = 1.0 + t;                       /* two-sum: w + wl = 1 + t + tl */
        double bb = w - 1.0;
        double wl = ((1.0 - (w - bb)) + (t - bb)) + tl;
        double mm = xc * w;
        double ml = fa_prod_lo(xc, w, mm) + xc * wl;
        v = FA_GELU_C * mm;
        lo = fa_prod_lo(FA_GELU_C, mm, v) + (FA_GELU_C * ml + FA_GELU_C_LO * mm);
    }
    double m;
    double es = fa_exp_s(-fabs(v), v < 0.0 ? lo : -lo, lowp, &m);
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
    return fa_dx_sigmoid(x, 0.0, lowp);
}

/* swish'(x) = s(v) + v s(v)(1 - s(v)), v = beta x: the silu derivative at
 * v (float64: beta x's rounding error enters exp exactly, as in the
 * forward core). */
FA_INLINE double fa_dcore_swish(double x, const fa_params *p, int lowp)
{
    double v = p->a * x;
    double lo = lowp ? 0.0 : fa_prod_lo(p->a, x, v);
    lo = fabs(v) < 1e300 ? lo : 0.0;
    return fa_dx_sigmoid(v, lo, lowp);
}

/* PyTorch: 0 for x < -3, (2x + 3)/6 for -3 <= x <= 3, 1 above. */
FA_INLINE double fa_dcore_hardswish(double x, const fa_params *p, int lowp)
{
    (void)p;
    double d = lowp ? (2.0 * x + 3.0) * (1.0 / 6.0) : (2.0 * x + 3.0) / 6.0;  /* as the forward */
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
    double ts = fa_exp_s(fa_min(x, 25.0), 0.0, lowp, &m);
    double t = ts * m;
    double D = FA_FMA(t, t + 2.0, 2.0);
    double num = FA_FMA(t + 2.0, D, 4.0 * fa_min(x, 25.0) * (t + 1.0));
    double y = (ts * num) / (D * D) * m;
    y = ts == 0.0 ? 0.0 : y;                      /* x = -inf: 0, not 0 * -inf */
    y = x >= 25.0 ? 1.0 : y;
    return y;
}

/* softplus' = sigmoid(beta x), 1 where beta x > threshold (PyTorch).
 * float64: beta x's rounding error enters exp (sigmoid's relative
 * condition number |beta x| in the left tail). */
FA_INLINE double fa_dcore_softplus(double x, const fa_params *p, int lowp)
{
    double v = p->a * x;
    double lo = lowp ? 0.0 : fa_prod_lo(p->a, x, v);
    lo = fabs(v) < 1e300 ? lo : 0.0;
    double e = fa_exp_dd(-fabs(v), v < 0.0 ? lo : -lo, lowp);
    double s = (v < 0.0 ? e : 1.0) / (1.0 + e);
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
