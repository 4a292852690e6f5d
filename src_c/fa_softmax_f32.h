/*
 * fa_softmax_f32.h -- the float32 softmax family in float lanes (16 per
 * zmm).  Same contract and algorithm as fa_softmax_tmpl.h (units, two reads
 * of the input, max terms counted apart, non-finite max -> NaN row), with
 * float arithmetic where the double template widened every element:
 *
 * - d = v - M is carried exactly as dh + dl (TwoSum): its rounding would
 *   cost |d|/2 ULP of the exponential.
 * - exp(d) comes from fa_expf_core as hi + lo (~0.1 ULP), scaled by
 *   2^(k + 64) instead of 2^k: for d >= -130 (below which a term is 0)
 *   that keeps every term a normal float, so no term is flushed or rounded
 *   twice, and the final y = E 2^64 * (2^-64 / S) rounds once even where y
 *   is subnormal.
 * - The terms are summed in double lanes (no compensation needed for
 *   float32 terms: n 2^-53 relative); the totals absorb the rescale when a
 *   later block (FA_SMB elements of a row, FA_SMK steps of a column) raises
 *   the max.
 * - Rows that fit one block keep their terms (hi, lo) in an L1 scratch
 *   buffer, so the write pass does not recompute the exponential.
 * Measured over rows of 2-32000 elements against the float64 reference:
 * see tests/test_softmax.py; the bound is the float32 bound (1 ULP).
 */
#define FA_SM32_SCALE 18446744073709551616.0 /* 2^64 */

/* e^(dh + dl) * 2^64 = hi + *lo for dh in [-130, 0]; 0 below (a term
 * under e^-130 = 3.5e-57 changes neither a softmax output nor, unless there
 * are 2e11 of them, a log_softmax output: 2^-150 / 3.5e-57) */
FA_INLINE float fa_sm32_exp(float dh, float dl, float *lo)
{
    int in = dh >= -130.0f;
    float d = fa_maxf(dh, -130.0f);
    dl = in ? dl : 0.0f;                           /* also drops -inf - (-inf) */
    float el;
    int32_t k;
    float e = fa_expf_core(d, dl, &el, &k);
    float S = fa_pow2f(k + 64);                    /* k + 64 in [-124, 64] */
    *lo = in ? el * S : 0.0f;
    e = e * S;
    return in || dh != dh ? e : 0.0f;              /* NaN passes */
}

/* v - M = dh + dl exactly (TwoSum) */
#define FA_SM32_DIFF(v, M, dh, dl)                                            \
    do {                                                                      \
        dh = (v) - (M);                                                       \
        float bb_ = dh - (v);                                                 \
        dl = ((v) - (dh - bb_)) + (-(M) - bb_);                               \
    } while (0)

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

/* One term of the sum: E 2^64 = e + lo, or 0 for a max term (v == M),
 * which is counted instead. */
#define FA_SM32_TERM(xi, M, e, lo, top)                                       \
    do {                                                                      \
        float v_ = sg * (xi), dh_, dl_;                                       \
        FA_SM32_DIFF(v_, M, dh_, dl_);                                        \
        e = fa_sm32_exp(dh_, dl_, &lo);                                       \
        top = dh_ == 0.0f;                                                    \
    } while (0)

/* Sum of the terms of x[0..len) against M (scaled by 2^64), in double
 * lanes (float32 terms need no compensation there: n 2^-53); returns the
 * count of max terms in *cnt.  th/tl (if not NULL) keep the terms. */
static double FA_SYM(fa_sm32_expsum)(const float *FA_RESTRICT x, fa_index len, float sg, float M,
                                      double *cnt_out, float *FA_RESTRICT th, float *FA_RESTRICT tl)
{
    double sum = 0.0, cnt = 0.0;
    if (th) {
#pragma omp simd reduction(+:sum, cnt)
        for (fa_index i = 0; i < len; i++) {
            float e, lo;
            int top;
            FA_SM32_TERM(x[i], M, e, lo, top);
            th[i] = e;
            tl[i] = lo;
            sum += top ? 0.0 : (double)e + (double)lo;
            cnt += top ? 1.0 : 0.0;
        }
    } else {
#pragma omp simd reduction(+:sum, cnt)
        for (fa_index i = 0; i < len; i++) {
            float e, lo;
            int top;
            FA_SM32_TERM(x[i], M, e, lo, top);
            sum += top ? 0.0 : (double)e + (double)lo;
            cnt += top ? 1.0 : 0.0;
        }
    }
    *cnt_out = cnt;
    return sum;
}

/* y = E / S for E 2^64 = e + lo and R = rh + rl = 1 / S: the product is
 * formed in the 2^64-scaled range, where even its low terms are normal
 * floats, and rounded to 24 bits there; the exact power-of-two scaling
 * back rounds again only for a subnormal y (then by < 2^-24 of its unit). */
FA_INLINE float fa_sm32_scale(float e, float lo, float rh, float rl)
{
    return FA_FMAF(e, rh, FA_FMAF(lo, rh, e * rl)) * 0x1p-64f;
}

/* log S (double) for S = 2^64 (cnt + rest / 2^64) */
FA_INLINE double fa_sm32_logsum(double rest, double cnt)
{
    return log1p(rest / FA_SM32_SCALE + (cnt - 1.0));
}

static void FA_SYM(fa_sm32_row)(const float *x, float *y, fa_index n, float sg, int logsm)
{
    float th[FA_SMB], tl[FA_SMB];
    int one = n <= FA_SMB;
    double rest = 0.0, cnt = 0.0;
    float M = -INFINITY;
    for (fa_index b = 0; b < n; b += FA_SMB) {
        fa_index len = n - b < FA_SMB ? n - b : FA_SMB;
        float mn = FA_SYM(fa_sm32_max)(x + b, len, sg);
        if ((mn > M) | (mn != mn)) {
            double sc = fa_exp((double)M - (double)mn, 1);  /* 0 for M = -inf */
            rest *= sc;
            cnt *= sc;           /* earlier max terms are ordinary terms now */
            rest += cnt * FA_SM32_SCALE;
            cnt = 0.0;
            M = mn;
        }
        if (!(fabsf(M) < INFINITY)) break;
        double bc;
        rest += FA_SYM(fa_sm32_expsum)(x + b, len, sg, M, &bc, one ? th : NULL, one ? tl : NULL);
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
    double a = FA_SM32_SCALE / (rest + cnt * FA_SM32_SCALE);  /* 1 / S */
    float rh = (float)a, rl = (float)(a - (double)rh);
    if (one) {
#pragma omp simd
        for (fa_index i = 0; i < n; i++) y[i] = fa_sm32_scale(th[i], tl[i], rh, rl);
        return;
    }
#pragma omp simd
    for (fa_index i = 0; i < n; i++) {
        float v = sg * x[i], dh, dl, lo;
        FA_SM32_DIFF(v, M, dh, dl);
        float e = fa_sm32_exp(dh, dl, &lo);
        y[i] = fa_sm32_scale(e, lo, rh, rl);
    }
}

/* A non-last axis: w <= FA_SOFTMAX_LANES contiguous inner positions, n
 * steps `inner` apart, lanes along the contiguous dimension, FA_SMK steps
 * per block (max first, one rescale of the double totals, then the sums). */
static void FA_SYM(fa_sm32_cols)(const float *x, float *y, fa_index n, fa_index inner,
                                  fa_index w, float sg, int logsm)
{
    float m[FA_SOFTMAX_LANES], bm[FA_SOFTMAX_LANES], rh[FA_SOFTMAX_LANES], rl[FA_SOFTMAX_LANES];
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
                tot[j] = tot[j] * sc + cn[j] * sc * FA_SM32_SCALE;
                cn[j] = 0.0;
                m[j] = mn;
            }
        }
        for (fa_index k = k0; k < k1; k++) {
            const float *xk = x + k * inner;
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                float e, lo;
                int top;
                FA_SM32_TERM(xk[j], m[j], e, lo, top);
                tot[j] += top ? 0.0 : (double)e + (double)lo;
                cn[j] += top ? 1.0 : 0.0;
            }
        }
    }
    for (fa_index j = 0; j < w; j++) {
        int ok = fabsf(m[j]) < INFINITY;
        m[j] = ok ? m[j] : NAN;
        L[j] = fa_sm32_logsum(tot[j], cn[j]);
        double a = FA_SM32_SCALE / (tot[j] + cn[j] * FA_SM32_SCALE);
        rh[j] = (float)a;
        rl[j] = (float)(a - (double)rh[j]);
    }
    for (fa_index k = 0; k < n; k++) {
        const float *xk = x + k * inner;
        float *yk = y + k * inner;
        if (logsm) {
#pragma omp simd
            for (fa_index j = 0; j < w; j++)
                yk[j] = (float)(((double)(sg * xk[j]) - (double)m[j]) - L[j]);
        } else {
#pragma omp simd
            for (fa_index j = 0; j < w; j++) {
                float v = sg * xk[j], dh, dl, lo;
                FA_SM32_DIFF(v, m[j], dh, dl);
                float e = fa_sm32_exp(dh, dl, &lo);
                yk[j] = fa_sm32_scale(e, lo, rh[j], rl[j]);
            }
        }
    }
}

#ifdef FA_V512
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
    __mmask8 in = _mm512_cmp_pd_mask(d, fa_vset(-200.0), _CMP_GE_OQ);
    return _mm512_maskz_mov_pd(in, fa_vexp(_mm512_max_pd(fa_vset(-200.0), d)));
}

FA_V_INLINE __m512d fa_v512_sm_load(const float *x, fa_index k, __m512d sg)
{
    __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
    return _mm512_mul_pd(sg, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x)));
}

static double fa_v512_sm32_expsum(const float *x, fa_index len, float sg, float M,
                                  double *cnt_out, double *th)
{
    __m512d sum = _mm512_setzero_pd(), cnt = _mm512_setzero_pd();
    __m512d sum2 = _mm512_setzero_pd(), cnt2 = _mm512_setzero_pd();
    const __m512d Md = fa_vset((double)M), sgd = fa_vset((double)sg);
    fa_index i = 0;
    /* two independent chains per step (the exp's latency); the final
     * combination order is fixed, so results do not depend on threads */
    for (; i + 16 <= len; i += 16) {
        __mmask8 t1, t2;
        __m512d e1 = fa_v512_sm_term(_mm512_mul_pd(sgd, _mm512_cvtps_pd(_mm256_loadu_ps(x + i))), Md, &t1);
        __m512d e2 = fa_v512_sm_term(_mm512_mul_pd(sgd, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8))), Md, &t2);
        if (th) {
            _mm512_storeu_pd(th + i, e1);
            _mm512_storeu_pd(th + i + 8, e2);
        }
        sum = _mm512_add_pd(sum, _mm512_maskz_mov_pd((__mmask8)~t1, e1));
        sum2 = _mm512_add_pd(sum2, _mm512_maskz_mov_pd((__mmask8)~t2, e2));
        cnt = _mm512_mask_add_pd(cnt, t1, cnt, fa_vset(1.0));
        cnt2 = _mm512_mask_add_pd(cnt2, t2, cnt2, fa_vset(1.0));
    }
    sum = _mm512_add_pd(sum, sum2);
    cnt = _mm512_add_pd(cnt, cnt2);
    for (; i < len; i += 8) {
        fa_index k = len - i;
        __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u), top;
        __m512d e = fa_v512_sm_term(fa_v512_sm_load(x + i, k, sgd), Md, &top);
        if (th) _mm512_mask_storeu_pd(th + i, m, e);
        top &= m;
        sum = _mm512_add_pd(sum, _mm512_maskz_mov_pd((__mmask8)(m & ~top), e));
        cnt = _mm512_mask_add_pd(cnt, top, cnt, fa_vset(1.0));
    }
    *cnt_out = _mm512_reduce_add_pd(cnt);
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
        if (!(fabsf(M) < INFINITY)) break;
        if (th) Mb[b / FA_SMB] = M;
        double bc;
        rest += fa_v512_sm32_expsum(x + b, len, sg, M, &bc, th ? th + b : NULL);
        cnt += bc;
    }
    if (!(fabsf(M) < INFINITY)) {
        for (fa_index i = 0; i < n; i++) y[i] = NAN;
        return;
    }
    if (logsm) {
        double L = log1p(rest + (cnt - 1.0));
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

/* a non-last axis, lanes along the contiguous dimension (w <= 64) */
static void fa_v512_sm32_cols(const float *x, float *y, fa_index n, fa_index inner,
                              fa_index w, float sg, int logsm)
{
    float m[FA_SOFTMAX_LANES], bm[FA_SOFTMAX_LANES];
    double md[FA_SOFTMAX_LANES], tot[FA_SOFTMAX_LANES], cn[FA_SOFTMAX_LANES];
    double L[FA_SOFTMAX_LANES], A[FA_SOFTMAX_LANES];
    const __m512d sgd = fa_vset((double)sg);
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
            md[j] = (double)m[j];
        }
        for (fa_index j = 0; j < w; j += 8) {
            fa_index kk = w - j;
            __mmask8 msk = (__mmask8)(kk >= 8 ? 0xFF : (1u << kk) - 1u), top;
            __m512d Mj = _mm512_maskz_loadu_pd(msk, md + j);
            __m512d t = _mm512_maskz_loadu_pd(msk, tot + j), c = _mm512_maskz_loadu_pd(msk, cn + j);
            for (fa_index k = k0; k < k1; k++) {
                __m512d e = fa_v512_sm_term(fa_v512_sm_load(x + k * inner + j, kk, sgd), Mj, &top);
                t = _mm512_add_pd(t, _mm512_maskz_mov_pd((__mmask8)~top, e));
                c = _mm512_mask_add_pd(c, top, c, fa_vset(1.0));
            }
            _mm512_mask_storeu_pd(tot + j, msk, t);
            _mm512_mask_storeu_pd(cn + j, msk, c);
        }
    }
    for (fa_index j = 0; j < w; j++) {
        int ok = fabsf(m[j]) < INFINITY;
        m[j] = ok ? m[j] : NAN;
        md[j] = (double)m[j];
        L[j] = log1p(tot[j] + (cn[j] - 1.0));
        A[j] = 1.0 / (tot[j] + cn[j]);
    }
    for (fa_index k = 0; k < n; k++) {
        const float *xk = x + k * inner;
        float *yk = y + k * inner;
        if (logsm) {
#pragma omp simd
            for (fa_index j = 0; j < w; j++)
                yk[j] = (float)(((double)(sg * xk[j]) - md[j]) - L[j]);
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
#define FA_SM32_COLS fa_v512_sm32_cols
#else
#define FA_SM32_COLS FA_SYM(fa_sm32_cols)
#endif

static void FA_SYM(fa_softmax_f32)(const float *x, float *y, fa_index u0, fa_index u1,
                                   fa_index n, fa_index inner, int op)
{
    float sg = op >= 2 ? -1.0f : 1.0f;
    int logsm = op & 1;
    if (inner == 1) {
#ifdef FA_V512
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
    for (fa_index u = u0, w, off; u < u1; u++) {
        off = fa_sm_unit(u, n, inner, &w);
        FA_SM32_COLS(x + off, y + off, n, inner, w, sg, logsm);
    }
}
