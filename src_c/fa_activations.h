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

/* gelu(x) = x * Phi(x) = x * erfc(-x/sqrt2) / 2.  erfc keeps relative
 * accuracy in the left tail (x * (1 + erf) would cancel to 0 there) and
 * x * (erfc/2) never overflows for huge x (0.5*x*(1+erf) does).
 * float64: the rounding of z = -x/sqrt2 would be amplified by erfc's
 * condition number (2 z^2 in the tail, ~2.6 at z = 1), so z's rounding
 * error dz is computed exactly and applied to first order. */
#define FA_SQRT_PI 1.7724538509055160273
#define FA_SQRT_PI_LO (-7.666586499825799e-17) /* sqrt(pi) - FA_SQRT_PI (mpmath) */
FA_INLINE double fa_core_gelu(double x, const fa_params *p, int lowp)
{
    (void)p;
    double z = -x * FA_INV_SQRT2;
    if (lowp) /* float32: the vectorisable erfc above; float64: libm's */
        return fa_mul_lim(x, 0.5 * fa_erfc_lowp(z));
    double c = erfc(z);
    double dz = fa_prod_lo(-x, FA_INV_SQRT2, z) + (-x) * FA_INV_SQRT2_LO;
    dz = fabs(x) < 1e300 ? dz : 0.0;
    /* first order: erfc(z + dz) = erfc(z) - 2/sqrt(pi) exp(-z^2) dz */
    double zc = fa_min(fa_max(z, -30.0), 30.0);
    c = c - 1.1283791670955126 * fa_exp(-zc * zc, 0) * dz;
    /* z > 15: glibc's erfc is up to ~3 ULP off there (two exps), and from
     * z = 26 on erfc(z) is subnormal, so x * erfc(z) would be rounded
     * twice.  Use erfc(z) = exp(-z^2) * A(z) / (z sqrt(pi)) with the
     * asymptotic series A = sum (-1)^k (2k-1)!! / (2z^2)^k (14 terms: the
     * 15th is < 1e-24 at z = 15), z^2 exact as a double-double (plus
     * 2 z dz), exp's low part, A = 1 - t A1 and z sqrt(pi) as
     * double-doubles, one corrected quotient, and the exponential scaled
     * (fa_exp_s2) until the final product, rounded once. */
    double zt = fa_min(fa_max(z, 15.0), 40.0);
    double zz = zt * zt;
    double zzl = fa_prod_lo(zt, zt, zz) + 2.0 * zt * dz;
    double m, el;
    double e = fa_exp_s2(-zz, -zzl, 0, &m, &el);
    double t = 0.5 / zz;
    double a1 = 1.0 - 27.0 * t;
    for (int k = 25; k >= 3; k -= 2) a1 = 1.0 - (double)k * t * a1;
    double P = t * a1;                       /* A = 1 - t a1 */
    double Ah = 1.0 - P;
    double Al = ((1.0 - Ah) - P) - fa_prod_lo(t, a1, P);
    double nh = e * Ah;
    double nl = fa_prod_lo(e, Ah, nh) + (e * Al + el * Ah);
    double dh = zt * FA_SQRT_PI;             /* (zt + dz) sqrt(pi) = dh + dl */
    double dl = fa_prod_lo(zt, FA_SQRT_PI, dh) + (zt * FA_SQRT_PI_LO + dz * FA_SQRT_PI);
    double qh = nh / dh;
    double ph = qh * dh;
    double ql = (((nh - ph) - fa_prod_lo(qh, dh, ph)) + (nl - qh * dl)) / dh;
    double hx = 0.5 * x;
    double th = hx * qh;
    double tc = fa_prod_lo(hx, qh, th) + hx * ql;
    double tail = (tc != 0.0 ? th + tc : th) * m;    /* keeps -0 where e = 0 */
    double y = fa_mul_lim(x, 0.5 * c);
    return (z > 15.0 && z < 40.0) ? tail : y;
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

/* hardswish(x) = x * relu6(x + 3) / 6, piecewise so that -inf gives -0. */
FA_INLINE double fa_core_hardswish(double x, const fa_params *p, int lowp)
{
    (void)p;
    double t = x * (x + 3.0);           /* exact in double for float32 x */
    double y = lowp ? t * (1.0 / 6.0) : t / 6.0;   /* as hard_sigmoid */
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
