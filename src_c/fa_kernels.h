/*
 * fa_kernels.h -- the interface between the Cython drivers and the C kernels.
 *
 * Kernels work on contiguous runs; the drivers split arrays into chunks and
 * hand one chunk to one call, so the per-call cost is paid once per chunk,
 * never per element.  Every kernel exists once per ISA; fa_select_isa()
 * picks a table at import time.
 */
#ifndef FA_KERNELS_H
#define FA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct { double a, b, c, d; } fa_params;

typedef ptrdiff_t fa_index;

typedef void (*fa_unary_f32)(const float *x, float *y, fa_index n, const fa_params *p);
typedef void (*fa_unary_f64)(const double *x, double *y, fa_index n, const fa_params *p);

/* maxout over groups of `pool` along the middle axis of (outer, groups*pool, inner)
 * -> (outer, groups, inner); rows [row0, row1) of outer*groups are done. */
typedef void (*fa_maxout_f32)(const float *x, float *y, fa_index row0, fa_index row1,
                              fa_index groups, fa_index pool, fa_index inner);
typedef void (*fa_maxout_f64)(const double *x, double *y, fa_index row0, fa_index row1,
                              fa_index groups, fa_index pool, fa_index inner);

/* one slope per channel (PReLU) on C-contiguous (outer, channels, inner):
 * rows [row0, row1) of outer*channels, row r using slope w[r % channels];
 * y = fa_core_leaky_relu(x; a = w[c]), so bitwise what the leaky_relu
 * kernel gives with that slope.  x and y are identical or disjoint. */
typedef void (*fa_perchan_f32)(const float *x, float *y, fa_index row0, fa_index row1,
                               fa_index channels, fa_index inner, const double *w);
typedef void (*fa_perchan_f64)(const double *x, double *y, fa_index row0, fa_index row1,
                               fa_index channels, fa_index inner, const double *w);
/* its gradients over the same rows: y = g * f'(x; a = w[c]) (f' itself where
 * g is NULL), f' = fa_dcore_leaky_relu, the product formed in double and
 * rounded once (the leaky_relu backward kernels' float-lane product agrees
 * but within 2^-24 ULP of a tie); g, x, y each identical to or disjoint
 * from the others. */
typedef void (*fa_perchan_grad_f32)(const float *g, const float *x, float *y, fa_index row0,
                                    fa_index row1, fa_index channels, fa_index inner,
                                    const double *w);
typedef void (*fa_perchan_grad_f64)(const double *g, const double *x, double *y, fa_index row0,
                                    fa_index row1, fa_index channels, fa_index inner,
                                    const double *w);

/* softmax family over the middle axis of C-contiguous (outer, n, inner):
 * units [u0, u1) where a unit is a row (inner == 1) or a block of up to 64
 * inner positions of one outer index (inner > 1: u = o * nblocks + b).
 * op: 0 softmax, 1 log_softmax, 2 softmin, 3 log_softmin.  x and y are
 * identical or disjoint. */
typedef void (*fa_softmax_f32)(const float *x, float *y, fa_index u0, fa_index u1,
                               fa_index n, fa_index inner, int op);
typedef void (*fa_softmax_f64)(const double *x, double *y, fa_index u0, fa_index u1,
                               fa_index n, fa_index inner, int op);
#define FA_SOFTMAX_LANES 64

/* their backward (issue 4), same units and op: o = the vector-Jacobian
 * product of grad_output g at the forward output y (fa_softmax_tmpl.h);
 * o is identical to or disjoint from each of g and y. */
typedef void (*fa_softmax_bwd_f32)(const float *g, const float *y, float *o, fa_index u0,
                                   fa_index u1, fa_index n, fa_index inner, int op);
typedef void (*fa_softmax_bwd_f64)(const double *g, const double *y, double *o, fa_index u0,
                                   fa_index u1, fa_index n, fa_index inner, int op);

/* gradients (issue 4): y[i] = g[i] * f'(x[i]) (or f' from the forward
 * output, for FA_FROM_Y_LIST); g, x, y identical or disjoint. */
typedef void (*fa_binary_f32)(const float *g, const float *x, float *y, fa_index n, const fa_params *p);
typedef void (*fa_binary_f64)(const double *g, const double *x, double *y, fa_index n, const fa_params *p);

typedef struct {
    const char *name;
    fa_unary_f32 f32;
    fa_unary_f64 f64;
    fa_unary_f32 deriv_f32;       /* y = f'(x) */
    fa_unary_f64 deriv_f64;
    fa_binary_f32 backward_f32;   /* y = g * f'(x) */
    fa_binary_f64 backward_f64;
} fa_unary_entry;

/* y = g * f'(x) computed from the forward output (FA_FROM_Y_LIST order). */
typedef struct {
    const char *name;
    fa_binary_f32 f32;
    fa_binary_f64 f64;
} fa_fromy_entry;

typedef struct {
    const char *isa;              /* "baseline", "avx2", "avx512" */
    const fa_unary_entry *unary;  /* fa_n_unary entries, in FA_UNARY_LIST order */
    fa_maxout_f32 maxout_f32;
    fa_maxout_f64 maxout_f64;
    fa_softmax_f32 softmax_f32;
    fa_softmax_f64 softmax_f64;
    const fa_fromy_entry *fromy;  /* fa_n_fromy entries, in FA_FROM_Y_LIST order */
    fa_perchan_f32 prelu_f32;     /* per-channel PReLU */
    fa_perchan_f64 prelu_f64;
    fa_softmax_bwd_f32 softmax_bwd_f32;   /* softmax family backward */
    fa_softmax_bwd_f64 softmax_bwd_f64;
    fa_perchan_grad_f32 prelu_grad_f32;   /* per-channel PReLU gradients */
    fa_perchan_grad_f64 prelu_grad_f64;
} fa_kernel_table;

extern const int fa_n_unary;
extern const int fa_n_fromy;

/* Select the kernel table: `force` is NULL/"" for the best available, or
 * "baseline"/"avx2"/"avx512".  Returns NULL if the forced ISA is not
 * supported by this CPU or this build. */
const fa_kernel_table *fa_select_isa(const char *force);
/* 1 if this CPU and build support the named ISA. */
int fa_isa_supported(const char *isa);
/* The benchmarks' non-temporal copy ceiling (issue 6): copies `bytes`
 * bytes with streaming stores where the CPU has them (x86-64: SSE2, the
 * output costs no read-for-ownership), else memcpy.  Not an activation. */
void fa_copy_stream(const void *src, void *dst, size_t bytes);
/* the same as an elementwise float32 kernel (x, y, n floats; p unused), so
 * that the benchmark drives it through the kernels' own chunking */
void fa_copy_stream_f32(const float *x, float *y, fa_index n, const fa_params *p);

/* A 113-bit binary floating type (binary128) for the exact levels of the
 * float64 log_softmax backward (fa_smb_logsm_fix): GCC/Clang __float128
 * (x86-64, ...) = 1, a quad long double (Linux on aarch64, ...) = 2, none
 * (MSVC, Apple arm64) = 0, where only the double-double level runs and
 * `fastact check` does not enforce that row (fastact._ext.has_binary128). */
#if defined(__SIZEOF_FLOAT128__) && !defined(_MSC_VER)
#define FA_HAVE_Q 1
#elif defined(__LDBL_MANT_DIG__) && __LDBL_MANT_DIG__ == 113
#define FA_HAVE_Q 2
#else
#define FA_HAVE_Q 0
#endif

#endif
