/* Portable kernels: whatever the compiler's default target is (SSE2 on
 * x86-64, NEON on aarch64). */
#define FA_ISA baseline
#define FA_HAVE_FMA 0
#include "fa_kernels_impl.h"
