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

#define SM_T double
#define SM_SUF f64
#define SM_LOWP 0
#include "fa_softmax_tmpl.h"
#include "fa_softmax_bwd_tmpl.h"
#undef SM_T
#undef SM_SUF
#undef SM_LOWP

#define SM_T float
#define SM_SUF f32
#define SM_LOWP 1
#include "fa_softmax_bwd_tmpl.h"
#undef SM_T
#undef SM_SUF
#undef SM_LOWP
