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

typedef struct {
    const char *name;
    fa_unary_f32 f32;
    fa_unary_f64 f64;
} fa_unary_entry;

typedef struct {
    const char *isa;              /* "baseline", "avx2", "avx512" */
    const fa_unary_entry *unary;  /* fa_n_unary entries, in FA_UNARY_LIST order */
    fa_maxout_f32 maxout_f32;
    fa_maxout_f64 maxout_f64;
} fa_kernel_table;

extern const int fa_n_unary;

/* Select the kernel table: `force` is NULL/"" for the best available, or
 * "baseline"/"avx2"/"avx512".  Returns NULL if the forced ISA is not
 * supported by this CPU or this build. */
const fa_kernel_table *fa_select_isa(const char *force);
/* 1 if this CPU and build support the named ISA. */
int fa_isa_supported(const char *isa);

#endif
