/*
 * fa_dispatch.c -- the one place that decides which ISA's kernels run.
 * Chosen once, at import, from the CPU's features (or FASTACT_ISA, passed
 * in by the Python layer as `force`).
 */
#include <string.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#endif
#include "fa_kernels.h"
#include "fa_activations.h"
#include "fa_derivatives.h"

#define FA_COUNT(name) +1
const int fa_n_unary = 0 FA_UNARY_LIST(FA_COUNT);
const int fa_n_fromy = 0 FA_FROM_Y_LIST(FA_COUNT);

extern const fa_kernel_table fa_table_baseline;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FA_X86_DISPATCH 1
extern const fa_kernel_table fa_table_avx2;
extern const fa_kernel_table fa_table_avx512;
#endif

int fa_isa_supported(const char *isa)
{
    if (strcmp(isa, "baseline") == 0) return 1;
#ifdef FA_X86_DISPATCH
    __builtin_cpu_init();
    if (strcmp(isa, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(isa, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return 0;
}

static const fa_kernel_table *fa_table_for(const char *isa)
{
    if (strcmp(isa, "baseline") == 0) return &fa_table_baseline;
#ifdef FA_X86_DISPATCH
    if (strcmp(isa, "avx2") == 0) return &fa_table_avx2;
    if (strcmp(isa, "avx512") == 0) return &fa_table_avx512;
#endif
    return NULL;
}

const fa_kernel_table *fa_select_isa(const char *force)
{
    if (force && force[0]) {
        if (!fa_isa_supported(force)) return NULL;
        return fa_table_for(force);
    }
    if (fa_isa_supported("avx512")) return fa_table_for("avx512");
    if (fa_isa_supported("avx2")) return fa_table_for("avx2");
    return &fa_table_baseline;
}

void fa_copy_stream(const void *src, void *dst, size_t bytes)
{
#if defined(__x86_64__) || defined(_M_X64)
    const char *s = (const char *)src;
    char *d = (char *)dst;
    size_t h = (16 - ((uintptr_t)d & 15)) & 15;     /* head: d to 16 bytes */
    if (h > bytes) h = bytes;
    memcpy(d, s, h);
    size_t i = h;
    for (; i + 64 <= bytes; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(s + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(s + i + 32));
        __m128i e = _mm_loadu_si128((const __m128i *)(s + i + 48));
        _mm_stream_si128((__m128i *)(d + i), a);
        _mm_stream_si128((__m128i *)(d + i + 16), b);
        _mm_stream_si128((__m128i *)(d + i + 32), c);
        _mm_stream_si128((__m128i *)(d + i + 48), e);
    }
    _mm_sfence();
    memcpy(d + i, s + i, bytes - i);
#else
    memcpy(dst, src, bytes);
#endif
}

void fa_copy_stream_f32(const float *x, float *y, fa_index n, const fa_params *p)
{
    (void)p;
    fa_copy_stream(x, y, (size_t)n * sizeof(float));
}
