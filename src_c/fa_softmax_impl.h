/*
 * fa_softmax_impl.h -- softmax / log_softmax / softmin / log_softmin over the
 * middle axis of a C-contiguous (outer, n, inner) array.  Included by
 * fa_kernels_impl.h once per ISA.
 *
 * Work is split into "units": one row (inner == 1) or one block of up to
 * FA_SOFTMAX_LANES contiguous inner positions of one outer index (inner > 1);
 * the driver gives each thread a range of units, so a reduction never spans
 * threads and results are identical for any thread count.
 *
 * Pass 1 (the only read from memory for the statistics): blocks small enough
 * for L1 are read twice from cache -- their max first, then, after ONE
 * rescale of the running sums if the max grew, exp(x - max) summed into
 * independent double lanes (vectorised).  The max element(s) are counted
 * instead of summed (c), so log_softmax can use log1p(rest + c - 1), which
 * keeps full accuracy when one element dominates.  float64 sums are
 * compensated (TwoSum); float32 sums in double need no compensation.
 * Pass 2 (the second read): y = exp(x - max) / S, or (x - max) - log S; in
 * float64 x - max is carried exactly (TwoSum) into fa_exp_dd.
 * A row whose max is not finite (a NaN, a +inf, or all -inf) is all NaN,
 * which is PyTorch's result.
 * Backward (fa_softmax_bwd_*, issue 4): the same units; one pass for the row
 * sum (sum(g*y), or sum(g) for log_softmax), one to write the gradient.
 */
#define FA_SMW 16   /* lanes along a last-axis row */
#define FA_SMB 1024 /* elements of a row per block (L1-resident) */
#define FA_SMK 32   /* reduction steps per block for a non-last axis */

/* Unit u of a non-last axis (inner > 1): the offset of its first element
 * and, in *w, its width (<= FA_SOFTMAX_LANES inner positions of one outer
 * index: u = o * nblocks + b). */
static inline fa_index fa_sm_unit(fa_index u, fa_index n, fa_index inner, fa_index *w)
{
    fa_index nb = (inner + FA_SOFTMAX_LANES - 1) / FA_SOFTMAX_LANES;
    fa_index o = u / nb, j0 = (u % nb) * FA_SOFTMAX_LANES;
    *w = inner - j0 < FA_SOFTMAX_LANES ? inner - j0 : FA_SOFTMAX_LANES;
    return o * n * inner + j0;
}

/* NaN-sticky max: a NaN v replaces b, and a NaN b stays. */
#define FA_SM_MAX(b, v) ((((v) > (b)) | ((v) != (v))) & ((b) == (b)) ? (v) : (b))

/* float32: float lanes (fa_softmax_f32.h) */
#include "fa_softmax_f32.h"

#ifdef FA_V512
static int fa_v512_sm64_row(const double *x, double *y, fa_index n, double sg, int logsm);
static int fa_v512_sm64_cols(const double *x, double *y, fa_index n, fa_index inner, fa_index w,
                             double sg, int logsm);
#define FA_SM_ROW_HOOK fa_v512_sm64_row
#define FA_SM_COLS_HOOK fa_v512_sm64_cols
#endif
#define SM_T double
#define SM_SUF f64
#define SM_LOWP 0
#include "fa_softmax_tmpl.h"
#include "fa_softmax_bwd_tmpl.h"
#undef SM_T
#undef SM_SUF
#undef SM_LOWP
#undef FA_SM_ROW_HOOK
#undef FA_SM_COLS_HOOK

#ifdef FA_V512
/*
 * AVX-512 float64 last-axis rows: fa_sm_row's algorithm (the same blocks,
 * online max, max terms counted apart, compensated lane sums, non-finite
 * max -> NaN row) with the terms from fa_v512_f64.h's table exp, e^(dh +
 * dl) = 2^k (Uh + Ul) to ~2^-57, dh + dl = v - M exactly (TwoSum).  Rows
 * of one block (n <= FA_SMB) keep their terms, scaled (eh + el), in an L1
 * scratch for the write pass; longer rows recompute them there.
 * Softmax y = E (Rh + Rl), 1/S = Rh + Rl in double-double: eh Rh exact by
 * fma, the low products added, one rounding (~0.5 ULP; no vdivpd).  A
 * vector with a term below 2^-960 (el would be subnormal, y may be) is
 * redone unscaled: y = 2^k round(U R), rounded once more only where y is
 * subnormal.  log_softmax: (dh - L) + (dl - Ll) as the template.
 */
#define FA_SM64_TINY 0x1p-960

/* v - M = dh + *dl exactly, clamped at -800 (e^-800 = 0 after scaling;
 * v = -inf has no low part) */
FA_V_INLINE __m512d fa_v512_sm64_diff(__m512d v, __m512d M, __m512d *dl)
{
    __m512d d = _mm512_sub_pd(v, M);
    __m512d bb = _mm512_sub_pd(d, v);
    __m512d lo = _mm512_sub_pd(_mm512_sub_pd(v, _mm512_sub_pd(d, bb)), _mm512_add_pd(M, bb));
    __mmask8 in = _mm512_cmp_pd_mask(d, fa_vset(-800.0), _CMP_GE_OQ);
    *dl = _mm512_maskz_mov_pd(in, lo);
    return _mm512_max_pd(fa_vset(-800.0), d);
}

FA_V_INLINE __m512d fa_v512_sm64_load(const double *x, __mmask8 m, __m512d sgd)
{
    return _mm512_mul_pd(sgd, _mm512_maskz_loadu_pd(m, x));
}

/* E (Rh + Rl) for E = eh + el: one rounding */
FA_V_INLINE __m512d fa_v512_sm64_scale(__m512d eh, __m512d el, __m512d Rh, __m512d Rl)
{
    __m512d ph = _mm512_mul_pd(eh, Rh);
    __m512d t = _mm512_fmadd_pd(el, Rh, _mm512_fmsub_pd(eh, Rh, ph));
    return _mm512_add_pd(ph, _mm512_fmadd_pd(eh, Rl, t));
}

/* the write pass for one vector from x: softmax unscaled, 2^k round(U R) */
FA_V_INLINE __m512d fa_v512_sm64_fromx(__m512d v, __m512d M, __m512d Rh, __m512d Rl)
{
    __m512d dl, ul, kf;
    __m512d d = fa_v512_sm64_diff(v, M, &dl);
    __m512d uh = fa_wexp(d, dl, &ul, &kf, 1);
    return _mm512_scalef_pd(fa_v512_sm64_scale(uh, ul, Rh, Rl), kf);
}

static int fa_v512_sm64_row(const double *x, double *y, fa_index n, double sg, int logsm)
{
    double th[FA_SMB], tl[FA_SMB];
    int keep = !logsm && n <= FA_SMB;
    const __m512d sgd = fa_vset(sg);
    __m512d s = _mm512_setzero_pd(), q = _mm512_setzero_pd();
    double M = -INFINITY, cnt = 0.0;
    for (fa_index b = 0; b < n; b += FA_SMB) {
        fa_index len = n - b < FA_SMB ? n - b : FA_SMB;
        double mn = FA_SYM(fa_sm_maxblock_f64)(x + b, len, sg);
        if ((mn > M) | (mn != mn)) {
            if (b > 0) {  /* rescale once per block in which the max grew */
                double sc = fa_exp(M - mn, 0);
                s = _mm512_mul_pd(_mm512_add_pd(s, q), fa_vset(sc));
                q = _mm512_setzero_pd();
                s = _mm512_mask_add_pd(s, 1, s, fa_vset(cnt * sc));
                cnt = 0.0;
            }
            M = mn;
        }
        if (M == -INFINITY) continue;    /* all -inf so far: no terms yet */
        if (!(fabs(M) < INFINITY)) break;
        const __m512d Md = fa_vset(M);
        __m512d c = _mm512_setzero_pd();
        for (fa_index i = 0; i < len; i += 8) {
            __mmask8 m = (__mmask8)(len - i >= 8 ? 0xFF : (1u << (len - i)) - 1u);
            __m512d dl, ul, kf;
            __m512d d = fa_v512_sm64_diff(fa_v512_sm64_load(x + b + i, m, sgd), Md, &dl);
            __m512d uh = fa_wexp(d, dl, &ul, &kf, 1);
            __m512d eh = _mm512_scalef_pd(uh, kf), el = _mm512_scalef_pd(ul, kf);
            if (keep) {
                _mm512_mask_storeu_pd(th + i, m, eh);
                _mm512_mask_storeu_pd(tl + i, m, el);
            }
            __mmask8 top = _mm512_mask_cmp_pd_mask(m, d, _mm512_setzero_pd(), _CMP_EQ_OQ);
            __mmask8 add = (__mmask8)(m & ~top);
            eh = _mm512_maskz_mov_pd(add, eh);
            __m512d t = _mm512_add_pd(s, eh);              /* TwoSum per lane */
            __m512d b2 = _mm512_sub_pd(t, s);
            q = _mm512_add_pd(q, _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(s, _mm512_sub_pd(t, b2)),
                                                             _mm512_sub_pd(eh, b2)),
                                               _mm512_maskz_mov_pd(add, el)));
            s = t;
            c = _mm512_mask_add_pd(c, top, c, fa_vset(1.0));
        }
        cnt += _mm512_reduce_add_pd(c);
    }
    if (!(fabs(M) < INFINITY)) { /* NaN, +inf, or all -inf: PyTorch gives NaN */
        for (fa_index i = 0; i < n; i++) y[i] = NAN;
        return 1;
    }
    double sv[8], qv[8], rest = 0.0, comp = 0.0, Sl;
    _mm512_storeu_pd(sv, s);
    _mm512_storeu_pd(qv, q);
    for (int j = 0; j < 8; j++) {  /* lanes combined with TwoSum, in lane order */
        double t = rest + sv[j];
        double bb = t - rest;
        comp += ((rest - (t - bb)) + (sv[j] - bb)) + qv[j];
        rest = t;
    }
    const __m512d Md = fa_vset(M);
    if (logsm) {
        double Ll, L = FA_SYM(fa_sm_logsum_f64)(rest, comp, cnt, &Ll);
        const __m512d Lh = fa_vset(L), Lo = fa_vset(Ll);
        for (fa_index i = 0; i < n; i += 8) {
            __mmask8 m = (__mmask8)(n - i >= 8 ? 0xFF : (1u << (n - i)) - 1u);
            __m512d v = fa_v512_sm64_load(x + i, m, sgd);
            __m512d d = _mm512_sub_pd(v, Md);              /* unclamped: -inf stays */
            __m512d bb = _mm512_sub_pd(d, v);
            __m512d lo = _mm512_sub_pd(_mm512_sub_pd(v, _mm512_sub_pd(d, bb)), _mm512_add_pd(Md, bb));
            lo = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), d),
                                                        fa_vset(1e300), _CMP_LT_OQ), lo);
            __m512d r = _mm512_add_pd(_mm512_sub_pd(d, Lh), _mm512_sub_pd(lo, Lo));
            _mm512_mask_storeu_pd(y + i, m, r);
        }
        return 1;
    }
    double Sh = fa_sm_total(rest, comp, cnt, &Sl);
    double Rh = 1.0 / Sh;
    double Rl = Rh * (FA_FMA(-Rh, Sh, 1.0) - Rh * Sl);  /* 1/S = Rh + Rl */
    const __m512d Rhv = fa_vset(Rh), Rlv = fa_vset(Rl);
    for (fa_index i = 0; i < n; i += 8) {
        __mmask8 m = (__mmask8)(n - i >= 8 ? 0xFF : (1u << (n - i)) - 1u);
        __m512d r;
        if (keep) {
            __m512d eh = _mm512_maskz_loadu_pd(m, th + i), el = _mm512_maskz_loadu_pd(m, tl + i);
            __mmask8 tiny = _mm512_mask_cmp_pd_mask(m, eh, fa_vset(FA_SM64_TINY), _CMP_LT_OQ);
            r = tiny ? fa_v512_sm64_fromx(fa_v512_sm64_load(x + i, m, sgd), Md, Rhv, Rlv)
                     : fa_v512_sm64_scale(eh, el, Rhv, Rlv);
        } else {
            r = fa_v512_sm64_fromx(fa_v512_sm64_load(x + i, m, sgd), Md, Rhv, Rlv);
        }
        _mm512_mask_storeu_pd(y + i, m, r);
    }
    return 1;
}

/* A non-last axis: lanes along the contiguous dimension, 8 per vector, up
 * to FA_SOFTMAX_LANES.  The lane maxima first, over all n steps (so the
 * terms need no rescaling), then the terms (fa_wexp, TwoSum into the lane
 * sums, max terms counted as in fa_sm_cols), kept scaled (eh + el) in an
 * L2 scratch when it fits (FA_SM64_SCR doubles), then the write pass:
 * E (Rh + Rl) from the scratch (a vector with a term below 2^-960 and
 * rows without scratch are recomputed unscaled), or (d - L) + (dl - Ll). */
#define FA_SM64_SCR 65536

static int fa_v512_sm64_cols(const double *x, double *y, fa_index n, fa_index inner, fa_index w,
                             double sg, int logsm)
{
    double m[FA_SOFTMAX_LANES], s[FA_SOFTMAX_LANES], q[FA_SOFTMAX_LANES], c[FA_SOFTMAX_LANES];
    double a[FA_SOFTMAX_LANES], alo[FA_SOFTMAX_LANES];
    const __m512d sgd = fa_vset(sg), zero = _mm512_setzero_pd();
    const fa_index ld = (w + 7) & ~(fa_index)7;
    double *scr = (!logsm && 2 * n * ld <= FA_SM64_SCR) ? (double *)malloc(2 * n * ld * sizeof(double))
                                                       : NULL;     /* NULL: recompute */
#define FA_SMC_MASK(j) (__mmask8)(w - (j) >= 8 ? 0xFF : (1u << (w - (j))) - 1u)
    for (fa_index j = 0; j < w; j += 8) {          /* NaN-sticky lane maxima */
        __mmask8 msk = FA_SMC_MASK(j);
        __m512d bm = fa_vset(-INFINITY);
        for (fa_index k = 0; k < n; k++) {
            __m512d v = fa_v512_sm64_load(x + k * inner + j, msk, sgd);
            __mmask8 take = _mm512_cmp_pd_mask(v, bm, _CMP_NLE_UQ) & _mm512_cmp_pd_mask(bm, bm, _CMP_ORD_Q);
            bm = _mm512_mask_mov_pd(bm, take, v);
        }
        _mm512_storeu_pd(m + j, bm);
        _mm512_storeu_pd(s + j, zero);
        _mm512_storeu_pd(q + j, zero);
        _mm512_storeu_pd(c + j, zero);
    }
    for (fa_index k = 0; k < n; k++) {
        const double *xk = x + k * inner;
        for (fa_index j = 0; j < w; j += 8) {
            __mmask8 msk = FA_SMC_MASK(j);
            __m512d Mj = _mm512_loadu_pd(m + j);
            /* non-finite maxima (NaN, +inf, all -inf): the lane comes out NaN;
             * keep its arithmetic quiet meanwhile */
            __mmask8 fin = _mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), Mj), fa_vset(INFINITY),
                                              _CMP_LT_OQ) & msk;
            __m512d dl, ul, kf;
            __m512d d = fa_v512_sm64_diff(fa_v512_sm64_load(xk + j, fin, sgd),
                                          _mm512_maskz_mov_pd(fin, Mj), &dl);
            __m512d uh = fa_wexp(d, dl, &ul, &kf, 1);
            __m512d eh = _mm512_maskz_mov_pd(fin, _mm512_scalef_pd(uh, kf));
            __m512d el = _mm512_maskz_mov_pd(fin, _mm512_scalef_pd(ul, kf));
            if (scr) {
                _mm512_storeu_pd(scr + 2 * k * ld + j, eh);
                _mm512_storeu_pd(scr + (2 * k + 1) * ld + j, el);
            }
            __mmask8 top = _mm512_mask_cmp_pd_mask(fin, d, zero, _CMP_EQ_OQ);
            eh = _mm512_maskz_mov_pd((__mmask8)~top, eh);
            el = _mm512_maskz_mov_pd((__mmask8)~top, el);
            __m512d sv = _mm512_loadu_pd(s + j);
            __m512d t = _mm512_add_pd(sv, eh);
            __m512d b2 = _mm512_sub_pd(t, sv);
            __m512d err = _mm512_add_pd(_mm512_sub_pd(sv, _mm512_sub_pd(t, b2)), _mm512_sub_pd(eh, b2));
            _mm512_storeu_pd(q + j, _mm512_add_pd(_mm512_loadu_pd(q + j), _mm512_add_pd(err, el)));
            _mm512_storeu_pd(s + j, t);
            __m512d cv = _mm512_loadu_pd(c + j);
            _mm512_storeu_pd(c + j, _mm512_mask_add_pd(cv, top, cv, fa_vset(1.0)));
        }
    }
    for (fa_index j = 0; j < w; j++) {
        int ok = fabs(m[j]) < INFINITY;
        m[j] = ok ? m[j] : NAN;
        alo[j] = 0.0;
        if (!ok)
            a[j] = NAN;
        else if (logsm)
            a[j] = FA_SYM(fa_sm_logsum_f64)(s[j], q[j], c[j], &alo[j]);
        else {
            double Sl, Sh = fa_sm_total(s[j], q[j], c[j], &Sl);
            double Rh = 1.0 / Sh;
            a[j] = Rh;
            alo[j] = Rh * (FA_FMA(-Rh, Sh, 1.0) - Rh * Sl);
        }
    }
    for (fa_index k = 0; k < n; k++) {
        const double *xk = x + k * inner;
        double *yk = y + k * inner;
        for (fa_index j = 0; j < w; j += 8) {
            __mmask8 msk = FA_SMC_MASK(j);
            __m512d Mj = _mm512_loadu_pd(m + j);
            __m512d Ah = _mm512_loadu_pd(a + j), Al = _mm512_loadu_pd(alo + j), r;
            if (logsm) {
                __m512d v = fa_v512_sm64_load(xk + j, msk, sgd);
                __m512d d = _mm512_sub_pd(v, Mj);           /* NaN lanes stay NaN */
                __m512d bb = _mm512_sub_pd(d, v);
                __m512d lo = _mm512_sub_pd(_mm512_sub_pd(v, _mm512_sub_pd(d, bb)), _mm512_add_pd(Mj, bb));
                lo = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), d),
                                                            fa_vset(1e300), _CMP_LT_OQ), lo);
                r = _mm512_add_pd(_mm512_sub_pd(d, Ah), _mm512_sub_pd(lo, Al));
            } else {
                __m512d eh = scr ? _mm512_loadu_pd(scr + 2 * k * ld + j) : zero;
                __mmask8 tiny = _mm512_mask_cmp_pd_mask(msk, eh, fa_vset(FA_SM64_TINY), _CMP_LT_OQ);
                if (scr && !tiny)
                    r = fa_v512_sm64_scale(eh, _mm512_loadu_pd(scr + (2 * k + 1) * ld + j), Ah, Al);
                else
                    r = fa_v512_sm64_fromx(fa_v512_sm64_load(xk + j, msk, sgd), Mj, Ah, Al);
                /* a NaN M (non-finite lane) must come out NaN whatever x is */
                r = _mm512_mask_mov_pd(r, _mm512_cmp_pd_mask(Mj, Mj, _CMP_UNORD_Q), Mj);
            }
            _mm512_mask_storeu_pd(yk + j, msk, r);
        }
    }
#undef FA_SMC_MASK
    free(scr);
    return 1;
}
#endif

#define SM_T float
#define SM_SUF f32
#define SM_LOWP 1
#include "fa_softmax_bwd_tmpl.h"
#undef SM_T
#undef SM_SUF
#undef SM_LOWP

#ifdef FA_V512
/*
 * AVX-512 float32 softmax/softmin backward along the last axis: a fast
 * pass that is checked, element by element, against its own error bound.
 * S0 = sum(g y) in double lanes (the products are exact in double) and
 * A = sum |g y|; then |S0 - S| <= (n/512 + 40) eps64 A, so y (g - S0) is
 * within 2^-28 relative of y (g - S) wherever |g - S0| >= 2^28 of that
 * bound.  A row where any element is closer (g ~ S: the cancellation the
 * three-level cascade of fa_softmax_bwd_tmpl.h exists for), or where S0 or
 * A is not finite, is redone by that template's kernel, so every result
 * is the cascade's or within ~0.56 ULP.  log_softmax and non-last axes use
 * the template as they are.
 */
/* [a, a + n) and [b, b + n) do not overlap */
FA_V_INLINE int fa_disjoint(const float *a, const float *b, fa_index n)
{
    return (uintptr_t)(a + n) <= (uintptr_t)b || (uintptr_t)(b + n) <= (uintptr_t)a;
}

/* d = g - S0 (neg: S0 - g) for the 8 elements of m, double lanes */
FA_V_INLINE __m512d fa_v512_smb_d8(const float *g, __mmask8 m, __m512d Sd, int neg)
{
    __m512d gd = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, g));
    return neg ? _mm512_sub_pd(Sd, gd) : _mm512_sub_pd(gd, Sd);
}

/* o = y d rounded once to float, the 8 elements of m */
FA_V_INLINE void fa_v512_smb_w8(const float *y, float *o, __mmask8 m, __m512d d)
{
    _mm256_mask_storeu_ps(o, m, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y)), d)));
}

/* 16 elements (k valid) of the float-lane write pass of
 * fa_v512_smb_row_fast: o = sg y (g - S), S = sh + sl + sm; *bad gets the
 * lanes that fail the check (|g - sh| < Tf).  A block with an output
 * below 2^-100 in magnitude (y dl may have underflowed: 0.64 ULP seen at
 * 3.6e-38) or infinite (y d overflowed float but not double) is written
 * from double lanes instead, y (g - S0) rounded once as the double loop
 * does (the same signed zeros too). */
FA_V_INLINE void fa_v16_smb_out(const float *g, const float *y, float *o, fa_index k, __m512 sh,
                                __m512 nsh, __m512 sl, __m512 sm, __m512 Tf, __m512d Sd, int neg,
                                __mmask16 *bad)
{
    __mmask16 m = (__mmask16)(k >= 16 ? 0xFFFF : (1u << k) - 1u);
    __m512 gv = _mm512_maskz_loadu_ps(m, g), yv = _mm512_maskz_loadu_ps(m, y);
    __m512 dh = _mm512_sub_ps(gv, sh), bb = _mm512_sub_ps(dh, gv);
    __m512 dl = _mm512_add_ps(_mm512_sub_ps(gv, _mm512_sub_ps(dh, bb)), _mm512_sub_ps(nsh, bb));
    dl = _mm512_sub_ps(_mm512_sub_ps(dl, sl), sm);
    if (neg) yv = _mm512_xor_ps(yv, _mm512_set1_ps(-0.0f));   /* softmin: -y (g - S) */
    __m512 v = _mm512_fmadd_ps(yv, dh, _mm512_mul_ps(yv, dl));
    *bad |= _mm512_mask_cmp_ps_mask(m, _mm512_abs_ps(dh), Tf, _CMP_NGE_UQ);
    /* below 2^-100, y dl may have underflowed; +-inf: y d overflowed */
    __m512 av = _mm512_abs_ps(v);
    if (!(_mm512_mask_cmp_ps_mask(m, av, _mm512_set1_ps(0x1p-100f), _CMP_NGE_UQ)
          | _mm512_mask_cmp_ps_mask(m, av, _mm512_set1_ps(INFINITY), _CMP_EQ_OQ))) {
        _mm512_mask_storeu_ps(o, m, v);
        return;
    }
    for (int h = 0; h < 2; h++) {
        __mmask8 mh = (__mmask8)(m >> (8 * h));
        fa_v512_smb_w8(y + 8 * h, o + 8 * h, mh, fa_v512_smb_d8(g + 8 * h, mh, Sd, neg));
    }
}

/* the double-lane write pass (rows whose S float cannot split): the same
 * check against thr, y (g - S0) rounded once */
static int fa_v512_smb_row_wd(const float *g, const float *y, float *o, fa_index n, double sg,
                              double S, double thr)
{
    const __m512d Sd = fa_vset(S), T = fa_vset(thr);
    const int neg = sg < 0.0;
    const int one = fa_disjoint(o, g, n) && fa_disjoint(o, y, n);
    __mmask8 bad = 0;
    fa_index i;
    if (!one)        /* o is g or y: the whole row checked first */
        for (i = 0; i < n; i += 8) {
            __mmask8 m = (__mmask8)(n - i >= 8 ? 0xFF : (1u << (n - i)) - 1u);
            __m512d d = fa_v512_smb_d8(g + i, m, Sd, 0);
            if (_mm512_mask_cmp_pd_mask(m, _mm512_andnot_pd(fa_vset(-0.0), d), T, _CMP_NGE_UQ))
                return 0;
        }
    for (i = 0; i < n; i += 8) {
        __mmask8 m = (__mmask8)(n - i >= 8 ? 0xFF : (1u << (n - i)) - 1u);
        __m512d d = fa_v512_smb_d8(g + i, m, Sd, neg);
        bad |= _mm512_mask_cmp_pd_mask(m, _mm512_andnot_pd(fa_vset(-0.0), d), T, _CMP_NGE_UQ);
        fa_v512_smb_w8(y + i, o + i, m, d);
    }
    return bad == 0;
}

static int fa_v512_smb_row_fast(const float *g, const float *y, float *o, fa_index n, double sg,
                                int pf)
{
    /* S0 = sum(g y) blocked: each lane sums <= 32 products into a fresh
     * block total, the block totals go into the lane's running total, so
     * |S0 - S| <= (32 + n/512 + 4) eps64 A (A = sum |g y|; the 4: the
     * 16-lane reduction) instead of the (n/8 + 8) eps64 A of one running
     * sum per lane -- 40x tighter at n = 32000, where the check below
     * would otherwise reject nearly every row */
    __m512d t0 = _mm512_setzero_pd(), t1 = _mm512_setzero_pd();
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    fa_index i = 0;
    while (i + 16 <= n) {
        fa_index e = n - i >= 512 ? i + 512 : n - (n - i) % 16;
        __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
        for (; i < e; i += 16) {
            __m512d p0 = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(g + i)),
                                       _mm512_cvtps_pd(_mm256_loadu_ps(y + i)));
            __m512d p1 = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(g + i + 8)),
                                       _mm512_cvtps_pd(_mm256_loadu_ps(y + i + 8)));
            s0 = _mm512_add_pd(s0, p0);
            s1 = _mm512_add_pd(s1, p1);
            a0 = _mm512_add_pd(a0, _mm512_andnot_pd(fa_vset(-0.0), p0));
            a1 = _mm512_add_pd(a1, _mm512_andnot_pd(fa_vset(-0.0), p1));
        }
        t0 = _mm512_add_pd(t0, s0);
        t1 = _mm512_add_pd(t1, s1);
    }
    for (; i < n; i += 8) {
        fa_index k = n - i;
        __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
        __m512d p0 = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, g + i)),
                                   _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y + i)));
        t0 = _mm512_add_pd(t0, p0);
        a0 = _mm512_add_pd(a0, _mm512_andnot_pd(fa_vset(-0.0), p0));
    }
    double S = _mm512_reduce_add_pd(_mm512_add_pd(t0, t1));
    double A = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
    double thr = 268435456.0 * ((double)(n / 512 + 40) * 0x1p-53) * A;  /* 2^28 * bound */
    if (!(fabs(S) < INFINITY) || !(thr < INFINITY))
        return 0;
    /* the write pass in float lanes (twice as wide as double ones, and
     * without the conversions): S = sh + sl + sm (floats, exact to 2^-72 of
     * S), g - sh = dh + dl exactly (TwoSum), then o = fma(y, dh, y dl') with
     * dl' = dl - sl - sm.  An element passes where |dh| >= tf =
     * max(thr, 2^-15 |S|) (1 + 2^-7): then |sl| <= 2^-24 |S| <= 2^-9 |dh|,
     * so dl' and y dl' are within 2^-32 |dh| of exact and o is y (g - S0)
     * rounded once (+2^-32), while |g - S0| >= |dh| (1 - 2^-8) >= thr keeps
     * the S0 check's 2^-28: ~0.56 ULP in all.  Elements with g within
     * 2^-15 of S fail like the cancelling ones (the double-double row
     * redoes them).  A row whose S float cannot split (|S| < 2^-60, but
     * not 0) or whose g - sh could overflow keeps the double loop
     * (fa_v512_smb_row_wd). */
    float sh = (float)S;
    double rs = S - (double)sh;
    float sl = (float)rs, sm = (float)(rs - (double)sl);
    double tfd = (thr > 0x1p-15 * fabs(S) ? thr : 0x1p-15 * fabs(S)) * (1.0 + 0x1p-7);
    float tf = (float)tfd;
    if ((double)tf < tfd) tf = nextafterf(tf, INFINITY);   /* (rounded up: a bound) */
    if (!(fabs(S) < 1e37) || (fabs(S) < 0x1p-60 && S != 0.0) || !(tf < 1e37f))
        return fa_v512_smb_row_wd(g, y, o, n, sg, S, thr);
    const __m512 shv = _mm512_set1_ps(sh), nshv = _mm512_set1_ps(-sh);
    const __m512 slv = _mm512_set1_ps(sl), smv = _mm512_set1_ps(sm), Tf = _mm512_set1_ps(tf);
    const __m512d Sd = fa_vset(S);
    const int neg = sg < 0.0;
    if (fa_disjoint(o, g, n) && fa_disjoint(o, y, n)) {
        /* one pass: write, and redo the row (from the intact g, y) if any
         * element failed its check */
        __mmask16 bad = 0;
        /* pf: the next row (g + n, y + n) is fetched while this one is
         * written, so its sum pass finds it in L1 instead of waiting for
         * memory behind a compute-bound loop */
        if (pf) {
            for (i = 0; i < n; i += 16) {
                _mm_prefetch((const char *)(g + n + i), _MM_HINT_T0);
                _mm_prefetch((const char *)(y + n + i), _MM_HINT_T0);
                fa_v16_smb_out(g + i, y + i, o + i, n - i, shv, nshv, slv, smv, Tf, Sd, neg, &bad);
            }
        } else if (neg) {
            for (i = 0; i < n; i += 16)
                fa_v16_smb_out(g + i, y + i, o + i, n - i, shv, nshv, slv, smv, Tf, Sd, 1, &bad);
        } else {
            for (i = 0; i < n; i += 16)
                fa_v16_smb_out(g + i, y + i, o + i, n - i, shv, nshv, slv, smv, Tf, Sd, 0, &bad);
        }
        return bad == 0;
    }
    /* o is g or y: check the whole row first, so that a fallback still
     * sees the original values */
    for (i = 0; i < n; i += 16) {
        __mmask16 m = (__mmask16)(n - i >= 16 ? 0xFFFF : (1u << (n - i)) - 1u);
        __m512 dh = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, g + i), shv);
        __mmask16 ok = _mm512_cmp_ps_mask(_mm512_abs_ps(dh), Tf, _CMP_GE_OQ);
        if ((ok & m) != m) return 0;
    }
    __mmask16 bad = 0;    /* (known to stay 0) */
    for (i = 0; i < n; i += 16)
        fa_v16_smb_out(g + i, y + i, o + i, n - i, shv, nshv, slv, smv, Tf, Sd, neg, &bad);
    return 1;
}

/* log_softmax backward, o = g - e^y S with S = sum(g): the same checked
 * fast pass.  S0 in double lanes, G = sum|g| (|S0 - S| <= (n/256 + 40)
 * eps64 G =: B), d = g - e^y S0 in one fma with e^y from the degree-5
 * exponential (fa_vexp_n: r^6/720 = 2^-42.7, so 2^-41 taken with the
 * table's and Horner's roundings), so |d - (g - e^y S)| <= e^y K0 with K0
 * = 2^-41 |S0| + 1.001 B (e^y >= 0, and t = e^y S0 is E |S0|); an element
 * is accepted where |d| >= 2^28 e^y K0, i.e. within 2^-28 relative, so
 * ~0.56 ULP after the rounding to float.  Rows of up to FA_SMB keep d in a
 * scratch between the check and the write when o is g or y; longer ones
 * recompute it. */
FA_V_INLINE __m512d fa_v512_smb_logd(__m512d gv, __m512d yv, __m512d Sd, __m512d K, __mmask8 *ok)
{
    /* e^y of degree 5 from y clamped at 700 by fa_vexp_negn, which keeps
     * vscalefpd from underflowing (a microcode assist: rows half -inf, a
     * masked attention row, ran 6x slower): 0 where e^y rounds to 0, e^-700
     * for the subnormal in (-745.13, -700), which moves no float32 result
     * of g - e^y S (|S| < 2^144: e^-700 S < 2^-866) */
    __m512d E = fa_vexp_negn(_mm512_min_pd(fa_vset(700.0), yv), 5);
    __m512d d = _mm512_fnmadd_pd(E, Sd, gv);
    *ok = _mm512_cmp_pd_mask(_mm512_andnot_pd(fa_vset(-0.0), d), _mm512_mul_pd(E, K), _CMP_GE_OQ);
    return d;
}

/* d for 8 elements from k >= 1 valid ones; the invalid lanes pass */
FA_V_INLINE __m512d fa_v512_smb_logterm(const float *g, const float *y, fa_index k, __m512d Sd,
                                        __m512d K, __mmask8 *ok)
{
    __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
    __m512d d = fa_v512_smb_logd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, g)),
                                 _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y)), Sd, K, ok);
    *ok |= (__mmask8)~m;
    return d;
}

static int fa_v512_smb_logrow_fast(const float *g, const float *y, float *o, fa_index n)
{
    /* blocked as the softmax row's S0: <= 32 terms per lane per block of
     * 256, so |S0 - S| <= (32 + n/256 + 4) eps64 G */
    __m512d t0 = _mm512_setzero_pd(), a0 = _mm512_setzero_pd();
    for (fa_index b = 0; b < n; b += 256) {
        fa_index e = n - b < 256 ? n : b + 256;
        __m512d s0 = _mm512_setzero_pd();
        for (fa_index i = b; i < e; i += 8) {
            fa_index k = e - i;
            __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
            __m512d gv = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, g + i));
            s0 = _mm512_add_pd(s0, gv);
            a0 = _mm512_add_pd(a0, _mm512_andnot_pd(fa_vset(-0.0), gv));
        }
        t0 = _mm512_add_pd(t0, s0);
    }
    double S = _mm512_reduce_add_pd(t0), G = _mm512_reduce_add_pd(a0);
    double B = (double)(n / 256 + 40) * 0x1p-53 * G;
    if (!(fabs(S) < INFINITY) || !(B < INFINITY) || S == 0.0)
        return 0;      /* (S = 0: the template's e^y * 0 = 0 rule) */
    const __m512d Sd = fa_vset(S);
    const __m512d K = fa_vset(268435456.0 * (0x1p-41 * fabs(S) + 1.001 * B));
    __mmask8 ok, ok1;
    fa_index i = 0;
    if (fa_disjoint(o, g, n) && fa_disjoint(o, y, n)) {
        /* one pass, as the softmax row: a rejected row is redone by the
         * caller from the intact inputs; two independent halves per step */
        __mmask8 all = 0xFF;
        for (; i + 16 <= n; i += 16) {
            __m512d d0 = fa_v512_smb_logd(_mm512_cvtps_pd(_mm256_loadu_ps(g + i)),
                                           _mm512_cvtps_pd(_mm256_loadu_ps(y + i)), Sd, K, &ok);
            __m512d d1 = fa_v512_smb_logd(_mm512_cvtps_pd(_mm256_loadu_ps(g + i + 8)),
                                           _mm512_cvtps_pd(_mm256_loadu_ps(y + i + 8)), Sd, K, &ok1);
            all &= ok & ok1;
            _mm256_storeu_ps(o + i, _mm512_cvtpd_ps(d0));
            _mm256_storeu_ps(o + i + 8, _mm512_cvtpd_ps(d1));
        }
        for (; i < n; i += 8) {
            fa_index k = n - i;
            __m512d d = fa_v512_smb_logterm(g + i, y + i, k, Sd, K, &ok);
            all &= ok;
            _mm256_mask_storeu_ps(o + i, (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u), _mm512_cvtpd_ps(d));
        }
        return all == 0xFF;
    }
    double buf[FA_SMB];
    int keep = n <= FA_SMB;
    for (i = 0; i < n; i += 8) {
        __m512d d = fa_v512_smb_logterm(g + i, y + i, n - i, Sd, K, &ok);
        if (ok != 0xFF) return 0;
        if (keep) _mm512_mask_storeu_pd(buf + i, (__mmask8)(n - i >= 8 ? 0xFF : (1u << (n - i)) - 1u), d);
    }
    for (i = 0; i < n; i += 8) {
        fa_index k = n - i;
        __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
        __m512d d = keep ? _mm512_maskz_loadu_pd(m, buf + i)
                         : fa_v512_smb_logterm(g + i, y + i, k, Sd, K, &ok);
        _mm256_mask_storeu_ps(o + i, m, _mm512_cvtpd_ps(d));
    }
    return 1;
}

/* (sh, sl) += v per lane: TwoSum of the heads, the error into sl */
FA_V_INLINE void fa_v512_dd_acc(__m512d *sh, __m512d *sl, __m512d v)
{
    __m512d t = _mm512_add_pd(*sh, v);
    __m512d bb = _mm512_sub_pd(t, *sh);
    *sl = _mm512_add_pd(*sl, _mm512_add_pd(_mm512_sub_pd(*sh, _mm512_sub_pd(t, bb)),
                                           _mm512_sub_pd(v, bb)));
    *sh = t;
}

/* the 8 lanes of a double-double (sh, sl) summed into *Sh + *Sl */
static void fa_v512_dd_reduce(__m512d sh, __m512d sl, double *Sh, double *Sl)
{
    double H[8], L[8];
    _mm512_storeu_pd(H, sh);
    _mm512_storeu_pd(L, sl);
    double h = 0.0, l = 0.0;
    for (int i = 0; i < 8; i++) {
        double t = h + H[i], bb = t - h;
        l += ((h - (t - bb)) + (H[i] - bb)) + L[i];
        h = t;
    }
    *Sh = h + l;
    *Sl = (h - *Sh) + l;
}

/* The first pass of the double-double rows: S = sum(g y) (prod) or sum(g)
 * as *Sh + *Sl, a TwoSum per lane (g y is exact in double for float
 * inputs).  0 (row left to the template) where a g or y is NaN or +-inf,
 * where y > 88 for the sum of g (e^y S may overflow), or where S is not
 * finite. */
static int fa_v512_dd_rowsum(const float *g, const float *y, fa_index n, int prod, double *Sh,
                             double *Sl)
{
    __m512d sh = _mm512_setzero_pd(), sl = _mm512_setzero_pd();
    __mmask8 bad = 0;
    for (fa_index i = 0; i < n; i += 8) {
        fa_index k = n - i;
        __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
        __m512d gv = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, g + i));
        __m512d yv = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y + i));
        bad |= _mm512_fpclass_pd_mask(gv, 0x99) | _mm512_fpclass_pd_mask(yv, 0x99);   /* NaN, inf */
        if (!prod) bad |= _mm512_cmp_pd_mask(yv, fa_vset(88.0), _CMP_GT_OQ);
        fa_v512_dd_acc(&sh, &sl, prod ? _mm512_mul_pd(gv, yv) : gv);
    }
    if (bad) return 0;
    fa_v512_dd_reduce(sh, sl, Sh, Sl);
    return fabs(*Sh) < INFINITY;
}

/* log_softmax backward rows the fast pass rejects (g ~ e^y S: the
 * cancellation that made the template's result unbounded, 34 float ULP
 * measured): S = sum(g) as a double-double (a TwoSum per lane, exact for
 * any row a float32 sum can reach), e^y as a double-double (fa_wexp_dd,
 * ~2^-64), e^y S as an exact product plus the cross terms, g - e^y S by
 * TwoSum, rounded once to float.  |result| would have to be below 2^-40
 * |g| for the 2^-64 to reach 1/16 of a float ULP.  Rows with a non-finite
 * g or y, y > 88 (e^y S may overflow), or S = 0 are left to the template
 * (returns 0), whose special-value rules they follow. */
static int fa_v512_smb_logrow_dd(const float *g, const float *y, float *o, fa_index n)
{
    double Sh, Sl;
    if (!fa_v512_dd_rowsum(g, y, n, 0, &Sh, &Sl) || Sh == 0.0) return 0;
    const __m512d Shv = fa_vset(Sh), Slv = fa_vset(Sl);
    for (fa_index i = 0; i < n; i += 8) {
        fa_index k = n - i;
        __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
        __m512d gv = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, g + i));
        __m512d yv = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y + i));
        __m512d el, kf;
        __m512d eh = fa_wexp_dd(_mm512_max_pd(fa_vset(-1000.0), yv), &el, &kf);
        __m512d ph = _mm512_mul_pd(eh, Shv);
        __m512d pl = _mm512_add_pd(_mm512_fmsub_pd(eh, Shv, ph),
                                   _mm512_fmadd_pd(eh, Slv, _mm512_mul_pd(el, Shv)));
        ph = _mm512_scalef_pd(ph, kf);
        pl = _mm512_scalef_pd(pl, kf);
        __m512d d = _mm512_sub_pd(gv, ph);                                  /* TwoSum(g, -ph) */
        __m512d bb = _mm512_sub_pd(d, gv);
        __m512d de = _mm512_sub_pd(_mm512_sub_pd(gv, _mm512_sub_pd(d, bb)), _mm512_add_pd(ph, bb));
        __m512d v = _mm512_add_pd(d, _mm512_sub_pd(de, pl));
        _mm256_mask_storeu_ps(o + i, m, _mm512_cvtpd_ps(v));
    }
    return 1;
}

/* softmax/softmin backward rows the fast pass rejects (g ~ S): S =
 * sum(g y) as a double-double (g y is exact in double for float inputs,
 * a TwoSum per lane), g - S by TwoSum, sg y (dh + dl) rounded once to
 * float: ~0.5 ULP where the three-float cascade of the template measured
 * up to 1.34.  Rows with a non-finite g, y or S go to the template. */
static int fa_v512_smb_row_dd(const float *g, const float *y, float *o, fa_index n, double sg)
{
    double Sh, Sl;
    if (!fa_v512_dd_rowsum(g, y, n, 1, &Sh, &Sl)) return 0;
    const __m512d Shv = fa_vset(Sh), Slv = fa_vset(Sl), sgd = fa_vset(sg);
    for (fa_index i = 0; i < n; i += 8) {
        fa_index k = n - i;
        __mmask8 m = (__mmask8)(k >= 8 ? 0xFF : (1u << k) - 1u);
        __m512d gv = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, g + i));
        __m512d yv = _mm512_mul_pd(sgd, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y + i)));
        __m512d d = _mm512_sub_pd(gv, Shv);                                 /* TwoSum(g, -Sh) */
        __m512d bb = _mm512_sub_pd(d, gv);
        __m512d de = _mm512_sub_pd(_mm512_sub_pd(gv, _mm512_sub_pd(d, bb)), _mm512_add_pd(Shv, bb));
        de = _mm512_sub_pd(de, Slv);
        /* y (d + de): y d exactly by an fma split, one rounding */
        __m512d ph = _mm512_mul_pd(yv, d);
        __m512d v = _mm512_add_pd(ph, _mm512_fmadd_pd(yv, de, _mm512_fmsub_pd(yv, d, ph)));
        _mm256_mask_storeu_ps(o + i, m, _mm512_cvtpd_ps(v));
    }
    return 1;
}

static void fa_v512_softmax_bwd_f32(const float *g, const float *y, float *o, fa_index u0,
                                    fa_index u1, fa_index n, fa_index inner, int op)
{
    if (inner != 1 || op == 3) {
        FA_SYM(fa_softmax_bwd_f32)(g, y, o, u0, u1, n, inner, op);
        return;
    }
    double sg = op >= 2 ? -1.0 : 1.0;
    for (fa_index r = u0; r < u1; r++) {
        int done = op == 1 ? (fa_v512_smb_logrow_fast(g + r * n, y + r * n, o + r * n, n)
                              || fa_v512_smb_logrow_dd(g + r * n, y + r * n, o + r * n, n))
                           : (fa_v512_smb_row_fast(g + r * n, y + r * n, o + r * n, n, sg, r + 1 < u1 && n <= 4096)
                              || fa_v512_smb_row_dd(g + r * n, y + r * n, o + r * n, n, sg));
        if (!done)
            FA_SYM(fa_softmax_bwd_f32)(g, y, o, r, r + 1, n, inner, op);
    }
}
#define FA_SOFTMAX_BWD_F32 fa_v512_softmax_bwd_f32
#else
#define FA_SOFTMAX_BWD_F32 FA_SYM(fa_softmax_bwd_f32)
#endif
