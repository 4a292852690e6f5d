/* AVX-512 (F/DQ/VL/BW) kernels, 512-bit vectors, selected at run time. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,prefer-vector-width=512")
#define FA_ISA avx512
#define FA_HAVE_FMA 1
#define FA_V512 1
#include "fa_kernels_impl.h"
#else
typedef int fa_no_avx512_build;
#endif
