/*
 * fa_activations.h -- the scalar definition of every elementwise activation.
 *
 * ONE place per activation: a `fa_core_<name>(x, p, lowp)` function in double
 * plus one line in FA_UNARY_LIST below.  The array kernels for float32 and
 * float64 and every ISA are generated from these (fa_kernels_impl.h), the
 * dispatcher's tables too (fa_dispatch.c).
 *
 * Parameters arrive in fa_params (a, b, c, d), already validated in Python.
 * Special values (every core; checked by the tests and `fastact check`):
 *   NaN -> NaN;  +-inf -> the mathematical limit;  odd functions keep the
 *   sign of zero;  "x * something" functions return a zero with the sign of
 *   x where the something underflows (never inf * 0 = NaN).
 */
#ifndef FA_ACTIVATIONS_H
#define FA_ACTIVATIONS_H

#include "fa_math.h"
#include "fa_kernels.h" /* fa_params */

/* x * s where s in [0, 1] may underflow to 0: returns +-0 instead of NaN
 * for x = +-inf, and keeps the sign of x. */
FA_INLINE double fa_mul_lim(double x, double s)
{
    return s == 0.0 ? copysign(0.0, x) : x * s;
}


/* exp(hi + lo) for |lo| << ulp(hi): the low part of a product is folded
 * into the reduced argument (used where float64 needs beta*x exactly). */
FA_INLINE double fa_exp_dd(double hi, double lo, int lowp)
{
    double x = fa_min(fa_max(hi, -746.0), 710.0);
    lo = fabs(hi) < 746.0 ? lo : 0.0; /* a clamped hi makes lo meaningless */
    double kd;
    int64_t k;
    double r = fa_reduce(x, &kd, &k) + lo;
    double p = 1.0 + fa_expm1_poly(r, lowp);
    uint64_t ku = (uint64_t)(k + 2048);
    uint64_t k1 = (ku >> 1);
    uint64_t k2 = ku - k1;
    return (p * fa_asf64((k1 - 1) << 52)) * fa_asf64((k2 - 1) << 52);
}

/* exp(hi + lo) as e + *el: the rounding of 1 + q is returned in *el
 * (float64 sums that must not lose it: softmax). */
FA_INLINE double fa_exp_dd2(double hi, double lo, double *el)
{
    double x = fa_min(fa_max(hi, -746.0), 710.0);
    lo = fabs(hi) < 746.0 ? lo : 0.0;
    double kd;
    int64_t k;
    double r = fa_reduce(x, &kd, &k) + lo;
    double q = fa_expm1_poly(r, 0);
    double p = 1.0 + q;
    double pl = (1.0 - p) + q;
    uint64_t ku = (uint64_t)(k + 2048);
    uint64_t k1 = (ku >> 1);
    uint64_t k2 = ku - k1;
    double s1 = fa_asf64((k1 - 1) << 52), s2 = fa_asf64((k2 - 1) << 52);
    *el = (pl * s1) * s2;
    return (p * s1) * s2;
}

/*
 * exp(hi + lo) * 2^S, and *m = 2^-S, for products x * exp(v): in float64,
 * exp(v) becomes subnormal below v = -708 and would lose bits BEFORE the
 * multiplication by x (silu(-745) = -745 e^-745 would come out 75% high).
 * S = 1000 when the result is below 2^-1000 keeps it normal until the final
 * (x * e) * m, a single rounding.  Results are 0 for hi < -1400 (there
 * |x| e^v < 1e-300 unless |x| > 1e300).  lowp (float32 in double) needs no
 * scaling: S = 0, and 0 below hi = -746.
 */
FA_INLINE double fa_exp_s2(double hi, double lo, int lowp, double *m, double *el)
{
    if (lowp) {
        *m = 1.0;
        *el = 0.0;
        return fa_exp_dd(hi, lo, 1);
    }
    double x = fa_min(fa_max(hi, -1400.0), 710.0);
    lo = fabs(hi) < 1400.0 ? lo : 0.0;
    double kd;
    int64_t k;
    double r = fa_reduce(x, &kd, &k) + lo;
    double q = fa_expm1_poly(r, lowp);
    double p = 1.0 + q;
    double pl = (1.0 - p) + q;               /* exact: |q| < 1 (Fast2Sum) */
    int64_t big = k < -1000;
    k = big ? k + 1000 : k;
    *m = big ? 0x1p-1000 : 1.0;
    uint64_t ku = (uint64_t)(k + 2048);
    uint64_t k1 = (ku >> 1);
    uint64_t k2 = ku - k1;
    double s1 = fa_asf64((k1 - 1) << 52), s2 = fa_asf64((k2 - 1) << 52);
    double e = (p * s1) * s2;
    *el = hi < -1400.0 ? 0.0 : (pl * s1) * s2;
    return hi < -1400.0 ? 0.0 : e;
}

FA_INLINE double fa_exp_s(double hi, double lo, int lowp, double *m)
{
    double el;
    return fa_exp_s2(hi, lo, lowp, m, &el);
}

/* x * sigmoid(v), v = hi + lo exactly: sigmoid through exp(-|v|), the
 * product formed before the final scaling (see fa_exp_s), +-0 (sign of x)
 * where it underflows, never inf * 0.
 * float64: exp's low part (el), the rounding of 1 + e and of the quotient
 * are carried into one correction term, so the result is within ~0.6 ULP
 * (a plain num/(1+e) then x*s accumulates ~2.8 ULP). */
FA_INLINE double fa_x_sigmoid(double x, double v, double lo, int lowp)
{
    double m, el;
    double e = fa_exp_s2(-fabs(v), v < 0.0 ? lo : -lo, lowp, &m, &el);
    double et = e * m;                       /* unscaled: only added to 1 */
    double num = v < 0.0 ? e : 1.0;
    double dh = 1.0 + et;
    double s = num / dh;
    double sc = v < 0.0 ? m : 1.0;
    double y = (x * s) * sc;
    if (!lowp) {
        double dl = ((1.0 - dh) + et) + el * m;          /* 1 + e = dh + dl */
        double nl = v < 0.0 ? el : 0.0;                  /* num = num + nl  */
        double ph = s * dh;
        double r = ((num - ph) - fa_prod_lo(s, dh, ph)) + (nl - s * dl);
        double corr = r / dh;                            /* sigmoid = s + corr */
        double xs = x * s;
        double t = fabs(x) < INFINITY ? fa_prod_lo(x, s, xs) + x * corr : 0.0;
        y = (t != 0.0 ? xs + t : xs) * sc;               /* keeps -0 */
    }
    return s == 0.0 ? copysign(0.0, x) : y;
}

/* ---------------- sigmoid family ---------------- */

FA_INLINE double fa_core_sigmoid(double x, const fa_params *p, int lowp)
{
    (void)p;
    return fa_x_sigmoid(1.0, x, 0.0, lowp);
}

/* log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|)): no overflow, and the
 * small log1p term keeps full relative accuracy for large positive x. */
FA_INLINE double fa_core_log_sigmoid(double x, const fa_params *p, int lowp)
{
    (void)p;
    double el = 0.0;
    double e = lowp ? fa_exp(-fabs(x), 1) : fa_exp_dd2(-fabs(x), 0.0, &el);
    double l = fa_log1p01(e, lowp) + el / (1.0 + e);   /* float64: exp's low part */
    return -(l - fa_min(x, 0.0)); /* = min(x,0) - l, but -0 when l underflows */
}

/* hard_sigmoid(x) = relu6(x + 3) / 6.  (x + 3) is exact near x = -3
 * (Sterbenz), unlike x/6 + 1/2, which cancels there. */
FA_INLINE double fa_core_hard_sigmoid(double x, const fa_params *p, int lowp)
{
    (void)p;
    /* float32 (lowp): x + 3 is exact in double and one product by 1/6
     * (2^-53 relative) before the float rounding is as good as the
     * quotient, without a vdivpd (10+ cycles per 8 lanes) per element */
    double y = lowp ? (x + 3.0) * (1.0 / 6.0) : (x + 3.0) / 6.0;
    y = x <= -3.0 ? 0.0 : y;
    return x >= 3.0 ? 1.0 : y;
}

/* ---------------- tanh family ---------------- */

FA_INLINE double fa_core_tanh(double x, const fa_params *p, int lowp)
{
    (void)p;
    return fa_tanh(x, lowp);
}

/* hardtanh: a = min_val, b = max_val (a <= b checked in Python). */
FA_INLINE double fa_core_hardtanh(double x, const fa_params *p, int lowp)
{
    (void)lowp;
    double y = x < p->a ? p->a : x;
    return y > p->b ? p->b : y;
}

/* tanhshrink(x) = x - tanh(x), odd.  With a = |x|:
 *  a >= 0.85: (a - 1) + 2/(exp(2a) + 1): both terms are >= 0 past a = 1 and
 *             the cancellation below 1 costs at most a factor 1.3.
 *  a <  0.85: x - tanh x cancels (a^3/3 left of a), so use the Taylor series
 *             a^3 * sum d_m a^(2m), d_m = -2^(2n)(2^(2n)-1)B_2n/(2n)!, n=m+2
 *             (33 terms: 0.293^33 < 2e-18 relative), computed with mpmath:
 *             [ -2**(2n)*(2**(2n)-1)*bernoulli(2n)/factorial(2n) ]
 *  lowp (float32): the series to a < 0.3 (10 terms: the ratio of successive
 *             terms is ~0.405 a^2 <= 0.037, so the tail is < 1e-13 relative),
 *             then a - tanh(a) for every a >= 0.3 with the lowp tanh
 *             E/(E + 2), E = expm1(2a) (~1e-11 relative): a - tanh(a) loses
 *             a factor tanh(a)/(a - tanh(a)) < 3/a^2 <= 34, i.e. < 4e-10
 *             relative (< 0.01 float32 ulp); past a = 44 expm1's clamp makes
 *             tanh exactly 1, as it is in double.  One expm1 and one divide.
 */
static const double fa_tanhshrink_coef[33] = {
    0.3333333333333333,
    -0.13333333333333333,
    0.05396825396825397,
    -0.021869488536155203,
    0.008863235529902197,
    -0.003592128036572481,
    0.0014558343870513183,
    -0.000590027440945586,
    0.00023912911424355248,
    -9.691537956929451e-05,
    3.927832388331683e-05,
    -1.5918905069328964e-05,
    6.451689215655431e-06,
    -2.6147711512907546e-06,
    1.0597268320104654e-06,
    -4.294911078273806e-07,
    1.7406618963571648e-07,
    -7.054636946400968e-08,
    2.859136662305254e-08,
    -1.1587644432798853e-08,
    4.6962953982309016e-09,
    -1.903336833931276e-09,
    7.713933635359062e-10,
    -3.126339545892087e-10,
    1.26705769303054e-10,
    -5.135191408039368e-11,
    2.0812146867700473e-11,
    -8.434845419094337e-12,
    3.4185140868111557e-12,
    -1.385471574294847e-12,
    5.61510479241468e-13,
    -2.2757162553728747e-13,
    9.223130585139532e-14

};

/* float64 pieces of tanhshrink (shared with its derivative, fa_dcore_tanhshrink):
 * the series factor P + *Pl = sum d_m z^m with z = a^2 = z + *zl exactly
 * (the last Horner step carried as hi + lo, 1/3's own rounding included),
 * so that a - tanh(a) = a^3 (P + Pl) and tanh(a) = a (1 - z (P + Pl)). */
#define FA_THIRD_LO 1.850371707708594e-17 /* 1/3 - fa_tanhshrink_coef[0] */
FA_INLINE double fa_tanhshrink_series(double a, double *z_out, double *zl_out, double *Pl)
{
    double z = a * a;
    double q = fa_tanhshrink_coef[32];
#pragma GCC unroll 40
    for (int i = 31; i >= 1; i--) q = FA_FMA(q, z, fa_tanhshrink_coef[i]);
    double zl = fa_prod_lo(a, a, z);
    double zq = z * q;
    double zql = fa_prod_lo(z, q, zq) + zl * q;
    double P = fa_tanhshrink_coef[0] + zq;            /* Fast2Sum: |1/3| > |zq| */
    *Pl = ((fa_tanhshrink_coef[0] - P) + zq) + (zql + FA_THIRD_LO);
    *z_out = z;
    *zl_out = zl;
    return P;
}

/* u + *ul = 2 / (e^{2a} + 1) = 1 - tanh(a) for a >= 0, one quotient
 * correction with exp's low part (relative error ~0.6 * 2^-53: the rounding
 * of exp's reduced polynomial).  2a clamped at 100: from a = 50 on u <
 * 2^-142 is far below half an ULP of anything it is added to, and e^700
 * would overflow the product splits of the paths without FMA (fa_prod_lo:
 * Dekker's splitter times 1e304 is inf, and inf - inf made tanhshrink(500)
 * NaN there). */
FA_INLINE double fa_one_minus_tanh(double a, double *ul)
{
    double el;
    double e = fa_exp_dd2(fa_min(a + a, 100.0), 0.0, &el);
    double dh = e + 1.0;
    double b1 = dh - e;
    double dl = ((e - (dh - b1)) + (1.0 - b1)) + el;  /* TwoSum(e, 1) + el */
    double qt = 2.0 / dh;
    double ph = qt * dh;
    *ul = (((2.0 - ph) - fa_prod_lo(qt, dh, ph)) - qt * dl) / dh;
    return qt;
}

FA_INLINE double fa_core_tanhshrink(double x, const fa_params *p, int lowp)
{
    (void)p;
    double a = fabs(x);
    double s;
    double big;
    if (lowp) {
        double z = a * a;
        s = fa_tanhshrink_coef[9];
        /* fully unrolled: a loop left here keeps the element loop scalar */
#pragma GCC unroll 16
        for (int i = 8; i >= 0; i--) s = FA_FMA(s, z, fa_tanhshrink_coef[i]);
        s = s * z * a;
        double e = fa_expm1(a + a, 1);  /* clamps 2a at 88 itself; NaN passes */
        big = a - e / (e + 2.0);
        s = a < 0.3 ? s : big;
    } else {
        /* float64: the series and a^3 = a*z carried as hi + lo, and
         * 2/(e^{2a} + 1) with one quotient correction: ~0.6 ULP instead
         * of ~2.5. */
        double z, zl, Pl;
        double P = fa_tanhshrink_series(a, &z, &zl, &Pl);
        double a3 = z * a;
        double a3l = fa_prod_lo(z, a, a3) + zl * a;
        double y = a3 * P;
        s = y + (fa_prod_lo(a3, P, y) + (a3 * Pl + a3l * P));
        double ql;
        double qt = fa_one_minus_tanh(a, &ql);
        double am1 = a - 1.0;                             /* exact on [0.5, 2] */
        double t = am1 + qt;
        double b2 = t - am1;
        double tl = ((am1 - (t - b2)) + (qt - b2)) + ql;
        big = a < 1e300 ? t + tl : am1;                   /* +inf: no inf - inf */
        s = a < 0.85 ? s : big;
    }
    return copysign(s, x);
}

/* softsign(x) = x / (1 + |x|), with softsign(+-inf) = +-1 (not inf/inf). */
FA_INLINE double fa_core_softsign(double x, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    double a = fabs(x);
    double r = a / (1.0 + a);
    r = a == INFINITY ? 1.0 : r;
    return copysign(r, x);
}

/* ---------------- ReLU family ---------------- */

/* relu(NaN) = NaN; relu(-0) = +0 (relu is not odd). */
FA_INLINE double fa_core_relu(double x, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    return (x > 0.0 || x != x) ? x : 0.0;
}

FA_INLINE double fa_core_relu6(double x, const fa_params *p, int lowp)
{
    (void)p; (void)lowp;
    double y = (x > 0.0 || x != x) ? x : 0.0;
    return y > 6.0 ? 6.0 : y;
}

/* leaky_relu: a = negative_slope.  Also the per-channel PReLU kernel. */
FA_INLINE double fa_core_leaky_relu(double x, const fa_params *p, int lowp)
{
    (void)lowp;
    return x > 0.0 ? x : x * p->a;
}

/* elu: a = alpha.  expm1 keeps relative accuracy near 0^-. */
FA_INLINE double fa_core_elu(double x, const fa_params *p, int lowp)
{
    double n = p->a * fa_expm1(fa_min(x, 0.0), lowp);
    return x > 0.0 ? x : n;
}

/* celu: a = alpha (> 0, checked in Python). */
FA_INLINE double fa_core_celu(double x, const fa_params *p, int lowp)
{
    double n = p->a * fa_expm1(fa_min(x, 0.0) / p->a, lowp);
    return x > 0.0 ? x : n;
}

#define FA_SELU_SCALE 1.0507009873554804934193349852946
#define FA_SELU_ALPHA_SCALE 1.7580993408473768599402175208123 /* alpha*scale */

FA_INLINE double fa_core_selu(double x, const fa_params *p, int lowp)
{
    (void)p;
    double n = FA_SELU_ALPHA_SCALE * fa_expm1(fa_min(x, 0.0), lowp);
    return x > 0.0 ? FA_SELU_SCALE * x : n;
}

/* ---------------- smooth ReLUs ---------------- */

#define FA_INV_SQRT2 0.70710678118654752440
#define FA_INV_SQRT2_LO (-4.8336466567264567e-17) /* 1/sqrt2 - FA_INV_SQRT2 */

/*
 * erfc(z) for the float32 (lowp) kernels, ~1e-11 relative over the range
 * float32 gelu needs, branch-free and vectorisable (libm erfc is neither).
 * Coefficients: src_c/gen_erfc.py (mpmath fits; its docstring has the
 * derivation and the measured fit errors, 8e-14 and 2e-14).  With a = |z|:
 *   a <  Z0:  1 - z Q(z^2)          (erf <= 0.72: the subtraction is benign)
 *   a >= Z0:  E = exp(-a^2) H(u), u = (ALPHA a - BETA)/(a + K), H the
 *             polynomial fit of exp(a^2) erfc(a); z < 0 gives 2 - E (in
 *             [1, 2], no cancellation).
 *   z > ZMAX (10.6): 0.  gelu(x) = x erfc(z)/2 rounds to -0 in float32 from
 *             z = 10.15 on, so 0 is exact enough and the fit stops there;
 *             a is clamped to ZMAX so z = -inf gives 2 - tiny = 2.
 * The error is the lowp exp's (~7e-12); a^2 and z = -x/sqrt2 are rounded
 * (~2e-16 relative), amplified by 2a^2 <= 225: < 5e-14.  NaN propagates
 * (every clamp and select lets it through).
 */
#define FA_ERFC_Z0 0.75
#define FA_ERFC_ZMAX 10.6
#define FA_ERFC_K 2.819574435974337
#define FA_ERFC_ALPHA 1.7247866875074795
#define FA_ERFC_BETA 4.863164451604947
static const double fa_erfc_tail_coef[15] = {
    0.1893560577425849,
    -0.19803925524051263,
    0.08366603451982312,
    -0.0278734632071247,
    0.006913902513540652,
    -0.0010880108728242594,
    3.3022362173841376e-05,
    2.843181122133016e-05,
    -4.5829633902953955e-06,
    -7.146351006843305e-07,
    2.393669952541538e-07,
    2.5102659219816637e-08,
    -1.195847396263327e-08,
    -1.153748993545835e-09,
    5.144671296508883e-10,
};
static const double fa_erf_small_coef[9] = {
    1.128379167095508,
    -0.3761263890302464,
    0.11283791663378456,
    -0.026866169254545144,
    0.005223964819155174,
    -0.0008547662807565419,
    0.00012035003953341778,
    -1.4559713295597388e-05,
    1.2829003640566355e-06,
};

FA_INLINE double fa_erfc_lowp(double z)
{
    double a = fabs(z);
    double zs = fa_min(fa_max(z, -FA_ERFC_Z0), FA_ERFC_Z0);  /* keep the unused */
    double at = fa_min(fa_max(a, FA_ERFC_Z0), FA_ERFC_ZMAX); /* branch finite */
    double w = zs * zs;
    double q = fa_erf_small_coef[8];
#pragma GCC unroll 16
    for (int i = 7; i >= 0; i--) q = FA_FMA(q, w, fa_erf_small_coef[i]);
    double small = 1.0 - zs * q;
    double u = (FA_ERFC_ALPHA * at - FA_ERFC_BETA) / (at + FA_ERFC_K);
    double h = fa_erfc_tail_coef[14];
#pragma GCC unroll 16
    for (int i = 13; i >= 0; i--) h = FA_FMA(h, u, fa_erfc_tail_coef[i]);
    double e = fa_exp(-(at * at), 1) * h;
    double c = z < 0.0 ? 2.0 - e : e;
    c = a < FA_ERFC_Z0 ? small : c;
    return z > FA_ERFC_ZMAX ? 0.0 : c;
}

/*
 * float64 gelu without the C library's erfc (which is not correctly rounded
 * and not vectorisable).  With a = |x|/sqrt2 (carried as ah + al):
 *     gelu(x) = max(x, 0) - V,   V = |x| Phi(-|x|) = exp(-a^2) G(a) / sqrt2,
 * G(a) = a exp(a^2) erfc(a) (flat: 0.31 at a = 0.5, 1/sqrt(pi) at infinity;
 * x/a = +-sqrt2 exactly, so no division by a).  G is a degree-22 polynomial
 * in u = (A a - B)/(a + K); coefficients, the measured errors and why each
 * piece is there: src_c/gen_erfc.py --float64.
 *   a <  Z0 (|x| < 0.71):  gelu = x/2 + w S(w), w = x^2/2, S = S0 + w R(w)
 *                          (the erf series; x/2 + w S cancels at most
 *                          2-fold for x < 0, so S, w S and the sum are
 *                          double-doubles, rounded once)
 *   Z0 <= a <= 15:         V from G; x < 0: -V; x > 0: x - V (V <= x/2:
 *                          no cancellation).  exp(-a^2) takes a^2 as a
 *                          double-double (exp's condition number is a^2,
 *                          225 here); G's constant term and last Horner
 *                          step are double-doubles, and the roundings of u
 *                          and of a enter through G'(a) to first order.
 *   x > 15 sqrt2:          x (V/x = erfc(15)/2 < 1e-99)
 *   x < -15 sqrt2 (z > 15): the asymptotic series below (subnormal results
 *                          from z = 26.5 on); z >= 40: -0.
 * NaN falls into the middle branch and propagates; gelu(+-0) = +-0.
 */
/* G: max rel error 8.2e-17 (C operations emulated) on [0.5, 15.0] */
/* R: max rel error 1.9e-16 (w R is <= 0.15 of S) on [0, 0.25] */
#define FA_GELU64_Z0 0.5
#define FA_GELU64_ZMAX 15.0
#define FA_GELU64_A 1.4467052120725283
#define FA_GELU64_B 3.9619653935620947
#define FA_GELU64_K 2.7386127875258306
#define FA_GELU64_G0_HI 0.5323446101264104
#define FA_GELU64_G0_LO -7.38937988435213e-19
#define FA_GELU64_S0_HI 0.7978845608028654
#define FA_GELU64_S0_LO -4.98465440455546e-17
static const double fa_gelu64_g[23] = { /* [0] unused: G0_HI + G0_LO */
    0.5323446101264104,
    0.07557864359651154,
    -0.07704802477640481,
    0.04701717638938847,
    -0.019430928094262792,
    0.005105456367438083,
    -0.0005220341773208087,
    -0.00015554990131585813,
    5.4775310723967955e-05,
    3.864520573006067e-06,
    -4.058828993716374e-06,
    -1.4672798282643298e-07,
    3.18946226475087e-07,
    2.1083501351170227e-08,
    -2.6504259085849473e-08,
    -4.033118310943102e-09,
    2.077267645375276e-09,
    6.439346663385225e-10,
    -1.1778443067136656e-10,
    -7.912042437100544e-11,
    -2.9133328009860756e-13,
    5.752090888320019e-12,
    7.131616821209211e-13,
};
static const double fa_gelu64_r[14] = {
    -0.26596152026762176,
    0.07978845608028654,
    -0.01899725144768727,
    0.0036939100037169693,
    -0.0006044580006082313,
    8.52440770088531e-05,
    -1.0554028582047752e-05,
    1.1640472700685732e-06,
    -1.1572399750902028e-07,
    1.0470265750466374e-08,
    -8.690700980710072e-10,
    6.66175951681654e-11,
    -4.720694253300898e-12,
    2.830376430421951e-13,
};
#define FA_INV_SQRT_PI 0.56418958354775628695
#define FA_GELU64_DADU (1.0 / (FA_GELU64_A * FA_GELU64_K + FA_GELU64_B))

/* a = |x|/sqrt2 as ah + *al. */
FA_INLINE double fa_gelu64_a(double x, double *al)
{
    double ax = fabs(x);
    double ah = ax * FA_INV_SQRT2;
    *al = fa_prod_lo(ax, FA_INV_SQRT2, ah) + ax * FA_INV_SQRT2_LO;
    return ah;
}

/* G(a) = a exp(a^2) erfc(a) as hi + *lo for a in [Z0, ZMAX] (exact double
 * a plus its low part al, which enters to first order; ia ~ 1/a). */
FA_INLINE double fa_gelu64_G(double a, double al, double ia, double *lo)
{
    /* u = n/d, n = A a - B and d = a + K exact as double-doubles; uh
     * ~ n/d from one reciprocal, ul = (n - uh d)/d its error */
    double pr = FA_GELU64_A * a;
    double nl;
    double nh = fa_two_sum(pr, -FA_GELU64_B, &nl);
    nl += fa_prod_lo(FA_GELU64_A, a, pr);
    double dl;
    double dh = fa_two_sum(a, FA_GELU64_K, &dl);
    double ul;
    double uh = fa_dd_quot(nh, nl, dh, dl, 1.0 / dh, &ul);
    double h = fa_gelu64_g[22];
#pragma GCC unroll 24
    for (int i = 21; i >= 1; i--) h = FA_FMA(h, uh, fa_gelu64_g[i]);
    double ph = uh * h;
    double gl;
    double gh = fa_two_sum(FA_GELU64_G0_HI, ph, &gl);
    /* G(a + al) at u = uh + ul: G(uh) + G'(a) (al + ul da/du), da/du =
     * (a + K)^2/(A K + B), G' = G/a + 2a (G - 1/sqrt(pi)) */
    double dG = gh * ia + 2.0 * a * (gh - FA_INV_SQRT_PI);
    double da = al + ul * (dh * dh) * FA_GELU64_DADU;
    *lo = gl + (fa_prod_lo(uh, h, ph) + (FA_GELU64_G0_LO + dG * da));
    return gh;
}

/* S(w) = erf(|x|/sqrt2)/|x| = S0 + w R(w), w = x^2/2, as hi + *sl, and w as
 * *wh + *wl (|x| < Z0 sqrt2; x clamped to stay finite outside). */
FA_INLINE double fa_gelu64_S(double x, double *wh, double *wl, double *sl)
{
    double xs = fa_min(fa_max(x, -1.0), 1.0);
    double xx = xs * xs;
    double w = 0.5 * xx;
    *wh = w;
    *wl = 0.5 * fa_prod_lo(xs, xs, xx);
    double r = fa_gelu64_r[13];
#pragma GCC unroll 16
    for (int i = 12; i >= 0; i--) r = FA_FMA(r, w, fa_gelu64_r[i]);
    double q = w * r;
    double sh = fa_two_sum(FA_GELU64_S0_HI, q, sl);
    *sl += fa_prod_lo(w, r, q) + (FA_GELU64_S0_LO + *wl * r);
    return sh;
}

/* gelu(x) for |x| < Z0 sqrt2: x/2 + w S(w), rounded once. */
FA_INLINE double fa_gelu64_small(double x)
{
    double wh, wl, sl;
    double sh = fa_gelu64_S(x, &wh, &wl, &sl);
    double ml;
    double mh = fa_ddmul(wh, wl, sh, sl, &ml);
    double yl;
    double yh = fa_two_sum(0.5 * fa_min(fa_max(x, -1.0), 1.0), mh, &yl);
    return yh + (yl + ml);
}

/* What gelu and gelu' (float64) share, from a = |x|/sqrt2 (ah + al):
 *   e + el = exp(-a^2) for a clamped to [0, 40] (a^2 as a double-double:
 *            exp's condition number), times 2^1000 where it would be
 *            subnormal (fa_exp_s2: m = 2^-1000, else 1);
 *   ia     ~ 1/a (a >= Z0; the one division besides u's);
 *   G      = gh + gl at a clamped to [Z0, ZMAX] (the middle branch: m = 1);
 *   A      = Ah + Al, the asymptotic series of a sqrt(pi) exp(a^2) erfc(a)
 *            = sum (-1)^k (2k-1)!! t^k, t = 1/(2a^2), at a >= 15 (14 terms:
 *            the 15th is < 1e-24 at a = 15), and t. */
typedef struct {
    double ah, al, a, e, el, m, ia, gh, gl, Ah, Al, t;
} fa_gelu64_st;

FA_INLINE void fa_gelu64_common(double x, fa_gelu64_st *s, int tail)
{
    double al;
    double ah = fa_gelu64_a(x, &al);
    double a = fa_min(ah, 40.0);
    al = a == ah ? al : 0.0;                         /* clamped (inf, NaN) */
    double aa = a * a;
    double aal = fa_prod_lo(a, a, aa) + 2.0 * a * al;
    s->ah = ah;
    s->al = al;
    s->a = a;
    s->e = fa_exp_s2(-aa, -aal, 0, &s->m, &s->el);
    double ia = 1.0 / fa_max(a, FA_GELU64_Z0);
    s->ia = ia;
    double am = fa_min(fa_max(a, FA_GELU64_Z0), FA_GELU64_ZMAX);
    s->gh = fa_gelu64_G(am, am == a ? al : 0.0, ia, &s->gl);
    if (!tail) {                                     /* (constant: the block has no a > 15) */
        s->Ah = 1.0;
        s->Al = 0.0;
        s->t = 0.0;
        return;
    }
    double iat = ah >= FA_GELU64_ZMAX ? ia : 1.0 / FA_GELU64_ZMAX;  /* (on ah: vectorises) */
    double t = 0.5 * iat * iat;                      /* 1/(2a^2), ~1 ulp */
    double a1 = 1.0 - 27.0 * t;
#pragma GCC unroll 16
    for (int k = 25; k >= 3; k -= 2) a1 = 1.0 - (double)k * t * a1;
    double P = t * a1;                               /* A = 1 - t a1 */
    s->Ah = 1.0 - P;
    s->Al = ((1.0 - s->Ah) - P) - fa_prod_lo(t, a1, P);
    s->t = t;
}

/* gelu(x) = x * Phi(x) = x * erfc(-x/sqrt2) / 2.  erfc keeps relative
 * accuracy in the left tail (x * (1 + erf) would cancel to 0 there) and
 * x * (erfc/2) never overflows for huge x (0.5*x*(1+erf) does).
 * float32 (lowp): the vectorisable erfc above.  float64: the branches
 * described above fa_gelu64_a. */
#define FA_SQRT_PI 1.7724538509055160273
#define FA_SQRT_PI_LO (-7.666586499825799e-17) /* sqrt(pi) - FA_SQRT_PI (mpmath) */
/* float64 gelu; with_tail = 0 (a constant) leaves out the x < -15 sqrt2 branch,
 * for blocks that have no such element (fa_gelu64_blocks) */
FA_INLINE double fa_gelu64_fwd(double x, int with_tail)
{
    fa_gelu64_st s;
    fa_gelu64_common(x, &s, with_tail);
    /* Z0 <= a <= 15: V = |x| Phi(-|x|) = e G / sqrt2 */
    double tl, vl;
    double th = fa_ddmul(s.e, s.el, s.gh, s.gl, &tl);
    double v = fa_ddmul(th, tl, FA_INV_SQRT2, FA_INV_SQRT2_LO, &vl);
    double yl;
    double yh = fa_two_sum(x, -v, &yl);
    double y = x > 0.0 ? yh + (yl - vl) : -(v + vl);
    /* x < -15 sqrt2: x erfc(a)/2 = x e A / (2 a sqrt(pi)), the quotient
     * by a sqrt(pi) (a double-double) corrected once, the scaling m
     * applied after the final product (from a = 26.5 on the result is
     * subnormal: rounding x erfc(a)/2 after a subnormal erfc would round
     * twice). */
    if (!with_tail) {
        y = s.ah < FA_GELU64_Z0 ? fa_gelu64_small(x) : y;
        y = (s.ah > FA_GELU64_ZMAX && x > 0.0) ? x : y;
        return y == 0.0 ? copysign(0.0, x) : y;
    }
    double nl, dl;
    double nh = fa_ddmul(s.e, s.el, s.Ah, s.Al, &nl);
    double dh = fa_ddmul(s.a, s.al, FA_SQRT_PI, FA_SQRT_PI_LO, &dl);
    double ql;
    double qh = fa_dd_quot(nh, nl, dh, dl, s.ia * FA_INV_SQRT_PI, &ql);  /* rd ~ 1/dh */
    double hx = 0.5 * x;
    double sh = hx * qh;
    double sc = fa_prod_lo(hx, qh, sh) + hx * ql;
    double tail = (sc != 0.0 ? sh + sc : sh) * s.m;  /* keeps -0 where e = 0 */
    y = s.ah < FA_GELU64_Z0 ? fa_gelu64_small(x) : y;
    y = (s.ah > FA_GELU64_ZMAX && x > 0.0) ? x : y;
    y = (s.ah > FA_GELU64_ZMAX && x < 0.0) ? tail : y;  /* (on ah, not a: vectorises) */
    y = (s.ah >= 40.0 && x < 0.0) ? -0.0 : y;
    return y == 0.0 ? copysign(0.0, x) : y;          /* gelu(-0) = -0, gelu(-tiny) = -0 */
}

FA_INLINE double fa_core_gelu(double x, const fa_params *p, int lowp)
{
    (void)p;
    if (lowp)
        return fa_mul_lim(x, 0.5 * fa_erfc_lowp(-x * FA_INV_SQRT2));
    return fa_gelu64_fwd(x, 1);
}

/* The float64 gelu kernel: blocks of FA_GELU64_BLK, each scanned for an
 * element of the asymptotic branch (a > 15 with x < 0, the same test as the
 * core's select, NaN excluded) and evaluated without that branch where it
 * has none: the branch-free loop otherwise pays its 14-term series and
 * corrected quotient for every element.  Same bits either way. */
#define FA_GELU64_BLK 64
static inline int fa_gelu64_has_tail(const double *x, fa_index m)
{
    int any = 0;
    for (fa_index i = 0; i < m; i++)
        any |= fabs(x[i]) * FA_INV_SQRT2 > FA_GELU64_ZMAX && x[i] < 0.0;
    return any;
}

static inline void fa_gelu64_blocks(const double *x, double *y, fa_index n)
{
    for (fa_index i0 = 0; i0 < n; i0 += FA_GELU64_BLK) {
        fa_index m = n - i0 < FA_GELU64_BLK ? n - i0 : FA_GELU64_BLK;
        if (fa_gelu64_has_tail(x + i0, m))
            for (fa_index i = 0; i < m; i++) y[i0 + i] = fa_gelu64_fwd(x[i0 + i], 1);
        else
            for (fa_index i = 0; i < m; i++) y[i0 + i] = fa_gelu64_fwd(x[i0 + i], 0);
    }
}

#define FA_GELU_K0 0.79788456080286535588 /* sqrt(2/pi) */
#define FA_GELU_K1 0.044715

/* gelu_tanh(x) = x/2 (1 + tanh(u)) = x * sigmoid(2u), u = k0 (x + k1 x^3):
 * the sigmoid form has no 1 + tanh cancellation for x < -5 (where torch
 * returns -0 for a result of -6e-8 in float32).
 * float64: sigmoid's relative condition number is |2u| (up to ~745 before
 * underflow), so 2u is carried as a double-double (hi + lo, with the
 * constants' own rounding errors K1_LO and C_LO) and lo enters exp()
 * through fa_exp_dd.  For |x| >= 64 the result is x or -0 regardless. */
#define FA_GELU_C 1.5957691216057308         /* 2 sqrt(2/pi), rounded */
#define FA_GELU_C_LO (-9.96930880911092e-17) /* its rounding error */
#define FA_GELU_K1_LO 2.1960211427085595e-18 /* 0.044715 - FA_GELU_K1 */

FA_INLINE double fa_core_gelu_tanh(double x, const fa_params *p, int lowp)
{
    (void)p;
    double v = FA_GELU_C * x * FA_FMA(FA_GELU_K1 * x, x, 1.0);
    double lo = 0.0;
    if (!lowp) {
        double x2 = x * x;
        double x2l = fa_prod_lo(x, x, x2);
        double t = FA_GELU_K1 * x2;
        double tl = fa_prod_lo(FA_GELU_K1, x2, t) + (FA_GELU_K1 * x2l + FA_GELU_K1_LO * x2);
        double w = 1.0 + t;                       /* two-sum: w + wl = 1 + t + tl */
        double bb = w - 1.0;
        double wl = ((1.0 - (w - bb)) + (t - bb)) + tl;
        double m = x * w;
        double ml = fa_prod_lo(x, w, m) + x * wl;
        v = FA_GELU_C * m;
        lo = fa_prod_lo(FA_GELU_C, m, v) + (FA_GELU_C * ml + FA_GELU_C_LO * m);
        lo = fabs(x) < 64.0 ? lo : 0.0;
    }
    return fa_x_sigmoid(x, v, lo, lowp);
}

FA_INLINE double fa_core_silu(double x, const fa_params *p, int lowp)
{
    (void)p;
    return fa_x_sigmoid(x, x, 0.0, lowp);
}

/* swish: a = beta.  x * sigmoid(beta x); for float64 the rounding error of
 * beta*x enters exp() exactly (fa_exp_dd), because sigmoid's relative
 * condition number is |beta x| in the left tail. */
FA_INLINE double fa_core_swish(double x, const fa_params *p, int lowp)
{
    double v = p->a * x;
    double lo = lowp ? 0.0 : fa_prod_lo(p->a, x, v);
    return fa_x_sigmoid(x, v, lo, lowp);
}

/* hardswish(x) = x * relu6(x + 3) / 6, piecewise so that -inf gives -0.
 * float32 (lowp): x (x + 3) is exact in double, one rounding of t / 6 to
 * float.  float64: x + 3 and x (x + 3) as double-doubles and one corrected
 * quotient by 6, rounded once (three roundings measured 1.83 ULP).  With
 * an fma (AVX2, AVX-512) the same value costs half the operations: x + 3
 * = s + sl by Fast2Sum (|x| < 3 wherever the result is used), x s = th +
 * pl exactly, and (th + pl + x sl)/6 = th h6 + ((pl + x sl) h6 + th l6)
 * with 1/6 = h6 + l6: the low terms are rounded at 2^-53 of themselves,
 * so within ~2^-100 of one rounding (16 operations per vector instead of
 * ~30: 0.58x -> ~1x torch's three-rounding hardswish at 256K).  |x| <
 * 2^-900: x / 2, the correctly rounded value (x^2/6 is below 2^-900 of
 * it), which keeps -0 and keeps the low terms from underflowing. */
#define FA_SIXTH_H 0.16666666666666665741   /* 1/6 rounded (mpmath) */
#define FA_SIXTH_L 9.2518585385429706566e-18 /* 1/6 - FA_SIXTH_H (mpmath) */
FA_INLINE double fa_core_hardswish(double x, const fa_params *p, int lowp)
{
    (void)p;
    double y;
    if (lowp) {
        y = (x * (x + 3.0)) * (1.0 / 6.0);
    } else {
#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
        double s = 3.0 + x;
        double sl = x - (s - 3.0);
        double th = x * s;
        double lo = FA_FMA(x, sl, FA_FMA(x, s, -th));
        y = FA_FMA(th, FA_SIXTH_H, FA_FMA(lo, FA_SIXTH_H, th * FA_SIXTH_L));
        y = fabs(x) < 0x1p-900 ? x * 0.5 : y;
#else
        double sl, tl;
        double sh = fa_two_sum(x, 3.0, &sl);
        double th = fa_ddmul(x, 0.0, sh, sl, &tl);
        double c;
        double q = fa_dd_quot(th, tl, 6.0, 0.0, 1.0 / 6.0, &c);
        y = c != 0.0 ? q + c : q;                /* hardswish(-0) = -0 */
#endif
    }
    y = x <= -3.0 ? copysign(0.0, x) : y;
    return x >= 3.0 ? x : y;
}

/* mish(x) = x tanh(softplus(x)) = x * n / (n + 2), n = e^x (e^x + 2):
 * one exp, no cancellation for x < 0; n/(n+2) rounds to exactly 1 from
 * x = 20 on, so the clamp is invisible. */
FA_INLINE double fa_core_mish(double x, const fa_params *p, int lowp)
{
    (void)p;
    double m, el;
    double ts = fa_exp_s2(fa_min(x, 20.0), 0.0, lowp, &m, &el);  /* e^x 2^S (+ el) */
    double t = ts * m;
    double a = t + 2.0;
    double den = t * a + 2.0;
    double y = (x * ts) * (a / den) * m;                   /* n/(n+2) = t a/den */
    if (!lowp) {
        /* float64: num = ts*(t+2) and den = t*(t+2) + 2 as double-doubles
         * (exp's low part included), then one correction of the quotient,
         * as in fa_x_sigmoid: ~0.7 ULP instead of ~2.8. */
        double tl = el * m;
        double bb = a - t;
        double al = ((t - (a - bb)) + (2.0 - bb)) + tl;      /* TwoSum(t, 2) */
        double nh = ts * a;
        double nl = fa_prod_lo(ts, a, nh) + (ts * al + el * a);
        double dh0 = t * a;
        double dl0 = fa_prod_lo(t, a, dh0) + (t * al + tl * a);
        double dh = dh0 + 2.0;
        double b2 = dh - dh0;
        double dl = ((dh0 - (dh - b2)) + (2.0 - b2)) + dl0;  /* TwoSum(dh0, 2) */
        double sq = nh / dh;
        double ph = sq * dh;
        double r = ((nh - ph) - fa_prod_lo(sq, dh, ph)) + (nl - sq * dl);
        double xs = x * sq;
        double c = fabs(x) < INFINITY ? fa_prod_lo(x, sq, xs) + x * (r / dh) : 0.0;
        y = (c != 0.0 ? xs + c : xs) * m;
    }
    y = x >= 20.0 ? x : y;                                 /* the ratio is 1 there */
    return ts == 0.0 ? copysign(0.0, x) : y;
}

/* softplus: a = beta (!= 0), b = threshold (PyTorch: linear when
 * beta*x > threshold).  v = beta x;
 *   v > 0:  x + log1p(exp(-v)) / beta
 *   v <= 0: log1p(exp(v)) / beta       (exp(v) via fa_exp_dd in float64)
 * Both keep relative accuracy and never overflow. */
FA_INLINE double fa_core_softplus(double x, const fa_params *p, int lowp)
{
    double v = p->a * x;
    double lo = lowp ? 0.0 : fa_prod_lo(p->a, x, v);
    double el = 0.0;
    double e = lowp ? fa_exp_dd(-fabs(v), 0.0, 1)
                    : fa_exp_dd2(-fabs(v), v < 0.0 ? lo : -lo, &el);
    /* float64: log1p(e + el) = log1p(e) + el / (1 + e) */
    double l = (fa_log1p01(e, lowp) + el / (1.0 + e)) / p->a;
    double y = v > 0.0 ? x + l : l;
    return v > p->b ? x : y;
}

/*
 * The elementwise kernels: X(name) for every fa_core_<name> above.
 * The order is the kernel table's order; names are looked up by string.
 */
#define FA_UNARY_LIST(X) \
    X(sigmoid) X(log_sigmoid) X(hard_sigmoid) X(tanh) X(hardtanh) \
    X(tanhshrink) X(softsign) X(relu) X(relu6) X(leaky_relu) X(elu) \
    X(celu) X(selu) X(gelu) X(gelu_tanh) X(silu) X(swish) X(hardswish) \
    X(mish) X(softplus)

#endif /* FA_ACTIVATIONS_H */
