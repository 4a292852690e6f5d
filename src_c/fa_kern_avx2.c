/* AVX2 + FMA kernels (Haswell / Zen 1 and newer), compiled for that target
 * in this file only; selected at run time by fa_dispatch.c. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#pragma GCC target("avx2,fma")
#define FA_ISA avx2
#define FA_HAVE_FMA 1
#include "fa_kernels_impl.h"
#else
typedef int fa_no_avx2_build;
#endif
