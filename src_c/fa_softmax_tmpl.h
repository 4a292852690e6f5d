/*
 * fa_softmax_tmpl.h -- the float64 softmax forward kernels; included by
 * fa_softmax_impl.h with SM_T = double and SM_SUF = f64 (float32 has its
 * float-lane kernels in fa_softmax_f32.h).  See fa_softmax_impl.h for the
 * algorithm.
 */
#define SM_CAT_(a, b) a##_##b
#define SM_CAT(a, b) SM_CAT_(a, b)
#define SM_FN(name) FA_SYM(SM_CAT(name, SM_SUF))

/* tmp[i] = exp(sg*x[i] - M) for i < len, 0 where sg*x[i] == M (the max
 * terms are counted, not summed: see log1p below); returns their count. */
static double SM_FN(fa_sm_expblock)(const SM_T *FA_RESTRICT x, double *FA_RESTRICT tmp,
                                   fa_index len, double sg, double M, double *lowsum)
{
    double cnt = 0.0, low = 0.0;
#pragma omp simd reduction(+:cnt, low)
    for (fa_index i = 0; i < len; i++) {
        double v = sg * (double)x[i];
        double d = v - M;
        /* x - M exactly (d + lo): its rounding would cost |d|/2 ULP; and
         * exp's own low part el, summed apart */
        double el;
        double bb = d - v;
        double lo = (v - (d - bb)) + (-M - bb);
        double e = fa_exp_dd2(d, fabs(d) < 1e300 ? lo : 0.0, &el);
        int top = d == 0.0;
        tmp[i] = top ? 0.0 : e;
        low += top ? 0.0 : el;
        cnt += top ? 1.0 : 0.0;
    }
    *lowsum += low;
    return cnt;
}

/* Sum of tmp[0..len), each lane's rounding errors (TwoSum) carried in q. */
static void SM_FN(fa_sm_sumblock)(const double *FA_RESTRICT tmp, fa_index len,
                                 double *FA_RESTRICT s, double *FA_RESTRICT q)
{
    fa_index full = len - len % FA_SMW;
    for (fa_index i = 0; i < full; i += FA_SMW) {
#pragma omp simd
        for (int j = 0; j < FA_SMW; j++) {
            double e = tmp[i + j];
            double t = s[j] + e;
            double bb = t - s[j];
            q[j] += (s[j] - (t - bb)) + (e - bb);
            s[j] = t;
        }
    }
    for (fa_index i = full; i < len; i++) {
        double e = tmp[i];
        double t = s[0] + e;
        double bb = t - s[0];
        q[0] += (s[0] - (t - bb)) + (e - bb);
        s[0] = t;
    }
}

static double SM_FN(fa_sm_maxblock)(const SM_T *FA_RESTRICT x, fa_index len, double sg)
{
    double mx = -INFINITY, nan = 0.0;
#pragma omp simd reduction(max:mx) reduction(+:nan)
    for (fa_index i = 0; i < len; i++) {
        double v = sg * (double)x[i];
        mx = v > mx ? v : mx;
        nan += v != v ? 1.0 : 0.0;
    }
    return nan > 0.0 ? NAN : mx;
}

#ifndef FA_SM_DIV_DEFINED
#define FA_SM_DIV_DEFINED
/* S = cnt + rest + comp as Sh + *Sl (TwoSum, then Fast2Sum). */
FA_INLINE double fa_sm_total(double rest, double comp, double cnt, double *Sl)
{
    double h = cnt + rest, bb = h - cnt;
    double l = ((cnt - (h - bb)) + (rest - bb)) + comp;
    double Sh = h + l;
    *Sl = (h - Sh) + l;
    return Sh;
}

/* e^(d + lo) / (Sh + Sl), the quotient corrected once with exp's low part
 * and Sl: ~1 ULP instead of the ~2.2 of exp / S (exp's error plus the
 * division's); below 2^-1000 (subnormal results) the plain quotient. */
FA_INLINE double fa_sm_expdiv(double d, double lo, double Sh, double Sl)
{
    double el;
    double e = fa_exp_dd2(d, lo, &el);
    double q = e / Sh;
    double r = (fa_prod_lo(-q, Sh, -q * Sh) + (e - q * Sh)) + (el - q * Sl);
    double y = q + r / Sh;
    return e > 0x1p-1000 ? y : q;
}
#endif

/* Pass 2 for one contiguous run: softmax (a = 1/S, or S = a + alo) or log
 * (a = log S). */
static void SM_FN(fa_sm_write)(const SM_T *FA_RESTRICT x, SM_T *FA_RESTRICT y, fa_index len,
                              double sg, double M, double a, double alo, int logsm)
{
    if (logsm) {
#pragma omp simd
        for (fa_index i = 0; i < len; i++) {
            double v = sg * (double)x[i];
            double d = v - M;
            double bb = d - v;                    /* x - M exactly: d + lo */
            double lo = (v - (d - bb)) + (-M - bb);
            lo = fabs(d) < 1e300 ? lo : 0.0;
            y[i] = (SM_T)((d - a) + (lo - alo));
        }
    } else {
#pragma omp simd
        for (fa_index i = 0; i < len; i++) {
            double v = sg * (double)x[i];
            double d = v - M;
            double bb = d - v;
            double lo = (v - (d - bb)) + (-M - bb);
            lo = fabs(d) < 1e300 ? lo : 0.0;
            y[i] = (SM_T)fa_sm_expdiv(d, lo, a, alo);
        }
    }
}

/* log S for S = cnt + rest + comp >= 1 (cnt >= 1 max terms counted apart):
 * log1p keeps relative accuracy when one term dominates; float64 then adds
 * one Newton correction against exp() carried as hi + lo, because
 * log_softmax = (x - max) - log S cancels when the two are close. */
FA_INLINE double SM_FN(fa_sm_logsum)(double rest, double comp, double cnt, double *lo)
{
    double L = log1p((rest + comp) + (cnt - 1.0));
    double m, el;
    double e = fa_exp_s2(L, 0.0, 0, &m, &el);
    double sh = cnt + rest;
    double bb = sh - cnt;                                 /* TwoSum: sh + sl = cnt + rest */
    double sl = ((cnt - (sh - bb)) + (rest - bb)) + comp;
    *lo = ((sh - e) + (sl - el)) / e;
    return L;
}

/* One last-axis row: online max and sum over L1-sized blocks (pass 1),
 * then pass 2. */
static void SM_FN(fa_sm_row)(const SM_T *x, SM_T *y, fa_index n, double sg, int logsm)
{
#ifdef FA_SM_ROW_HOOK  /* an ISA's own row kernel (AVX-512: fa_v512_sm64_row) */
    if (FA_SM_ROW_HOOK(x, y, n, sg, logsm)) return;
#endif
    double tmp[FA_SMB];
    double s[FA_SMW], q[FA_SMW];
    double M = -INFINITY, cnt = 0.0;
    for (int j = 0; j < FA_SMW; j++) { s[j] = 0.0; q[j] = 0.0; }
    for (fa_index b = 0; b < n; b += FA_SMB) {
        fa_index len = n - b < FA_SMB ? n - b : FA_SMB;
        double mn = SM_FN(fa_sm_maxblock)(x + b, len, sg);
        if ((mn > M) | (mn != mn)) {
            /* rescale once per block in which the max grew (0 for M = -inf) */
            double sc = fa_exp(M - mn, 0);
            for (int j = 0; j < FA_SMW; j++) {
                s[j] = (s[j] + q[j]) * sc;
                q[j] = 0.0;
            }
            s[0] += cnt * sc;
            cnt = 0.0;
            M = mn;
        }
        if (M == -INFINITY) continue;    /* all -inf so far: no terms yet */
        cnt += SM_FN(fa_sm_expblock)(x + b, tmp, len, sg, M, &q[1]);
        SM_FN(fa_sm_sumblock)(tmp, len, s, q);
    }
    if (!(fabs(M) < INFINITY)) { /* NaN, +inf, or all -inf: PyTorch gives NaN */
        for (fa_index i = 0; i < n; i++) y[i] = (SM_T)NAN;
        return;
    }
    double rest = 0.0, comp = 0.0, llo = 0.0;
    for (int j = 0; j < FA_SMW; j++) {  /* lanes combined with TwoSum too */
        double t = rest + s[j];
        double bb = t - rest;
        comp += ((rest - (t - bb)) + (s[j] - bb)) + q[j];
        rest = t;
    }
    double a = logsm ? SM_FN(fa_sm_logsum)(rest, comp, cnt, &llo)
                     : fa_sm_total(rest, comp, cnt, &llo);
    SM_FN(fa_sm_write)(x, y, n, sg, M, a, llo, logsm);
}

/* A non-last axis: w <= FA_SOFTMAX_LANES contiguous inner positions, n
 * reduction steps `inner` apart; lanes run along the contiguous dimension,
 * FA_SMK steps at a time (max first, one rescale, then the sums). */
static void SM_FN(fa_sm_cols)(const SM_T *x, SM_T *y, fa_index n, fa_index inner,
                             fa_index w, double sg, int logsm)
{
#ifdef FA_SM_COLS_HOOK  /* an ISA's own kernel (AVX-512: fa_v512_sm64_cols) */
    if (FA_SM_COLS_HOOK(x, y, n, inner, w, sg, logsm)) return;
#endif
    double m[FA_SOFTMAX_LANES], s[FA_SOFTMAX_LANES], c[FA_SOFTMAX_LANES];
    double q[FA_SOFTMAX_LANES], bm[FA_SOFTMAX_LANES], a[FA_SOFTMAX_LANES], alo[FA_SOFTMAX_LANES];
    for (fa_index j = 0; j < w; j++) { m[j] = -INFINITY; s[j] = 0; c[j] = 0; q[j] = 0; }
    for (fa_index k0 = 0; k0 < n; k0 += FA_SMK) {
        fa_index k1 = n - k0 < FA_SMK ? n : k0 + FA_SMK;
        for (fa_index j = 0; j < w; j++) bm[j] = m[j];
        for (fa_index k = k0; k < k1; k++) {
            const SM_T *xk = x + k * inner;
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                double v = sg * (double)xk[j];
                bm[j] = FA_SM_MAX(bm[j], v);
            }
        }
#pragma omp simd
        for (fa_index j = 0; j < w; j++) {
            double mn = bm[j];
            int grew = (mn > m[j]) | (mn != mn);
            double sc = fa_exp(m[j] - mn, 0);
            double ns = ((s[j] + q[j]) + c[j]) * sc;
            s[j] = grew ? ns : s[j];
            q[j] = grew ? 0.0 : q[j];
            c[j] = grew ? 0.0 : c[j];
            m[j] = mn;
        }
        for (fa_index k = k0; k < k1; k++) {
            const SM_T *xk = x + k * inner;
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                double v = sg * (double)xk[j];
                double d = v - m[j];
                double el;
                double bb = d - v;
                double lo = (v - (d - bb)) + (-m[j] - bb);
                double e = fa_exp_dd2(d, fabs(d) < 1e300 ? lo : 0.0, &el);
                int top = d == 0.0;
                /* a lane whose max is still -inf (a column that starts with
                 * -inf) has no terms yet: -inf - -inf must not reach the sum */
                int none = m[j] == -INFINITY;
                e = (top | none) ? 0.0 : e;
                el = none ? 0.0 : el;
                c[j] += top ? 1.0 : 0.0;
                double t = s[j] + e;
                double b2 = t - s[j];
                q[j] += ((s[j] - (t - b2)) + (e - b2)) + (top ? 0.0 : el);
                s[j] = t;
            }
        }
    }
    for (fa_index j = 0; j < w; j++) {
        int ok = fabs(m[j]) < INFINITY;
        m[j] = ok ? m[j] : NAN;
        alo[j] = 0.0;
        if (logsm)
            a[j] = SM_FN(fa_sm_logsum)(s[j], q[j], c[j], &alo[j]);
        else
            a[j] = fa_sm_total(s[j], q[j], c[j], &alo[j]);
    }
    for (fa_index k = 0; k < n; k++) {
        const SM_T *xk = x + k * inner;
        SM_T *yk = y + k * inner;
        if (logsm) {
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                double v = sg * (double)xk[j];
                double d = v - m[j];
                double bb = d - v;
                double lo = (v - (d - bb)) + (-m[j] - bb);
                lo = fabs(d) < 1e300 ? lo : 0.0;
                yk[j] = (SM_T)((d - a[j]) + (lo - alo[j]));
            }
        } else {
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                double v = sg * (double)xk[j];
                double d = v - m[j];
                double bb = d - v;
                double lo = (v - (d - bb)) + (-m[j] - bb);
                lo = fabs(d) < 1e300 ? lo : 0.0;
                yk[j] = (SM_T)fa_sm_expdiv(d, lo, a[j], alo[j]);
            }
        }
    }
}

static void FA_SYM(SM_CAT(fa_softmax, SM_SUF))(const SM_T *x, SM_T *y, fa_index u0, fa_index u1,
                                               fa_index n, fa_index inner, int op)
{
    double sg = op >= 2 ? -1.0 : 1.0;
    int logsm = op & 1;
    if (inner == 1) {
        for (fa_index r = u0; r < u1; r++)
            SM_FN(fa_sm_row)(x + r * n, y + r * n, n, sg, logsm);
        return;
    }
    for (fa_index u = u0, w, off; u < u1; u++) {
        off = fa_sm_unit(u, n, inner, &w);
        SM_FN(fa_sm_cols)(x + off, y + off, n, inner, w, sg, logsm);
    }
}

#undef SM_FN
#undef SM_CAT
#undef SM_CAT_
