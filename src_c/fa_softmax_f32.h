/*
 * fa_softmax_f32.h -- the float32 softmax family.  Same contract and
 * algorithm as fa_softmax_tmpl.h (units, two reads of the input, max terms
 * counted apart, non-finite max -> NaN row), with the terms e^(v - M) in
 * double lanes from a float32-grade exponential: fa_lexp on AVX2 and
 * baseline (fa_activations_f32.h, 2^-29 relative), fa_vexp on AVX-512
 * (2^-34).  v - M is exact in double, every term that matters is a normal
 * double, the sums need no compensation (n 2^-53 relative), and y =
 * (float)(e / S) rounds once, subnormal y included.  Rows that fit one
 * block keep their terms in an L1 scratch buffer, so the write pass does
 * not recompute the exponential.  Measured over rows of 2-32000 elements
 * against the float64 reference: see tests/test_softmax.py; the bound is
 * the float32 bound (1 ULP).
 */
static float FA_SYM(fa_sm32_max)(const float *FA_RESTRICT x, fa_index len, float sg)
{
    float mx = -INFINITY, nan = 0.0f;
#pragma omp simd reduction(max:mx) reduction(+:nan)
    for (fa_index i = 0; i < len; i++) {
        float v = sg * x[i];
        mx = v > mx ? v : mx;
        nan += v != v ? 1.0f : 0.0f;
    }
    return nan > 0.0f ? NAN : mx;
}

/* The path of AVX2 and baseline (the AVX-512 path has its own kernels
 * below), in double lanes like the elementwise float32 cores
 * (fa_activations_f32.h): d = v - M is exact in double, the term e^d comes
 * from fa_lexp (2^-29 relative) with no hi + lo and no scaling (every term
 * >= e^-200 is a normal double; smaller ones are 0, which changes no
 * output: y < 2^-288, and log S by < 2^-288), and y = (float)(e / S)
 * rounds once, subnormal y included.  Rows that fit one block keep their
 * terms in an L1 buffer (double) for the write pass. */
#ifndef FA_V512

/* e^(v - M) for v - M >= -200, else 0; NaN passes (a NaN max makes the
 * row NaN; the sums skip lanes whose max is still -inf, where -inf - -inf
 * is NaN) */
FA_INLINE double fa_sm32_term(double d)
{
    double e = fa_lexp(fa_max(d, -200.0));
    return (d >= -200.0 || d != d) ? e : 0.0;
}

/* Sum of the terms of x[0..len) against M, the max terms (v == M) counted
 * in *cnt instead; th (if not NULL) keeps the terms. */
static double FA_SYM(fa_sm32_expsum)(const float *FA_RESTRICT x, fa_index len, float sg, float M,
                                      double *cnt_out, double *FA_RESTRICT th)
{
    double sum = 0.0, cnt = 0.0;
    const double Md = M;
    if (th) {
#pragma omp simd reduction(+:sum, cnt)
        for (fa_index i = 0; i < len; i++) {
            double d = (double)(sg * x[i]) - Md;
            double e = fa_sm32_term(d);
            th[i] = e;
            sum += d == 0.0 ? 0.0 : e;
            cnt += d == 0.0 ? 1.0 : 0.0;
        }
    } else {
#pragma omp simd reduction(+:sum, cnt)
        for (fa_index i = 0; i < len; i++) {
            double d = (double)(sg * x[i]) - Md;
            double e = fa_sm32_term(d);
            sum += d == 0.0 ? 0.0 : e;
            cnt += d == 0.0 ? 1.0 : 0.0;
        }
    }
    *cnt_out = cnt;
    return sum;
}

/* log S (double) for S = cnt + rest: log1p keeps the digits of a row whose
 * max term dominates (cnt = 1, rest small) */
FA_INLINE double fa_sm32_logsum(double rest, double cnt)
{
    return log1p(rest + (cnt - 1.0));
}

static void FA_SYM(fa_sm32_row)(const float *x, float *y, fa_index n, float sg, int logsm)
{
    double th[FA_SMB];
    int one = !logsm && n <= FA_SMB;
    double rest = 0.0, cnt = 0.0;
    float M = -INFINITY;
    for (fa_index b = 0; b < n; b += FA_SMB) {
        fa_index len = n - b < FA_SMB ? n - b : FA_SMB;
        float mn = FA_SYM(fa_sm32_max)(x + b, len, sg);
        if ((mn > M) | (mn != mn)) {
            double sc = fa_exp((double)M - (double)mn, 1);  /* 0 for M = -inf */
            rest *= sc;
            cnt *= sc;           /* earlier max terms are ordinary terms now */
            rest += cnt;
            cnt = 0.0;
            M = mn;
        }
        if (M == -INFINITY) continue;    /* all -inf so far: no terms yet */
        if (!(fabsf(M) < INFINITY)) break;
        double bc;
        rest += FA_SYM(fa_sm32_expsum)(x + b, len, sg, M, &bc, one ? th : NULL);
        cnt += bc;
    }
    if (!(fabsf(M) < INFINITY)) { /* NaN, +inf, or all -inf: PyTorch gives NaN */
        for (fa_index i = 0; i < n; i++) y[i] = NAN;
        return;
    }
    if (logsm) {
        double L = fa_sm32_logsum(rest, cnt);
        for (fa_index i = 0; i < n; i++)  /* v - M is exact in double */
            y[i] = (float)(((double)(sg * x[i]) - (double)M) - L);
        return;
    }
    const double a = 1.0 / (rest + cnt);  /* 1 / S */
    if (one) {
#pragma omp simd
        for (fa_index i = 0; i < n; i++) y[i] = (float)(th[i] * a);
        return;
    }
    const double Md = M;
#pragma omp simd
    for (fa_index i = 0; i < n; i++)
        y[i] = (float)(fa_sm32_term((double)(sg * x[i]) - Md) * a);
}

/* softmax (not log) of a non-last axis with n * w <= FA_SM32_CB: the lane
 * maxima over all n steps first, then the terms e^(v - M) into an L1
 * buffer with their sums (the max terms are e^0 = 1 exactly there, no need
 * to count them apart), then y = term / S from the buffer: the input is
 * read twice and each exponential computed once.  A lane whose max is not
 * finite (NaN, +inf, or all -inf) has NaN terms (-inf - -inf, inf - inf)
 * or a NaN sum, so a NaN column, as fa_sm32_cols gives. */
#define FA_SM32_CB 8192
static void FA_SYM(fa_sm32_cols_kept)(const float *x, float *y, fa_index n, fa_index inner,
                                       fa_index w, float sg)
{
    double tb[FA_SM32_CB];
    float m[FA_SOFTMAX_LANES];
    double md[FA_SOFTMAX_LANES], S[FA_SOFTMAX_LANES];
    for (fa_index j = 0; j < w; j++) { m[j] = -INFINITY; S[j] = 0.0; }
    for (fa_index k = 0; k < n; k++) {
        const float *xk = x + k * inner;
#pragma omp simd
        for (fa_index j = 0; j < w; j++) {
            float v = sg * xk[j];
            m[j] = FA_SM_MAX(m[j], v);
        }
    }
    for (fa_index j = 0; j < w; j++) md[j] = fabsf(m[j]) < INFINITY ? (double)m[j] : NAN;
    for (fa_index k = 0; k < n; k++) {
        const float *xk = x + k * inner;
        double *tk = tb + k * w;
#pragma omp simd
        for (fa_index j = 0; j < w; j++) {
            double e = fa_sm32_term((double)(sg * xk[j]) - md[j]);
            tk[j] = e;
            S[j] += e;
        }
    }
    for (fa_index j = 0; j < w; j++) S[j] = 1.0 / S[j];
    for (fa_index k = 0; k < n; k++) {
        const double *tk = tb + k * w;
        float *yk = y + k * inner;
#pragma omp simd
        for (fa_index j = 0; j < w; j++) yk[j] = (float)(tk[j] * S[j]);
    }
}

/* A non-last axis: w <= FA_SOFTMAX_LANES contiguous inner positions, n
 * steps `inner` apart, lanes along the contiguous dimension, FA_SMK steps
 * per block (max first, one rescale of the double totals, then the sums). */
static void FA_SYM(fa_sm32_cols)(const float *x, float *y, fa_index n, fa_index inner,
                                  fa_index w, float sg, int logsm)
{
    if (!logsm && n <= FA_SM32_CB / 8) {
        /* softmax of a short column block: lanes in groups whose terms fit
         * the L1 buffer (fa_sm32_cols_kept) */
        fa_index g = (FA_SM32_CB / n) & ~(fa_index)7;
        for (fa_index j0 = 0; j0 < w; j0 += g)
            FA_SYM(fa_sm32_cols_kept)(x + j0, y + j0, n, inner, w - j0 < g ? w - j0 : g, sg);
        return;
    }
    float m[FA_SOFTMAX_LANES], bm[FA_SOFTMAX_LANES];
    double md[FA_SOFTMAX_LANES], a[FA_SOFTMAX_LANES];
    double tot[FA_SOFTMAX_LANES], cn[FA_SOFTMAX_LANES], L[FA_SOFTMAX_LANES];
    for (fa_index j = 0; j < w; j++) { m[j] = -INFINITY; tot[j] = 0.0; cn[j] = 0.0; }
    for (fa_index k0 = 0; k0 < n; k0 += FA_SMK) {
        fa_index k1 = n - k0 < FA_SMK ? n : k0 + FA_SMK;
        for (fa_index j = 0; j < w; j++) bm[j] = m[j];
        for (fa_index k = k0; k < k1; k++) {
            const float *xk = x + k * inner;
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                float v = sg * xk[j];
                bm[j] = FA_SM_MAX(bm[j], v);
            }
        }
        for (fa_index j = 0; j < w; j++) {
            float mn = bm[j];
            if ((mn > m[j]) | (mn != mn)) {
                double sc = fa_exp((double)m[j] - (double)mn, 1);
                tot[j] = tot[j] * sc + cn[j] * sc;
                cn[j] = 0.0;
                m[j] = mn;
            }
            md[j] = m[j];
        }
        for (fa_index k = k0; k < k1; k++) {
            const float *xk = x + k * inner;
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                double d = (double)(sg * xk[j]) - md[j];
                double e = fa_sm32_term(d);
                /* a lane whose max is still -inf has no terms yet */
                tot[j] += (d == 0.0 || md[j] == -INFINITY) ? 0.0 : e;
                cn[j] += d == 0.0 ? 1.0 : 0.0;
            }
        }
    }
    for (fa_index j = 0; j < w; j++) {
        int ok = fabsf(m[j]) < INFINITY;
        md[j] = ok ? (double)m[j] : NAN;
        L[j] = fa_sm32_logsum(tot[j], cn[j]);
        a[j] = 1.0 / (tot[j] + cn[j]);
    }
    for (fa_index k = 0; k < n; k++) {
        const float *xk = x + k * inner;
        float *yk = y + k * inner;
        if (logsm) {
#pragma omp simd
            for (fa_index j = 0; j < w; j++)
                yk[j] = (float)(((double)(sg * xk[j]) - md[j]) - L[j]);
        } else {
#pragma omp simd
            for (fa_index j = 0; j < w; j++)
                yk[j] = (float)(fa_sm32_term((double)(sg * xk[j]) - md[j]) * a[j]);
        }
    }
}

#else /* FA_V512 */
/*
 * AVX-512: the terms in double lanes (fa_v512_f32.h's exp, 2^-34 relative),
 * for the reasons the elementwise float32 kernels use them: v - M is exact
 * in double, e^(v - M) needs no hi + lo and no 2^64 scaling (a double holds
 * every term normally), and y = (float)(e / S) rounds once, subnormal y
 * included.  Terms below e^-200 (y < 2^-288) are 0, which keeps subnormal
 * doubles out of the sums.  Same passes, blocks, max counting and NaN
 * rules as above; rows of up to FA_SMB elements keep their terms (double)
 * in an L1 scratch buffer.
 */
FA_V_INLINE __m512d fa_v512_sm_term(__m512d v, __m512d M, __mmask8 *top)
{
    __m512d d = _mm512_sub_pd(v, M);
    *top = _mm512_cmp_pd_mask(d, _mm512_setzero_pd(), _CMP_EQ_OQ);
    /* NaN d (-inf - -inf in a lane whose max is still -inf) gives 0 */
    __mmask8 in = _mm512_cmp_pd_mask(d, fa_vset(-200.0), _CMP_GE_OQ);
    return _mm512_maskz_mov_pd(in, fa_vexp(_mm512_max_pd(fa_vset(-200.0), d)));
}

FA_V_INLINE __m512d fa_v512_sm_load(const float *x, fa_index k, __m512d sg)
{
    __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
    return _mm512_mul_pd(sg, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x)));
}

/* log S = log1p(u), S = u + 1 >= 1 given as u = rest + (cnt - 1) (so a
 * dominant term keeps its digits): S = 2^k m, m in [1, 2), log S =
 * k ln2 + log1p(m - 1), with m - 1 = u itself for k = 0.  2^-32 relative;
 * y = (v - M) - log S has no cancellation (v - M <= 0 <= log S). */
FA_V_INLINE __m512d fa_v512_logS(__m512d u)
{
    __m512d S = _mm512_add_pd(u, fa_vset(1.0));
    __m512d k = _mm512_getexp_pd(S);
    __m512d f = _mm512_sub_pd(_mm512_getmant_pd(S, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src), fa_vset(1.0));
    f = _mm512_mask_mov_pd(f, _mm512_cmp_pd_mask(k, _mm512_setzero_pd(), _CMP_EQ_OQ), u);
    return _mm512_fmadd_pd(k, fa_vset(0.6931471805599453), fa_vlog1p01(f));
}

/* sg v - M for the float32 AVX-512 sums with the sign folded into the max:
 * Ms = M (neg = 0) or -M (neg = 1, softmin: -v - M = Ms - v) */
FA_V_INLINE __m512d fa_v512_sm_d(__m512d v, __m512d Ms, int neg)
{
    return neg ? _mm512_sub_pd(Ms, v) : _mm512_sub_pd(v, Ms);
}

/* log_softmax's sum: the max terms (v == M) counted in *cnt_out, the rest
 * summed; the same clamp as fa_v512_sm32_sum1 (M is finite here, so v - M
 * is never NaN); neg: x is negated (log_softmin) */
FA_V_INLINE double fa_v512_sm32_expsum(const float *x, fa_index len, float M, double *cnt_out,
                                       int neg)
{
    __m512d sum = _mm512_setzero_pd(), cnt = _mm512_setzero_pd();
    __m512d sum2 = _mm512_setzero_pd(), cnt2 = _mm512_setzero_pd();
    const __m512d Md = fa_vset(neg ? -(double)M : (double)M), lim = fa_vset(-200.0);
    const __m512d zero = _mm512_setzero_pd(), one = fa_vset(1.0);
    fa_index i = 0;
#define FA_SMC_DIFF(v) fa_v512_sm_d((v), Md, neg)
    /* two independent chains per step (the exp's latency); the final
     * combination order is fixed, so results do not depend on threads */
    for (; i + 16 <= len; i += 16) {
        __m512d d1 = FA_SMC_DIFF(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
        __m512d d2 = FA_SMC_DIFF(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)));
        __mmask8 t1 = _mm512_cmp_pd_mask(d1, zero, _CMP_EQ_OQ);
        __mmask8 t2 = _mm512_cmp_pd_mask(d2, zero, _CMP_EQ_OQ);
        sum = _mm512_add_pd(sum, _mm512_maskz_mov_pd((__mmask8)~t1, fa_vexp(_mm512_max_pd(lim, d1))));
        sum2 = _mm512_add_pd(sum2, _mm512_maskz_mov_pd((__mmask8)~t2, fa_vexp(_mm512_max_pd(lim, d2))));
        cnt = _mm512_mask_add_pd(cnt, t1, cnt, one);
        cnt2 = _mm512_mask_add_pd(cnt2, t2, cnt2, one);
    }
    sum = _mm512_add_pd(sum, sum2);
    cnt = _mm512_add_pd(cnt, cnt2);
    for (; i < len; i += 8) {
        fa_index k = len - i;
        __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
        __m512d d = FA_SMC_DIFF(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i)));
        __mmask8 top = _mm512_mask_cmp_pd_mask(m, d, zero, _CMP_EQ_OQ);
        sum = _mm512_add_pd(sum, _mm512_maskz_mov_pd((__mmask8)(m & ~top), fa_vexp(_mm512_max_pd(lim, d))));
        cnt = _mm512_mask_add_pd(cnt, top, cnt, one);
    }
#undef FA_SMC_DIFF
    *cnt_out = _mm512_reduce_add_pd(cnt);
    return _mm512_reduce_add_pd(sum);
}

/* softmax/softmin's sum: the max terms need no counting there (they are
 * e^0 = 1 exactly, and only log_softmax needs S - cnt apart), and a
 * clamp at -200 replaces the range mask (e^-200 adds < 2^-288 to S >= 1
 * and rounds y to 0 as it should); neg: x is negated (softmin) */
FA_V_INLINE double fa_v512_sm32_sum1(const float *x, fa_index len, float M, double *th, int neg)
{
    __m512d sum = _mm512_setzero_pd(), sum2 = _mm512_setzero_pd();
    const __m512d Md = fa_vset(neg ? -(double)M : (double)M), lim = fa_vset(-200.0);
    fa_index i = 0;
#define FA_SM1_TERM(v) fa_vexp(_mm512_max_pd(lim, fa_v512_sm_d((v), Md, neg)))
    for (; i + 16 <= len; i += 16) {
        __m512d e1 = FA_SM1_TERM(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
        __m512d e2 = FA_SM1_TERM(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)));
        if (th) {
            _mm512_storeu_pd(th + i, e1);
            _mm512_storeu_pd(th + i + 8, e2);
        }
        sum = _mm512_add_pd(sum, e1);
        sum2 = _mm512_add_pd(sum2, e2);
    }
    sum = _mm512_add_pd(sum, sum2);
    for (; i < len; i += 8) {
        fa_index k = len - i;
        __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
        __m512d e = _mm512_maskz_mov_pd(m, FA_SM1_TERM(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i))));
        if (th) _mm512_mask_storeu_pd(th + i, m, e);
        sum = _mm512_add_pd(sum, e);
    }
#undef FA_SM1_TERM
    return _mm512_reduce_add_pd(sum);
}

/* Rows longer than FA_SMB keep their terms in `scr` (capacity
 * FA_SM_SCR_MAX doubles, L2-resident, from the caller) when it is not NULL:
 * block b's terms are relative to the max Mb[b] known when the block was
 * summed, and the write pass scales them by e^(Mb[b] - M) / S, one factor
 * per block, instead of recomputing every exponential. */
#define FA_SM_SCR_MAX 65536

static void fa_v512_sm32_row(const float *x, float *y, fa_index n, float sg, int logsm,
                             double *scr)
{
    double local[FA_SMB];
    float Mb[FA_SM_SCR_MAX / FA_SMB];
    double *th = n <= FA_SMB ? local : (n <= FA_SM_SCR_MAX ? scr : NULL);
    if (logsm) th = NULL;
    double rest = 0.0, cnt = 0.0;
    float M = -INFINITY;
    for (fa_index b = 0; b < n; b += FA_SMB) {
        fa_index len = n - b < FA_SMB ? n - b : FA_SMB;
        float mn = FA_SYM(fa_sm32_max)(x + b, len, sg);
        if ((mn > M) | (mn != mn)) {
            if (b > 0) {   /* (the first block has nothing to rescale) */
                double sc = fa_exp((double)M - (double)mn, 1);  /* 0 for M = -inf */
                rest = rest * sc + cnt * sc;   /* earlier max terms are ordinary now */
                cnt = 0.0;
            }
            M = mn;
        }
        if (M == -INFINITY) {            /* all -inf so far: its terms are 0 */
            if (th) {
                Mb[b / FA_SMB] = M;
                for (fa_index i = 0; i < len; i++) th[b + i] = 0.0;
            }
            continue;
        }
        if (!(fabsf(M) < INFINITY)) break;
        if (th) Mb[b / FA_SMB] = M;
        if (!logsm) {      /* max terms summed, not counted: cnt stays 0 */
            rest += sg > 0.0f ? fa_v512_sm32_sum1(x + b, len, M, th ? th + b : NULL, 0)
                              : fa_v512_sm32_sum1(x + b, len, M, th ? th + b : NULL, 1);
            continue;
        }
        double bc;
        rest += sg > 0.0f ? fa_v512_sm32_expsum(x + b, len, M, &bc, 0)
                          : fa_v512_sm32_expsum(x + b, len, M, &bc, 1);
        cnt += bc;
    }
    if (!(fabsf(M) < INFINITY)) {
        for (fa_index i = 0; i < n; i++) y[i] = NAN;
        return;
    }
    if (logsm) {
        double L = _mm512_cvtsd_f64(fa_v512_logS(fa_vset(rest + (cnt - 1.0))));
        for (fa_index i = 0; i < n; i++)
            y[i] = (float)(((double)(sg * x[i]) - (double)M) - L);
        return;
    }
    double inv = 1.0 / (rest + cnt);
    const __m512d Md = fa_vset((double)M), sgd = fa_vset((double)sg);
    for (fa_index b = 0; b < n; b += FA_SMB) {
        fa_index end = n - b < FA_SMB ? n : b + FA_SMB;
        float mb = th ? Mb[b / FA_SMB] : M;
        const __m512d a = fa_vset(mb == M ? inv : fa_exp((double)mb - (double)M, 1) * inv);
        for (fa_index i = b; i < end; i += 8) {
            fa_index k = end - i;
            __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u), top;
            __m512d e = th ? _mm512_maskz_loadu_pd(m, th + i)
                           : fa_v512_sm_term(fa_v512_sm_load(x + i, k, sgd), Md, &top);
            _mm256_mask_storeu_ps(y + i, m, _mm512_cvtpd_ps(_mm512_mul_pd(e, a)));
        }
    }
}

/* Rows of n <= 16: one masked register (two double halves) per row, the
 * statistics by in-register reductions; the same term, count and NaN rules
 * as the long-row path (a NaN or +inf, or an all -inf row, gives NaN). */
static void fa_v512_sm32_short(const float *x, float *y, fa_index rows, fa_index n, float sg,
                               int logsm)
{
    const __mmask16 m16 = (__mmask16)((1u << n) - 1u);
    const __mmask8 mlo = (__mmask8)(m16 & 0xFF), mhi = (__mmask8)(m16 >> 8);
    const __m512 sgf = _mm512_set1_ps(sg);
    for (fa_index r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        __m512 v = _mm512_mul_ps(sgf, _mm512_maskz_loadu_ps(m16, xr));
        __mmask16 nan = _mm512_mask_cmp_ps_mask(m16, v, v, _CMP_UNORD_Q);
        float M = _mm512_mask_reduce_max_ps(m16, v);
        if (nan || !(fabsf(M) < INFINITY)) {
            _mm512_mask_storeu_ps(y + r * n, m16, _mm512_set1_ps(NAN));
            continue;
        }
        const __m512d Md = fa_vset((double)M);
        __m512d vl = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        __m512d vh = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
        __mmask8 tl, th;
        __m512d el = fa_v512_sm_term(vl, Md, &tl), eh = fa_v512_sm_term(vh, Md, &th);
        tl &= mlo;
        th &= mhi;
        double rest = _mm512_reduce_add_pd(_mm512_add_pd(
            _mm512_maskz_mov_pd((__mmask8)(mlo & ~tl), el), _mm512_maskz_mov_pd((__mmask8)(mhi & ~th), eh)));
        double cnt = (double)(__builtin_popcount(tl) + __builtin_popcount(th));
        __m256 ol, oh;
        if (logsm) {
            __m512d L = fa_v512_logS(fa_vset(rest + (cnt - 1.0)));
            ol = _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_sub_pd(vl, Md), L));
            oh = _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_sub_pd(vh, Md), L));
        } else {
            __m512d a = fa_vset(1.0 / (rest + cnt));
            ol = _mm512_cvtpd_ps(_mm512_mul_pd(el, a));
            oh = _mm512_cvtpd_ps(_mm512_mul_pd(eh, a));
        }
        _mm512_mask_storeu_ps(y + r * n, m16,
                              _mm512_insertf32x8(_mm512_castps256_ps512(ol), oh, 1));
    }
}

/* a non-last axis, lanes along the contiguous dimension (w <= 64), every
 * per-lane step (rescale, log S, 1/S) in vectors */
static void fa_v512_sm32_cols(const float *x, float *y, fa_index n, fa_index inner,
                              fa_index w, float sg, int logsm, double *scr)
{
    /* scr (softmax, n * 64 + (n / FA_SMK + 1) * 64 doubles, or NULL): the
     * terms, k-major with stride 64, and each block's lane maxima, so the
     * write pass scales instead of recomputing exp (as the row path) */
    double *te = scr, *tm = scr ? scr + n * FA_SOFTMAX_LANES : NULL;
    float bm[FA_SOFTMAX_LANES];
    double md[FA_SOFTMAX_LANES], tot[FA_SOFTMAX_LANES], cn[FA_SOFTMAX_LANES];
    double L[FA_SOFTMAX_LANES], A[FA_SOFTMAX_LANES];
    const __m512d sgd = fa_vset((double)sg);
    for (fa_index j = 0; j < w; j++) { md[j] = -INFINITY; tot[j] = 0.0; cn[j] = 0.0; }
    for (fa_index k0 = 0; k0 < n; k0 += FA_SMK) {
        fa_index k1 = n - k0 < FA_SMK ? n : k0 + FA_SMK;
        for (fa_index j = 0; j < w; j++) bm[j] = (float)md[j];
        for (fa_index k = k0; k < k1; k++) {
            const float *xk = x + k * inner;
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                float v = sg * xk[j];
                bm[j] = FA_SM_MAX(bm[j], v);
            }
        }
        for (fa_index j = 0; j < w; j += 8) {
            fa_index kk = w - j;
            __mmask8 msk = (__mmask8)(kk >= 8 ? 0xFF : (1u << kk) - 1u), top;
            /* the block max raised the lane's max (or is NaN): rescale the
             * totals by e^(old - new) (its sums are 0 where old = -inf), max terms included */
            __m512d mo = _mm512_maskz_loadu_pd(msk, md + j);
            __m512d mn = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(msk, bm + j));
            __mmask8 grow = _mm512_cmp_pd_mask(mn, mo, _CMP_NLE_UQ) & msk;
            __m512d t = _mm512_maskz_loadu_pd(msk, tot + j), c = _mm512_maskz_loadu_pd(msk, cn + j);
            /* clamped at -200, not lower: e^-200 is a normal double (a
             * vscalefpd that underflows takes a microcode assist: axis-0
             * softmax of a (4, 1024) array ran 3.3x slower), and scaling the
             * old sums by e^-200 instead of less changes no S >= 1 */
            __m512d sc = fa_vexp(_mm512_max_pd(fa_vset(-200.0), _mm512_sub_pd(mo, mn)));
            t = _mm512_mask_mul_pd(t, grow, _mm512_add_pd(t, c), sc);
            c = _mm512_mask_mov_pd(c, grow, _mm512_setzero_pd());
            __m512d Mj = _mm512_mask_mov_pd(mo, grow, mn);
            _mm512_mask_storeu_pd(md + j, msk, Mj);
            if (!(_mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), Mj), fa_vset(INFINITY),
                                     _CMP_LT_OQ) & msk)) {
                _mm512_mask_storeu_pd(tot + j, msk, t);
                _mm512_mask_storeu_pd(cn + j, msk, c);
                if (tm) {          /* keep the write pass's reads defined */
                    _mm512_mask_storeu_pd(tm + (k0 / FA_SMK) * FA_SOFTMAX_LANES + j, msk, Mj);
                    for (fa_index k = k0; k < k1; k++)
                        _mm512_mask_storeu_pd(te + k * FA_SOFTMAX_LANES + j, msk, _mm512_setzero_pd());
                }
                continue;          /* every lane non-finite: their sums are unused */
            }
            if (tm) _mm512_mask_storeu_pd(tm + (k0 / FA_SMK) * FA_SOFTMAX_LANES + j, msk, Mj);
            /* lanes whose max is not finite (yet: a column may start with a
             * block of -inf) take no terms; a NaN or +inf lane comes out NaN
             * whatever its sum is, a -inf one gets its terms from later blocks */
            const __mmask8 fin = _mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), Mj),
                                                    fa_vset(INFINITY), _CMP_LT_OQ) & msk;
            /* the terms as fa_v512_sm32_sum1 (softmax/softmin: max terms summed)
             * or fa_v512_sm32_expsum (log_softmax: counted) */
            const int neg = sg < 0.0f;
            const __m512d lim = fa_vset(-200.0);
            const __m512d Ms = neg ? _mm512_sub_pd(_mm512_setzero_pd(), Mj) : Mj;
            for (fa_index k = k0; k < k1; k++) {
                __m512d d = fa_v512_sm_d(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(msk, x + k * inner + j)),
                                         Ms, neg);
                __m512d e = fa_vexp(_mm512_max_pd(lim, d));
                if (!logsm) {
                    e = _mm512_maskz_mov_pd(fin, e);
                    if (te) _mm512_mask_storeu_pd(te + k * FA_SOFTMAX_LANES + j, msk, e);
                    t = _mm512_add_pd(t, e);
                } else {
                    top = _mm512_mask_cmp_pd_mask(fin, d, _mm512_setzero_pd(), _CMP_EQ_OQ);
                    t = _mm512_mask_add_pd(t, (__mmask8)(fin & ~top), t, e);
                    c = _mm512_mask_add_pd(c, top, c, fa_vset(1.0));
                }
            }
            _mm512_mask_storeu_pd(tot + j, msk, t);
            _mm512_mask_storeu_pd(cn + j, msk, c);
        }
    }
    for (fa_index j = 0; j < w; j += 8) {
        fa_index kk = w - j;
        __mmask8 msk = (__mmask8)(kk >= 8 ? 0xFF : (1u << kk) - 1u);
        __m512d Mj = _mm512_maskz_loadu_pd(msk, md + j);
        __mmask8 ok = _mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), Mj), fa_vset(INFINITY),
                                         _CMP_LT_OQ);
        _mm512_mask_storeu_pd(md + j, msk, _mm512_mask_mov_pd(fa_vset(NAN), ok, Mj));
        __m512d t = _mm512_maskz_loadu_pd(msk, tot + j), c = _mm512_maskz_loadu_pd(msk, cn + j);
        /* lanes that are not finite get harmless values: their M is NaN */
        t = _mm512_maskz_mov_pd(ok, t);
        c = _mm512_mask_mov_pd(fa_vset(1.0), ok, c);
        if (logsm) {
            _mm512_mask_storeu_pd(L + j, msk, fa_v512_logS(_mm512_add_pd(t, _mm512_sub_pd(c, fa_vset(1.0)))));
            continue;
        }
        /* 1/S, NaN for a non-finite lane: its whole column comes out NaN */
        _mm512_mask_storeu_pd(A + j, msk, _mm512_mask_mov_pd(fa_vset(NAN), ok,
                                                             _mm512_div_pd(fa_vset(1.0), _mm512_add_pd(t, c))));
    }
    for (fa_index k = 0; k < n; k++) {
        const float *xk = x + k * inner;
        float *yk = y + k * inner;
        if (logsm) {
#pragma omp simd
            for (fa_index j = 0; j < w; j++)
                yk[j] = (float)(((double)(sg * xk[j]) - md[j]) - L[j]);
        } else if (te) {
            if (k == 0 && n <= FA_SMK) {  /* one block: its max is the max, factor 1 / S */
                for (fa_index j = 0; j < w; j++) L[j] = A[j];
            } else if (k % FA_SMK == 0) { /* this block's factors e^(Mb - M) / S */
                for (fa_index j = 0; j < w; j += 8) {
                    fa_index kk = w - j;
                    __mmask8 msk = (__mmask8)(kk >= 8 ? 0xFF : (1u << kk) - 1u);
                    __m512d Mb = _mm512_maskz_loadu_pd(msk, tm + (k / FA_SMK) * FA_SOFTMAX_LANES + j);
                    __m512d sc = fa_vexp(_mm512_max_pd(fa_vset(-200.0),   /* (as above) */
                                                       _mm512_sub_pd(Mb, _mm512_maskz_loadu_pd(msk, md + j))));
                    _mm512_mask_storeu_pd(L + j, msk, _mm512_mul_pd(sc, _mm512_maskz_loadu_pd(msk, A + j)));
                }
            }
            for (fa_index j = 0; j < w; j += 8) {
                fa_index kk = w - j;
                __mmask8 msk = (__mmask8)(kk >= 8 ? 0xFF : (1u << kk) - 1u);
                __m512d v = _mm512_mul_pd(_mm512_maskz_loadu_pd(msk, te + k * FA_SOFTMAX_LANES + j),
                                          _mm512_maskz_loadu_pd(msk, L + j));
                _mm256_mask_storeu_ps(yk + j, msk, _mm512_cvtpd_ps(v));
            }
        } else {
            for (fa_index j = 0; j < w; j += 8) {
                fa_index kk = w - j;
                __mmask8 msk = (__mmask8)(kk >= 8 ? 0xFF : (1u << kk) - 1u), top;
                __m512d e = fa_v512_sm_term(fa_v512_sm_load(xk + j, kk, sgd),
                                            _mm512_maskz_loadu_pd(msk, md + j), &top);
                __m512d v = _mm512_mul_pd(e, _mm512_maskz_loadu_pd(msk, A + j));
                _mm256_mask_storeu_ps(yk + j, msk, _mm512_cvtpd_ps(v));
            }
        }
    }
}
#endif

static void FA_SYM(fa_softmax_f32)(const float *x, float *y, fa_index u0, fa_index u1,
                                   fa_index n, fa_index inner, int op)
{
    float sg = op >= 2 ? -1.0f : 1.0f;
    int logsm = op & 1;
    if (inner == 1) {
#ifdef FA_V512
        if (n <= 16) {
            fa_v512_sm32_short(x + u0 * n, y + u0 * n, u1 - u0, n, sg, logsm);
            return;
        }
        double *scr = NULL;                /* NULL (malloc failed): recompute */
        if (!logsm && n > FA_SMB && n <= FA_SM_SCR_MAX) scr = (double *)malloc(n * sizeof(double));
        for (fa_index r = u0; r < u1; r++)
            fa_v512_sm32_row(x + r * n, y + r * n, n, sg, logsm, scr);
        free(scr);
#else
        for (fa_index r = u0; r < u1; r++)
            FA_SYM(fa_sm32_row)(x + r * n, y + r * n, n, sg, logsm);
#endif
        return;
    }
#ifdef FA_V512
    double *scr = NULL;                    /* NULL (malloc failed): recompute */
    if (!logsm && n * FA_SOFTMAX_LANES <= FA_SM_SCR_MAX)
        scr = (double *)malloc((n + n / FA_SMK + 1) * FA_SOFTMAX_LANES * sizeof(double));
    for (fa_index u = u0, w, off; u < u1; u++) {
        off = fa_sm_unit(u, n, inner, &w);
        fa_v512_sm32_cols(x + off, y + off, n, inner, w, sg, logsm, scr);
    }
    free(scr);
#else
    for (fa_index u = u0, w, off; u < u1; u++) {
        off = fa_sm_unit(u, n, inner, &w);
        FA_SYM(fa_sm32_cols)(x + off, y + off, n, inner, w, sg, logsm);
    }
#endif
}
