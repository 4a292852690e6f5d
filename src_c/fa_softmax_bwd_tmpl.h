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
    if (logsm) {
        double tot = S + C1;
#pragma omp simd
        for (fa_index i = 0; i < n; i++)
            o[i] = (SM_T)fa_smb_logsm((double)g[i], (double)y[i], S, C1, tot);
    } else if (sg > 0) {
#if defined(FA_HAVE_FMA) && FA_HAVE_FMA
        if (SM_LOWP && ym <= 1.0 && fabs(S) + gm < 1e38 && (fabs(S) > 1e-30 || S == 0.0)) {
            /* float32 with FMA: y (g - S) in float lanes, twice as wide as
             * double ones and without the conversions that bound the double
             * loop: S = sh + sl (floats), g - sh = dh + dl exactly (TwoSum,
             * Sterbenz where it cancels), then fma(y, dh, y (dl - sl)): one
             * rounding of y d and a second-order term.  Rows where float
             * cannot split S into sh + sl (NaN, huge, tiny) or g - sh could
             * overflow (|S| + max|g| >= 1e38) take the double loop. */
            float sh = (float)S;
            double r = (S - (double)sh) + C1;             /* S + C - sh */
            float sl = (float)r, sm = (float)(r - (double)sl);
#pragma omp simd
            for (fa_index i = 0; i < n; i++) {
                float gv = (float)g[i], yv = (float)y[i];
                float dh = gv - sh, bb = dh - gv;
                float dl = (((gv - (dh - bb)) + (-sh - bb)) - sl) - sm;
                o[i] = (SM_T)__builtin_fmaf(yv, dh, yv * dl);
            }
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
            float sh = (float)S;
            double r = (S - (double)sh) + C1;
            float sl = (float)r, sm = (float)(r - (double)sl);
#pragma omp simd
            for (fa_index i = 0; i < n; i++) {
                float gv = (float)g[i], yv = (float)y[i];
                float dh = sh - gv, bb = dh - sh;
                float dl = (((sh - (dh - bb)) + (-gv - bb)) + sl) + sm;
                o[i] = (SM_T)__builtin_fmaf(yv, dh, yv * dl);
            }
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
        if (logsm) { s[j] += q[j] + r[j]; q[j] = 0.0; r[j] = 0.0; }
        else if (SM_LOWP) { q[j] += r[j]; r[j] = 0.0; }
    }
    for (fa_index k = 0; k < n; k++) {
        const SM_T *gk = g + k * inner, *yk = y + k * inner;
        SM_T *ok = o + k * inner;
        if (logsm) {
#pragma omp simd
            for (fa_index j = 0; j < w; j++)
                ok[j] = (SM_T)fa_smb_logsm((double)gk[j], (double)yk[j], s[j], 0.0, s[j]);
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
