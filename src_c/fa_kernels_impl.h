/*
 * fa_kernels_impl.h -- array kernels generated from fa_activations.h.
 * Included once per ISA by fa_kern_<isa>.c with FA_ISA defined; every
 * symbol gets the ISA as a suffix.
 */
#include "fa_kernels.h"
#include "fa_activations.h"
#include "fa_activations_f32.h"
#include "fa_derivatives.h"

#define FA_STR_(a) #a
#define FA_STR(a) FA_STR_(a)

#define FA_CAT_(a, b) a##_##b
#define FA_CAT(a, b) FA_CAT_(a, b)
#define FA_SYM(name) FA_CAT(name, FA_ISA)

#if defined(_MSC_VER)
#define FA_RESTRICT __restrict
#else
#define FA_RESTRICT __restrict__
#endif

/* AVX-512: the FA_V512_F32_LIST activations have float32 kernels in double
 * lanes (fa_v512_f32.h); the generated float32 kernels below hand over to
 * them first.  FA_VID_<name> numbers every activation, so the hand-over is
 * a switch on a constant that the compiler folds away. */
#define FA_VID(name) FA_VID_##name,
enum { FA_UNARY_LIST(FA_VID) FA_VID_COUNT };
#ifdef FA_V512
#include "fa_v512_f32.h"
#include "fa_v512_f64.h"
#define FA_V512_CASE(name) case FA_VID_##name: fa_v512_##name##_f32(x, y, n, p); return 1;
/* the float-lane piecewise kernels decline parameters beyond float (0) */
#define FA_V512_PWCASE(name) case FA_VID_##name: return fa_v512_##name##_f32(x, y, n, p);
#define FA_V512_PWDCASE(name) case FA_VID_##name: return fa_v512_d_##name##_f32(x, y, n, p);
#define FA_V512_PWBCASE(name) case FA_VID_##name: return fa_v512_b_##name##_f32(g, x, y, n, p);
FA_V_INLINE int fa_v512_f32_try(int id, const float *x, float *y, fa_index n,
                                const fa_params *p)
{
    switch (id) {
    FA_V512_F32_LIST(FA_V512_CASE)
    FA_V512_PW_LIST(FA_V512_PWCASE)
    FA_V512_PWF_LIST(FA_V512_PWCASE)
    default: return 0;
    }
}
#define FA_V512_TRY(name) if (fa_v512_f32_try(FA_VID_##name, x, y, n, p)) return;
/* the float-lane piecewise kernels with streaming stores (FA_GEN_NT) */
#define FA_V512_NTCASE(name) case FA_VID_##name: return fa_v512_##name##_f32_nt(x, y, n, p);
FA_V_INLINE int fa_v512_f32_nt_try(int id, const float *x, float *y, fa_index n,
                                   const fa_params *p)
{
    switch (id) {
    FA_V512_PW_LIST(FA_V512_NTCASE)
    FA_V512_PWF_LIST(FA_V512_NTCASE)
    default: return 0;
    }
}
/* float64: the FA_V512_F64_LIST kernels of fa_v512_f64.h */
#define FA_V512_CASE64(name) case FA_VID_##name: fa_v512_##name##_f64(x, y, n, p); return 1;
FA_V_INLINE int fa_v512_f64_try(int id, const double *x, double *y, fa_index n,
                                const fa_params *p)
{
    switch (id) {
    FA_V512_F64_LIST(FA_V512_CASE64)
    default: return 0;
    }
}
#define FA_V512_TRY64(name) if (fa_v512_f64_try(FA_VID_##name, x, y, n, p)) return;
#define FA_V512_DCASE64(name, K) case FA_VID_##name: fa_v512_d_##name##_f64(x, y, n, p); return 1;
#define FA_V512_BCASE64(name, K) case FA_VID_##name: fa_v512_b_##name##_f64(g, x, y, n, p); return 1;
FA_V_INLINE int fa_v512_d64_try(int id, const double *x, double *y, fa_index n,
                                const fa_params *p)
{
    switch (id) {
    FA_V512_D64_KLIST(FA_V512_DCASE64)
    default: return 0;
    }
}
FA_V_INLINE int fa_v512_b64_try(int id, const double *g, const double *x, double *y,
                                fa_index n, const fa_params *p)
{
    switch (id) {
    FA_V512_D64_KLIST(FA_V512_BCASE64)
    default: return 0;
    }
}
#define FA_V512_DTRY64(name) if (fa_v512_d64_try(FA_VID_##name, x, y, n, p)) return;
#define FA_V512_BTRY64(name) if (fa_v512_b64_try(FA_VID_##name, g, x, y, n, p)) return;
/* the same for f'(x), g f'(x) and g f'(x) from the forward output */
#define FA_V512_DCASE(name) case FA_VID_##name: fa_v512_d_##name##_f32(x, y, n, p); return 1;
#define FA_V512_BCASE(name) case FA_VID_##name: fa_v512_b_##name##_f32(g, x, y, n, p); return 1;
#define FA_V512_YCASE(name) case FA_VID_##name: fa_v512_by_##name##_f32(g, x, y, n, p); return 1;
FA_V_INLINE int fa_v512_d_try(int id, const float *x, float *y, fa_index n, const fa_params *p)
{
    switch (id) {
    FA_V512_D_LIST(FA_V512_DCASE)
    FA_V512_PW_LIST(FA_V512_PWDCASE)
    default: return 0;
    }
}
FA_V_INLINE int fa_v512_b_try(int id, const float *g, const float *x, float *y, fa_index n,
                              const fa_params *p)
{
    switch (id) {
    FA_V512_D_LIST(FA_V512_BCASE)
    FA_V512_PW_LIST(FA_V512_PWBCASE)
    default: return 0;
    }
}
#define FA_V512_Y16CASE(name) case FA_VID_##name: fa_v512_by16_##name##_f32(g, x, y, n, p); return 1;
FA_V_INLINE int fa_v512_y_try(int id, const float *g, const float *x, float *y, fa_index n,
                              const fa_params *p)
{
    switch (id) {          /* the float-lane kernels where there is one */
    FA_V512_Y16_LIST(FA_V512_Y16CASE)
    default: break;
    }
    switch (id) {
    FA_FROM_Y_LIST(FA_V512_YCASE)
    default: return 0;
    }
}
#define FA_V512_DTRY(name) if (fa_v512_d_try(FA_VID_##name, x, y, n, p)) return;
#define FA_V512_BTRY(name) if (fa_v512_b_try(FA_VID_##name, g, x, y, n, p)) return;
#define FA_V512_YTRY(name) if (fa_v512_y_try(FA_VID_##name, g, yf, y, n, p)) return;
#else
#define FA_V512_TRY(name)
#define FA_V512_TRY64(name)
#define FA_V512_DTRY64(name)
#define FA_V512_BTRY64(name)
#define FA_V512_DTRY(name)
#define FA_V512_BTRY(name)
#define FA_V512_YTRY(name)
#endif

/* x and y are either identical (in place) or disjoint: y[i] depends on x[i]
 * alone, so `restrict` is safe for the exact-alias case too (every kernel
 * below).
 *
 * float32 through the double core, rounded once (FA_F32_VIA_DOUBLE_LIST) */
#define FA_GEN_F32_VIA_DOUBLE(name)                                           \
    static void FA_SYM(fa_##name##_f32c)(const float *FA_RESTRICT x,         \
                                         float *FA_RESTRICT y, fa_index n,    \
                                         const fa_params *p)                  \
    {                                                                         \
        FA_V512_TRY(name)                                                     \
        const fa_params P = {p->a, p->b, p->c, p->d};                         \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = (float)fa_core_##name((double)x[i], &P, 1);                \
    }

/* float32 in float lanes (FA_F32_NATIVE_LIST, fa_activations_f32.h);
 * parameters beyond float's reach (|a| > 2^60, say) take the double core */
#define FA_GEN_F32_NATIVE(name)                                               \
    static void FA_SYM(fa_##name##_f32c)(const float *FA_RESTRICT x,         \
                                         float *FA_RESTRICT y, fa_index n,    \
                                         const fa_params *p)                  \
    {                                                                         \
        FA_V512_TRY(name)                                                     \
        if (!fa_params_fit32(p)) {                                            \
            const fa_params P = {p->a, p->b, p->c, p->d};                     \
            for (fa_index i = 0; i < n; i++)                                  \
                y[i] = (float)fa_core_##name((double)x[i], &P, 1);            \
            return;                                                           \
        }                                                                     \
        const fa_params32 P = fa_params_to32(p);                              \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = fa_core32_##name(x[i], &P);                                \
    }

FA_F32_VIA_DOUBLE_LIST(FA_GEN_F32_VIA_DOUBLE)
FA_F32_NATIVE_LIST(FA_GEN_F32_NATIVE)

/* leaky_relu in float lanes (FA_F32_OWN_LIST): fa_core32_leaky_relu for
 * inputs where fa_slope32_ok, the double core's product for the
 * others (tiny nonzero, infinite, NaN) -- a choice made per element, so
 * the result depends on x alone (threads, position).  Blocks of
 * FA_LR32_BLOCK are scanned first in place; a block holding such an input
 * is copied to a local buffer (the fix-up pass still needs x) and its odd
 * elements are recomputed after the vector loop (out of place the check
 * rides along the vector loop instead: x is still there for the fix-up). */
#define FA_LR32_BLOCK 512
static void FA_SYM(fa_leaky_relu_f32c)(const float *FA_RESTRICT x, float *FA_RESTRICT y,
                                       fa_index n, const fa_params *p)
{
    FA_V512_TRY(leaky_relu)
    if (!fa_params_fit32(p)) {
        const fa_params P = {p->a, p->b, p->c, p->d};
        for (fa_index i = 0; i < n; i++)
            y[i] = (float)fa_core_leaky_relu((double)x[i], &P, 1);
        return;
    }
    const fa_params32 P = fa_params_to32(p);
    if (P.al == 0.0f) {                  /* a float slope: x ah is exact */
        for (fa_index i = 0; i < n; i++) {
            float v = x[i];
            y[i] = v > 0.0f ? v : v * P.ah;
        }
        return;
    }
    const double a = p->a;
    float buf[FA_LR32_BLOCK];
    const int inplace = (const void *)x == (const void *)y;
    for (fa_index i0 = 0; i0 < n; i0 += FA_LR32_BLOCK) {
        fa_index m = n - i0 < FA_LR32_BLOCK ? n - i0 : FA_LR32_BLOCK;
        const float *xb = x + i0;
        float *yb = y + i0;
        int ok = 1;
        if (inplace) {                   /* scan first: the fix-up needs x */
            for (fa_index i = 0; i < m; i++) ok &= fa_slope32_ok(fabsf(xb[i]));
            if (!ok) {
                memcpy(buf, xb, (size_t)m * sizeof(float));
                xb = buf;
            }
            for (fa_index i = 0; i < m; i++) yb[i] = fa_core32_leaky_relu(xb[i], &P);
        } else {                         /* out of place: one pass, x stays */
            for (fa_index i = 0; i < m; i++) {
                float v = xb[i];
                ok &= fa_slope32_ok(fabsf(v));
                yb[i] = fa_core32_leaky_relu(v, &P);
            }
        }
        if (!ok) {
            for (fa_index i = 0; i < m; i++) {
                float v = xb[i];
                if (!fa_slope32_ok(fabsf(v))) yb[i] = v > 0.0f ? v : (float)((double)v * a);
            }
        }
    }
}

/* float64 kernels of their own (not the per-element core loop): gelu's
 * blocks (fa_activations.h); the switch folds per generated kernel */
FA_INLINE int fa_f64_own(int id, const double *x, double *y, fa_index n)
{
    if (id == FA_VID_gelu) {
        fa_gelu64_blocks(x, y, n);
        return 1;
    }
    return 0;
}

/* and of their derivatives (g = NULL) and backward (g f') */
FA_INLINE int fa_f64_own_d(int id, const double *g, const double *x, double *y, fa_index n)
{
    if (id == FA_VID_gelu) {
        fa_dgelu64_blocks(g, x, y, n);
        return 1;
    }
    return 0;
}

#define FA_GEN_UNARY(name)                                                    \
    static void FA_SYM(fa_##name##_f64c)(const double *FA_RESTRICT x,        \
                                         double *FA_RESTRICT y, fa_index n,   \
                                         const fa_params *p)                  \
    {                                                                         \
        FA_V512_TRY64(name)                                                   \
        if (fa_f64_own(FA_VID_##name, x, y, n)) return;                       \
        const fa_params P = {p->a, p->b, p->c, p->d};                         \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = fa_core_##name(x[i], &P, 0);                               \
    }

FA_UNARY_LIST(FA_GEN_UNARY)

/*
 * Non-temporal stores (issue 6): a chunk of at least FA_NT_MIN bytes of
 * output, out of place, is computed in FA_NT_BLOCK-element blocks into an
 * L1 buffer and streamed to y (movntps: no read-for-ownership of the
 * output, and the result does not evict the input from the caches).  Every
 * element is computed by the same kernel either way, so the values are
 * bitwise those of the direct call.  x86-64 only (SSE2 is baseline there).
 */
#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#define FA_NT_MIN ((fa_index)32 << 20)      /* bytes of output per call: beyond L3 */
#define FA_NT_BLOCK 2048

static void FA_SYM(fa_stream)(void *FA_RESTRICT dst, const void *FA_RESTRICT src, size_t bytes)
{
    /* dst 64-byte aligned, bytes a multiple of 64 */
#ifdef FA_V512
    for (size_t i = 0; i < bytes; i += 64)
        _mm512_stream_ps((float *)((char *)dst + i), _mm512_load_ps((const float *)((const char *)src + i)));
#else
    const __m128 *s = (const __m128 *)src;
    __m128 *d = (__m128 *)dst;
    for (size_t i = 0; i < bytes / 16; i += 4) {
        _mm_stream_ps((float *)(d + i), _mm_loadu_ps((const float *)(s + i)));
        _mm_stream_ps((float *)(d + i + 1), _mm_loadu_ps((const float *)(s + i + 1)));
        _mm_stream_ps((float *)(d + i + 2), _mm_loadu_ps((const float *)(s + i + 2)));
        _mm_stream_ps((float *)(d + i + 3), _mm_loadu_ps((const float *)(s + i + 3)));
    }
#endif
}

/* kernels that stream their own stores (no block buffer): the cheap AVX-512
 * float32 ones (fa_v512_f32.h: the float-lane piecewise kernels); the
 * others are computed into the buffer */
#ifdef FA_V512
#define FA_NT_DIRECT_f32(name) fa_v512_f32_nt_try(FA_VID_##name, x + h, y + h, n - h, p)
#else
#define FA_NT_DIRECT_f32(name) 0
#endif
#define FA_NT_DIRECT_f64(name) 0
#define FA_GEN_NT(name, T, suf)                                               \
    static void FA_SYM(fa_##name##_##suf)(const T *x, T *y, fa_index n,      \
                                          const fa_params *p)                 \
    {                                                                         \
        if (x == y || n * (fa_index)sizeof(T) < FA_NT_MIN) {                  \
            FA_SYM(fa_##name##_##suf##c)(x, y, n, p);                         \
            return;                                                           \
        }                                                                     \
        /* head: up to 64-byte alignment of y, directly */                    \
        fa_index h = (fa_index)(((64 - ((uintptr_t)y & 63)) & 63) / sizeof(T)); \
        if (((uintptr_t)y & (sizeof(T) - 1)) != 0) h = n;  /* misaligned */   \
        if (h > 0) FA_SYM(fa_##name##_##suf##c)(x, y, h < n ? h : n, p);      \
        if (h < n && FA_NT_DIRECT_##suf(name)) {                              \
            _mm_sfence();                                                     \
            return;                                                           \
        }                                                                     \
        T buf[FA_NT_BLOCK] __attribute__((aligned(64)));                      \
        fa_index i = h;                                                       \
        for (; i + FA_NT_BLOCK <= n; i += FA_NT_BLOCK) {                      \
            FA_SYM(fa_##name##_##suf##c)(x + i, buf, FA_NT_BLOCK, p);         \
            FA_SYM(fa_stream)(y + i, buf, sizeof buf);                        \
        }                                                                     \
        _mm_sfence();                                                         \
        if (i < n) FA_SYM(fa_##name##_##suf##c)(x + i, y + i, n - i, p);     \
    }
#else
#define FA_GEN_NT(name, T, suf)                                               \
    static void FA_SYM(fa_##name##_##suf)(const T *x, T *y, fa_index n,      \
                                          const fa_params *p)                 \
    {                                                                         \
        FA_SYM(fa_##name##_##suf##c)(x, y, n, p);                             \
    }
#endif
#define FA_GEN_NT_BOTH(name) FA_GEN_NT(name, float, f32) FA_GEN_NT(name, double, f64)
FA_UNARY_LIST(FA_GEN_NT_BOTH)

/* NaN-propagating max: once m is NaN it stays NaN; a NaN v replaces m. */
#define FA_MAXOUT_STEP(m, v) (((v) > (m) || (v) != (v)) && (m) == (m) ? (v) : (m))

/* inner == 1 (pooling along the last axis, e.g. (N, C) -> (N, C/pool)):
 * group `row` is the run x[row*pool : row*pool + pool], so with pool a
 * compile-time constant the loop vectorises over groups (interleaved
 * loads), where the general loop below runs one group at a time.  Same
 * comparisons in the same order as the general loop, so the same result. */
#define FA_MAXOUT_ROWS(T, P)                                                  \
    for (fa_index row = row0; row < row1; row++) {                            \
        const T *s = x + row * (P);                                           \
        T m = s[0];                                                           \
        for (int k = 1; k < (P); k++) m = FA_MAXOUT_STEP(m, s[k]);            \
        y[row] = m;                                                           \
    }                                                                         \
    return;

/* inner > 1 with a small constant pool: each output element in one pass
 * over its pool (the general loop below reads and writes dst pool times);
 * the same comparisons in the same order, so the same result.  Float64
 * maxout(pool_size=3, axis=0) at 256K ran at 0.80x torch's amax. */
#define FA_MAXOUT_COLS(T, P)                                                  \
    for (fa_index j = 0; j < inner; j++) {                                    \
        T m = src[j];                                                         \
        for (int k = 1; k < (P); k++) m = FA_MAXOUT_STEP(m, src[k * inner + j]); \
        dst[j] = m;                                                           \
    }

#define FA_GEN_MAXOUT(T, suffix)                                              \
    static void FA_SYM(fa_maxout_##suffix)(const T *FA_RESTRICT x,           \
                                           T *FA_RESTRICT y, fa_index row0,   \
                                           fa_index row1, fa_index groups,    \
                                           fa_index pool, fa_index inner)     \
    {                                                                         \
        if (inner == 1) {                                                     \
            switch (pool) {                                                   \
            case 2: FA_MAXOUT_ROWS(T, 2)                                      \
            case 3: FA_MAXOUT_ROWS(T, 3)                                      \
            case 4: FA_MAXOUT_ROWS(T, 4)                                      \
            case 8: FA_MAXOUT_ROWS(T, 8)                                      \
            default: break;                                                   \
            }                                                                 \
        }                                                                     \
        for (fa_index row = row0; row < row1; row++) {                        \
            fa_index o = row / groups, g = row % groups;                      \
            const T *src = x + (o * groups * pool + g * pool) * inner;        \
            T *dst = y + (o * groups + g) * inner;                            \
            switch (pool) {                                                   \
            case 2: FA_MAXOUT_COLS(T, 2) continue;                            \
            case 3: FA_MAXOUT_COLS(T, 3) continue;                            \
            case 4: FA_MAXOUT_COLS(T, 4) continue;                            \
            default: break;                                                   \
            }                                                                 \
            for (fa_index j = 0; j < inner; j++) dst[j] = src[j];             \
            for (fa_index k = 1; k < pool; k++) {                             \
                const T *s = src + k * inner;                                 \
                for (fa_index j = 0; j < inner; j++) {                        \
                    T m = dst[j], v = s[j];                                   \
                    dst[j] = FA_MAXOUT_STEP(m, v);                            \
                }                                                             \
            }                                                                 \
        }                                                                     \
    }

FA_GEN_MAXOUT(float, f32)
FA_GEN_MAXOUT(double, f64)

/* The three branches over rows [row0, row1), ELEM(j, a) computing element
 * j of the run at xs/ys (and gs) with slope a */
#define FA_PERCHAN_LOOP(T, ELEM)                                              \
    do {                                                                      \
        fa_index period = channels * inner;                                   \
        if (period <= 256) {                                                  \
            double pat[512 + 256];                                            \
            fa_index L = period * ((256 + period - 1) / period); /* < 512 */  \
            for (fa_index i = 0; i < L + period; i++)                         \
                pat[i] = w[(i / inner) % channels];                           \
            fa_index e0 = row0 * inner, e1 = row1 * inner;                    \
            const double *ps = pat + e0 % period;                             \
            for (fa_index e = e0; e < e1; e += L) {                           \
                fa_index len = e1 - e < L ? e1 - e : L;                       \
                const T *xs = x + e;                                          \
                const T *gs = g ? g + e : NULL;                               \
                T *ys = y + e; (void)gs;                                      \
                for (fa_index j = 0; j < len; j++) ELEM(j, ps[j]);            \
            }                                                                 \
        } else if (inner == 1) {                                              \
            fa_index r = row0;                                                \
            while (r < row1) {                                                \
                fa_index c0 = r % channels;                                   \
                fa_index len = channels - c0;                                 \
                if (len > row1 - r) len = row1 - r;                           \
                const T *xs = x + r;                                          \
                const T *gs = g ? g + r : NULL;                               \
                T *ys = y + r; (void)gs;                                      \
                const double *ws = w + c0;                                    \
                for (fa_index j = 0; j < len; j++) ELEM(j, ws[j]);            \
                r += len;                                                     \
            }                                                                 \
        } else {                                                              \
            for (fa_index r = row0; r < row1; r++) {                          \
                const double a_ = w[r % channels];                            \
                const T *xs = x + r * inner;                                  \
                const T *gs = g ? g + r * inner : NULL;                       \
                T *ys = y + r * inner; (void)gs;                              \
                for (fa_index j = 0; j < inner; j++) ELEM(j, a_);             \
            }                                                                 \
        }                                                                     \
    } while (0)

/* Per-channel PReLU (fa_perchan_*) and its gradients (fa_perchan_grad_*).
 * Rows [row0, row1) are one contiguous run of elements whose slope repeats
 * with period channels*inner, and every branch computes fa_core_leaky_relu
 * (or fa_dcore_leaky_relu) with a = w[c] (as the leaky_relu kernels):
 *  - period <= 256 (few channels, small inner): the slopes of >= 256
 *    elements (whole periods) are laid out once in a local pattern, and the
 *    run is processed in blocks of that length, vectorised over elements;
 *  - inner == 1 (channels last, e.g. (N, C) with axis=1): runs of
 *    consecutive channels, vectorised over the channel axis with the slopes
 *    loaded alongside x (the old drivers called a kernel per element: the
 *    backward of (256, 1024) along axis 1 ran at 0.54x torch's until
 *    2026-12-04);
 *  - otherwise one slope per row, vectorised over inner. */
#define FA_PRELU_F(j, a)                                                      \
    { const fa_params P_ = {(a), 0.0, 0.0, 0.0};                              \
      ys[j] = (fa_pc_t)fa_core_leaky_relu((double)xs[j], &P_, FA_PC_LOWP); }
#define FA_PRELU_D(j, a)                                                      \
    { const fa_params P_ = {(a), 0.0, 0.0, 0.0};                              \
      ys[j] = (fa_pc_t)fa_dcore_leaky_relu((double)xs[j], &P_, FA_PC_LOWP); }
#define FA_PRELU_B(j, a)                                                      \
    { const fa_params P_ = {(a), 0.0, 0.0, 0.0};                              \
      ys[j] = (fa_pc_t)((double)gs[j] * fa_dcore_leaky_relu((double)xs[j], &P_, FA_PC_LOWP)); }
/* FA_PC_LOWP (defined around each use): 1 for float32's lowp cores */
#define FA_GEN_PERCHAN(T, suffix)                                             \
    static void FA_SYM(fa_prelu_##suffix)(const T *FA_RESTRICT x,            \
                                          T *FA_RESTRICT y, fa_index row0,    \
                                          fa_index row1, fa_index channels,   \
                                          fa_index inner,                     \
                                          const double *FA_RESTRICT w)        \
    {                                                                         \
        typedef T fa_pc_t;                                                    \
        const T *g = NULL;                                                    \
        FA_PERCHAN_LOOP(T, FA_PRELU_F);                                       \
    }                                                                         \
    static void FA_SYM(fa_prelu_grad_##suffix)(const T *g, const T *x, T *y,  \
                                               fa_index row0, fa_index row1,  \
                                               fa_index channels,             \
                                               fa_index inner,                \
                                               const double *FA_RESTRICT w)   \
    {                                                                         \
        typedef T fa_pc_t;                                                    \
        if (g)                                                                \
            FA_PERCHAN_LOOP(T, FA_PRELU_B);                                   \
        else                                                                  \
            FA_PERCHAN_LOOP(T, FA_PRELU_D);                                   \
    }

#define FA_PC_LOWP 1
FA_GEN_PERCHAN(float, f32)
#undef FA_PC_LOWP
#define FA_PC_LOWP 0
FA_GEN_PERCHAN(double, f64)
#undef FA_PC_LOWP

#include "fa_softmax_impl.h"

/* ---------------------------------------------------------------------
 * Gradients (issue 4), generated from fa_derivatives.h like the forward
 * kernels: per activation and dtype a derivative kernel y = f'(x) and a
 * fused backward kernel y = g * f'(x) (float32: g * f' formed in double,
 * rounded once); per FA_FROM_Y_LIST entry a backward kernel from the
 * forward output, y = g * f'(f^-1(yf)).  Every element is independent, so
 * `restrict` is safe for the identical-or-disjoint buffers _api hands in.
 * -------------------------------------------------------------------- */
/* float32 f' and g f' in float lanes off AVX-512 (whose own are in
 * FA_V512_PW_LIST) for relu, relu6 and hardtanh: f' is 1 strictly inside
 * (a, b) (fa_in32) and 0 elsewhere (PyTorch's conventions), NaN where x is
 * NaN, so g f' is g or g * 0 (a signed zero; NaN for an infinite g) -- the
 * double core's product exactly (bitwise, NaN payloads aside), without its
 * two conversions per element (the AVX2 relu backward ran at 0.42x
 * torch's). */
FA_INLINE float fa_gsel32(float g, float x, float up, float down)
{
    float r = (x >= up) & (x <= down) ? g : g * 0.0f;
    return x != x ? x : r;
}
/* leaky_relu: g for x > 0, else g * slope rounded once -- fa_core32_leaky_relu's
 * product with g for x (g ah for a float slope; else fma(g, ah, g al),
 * within 2^-48 of one rounding where fa_slope32_ok(|g|)); a block of
 * FA_LR32_BLOCK holding another g (tiny nonzero, infinite, NaN) takes the
 * double core's product for the whole block (scanned first where y is g or
 * x, else checked along and redone).  f' itself (g = NULL): 1 or the slope
 * rounded once.  Without hardware FMA a non-float slope keeps the double
 * core (the soft fma converts anyway). */
FA_INLINE float fa_bleaky32(float v, float t, const fa_params32 *P)
{
    float q = P->al == 0.0f ? v * P->ah : FA_FMAF(v, P->ah, v * P->al);
    q = v == 0.0f ? v * P->ah : q;                 /* the sign of g ah (fma: +0) */
    float r = t > 0.0f ? v : q;
    return t != t ? t : r;
}
static int FA_SYM(fa_grad32_leaky)(const float *g, const float *x, float *y, fa_index n,
                                   const fa_params *p)
{
    if (!fa_params_fit32(p)) return 0;
    const fa_params32 P = fa_params_to32(p);
    if (!g) {
        for (fa_index i = 0; i < n; i++) y[i] = x[i] != x[i] ? x[i] : (x[i] > 0.0f ? 1.0f : P.ah);
        return 1;
    }
    if (P.al == 0.0f) {                             /* g ah: exact for every g */
        for (fa_index i = 0; i < n; i++) y[i] = fa_bleaky32(g[i], x[i], &P);
        return 1;
    }
#if !(defined(FA_HAVE_FMA) && FA_HAVE_FMA)
    return 0;
#endif
    const fa_params Pd = {p->a, p->b, p->c, p->d};
    const int inplace = (const void *)y == (const void *)g || (const void *)y == (const void *)x;
    for (fa_index i0 = 0; i0 < n; i0 += FA_LR32_BLOCK) {
        fa_index m = n - i0 < FA_LR32_BLOCK ? n - i0 : FA_LR32_BLOCK;
        const float *gb = g + i0, *xb = x + i0;
        float *yb = y + i0;
        int ok = 1;
        if (inplace) {
            for (fa_index i = 0; i < m; i++) ok &= fa_slope32_ok(fabsf(gb[i]));
            if (ok)
                for (fa_index i = 0; i < m; i++) yb[i] = fa_bleaky32(gb[i], xb[i], &P);
        } else {
            for (fa_index i = 0; i < m; i++) {
                ok &= fa_slope32_ok(fabsf(gb[i]));
                yb[i] = fa_bleaky32(gb[i], xb[i], &P);
            }
        }
        if (!ok)
            for (fa_index i = 0; i < m; i++)
                yb[i] = (float)((double)gb[i] * fa_dcore_leaky_relu((double)xb[i], &Pd, 1));
    }
    return 1;
}

/* 1 if handled (g = NULL: f' itself) */
static int FA_SYM(fa_grad32_in)(int id, const float *g, const float *x, float *y, fa_index n,
                                const fa_params *p)
{
    double a, b;
    switch (id) {
    case FA_VID_relu: a = 0.0; b = INFINITY; break;
    case FA_VID_relu6: a = 0.0; b = 6.0; break;
    case FA_VID_hardtanh: a = p->a; b = p->b; break;
    case FA_VID_leaky_relu: return FA_SYM(fa_grad32_leaky)(g, x, y, n, p);
    default: return 0;
    }
    fa_in32 I = fa_in32_make(a, b);
    if (id == FA_VID_relu) I.down = INFINITY;      /* relu'(+inf) = 1: no upper end */
    if (g)
        for (fa_index i = 0; i < n; i++) y[i] = fa_gsel32(g[i], x[i], I.up, I.down);
    else
        for (fa_index i = 0; i < n; i++) y[i] = fa_gsel32(1.0f, x[i], I.up, I.down);
    return 1;
}

#define FA_GEN_GRAD(name)                                                     \
    static void FA_SYM(fa_d_##name##_f32)(const float *FA_RESTRICT x,        \
                                          float *FA_RESTRICT y, fa_index n,   \
                                          const fa_params *p)                 \
    {                                                                         \
        FA_V512_DTRY(name)                                                    \
        if (FA_SYM(fa_grad32_in)(FA_VID_##name, NULL, x, y, n, p)) return;    \
        const fa_params P = {p->a, p->b, p->c, p->d};                         \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = (float)fa_dcore_##name((double)x[i], &P, 1);               \
    }                                                                         \
    static void FA_SYM(fa_d_##name##_f64)(const double *FA_RESTRICT x,       \
                                          double *FA_RESTRICT y, fa_index n,  \
                                          const fa_params *p)                 \
    {                                                                         \
        FA_V512_DTRY64(name)                                                  \
        if (fa_f64_own_d(FA_VID_##name, NULL, x, y, n)) return;               \
        const fa_params P = {p->a, p->b, p->c, p->d};                         \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = fa_dcore_##name(x[i], &P, 0);                              \
    }                                                                         \
    static void FA_SYM(fa_b_##name##_f32)(const float *FA_RESTRICT g,        \
                                          const float *FA_RESTRICT x,         \
                                          float *FA_RESTRICT y, fa_index n,   \
                                          const fa_params *p)                 \
    {                                                                         \
        FA_V512_BTRY(name)                                                    \
        if (FA_SYM(fa_grad32_in)(FA_VID_##name, g, x, y, n, p)) return;       \
        const fa_params P = {p->a, p->b, p->c, p->d};                         \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = (float)((double)g[i] * fa_dcore_##name((double)x[i], &P, 1)); \
    }                                                                         \
    static void FA_SYM(fa_b_##name##_f64)(const double *FA_RESTRICT g,       \
                                          const double *FA_RESTRICT x,        \
                                          double *FA_RESTRICT y, fa_index n,  \
                                          const fa_params *p)                 \
    {                                                                         \
        FA_V512_BTRY64(name)                                                  \
        if (fa_f64_own_d(FA_VID_##name, g, x, y, n)) return;                  \
        const fa_params P = {p->a, p->b, p->c, p->d};                         \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = g[i] * fa_dcore_##name(x[i], &P, 0);                       \
    }

FA_UNARY_LIST(FA_GEN_GRAD)

#define FA_GEN_FROMY(name)                                                    \
    static void FA_SYM(fa_by_##name##_f32)(const float *FA_RESTRICT g,       \
                                           const float *FA_RESTRICT yf,       \
                                           float *FA_RESTRICT y, fa_index n,  \
                                           const fa_params *p)                \
    {                                                                         \
        FA_V512_YTRY(name)                                                    \
        const fa_params P = {p->a, p->b, p->c, p->d};                         \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = (float)((double)g[i] * fa_ycore_##name((double)yf[i], &P, 1)); \
    }                                                                         \
    static void FA_SYM(fa_by_##name##_f64)(const double *FA_RESTRICT g,      \
                                           const double *FA_RESTRICT yf,      \
                                           double *FA_RESTRICT y, fa_index n, \
                                           const fa_params *p)                \
    {                                                                         \
        const fa_params P = {p->a, p->b, p->c, p->d};                         \
        for (fa_index i = 0; i < n; i++)                                      \
            y[i] = g[i] * fa_ycore_##name(yf[i], &P, 0);                      \
    }

FA_FROM_Y_LIST(FA_GEN_FROMY)

#define FA_FROMY_ENTRY(name) {#name, FA_SYM(fa_by_##name##_f32), FA_SYM(fa_by_##name##_f64)},
static const fa_fromy_entry FA_SYM(fa_fromy_entries)[] = {FA_FROM_Y_LIST(FA_FROMY_ENTRY)};

#define FA_ENTRY(name) {#name, FA_SYM(fa_##name##_f32), FA_SYM(fa_##name##_f64),        \
                        FA_SYM(fa_d_##name##_f32), FA_SYM(fa_d_##name##_f64),          \
                        FA_SYM(fa_b_##name##_f32), FA_SYM(fa_b_##name##_f64)},
static const fa_unary_entry FA_SYM(fa_unary_entries)[] = {FA_UNARY_LIST(FA_ENTRY)};

const fa_kernel_table FA_SYM(fa_table) = {
    FA_STR(FA_ISA), FA_SYM(fa_unary_entries),
    FA_SYM(fa_maxout_f32), FA_SYM(fa_maxout_f64),
    FA_SYM(fa_softmax_f32), FA_SYM(fa_softmax_f64),
    FA_SYM(fa_fromy_entries),
    FA_SYM(fa_prelu_f32), FA_SYM(fa_prelu_f64),
    FA_SOFTMAX_BWD_F32, FA_SYM(fa_softmax_bwd_f64),
    FA_SYM(fa_prelu_grad_f32), FA_SYM(fa_prelu_grad_f64),
};
