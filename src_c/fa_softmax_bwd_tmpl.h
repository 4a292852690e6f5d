/*
 * fa_softmax_bwd_tmpl.h -- the softmax family's backward kernels for one
 * dtype; included by fa_softmax_impl.h with SM_T (float/double), SM_SUF
 * (f32/f64) and SM_LOWP (1: float32, 0: float64) defined.  (The float32
 * forward has its own float-lane file, fa_softmax_f32.h; the backward is
 * one template for both dtypes.)
 */
#define SM_CAT_(a, b) a##_##b
#define SM_CAT(a, b) SM_CAT_(a, b)
#define SM_FN(name) FA_SYM(SM_CAT(name, SM_SUF))

/* ---------------------------------------------------------------- backward
 * Issue 4: the vector-Jacobian products from the forward output y and the
 * incoming gradient g, along the same (outer, n, inner) units as the
 * forward (op as the forward: 0 softmax, 1 log_softmax, 2 softmin):
 *   softmax  gx = y (g - S),   S = sum(g y)      softmin: gx = -y (g - S)
 *   log_softmax  gx = g - exp(y) S,   S = sum(g)
 * S is summed in double lanes in a fixed order by one thread (float32
 * products g*y are exact in double; float64 adds each product's rounding
 * error, fa_prod_lo, and each addition's, TwoSum, into a compensation
 * lane).  Then one pass writes gx; o may be g or y (same element read
 * before it is written).  float32 softmax/softmin with FMA write in float
 * lanes from S split into two floats (see fa_smb_row_); everything else in
 * double. */

/* s += g*y (logsm: s += g), the rounding errors of each addition and
 * (float64) product summed again with TwoSum into q, and q's own errors
 * into r (a three-level cascade): S = s + q + r is then exact to
 * ~eps^3 sum|g y|, so g - S keeps its digits even where the row's
 * products cancel down to eps^2 of their size (y (g - S) for g = 0 is
 * then all cancellation). */
#define SMB_TWO(q, r, e)                                                      \
    do {                                                                      \
        double v_ = (q) + (e), c_ = v_ - (q);                                 \
        (r) += ((q) - (v_ - c_)) + ((e) - c_);                                \
        (q) = v_;                                                             \
    } while (0)
#define SMB_ACC(s, q, r, gv, yv, logsm)                                      \
    do {                                                                      \
        double t_ = (logsm) ? (gv) : (gv) * (yv);                             \
        double u_ = (s) + t_, b_ = u_ - (s);                                  \
        double e_ = ((s) - (u_ - b_)) + (t_ - b_);                            \
        (s) = u_;                                                             \
        SMB_TWO(q, r, e_);                                                    \
        if (!(logsm) && !SM_LOWP) { /* float32: g*y is exact in double */    \
            double lo_ = fa_prod_lo((gv), (yv), t_);                          \
            SMB_TWO(q, r, lo_);                                               \
        }                                                                     \
    } while (0)

#ifndef FA_SMB_LOGSM_DEFINED
#define FA_SMB_LOGSM_DEFINED
/* log_softmax's g - e^y S, S = Sh + Sl (tot = Sh + Sl rounded):
 *   |y| <= ln2 (e^y in [1/2, 2]: the entries that dominate the row, as
 *      log_softmax outputs are <= 0):
 *      ((g - Sh) - Sl) - expm1(y) tot, so g - S cancels exactly first,
 *      where g - e^y S would lose everything to e^y's rounding;
 *   otherwise: g - e^y tot, where g - S would be the cancelling pair. */
FA_INLINE double fa_smb_logsm(double g, double y, double Sh, double Sl, double tot)
{
    double en = fa_expm1(y, 0) * tot, ef = fa_exp(y, 0) * tot;
    int zero = tot == 0.0 && y < INFINITY; /* sum(g) = 0: e^y * 0 = 0 for finite y,
                                              * also where e^y overflows double */
    en = zero ? 0.0 : en;
    ef = zero ? 0.0 : ef;
    double near = ((g - Sh) - Sl) - en;
    double far = g - ef;
    return fabs(y) <= 0.6931471805599453 ? near : far;   /* (fa_expm1 clamps at 88) */
}
#endif

#ifndef FA_SMB_LOGSM64_DEFINED
#define FA_SMB_LOGSM64_DEFINED
/*
 * float64 log_softmax backward, g - e^y S, to within an ULP of the exact
 * value of that expression of the doubles g, y (and S = Sh + Sl, the row
 * sum to ~eps^3).  Its condition number is unbounded: the rounding of y
 * alone makes g - e^y S ~ 2^-53 g where y = log(g/S) (a row whose top two
 * entries tie: y = fl(log 1/2), g = S/2), and then e^y must be known to
 * ~2^-110.  Three levels, each one only for the elements the previous one
 * cannot resolve (a choice made per element from its own value, so the
 * result does not depend on threads or position):
 *  1. (vector loop) e^y S as a double-double to ~2^-62: r = y - k ln2 from
 *     a three-part ln2, e^r = 1 + r + r^2/2 + r^3/6 + r^4 P(r) with the
 *     first terms and their sum as double-doubles.  Error <= 0.5 ULP +
 *     2^-62 |g|, i.e. <= 0.75 ULP unless |result| < 2^-8 |g| (rare for
 *     data not constructed to cancel; log_softmax + NLL: the target class
 *     of a row predicted with p > 0.996).
 *  2. (scalar, binary128 where the compiler has it) e^r by its Taylor
 *     series in 113-bit arithmetic: error ~2^-112 |g|, enough unless
 *     |result| < 2^-56 |g|.
 *  3. (scalar) the same in pairs of binary128 (~226 bits).
 * Without a 113-bit type (FA_HAVE_Q = 0: MSVC, Apple arm64) level 1 stands.
 */
#define FA_SMB_FIXB 256    /* block of the float64 log_softmax backward write */
#define FA_LN2_LO2 1.1612227229362532e-26  /* ln2 - LN2_HI - LN2_LO (mpmath) */
FA_INLINE double fa_smb_logsm64(double g, double y, double Sh, double Sl, int *flag)
{
    double yc = fa_min(fa_max(y, -745.0), 709.0);
    double t = FA_FMA(yc, FA_INV_LN2, FA_SHIFT);
    double kd = t - FA_SHIFT;
    int64_t k = (int64_t)(fa_asu64(t) - fa_asu64(FA_SHIFT));
    double r1 = yc - kd * FA_LN2_HI;                 /* exact (|k| < 2^21) */
    double p = kd * FA_LN2_LO;
    double rl;
    double rh = fa_two_sum(r1, -p, &rl);
    rl -= fa_prod_lo(kd, FA_LN2_LO, p) + kd * FA_LN2_LO2;
    /* e^r = 1 + r + r^2/2 + r^3/6 + r^4 P(r), P Taylor to r^9/13!
     * (|r| <= 0.35: truncation < 2^-70; r^4 P < 6.8e-4, so its three
     * roundings cost ~2^-62); r^2/2 and r^3/6 are double-doubles (r^3/6
     * rounded would cost 2^-60) and the sum too */
    double P = 1.0 / 6227020800.0;
    P = FA_FMA(P, rh, 1.0 / 479001600.0);
    P = FA_FMA(P, rh, 1.0 / 39916800.0);
    P = FA_FMA(P, rh, 1.0 / 3628800.0);
    P = FA_FMA(P, rh, 1.0 / 362880.0);
    P = FA_FMA(P, rh, 1.0 / 40320.0);
    P = FA_FMA(P, rh, 1.0 / 5040.0);
    P = FA_FMA(P, rh, 1.0 / 720.0);
    P = FA_FMA(P, rh, 1.0 / 120.0);
    P = FA_FMA(P, rh, 1.0 / 24.0);
    double rr = rh * rh;
    double rrl = fa_prod_lo(rh, rh, rr);
    double T4 = (rr * rr) * P;
    double c3 = rr * rh;
    double c3l = fa_prod_lo(rr, rh, c3) + rrl * rh;
    double t3 = c3 * (1.0 / 6.0);
    double pd = t3 * 6.0;
    double t3l = (((c3 - pd) - fa_prod_lo(t3, 6.0, pd)) + c3l) * (1.0 / 6.0);
    double e1, e2, e3, e4;
    double a = fa_two_sum(1.0, rh, &e1);
    double b = fa_two_sum(a, 0.5 * rr, &e2);
    double c = fa_two_sum(b, t3, &e3);
    double Eh = fa_two_sum(c, T4, &e4);
    double El = ((e1 + e2) + (e3 + e4)) + ((0.5 * rrl + t3l) + Eh * rl);  /* e^(rh+rl) = e^rh (1+rl) */
    double ph = Eh * Sh;
    double pl = fa_prod_lo(Eh, Sh, ph) + (Eh * Sl + El * Sh);
    uint64_t ku = (uint64_t)(k + 2048);
    uint64_t k1 = (ku >> 1), k2 = ku - k1;
    double f1 = fa_asf64((k1 - 1) << 52), f2 = fa_asf64((k2 - 1) << 52);
    ph = (ph * f1) * f2;
    pl = (pl * f1) * f2;
    double dl;
    double dh = fa_two_sum(g, -ph, &dl);
    double d = dh + (dl - pl);
    int fin = fabs(g) < INFINITY && fabs(y) < 745.0 && fabs(ph) < INFINITY && fabs(d) < INFINITY
              && Sh != 0.0;
    *flag = fin && fabs(d) < 0x1p-8 * fabs(g);
    /* the rest (non-finite g, y, S or e^y S; S = 0; |y| >= 745): plainly,
     * e^y = 0 below -745 and inf above 709.78, e^y * 0 = 0 for finite y
     * (NaN passes through every step) */
    double ef = (Eh * f1) * f2;
    ef = y < -745.0 ? 0.0 : (y > 709.78 ? INFINITY : ef);
    double sp = (Sh == 0.0 && y < INFINITY) ? g : g - ef * (Sh + Sl);
    return fin ? d : sp;
}

#if FA_HAVE_Q == 1          /* (fa_kernels.h) */
typedef __float128 fa_q;
#elif FA_HAVE_Q == 2
typedef long double fa_q;
#endif

#if FA_HAVE_Q
/* ln2 = H1 + H2 + L1 + L2 + L3 (doubles; H1 + H2 = ln2 truncated to 100
 * bits, so k (H1 + H2) is exact in 113 bits for |k| <= 2^11; the rest to
 * 2^-260; mpmath:  hi = floor(ln2 2^100)/2^100, then successive
 * float() remainders) */
#define FA_Q_LN2_H1 0.6931471805599453
#define FA_Q_LN2_H2 2.31904681384628e-17
#define FA_Q_LN2_L1 1.94704509238075e-31
#define FA_Q_LN2_L2 4.411656155487395e-48
#define FA_Q_LN2_L3 2.2179367234955642e-64

static fa_q fa_q_abs(fa_q v) { return v < 0 ? -v : v; }

static void fa_q2_two_sum(fa_q a, fa_q b, fa_q *s, fa_q *e);
static void fa_q2_two_prod(fa_q a, fa_q b, fa_q *p, fa_q *e);

/* r = y - k ln2 (|r| <= 0.35) and k, as rh + *rlo to ~2^-220: k (H1 + H2)
 * and y - k (H1 + H2) are exact in 113 bits, the rest of ln2 is a pair
 * (lh + ll) and k lh an exact product pair */
static fa_q fa_q_reduce(double y, double *kd, fa_q *rlo)
{
    double k = nearbyint(y * FA_INV_LN2);
    *kd = k;
    fa_q hi = (fa_q)FA_Q_LN2_H1 + (fa_q)FA_Q_LN2_H2;
    fa_q r1 = (fa_q)y - (fa_q)k * hi;
    fa_q lh, ll;
    fa_q2_two_sum((fa_q)FA_Q_LN2_L1, (fa_q)FA_Q_LN2_L2 + (fa_q)FA_Q_LN2_L3, &lh, &ll);
    fa_q th, te;
    fa_q2_two_prod((fa_q)k, lh, &th, &te);
    fa_q r, re;
    fa_q2_two_sum(r1, -th, &r, &re);
    *rlo = re - (te + (fa_q)k * ll);
    return r;
}

/* 2^k as a binary128 (k in [-1100, 1100]: two double factors, exact) */
static fa_q fa_q_pow2(double kd)
{
    int64_t k = (int64_t)kd;
    int64_t k1 = k / 2, k2 = k - k1;
    return (fa_q)fa_asf64((uint64_t)(k1 + 1023) << 52) * (fa_q)fa_asf64((uint64_t)(k2 + 1023) << 52);
}

/* level 2: g - e^y S in 113 bits; *more if it cancels past 2^-56 |g| */
static double fa_smb_logsm_q(double g, double y, double Sh, double Sm, double Sl, int *more)
{
    double kd;
    fa_q rlo;
    fa_q r = fa_q_reduce(y, &kd, &rlo);
    r += rlo;
    fa_q e = 1;
    for (int n = 30; n >= 1; n--) e = 1 + e * r / n;   /* 0.35^31/31! < 2^-150 */
    fa_q S = (fa_q)Sh + ((fa_q)Sm + (fa_q)Sl);
    fa_q d = (fa_q)g - e * S * fa_q_pow2(kd);
    *more = fa_q_abs(d) < (fa_q)0x1p-56 * fa_q_abs((fa_q)g);
    return (double)d;
}

/* pairs of binary128 (hi + lo, ~226 bits) for level 3 */
#define FA_Q_SPLIT ((fa_q)144115188075855873.0)   /* 2^57 + 1 (Dekker, 113 bits) */
static void fa_q2_two_sum(fa_q a, fa_q b, fa_q *s, fa_q *e)
{
    fa_q t = a + b, bb = t - a;
    *e = (a - (t - bb)) + (b - bb);
    *s = t;
}
static void fa_q2_two_prod(fa_q a, fa_q b, fa_q *p, fa_q *e)
{
    fa_q t = a * b;
    fa_q ca = FA_Q_SPLIT * a, ah = ca - (ca - a), al = a - ah;
    fa_q cb = FA_Q_SPLIT * b, bh = cb - (cb - b), bl = b - bh;
    *e = ((ah * bh - t) + ah * bl + al * bh) + al * bl;
    *p = t;
}
static void fa_q2_add(fa_q ah, fa_q al, fa_q bh, fa_q bl, fa_q *ch, fa_q *cl)
{
    fa_q s, e;
    fa_q2_two_sum(ah, bh, &s, &e);
    e += al + bl;
    fa_q2_two_sum(s, e, ch, cl);
}
static void fa_q2_mul(fa_q ah, fa_q al, fa_q bh, fa_q bl, fa_q *ch, fa_q *cl)
{
    fa_q p, e;
    fa_q2_two_prod(ah, bh, &p, &e);
    e += ah * bl + al * bh;
    fa_q2_two_sum(p, e, ch, cl);
}

/* level 3: g - e^y S in ~226 bits, rounded once */
static double fa_smb_logsm_q2(double g, double y, double Sh, double Sm, double Sl)
{
    double kd;
    fa_q rl;
    fa_q rh = fa_q_reduce(y, &kd, &rl);
    fa_q eh = 1, el = 0;                                 /* Horner: e = 1 + e r / n */
    for (int n = 48; n >= 1; n--) {                      /* 0.35^49/49! < 2^-250 */
        fa_q th, tl;
        fa_q2_mul(eh, el, rh, rl, &th, &tl);
        fa_q qh = th / n;                                /* (th + tl)/n, corrected */
        fa_q ph, pe;
        fa_q2_two_prod(qh, (fa_q)n, &ph, &pe);
        fa_q ql = (((th - ph) - pe) + tl) / n;
        fa_q2_add((fa_q)1, (fa_q)0, qh, ql, &eh, &el);
    }
    fa_q sh, sl;
    fa_q2_two_sum((fa_q)Sh, (fa_q)Sm, &sh, &sl);
    sl += (fa_q)Sl;
    fa_q ph, pl;
    fa_q2_mul(eh, el, sh, sl, &ph, &pl);
    fa_q sc = fa_q_pow2(kd);
    ph *= sc;
    pl *= sc;
    fa_q dh, dl;
    fa_q2_add((fa_q)g, (fa_q)0, -ph, -pl, &dh, &dl);
    return (double)(dh + dl);
}
#endif

/* levels 2 and 3 for one element flagged by level 1 */
static double fa_smb_logsm_fix(double g, double y, double Sh, double Sm, double Sl, double d1)
{
#if FA_HAVE_Q
    int more = 0;
    double d = fa_smb_logsm_q(g, y, Sh, Sm, Sl, &more);
    return more ? fa_smb_logsm_q2(g, y, Sh, Sm, Sl) : d;
#else
    (void)g; (void)y; (void)Sh; (void)Sm; (void)Sl;
    return d1;
#endif
}
#endif

#ifndef FA_SMB_WB
#define FA_SMB_WB 64   /* elements per block of the float32 float-lane write loops */
#endif

#ifndef FA_SMB_YD_DEFINED
#define FA_SMB_YD_DEFINED
/* float64: y (g - S) with S = Sh + Sm + Sl (the row sum to ~eps^3, see
 * SMB_ACC).  g - Sh and then - Sm are exact TwoSums, the rest is second
 * order, and y dh + y dl is rounded once by the FMA: ~0.5 ULP even where g
 * and S agree to 100 bits (a confident row: y = (1 - 2^-53, ...) makes
 * g_top - S ~ 1e-17 of g_top), where ((g - Sh) - Sm) then y * rounded three
 * times (2.0 ULP measured) and one double of compensation (S + C, 2^-106
 * of S) 2.75.  A non-finite dh (S or g infinite) keeps the plain value: the
 * TwoSum errors would be inf - inf. */
FA_INLINE double fa_smb_yd(double y, double g, double Sh, double Sm, double Sl)
{
    double dh = g - Sh, b1 = dh - g;
    double dl = (g - (dh - b1)) + (-Sh - b1);
    double uh = dh - Sm, b2 = uh - dh;
    double ul = (dh - (uh - b2)) + (-Sm - b2);
    double t = (ul + dl) - Sl;
    int fin = fabs(dh) < INFINITY;
    uh = fin ? uh : dh;
    t = fin ? t : 0.0;
    return FA_FMA(y, uh, y * t);
}
#endif

#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
/* float32 with FMA: o = y (g - S) for S = S + C1 (neg: softmin's y (S - g),
 * the same formula with g, S and C1 negated, exactly) in float lanes:
 * S = sh + sl + sm (floats), g - sh = dh + dl exactly (TwoSum, Sterbenz
 * where it cancels), then fma(y, dh, y (dl - sl - sm)): one rounding of
 * y d and a second-order term.  In blocks of FA_SMB_WB through a buffer: a
 * block with an output below 2^-100 (where y dl can underflow: 0.93 ULP
 * seen near FLT_MIN) is redone from the intact g, y in double, as the
 * double loop of the caller, before o (possibly g or y) is written. */
FA_INLINE void SM_FN(fa_smb_f32w)(const SM_T *g, const SM_T *y, SM_T *o, fa_index n, double S,
                                  double C1, int neg)
{
    const double Sg = neg ? -S : S, Cg = neg ? -C1 : C1;
    const float sh = (float)Sg;
    const double r = (Sg - (double)sh) + Cg;           /* S + C - sh */
    const float sl = (float)r, sm = (float)(r - (double)sl);
    for (fa_index i0 = 0; i0 < n; i0 += FA_SMB_WB) {
        fa_index m = n - i0 < FA_SMB_WB ? n - i0 : FA_SMB_WB;
        float tb[FA_SMB_WB];
        int tiny = 0;
#pragma omp simd reduction(|:tiny)
        for (fa_index i = 0; i < m; i++) {
            float gv = neg ? -(float)g[i0 + i] : (float)g[i0 + i], yv = (float)y[i0 + i];
            float dh = gv - sh, bb = dh - gv;
            float dl = (((gv - (dh - bb)) + (-sh - bb)) - sl) - sm;
            float v = __builtin_fmaf(yv, dh, yv * dl);
            tb[i] = v;
            tiny |= fabsf(v) >= 0x1p-100f ? 0 : 1;
        }
        if (tiny) {
#pragma omp simd
            for (fa_index i = 0; i < m; i++) {
                double gd = neg ? -(double)g[i0 + i] : (double)g[i0 + i];
                tb[i] = (float)((double)y[i0 + i] * ((gd - Sg) - Cg));
            }
        }
#pragma omp simd
        for (fa_index i = 0; i < m; i++) o[i0 + i] = (SM_T)tb[i];
    }
}
#endif

FA_INLINE void SM_FN(fa_smb_row_)(const SM_T *g, const SM_T *y, SM_T *o, fa_index n,
                                  double sg, int logsm)
{
    double s[FA_SMW], q[FA_SMW], r[FA_SMW];
    for (int j = 0; j < FA_SMW; j++) { s[j] = 0.0; q[j] = 0.0; r[j] = 0.0; }
    fa_index full = n - n % FA_SMW;
    double S = 0.0, C = 0.0, D = 0.0;  /* the row sum S + C + D (three levels) */
    double gm = 0.0;           /* float32: max |g|, for the float write loop's range */
    double ym = 0.0;           /* and max |y|: <= 1 for a softmax output; larger (any
                                * y is accepted) could overflow y * dl in float */
    {
        /* S exactly enough that g - S keeps its accuracy where g and S
         * cancel (y (g - S) is tiny there, and a plain double sum's
         * n eps64 sum|g y| would be all of it): TwoSum lanes, for float32
         * too (its products are exact in double). */
#pragma omp simd reduction(max:gm, ym)
        for (fa_index i = 0; i < n; i++) {
            double gv = fabs((double)g[i]), yv = fabs((double)y[i]);
            gm = gv > gm ? gv : gm;               /* NaN g: S is NaN anyway */
            ym = yv > ym ? yv : ym;
        }
        for (fa_index i = 0; i < full; i += FA_SMW) {
#pragma omp simd
            for (int j = 0; j < FA_SMW; j++) {
                double gv = (double)g[i + j], yv = (double)y[i + j];
                SMB_ACC(s[j], q[j], r[j], gv, yv, logsm);
            }
        }
        for (fa_index i = full; i < n; i++) {
            double gv = (double)g[i], yv = (double)y[i];
            SMB_ACC(s[0], q[0], r[0], gv, yv, logsm);
        }
        for (int j = 0; j < FA_SMW; j++) {  /* lanes combined in order, as a cascade */
            double t = S + s[j];
            double bb = t - S;
            double e = (S - (t - bb)) + (s[j] - bb);
            S = t;
            SMB_TWO(C, D, e);
            SMB_TWO(C, D, q[j]);
            D += r[j];
        }
    }
    C = fabs(S) < INFINITY ? C : 0.0;   /* an overflowed sum: no NaN from its error terms */
    D = fabs(S) < INFINITY ? D : 0.0;
    double C1 = C + D;                  /* two levels are enough for the other writes */
    if (logsm && SM_LOWP) {
        double tot = S + C1;
#pragma omp simd
        for (fa_index i = 0; i < n; i++)
            o[i] = (SM_T)fa_smb_logsm((double)g[i], (double)y[i], S, C1, tot);
    } else if (logsm) {    /* float64: the levels of fa_smb_logsm64, in blocks
                            * (o may be g or y: a block is written after its
                            * flagged elements are redone from g and y) */
        double tmp[FA_SMB_FIXB];
        int64_t flg[FA_SMB_FIXB];
        for (fa_index i0 = 0; i0 < n; i0 += FA_SMB_FIXB) {
            fa_index m = n - i0 < FA_SMB_FIXB ? n - i0 : FA_SMB_FIXB;
            int64_t fl = 0;
#pragma omp simd reduction(|:fl)
            for (fa_index i = 0; i < m; i++) {
                int f;
                tmp[i] = fa_smb_logsm64((double)g[i0 + i], (double)y[i0 + i], S, C1, &f);
                flg[i] = f;
                fl |= f;
            }
            if (fl)
                for (fa_index i = 0; i < m; i++)
                    if (flg[i])
                        tmp[i] = fa_smb_logsm_fix((double)g[i0 + i], (double)y[i0 + i], S, C, D, tmp[i]);
            for (fa_index i = 0; i < m; i++) o[i0 + i] = (SM_T)tmp[i];
        }
    } else if (sg > 0) {
#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
        if (SM_LOWP && ym <= 1.0 && fabs(S) + gm < 1e38 && (fabs(S) > 1e-30 || S == 0.0)) {
            /* float32 with FMA: float lanes (fa_smb_f32w), twice as wide as
             * double ones and without the conversions that bound the double
             * loop.  Rows where float cannot split S into sh + sl + sm (NaN,
             * huge, tiny) or g - sh could overflow (|S| + max|g| >= 1e38)
             * take the double loop. */
            SM_FN(fa_smb_f32w)(g, y, o, n, S, C1, 0);
        } else
#endif
        {
#pragma omp simd
            for (fa_index i = 0; i < n; i++)
                o[i] = SM_LOWP ? (SM_T)((double)y[i] * (((double)g[i] - S) - C1))
                               : (SM_T)fa_smb_yd((double)y[i], (double)g[i], S, C, D);
        }
    } else { /* softmin: -(y ((g - S) - C)) = y ((S - g) + C), exactly */
#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
        if (SM_LOWP && ym <= 1.0 && fabs(S) + gm < 1e38 && (fabs(S) > 1e-30 || S == 0.0)) { /* as softmax: sh - g = dh + dl exactly */
            SM_FN(fa_smb_f32w)(g, y, o, n, S, C1, 1);
        } else
#endif
        {
#pragma omp simd
            for (fa_index i = 0; i < n; i++)
                o[i] = SM_LOWP ? (SM_T)((double)y[i] * ((S - (double)g[i]) + C1))
                               : (SM_T)-fa_smb_yd((double)y[i], (double)g[i], S, C, D);
        }
    }
}

static void SM_FN(fa_smb_row)(const SM_T *g, const SM_T *y, SM_T *o, fa_index n, double sg, int logsm)
{
    if (logsm)   /* constant logsm: each variant compiled without the other's branches */
        SM_FN(fa_smb_row_)(g, y, o, n, sg, 1);
    else
        SM_FN(fa_smb_row_)(g, y, o, n, sg, 0);
}

FA_INLINE void SM_FN(fa_smb_cols_)(const SM_T *g, const SM_T *y, SM_T *o, fa_index n,
                                   fa_index inner, fa_index w, double sg, int logsm)
{
    double s[FA_SOFTMAX_LANES], q[FA_SOFTMAX_LANES], r[FA_SOFTMAX_LANES];
    for (fa_index j = 0; j < w; j++) { s[j] = 0.0; q[j] = 0.0; r[j] = 0.0; }
    for (fa_index k = 0; k < n; k++) {
        const SM_T *gk = g + k * inner, *yk = y + k * inner;
#pragma omp simd
        for (fa_index j = 0; j < w; j++) {
            double gv = (double)gk[j], yv = (double)yk[j];
            SMB_ACC(s[j], q[j], r[j], gv, yv, logsm);
        }
    }
    for (fa_index j = 0; j < w; j++) {
        int fin = fabs(s[j]) < INFINITY;
        q[j] = fin ? q[j] : 0.0;
        r[j] = fin ? r[j] : 0.0;
        if (logsm && SM_LOWP) { s[j] += q[j] + r[j]; q[j] = 0.0; r[j] = 0.0; }
        else if (SM_LOWP) { q[j] += r[j]; r[j] = 0.0; }
    }
    for (fa_index k = 0; k < n; k++) {
        const SM_T *gk = g + k * inner, *yk = y + k * inner;
        SM_T *ok = o + k * inner;
        if (logsm && SM_LOWP) {
#pragma omp simd
            for (fa_index j = 0; j < w; j++)
                ok[j] = (SM_T)fa_smb_logsm((double)gk[j], (double)yk[j], s[j], 0.0, s[j]);
        } else if (logsm) {     /* float64: as the row kernel */
            double tmp[FA_SOFTMAX_LANES];
            int64_t flg[FA_SOFTMAX_LANES];
            int64_t fl = 0;
#pragma omp simd reduction(|:fl)
            for (fa_index j = 0; j < w; j++) {
                int f;
                tmp[j] = fa_smb_logsm64((double)gk[j], (double)yk[j], s[j], q[j] + r[j], &f);
                flg[j] = f;
                fl |= f;
            }
            if (fl)
                for (fa_index j = 0; j < w; j++)
                    if (flg[j])
                        tmp[j] = fa_smb_logsm_fix((double)gk[j], (double)yk[j], s[j], q[j], r[j], tmp[j]);
            for (fa_index j = 0; j < w; j++) ok[j] = (SM_T)tmp[j];
        } else {
#pragma omp simd
            for (fa_index j = 0; j < w; j++)
                ok[j] = SM_LOWP ? (SM_T)(sg * ((double)yk[j] * (((double)gk[j] - s[j]) - q[j])))
                                : (SM_T)(sg * fa_smb_yd((double)yk[j], (double)gk[j], s[j], q[j], r[j]));
        }
    }
}

static void SM_FN(fa_smb_cols)(const SM_T *g, const SM_T *y, SM_T *o, fa_index n,
                               fa_index inner, fa_index w, double sg, int logsm)
{
    if (logsm)
        SM_FN(fa_smb_cols_)(g, y, o, n, inner, w, sg, 1);
    else
        SM_FN(fa_smb_cols_)(g, y, o, n, inner, w, sg, 0);
}

#undef SMB_ACC
#undef SMB_TWO

static void FA_SYM(SM_CAT(fa_softmax_bwd, SM_SUF))(const SM_T *g, const SM_T *y, SM_T *o,
                                                   fa_index u0, fa_index u1, fa_index n,
                                                   fa_index inner, int op)
{
    double sg = op >= 2 ? -1.0 : 1.0;
    int logsm = op & 1;
    if (inner == 1) {
        for (fa_index r = u0; r < u1; r++)
            SM_FN(fa_smb_row)(g + r * n, y + r * n, o + r * n, n, sg, logsm);
        return;
    }
    for (fa_index u = u0, w, off; u < u1; u++) {
        off = fa_sm_unit(u, n, inner, &w);
        SM_FN(fa_smb_cols)(g + off, y + off, o + off, n, inner, w, sg, logsm);
    }
}

#undef SM_FN
#undef SM_CAT
#undef SM_CAT_
