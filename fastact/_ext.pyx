# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Loop drivers: the few signatures every kernel shares.

Design (numbered so that changes can refer to it):
1. Each driver takes contiguous buffers that the Python layer (_api.py) has
   already validated and laid out, releases the GIL, and hands whole
   contiguous chunks to ONE C kernel call each (the SIMD loop stays in C).
2. Below `min_chunk * 2` elements a call runs serially on the calling thread,
   so small arrays never wake an OpenMP team.
3. Chunks are static, one per thread, and start at multiples of 64 elements;
   kernels compute every element independently with identical code in the
   vector body and the remainder, so results are bitwise identical for any
   thread count.
4. The kernel table (which ISA) is chosen once by select_isa(); the thread
   count is resolved in Python (fastact._threads) and passed in.
"""
from cython.parallel cimport prange
from libc.math cimport fabs, INFINITY
from libc.stdint cimport uintptr_t
cimport numpy as cnp

cnp.import_array()

cdef extern from "fa_kernels.h" nogil:
    ctypedef Py_ssize_t fa_index
    ctypedef struct fa_params:
        double a
        double b
        double c
        double d
    ctypedef void (*fa_unary_f32)(const float *x, float *y, fa_index n, const fa_params *p) noexcept nogil
    ctypedef void (*fa_unary_f64)(const double *x, double *y, fa_index n, const fa_params *p) noexcept nogil
    ctypedef void (*fa_maxout_f32)(const float *x, float *y, fa_index row0, fa_index row1,
                                   fa_index groups, fa_index pool, fa_index inner) noexcept nogil
    ctypedef void (*fa_maxout_f64)(const double *x, double *y, fa_index row0, fa_index row1,
                                   fa_index groups, fa_index pool, fa_index inner) noexcept nogil
    ctypedef void (*fa_softmax_f32)(const float *x, float *y, fa_index u0, fa_index u1,
                                    fa_index n, fa_index inner, int op) noexcept nogil
    ctypedef void (*fa_softmax_f64)(const double *x, double *y, fa_index u0, fa_index u1,
                                    fa_index n, fa_index inner, int op) noexcept nogil
    enum: FA_SOFTMAX_LANES
    enum: FA_HAVE_Q
    ctypedef void (*fa_softmax_bwd_f32)(const float *g, const float *y, float *o, fa_index u0,
                                        fa_index u1, fa_index n, fa_index inner, int op) noexcept nogil
    ctypedef void (*fa_softmax_bwd_f64)(const double *g, const double *y, double *o, fa_index u0,
                                        fa_index u1, fa_index n, fa_index inner, int op) noexcept nogil
    ctypedef void (*fa_binary_f32)(const float *g, const float *x, float *y, fa_index n,
                                   const fa_params *p) noexcept nogil
    ctypedef void (*fa_binary_f64)(const double *g, const double *x, double *y, fa_index n,
                                   const fa_params *p) noexcept nogil
    ctypedef struct fa_unary_entry:
        const char *name
        fa_unary_f32 f32
        fa_unary_f64 f64
        fa_unary_f32 deriv_f32
        fa_unary_f64 deriv_f64
        fa_binary_f32 backward_f32
        fa_binary_f64 backward_f64
    ctypedef struct fa_fromy_entry:
        const char *name
        fa_binary_f32 f32
        fa_binary_f64 f64
    ctypedef void (*fa_perchan_f32)(const float *x, float *y, fa_index row0, fa_index row1,
                                    fa_index channels, fa_index inner, const double *w) noexcept nogil
    ctypedef void (*fa_perchan_f64)(const double *x, double *y, fa_index row0, fa_index row1,
                                    fa_index channels, fa_index inner, const double *w) noexcept nogil
    ctypedef void (*fa_perchan_grad_f32)(const float *g, const float *x, float *y, fa_index row0,
                                         fa_index row1, fa_index channels, fa_index inner,
                                         const double *w) noexcept nogil
    ctypedef void (*fa_perchan_grad_f64)(const double *g, const double *x, double *y, fa_index row0,
                                         fa_index row1, fa_index channels, fa_index inner,
                                         const double *w) noexcept nogil
    ctypedef struct fa_kernel_table:
        const char *isa
        const fa_unary_entry *unary
        fa_maxout_f32 maxout_f32
        fa_maxout_f64 maxout_f64
        fa_softmax_f32 softmax_f32
        fa_softmax_f64 softmax_f64
        const fa_fromy_entry *fromy
        fa_perchan_f32 prelu_f32
        fa_perchan_f64 prelu_f64
        fa_softmax_bwd_f32 softmax_bwd_f32
        fa_softmax_bwd_f64 softmax_bwd_f64
        fa_perchan_grad_f32 prelu_grad_f32
        fa_perchan_grad_f64 prelu_grad_f64
    const int fa_n_unary
    const int fa_n_fromy
    const fa_kernel_table *fa_select_isa(const char *force)
    int fa_isa_supported(const char *isa)
    void fa_copy_stream_f32(const float *x, float *y, fa_index n, const fa_params *p) noexcept nogil

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define FA_OPENMP 1
    #else
    #define FA_OPENMP 0
    static int omp_get_max_threads(void) { return 1; }
    static void omp_set_num_threads(int n) { (void)n; }
    #endif
    /* libgomp is not fork-safe: a child forked after the parent ran a
     * parallel region inherits a thread pool whose workers do not exist,
     * and its next parallel region waits for them forever.  So a forked
     * child runs every kernel on its calling thread (as PyTorch does). */
    static volatile int fa_forked_child = 0;
    #if defined(_OPENMP) && !defined(_WIN32)
    #include <pthread.h>
    static void fa_mark_forked_child(void) { fa_forked_child = 1; }
    static void fa_register_atfork(void) { pthread_atfork(NULL, NULL, fa_mark_forked_child); }
    #else
    static void fa_register_atfork(void) { }
    #endif
    """
    int FA_OPENMP
    int omp_get_max_threads() nogil
    void omp_set_num_threads(int n) nogil
    int fa_forked_child
    void fa_register_atfork()

fa_register_atfork()

cdef const fa_kernel_table *_table = fa_select_isa(NULL)

# ---------------------------------------------------------------- config

def openmp_enabled():
    """True if this build runs kernels with OpenMP."""
    return bool(FA_OPENMP)

def omp_max_threads():
    return omp_get_max_threads()

def omp_set_threads(int n):
    omp_set_num_threads(n)

def has_binary128():
    """True if this build has a 113-bit float type for the exact levels of
    the float64 log_softmax backward (FA_HAVE_Q in src_c/fa_kernels.h)."""
    return FA_HAVE_Q != 0

def isa_supported(str isa):
    return bool(fa_isa_supported(isa.encode()))

def select_isa(str force=""):
    """Select the kernel table; returns the chosen ISA name.

    Raises ValueError if `force` names an ISA this CPU/build cannot run."""
    global _table
    cdef const fa_kernel_table *t = fa_select_isa(force.encode())
    if t == NULL:
        raise ValueError(f"ISA {force!r} is not supported on this CPU/build; "
                         f"choose from {[i for i in ('baseline', 'avx2', 'avx512') if isa_supported(i)]}")
    _table = t
    return t.isa.decode()

def current_isa():
    return _table.isa.decode()

def unary_kernel_names():
    """Kernel names in table order (index = kernel id)."""
    return [_table.unary[i].name.decode() for i in range(fa_n_unary)]

# ---------------------------------------------------------------- drivers

cdef inline Py_ssize_t _chunk(Py_ssize_t n, int nchunks) noexcept nogil:
    return ((n + nchunks - 1) // nchunks + 63) & ~(<Py_ssize_t>63)

cdef inline int _nchunks(Py_ssize_t n, int nthreads, Py_ssize_t min_chunk) noexcept nogil:
    # Up to 4 chunks per thread, handed out dynamically: on a busy machine a
    # descheduled team member no longer holds the whole call hostage (its
    # chunks go to the threads that run).  Chunk boundaries depend only on n
    # and the thread count, and every element is computed independently, so
    # results stay bitwise identical whoever runs which chunk.
    cdef Py_ssize_t most
    if nthreads <= 1 or n < 2 * min_chunk:
        return 1
    most = n // min_chunk
    if most > 4 * nthreads:
        most = 4 * nthreads
    return <int>most

cdef inline int _team(int nchunks, int nthreads) noexcept nogil:
    return nchunks if nchunks < nthreads else nthreads

cdef void _unary_f32(fa_unary_f32 f, const float *x, float *y, Py_ssize_t n,
                     const fa_params *p, int nthreads, Py_ssize_t min_chunk) noexcept nogil:
    cdef int nc = _nchunks(n, nthreads, min_chunk)
    cdef Py_ssize_t ch, c, s, e
    if nc <= 1:
        f(x, y, n, p)
        return
    ch = _chunk(n, nc)
    for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
        s = c * ch
        e = s + ch
        if e > n:
            e = n
        if s < e:
            f(x + s, y + s, e - s, p)

cdef void _unary_f64(fa_unary_f64 f, const double *x, double *y, Py_ssize_t n,
                     const fa_params *p, int nthreads, Py_ssize_t min_chunk) noexcept nogil:
    cdef int nc = _nchunks(n, nthreads, min_chunk)
    cdef Py_ssize_t ch, c, s, e
    if nc <= 1:
        f(x, y, n, p)
        return
    ch = _chunk(n, nc)
    for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
        s = c * ch
        e = s + ch
        if e > n:
            e = n
        if s < e:
            f(x + s, y + s, e - s, p)

def copy_stream(cnp.ndarray x, cnp.ndarray y, int nthreads=1, Py_ssize_t min_chunk=131072):
    """The benchmarks' non-temporal copy ceiling: y[...] = x[...] with
    streaming stores, through the elementwise drivers' chunking and threads
    (a float64 array as twice as many floats).  x and y: C-contiguous,
    disjoint, same dtype and size (checked here: a benchmark helper, not
    API)."""
    if not (x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable
            and x.dtype == y.dtype and x.size == y.size and x.itemsize % 4 == 0):
        raise ValueError("copy_stream: x and y must be C-contiguous arrays of one dtype and size, y writeable")
    cdef fa_params p
    cdef Py_ssize_t k = x.itemsize // 4
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x) * k
    with nogil:
        _unary_f32(fa_copy_stream_f32, <const float *>cnp.PyArray_DATA(x), <float *>cnp.PyArray_DATA(y),
                   n, &p, nthreads, min_chunk * k)
    return y

cdef object _run_unary(fa_unary_f32 f32, fa_unary_f64 f64, cnp.ndarray x, cnp.ndarray y,
                       double a, double b, double c, double d, int nthreads, Py_ssize_t min_chunk):
    """One elementwise kernel (forward or derivative) over x's flat buffer."""
    cdef fa_params p
    p.a = a; p.b = b; p.c = c; p.d = d
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef int typ = cnp.PyArray_TYPE(x)
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *yp = cnp.PyArray_DATA(y)
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            _unary_f32(f32, <const float *>xp, <float *>yp, n, &p, nthreads, min_chunk)
    elif typ == cnp.NPY_FLOAT64:
        with nogil:
            _unary_f64(f64, <const double *>xp, <double *>yp, n, &p, nthreads, min_chunk)
    else:
        raise TypeError("internal: kernel dtype must be float32 or float64")
    return y

def unary(int kid, cnp.ndarray x, cnp.ndarray y, double a=0.0, double b=0.0,
          double c=0.0, double d=0.0, int nthreads=1, Py_ssize_t min_chunk=32768):
    """y = kernel[kid](x) over the flat buffers of x and y.

    Contract (checked by _api): x and y have the same dtype (float32 or
    float64), the same number of elements, and are contiguous in the same
    order; y is writeable; x and y are identical or disjoint."""
    if kid < 0 or kid >= fa_n_unary:
        raise ValueError(f"unknown kernel id {kid}")
    return _run_unary(_table.unary[kid].f32, _table.unary[kid].f64, x, y, a, b, c, d,
                      nthreads, min_chunk)

cdef void _perchan_rows(bint grad, bint single, const void *gp, const void *xp, void *yp,
                        Py_ssize_t s, Py_ssize_t e, Py_ssize_t channels, Py_ssize_t inner,
                        const double *w) noexcept nogil:
    """Rows [s, e) through the table's per-channel kernel: PReLU itself, or
    (grad) its gradient with g (NULL: f' itself)."""
    if grad:
        if single:
            _table.prelu_grad_f32(<const float *>gp, <const float *>xp, <float *>yp, s, e,
                                  channels, inner, w)
        else:
            _table.prelu_grad_f64(<const double *>gp, <const double *>xp, <double *>yp, s, e,
                                  channels, inner, w)
    elif single:
        _table.prelu_f32(<const float *>xp, <float *>yp, s, e, channels, inner, w)
    else:
        _table.prelu_f64(<const double *>xp, <double *>yp, s, e, channels, inner, w)

cdef object _perchan_run(bint grad, object g, cnp.ndarray x, cnp.ndarray y, const double[::1] w,
                         Py_ssize_t outer, Py_ssize_t channels, Py_ssize_t inner, int nthreads,
                         Py_ssize_t min_chunk):
    """per_channel / per_channel_grad: static ranges of rows of
    outer*channels over the threads, one kernel call each."""
    cdef Py_ssize_t rows = outer * channels
    cdef int typ = cnp.PyArray_TYPE(x)
    cdef bint single = typ == cnp.NPY_FLOAT32
    cdef const void *gp = cnp.PyArray_DATA(<cnp.ndarray>g) if g is not None else NULL
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef void *yp = cnp.PyArray_DATA(y)
    cdef int nc
    cdef Py_ssize_t ch, c, s, e
    if typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64:
        raise TypeError("internal: kernel dtype must be float32 or float64")
    if w.shape[0] < channels:
        raise ValueError("internal: fewer slopes than channels")
    if rows * inner == 0:
        return y
    nc = _nchunks(rows * inner, nthreads, min_chunk)
    if nc > rows:
        nc = <int>rows
    with nogil:
        if nc <= 1:
            _perchan_rows(grad, single, gp, xp, yp, 0, rows, channels, inner, &w[0])
        else:
            ch = (rows + nc - 1) // nc
            for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
                s = c * ch
                e = s + ch
                if e > rows:
                    e = rows
                if s < e:
                    _perchan_rows(grad, single, gp, xp, yp, s, e, channels, inner, &w[0])
    return y

def per_channel(int kid, cnp.ndarray x, cnp.ndarray y, const double[::1] w,
                Py_ssize_t outer, Py_ssize_t channels, Py_ssize_t inner,
                int nthreads=1, Py_ssize_t min_chunk=32768):
    """y[o, c, :] = leaky_relu(x[o, c, :]; a = w[c]) on C-contiguous
    (outer, channels, inner) buffers (PReLU), x and y identical or disjoint.

    One C kernel call (the table's prelu kernel, which vectorises over the
    channel axis when inner is small) per static range of rows (of
    outer*channels); `kid` must be the leaky_relu kernel, whose core the
    prelu kernel shares."""
    if kid < 0 or kid >= fa_n_unary or _table.unary[kid].name != b"leaky_relu":
        raise ValueError(f"per_channel: kernel id {kid} is not leaky_relu")
    return _perchan_run(False, None, x, y, w, outer, channels, inner, nthreads, min_chunk)

def maxout(cnp.ndarray x, cnp.ndarray y, Py_ssize_t outer, Py_ssize_t groups,
           Py_ssize_t pool, Py_ssize_t inner, int nthreads=1, Py_ssize_t min_chunk=32768):
    """Max over groups of `pool` along the middle axis of C-contiguous
    (outer, groups*pool, inner) -> (outer, groups, inner); NaN propagates."""
    cdef Py_ssize_t rows = outer * groups
    cdef int typ = cnp.PyArray_TYPE(x)
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *yp = cnp.PyArray_DATA(y)
    cdef int nc = _nchunks(rows * pool * inner, nthreads, min_chunk)
    cdef Py_ssize_t ch, c, s, e
    if rows == 0 or inner == 0:
        return y
    if nc > rows:
        nc = <int>rows
    ch = (rows + nc - 1) // nc
    with nogil:
        for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
            s = c * ch
            e = s + ch
            if e > rows:
                e = rows
            if s < e:
                if typ == cnp.NPY_FLOAT32:
                    _table.maxout_f32(<const float *>xp, <float *>yp, s, e, groups, pool, inner)
                else:
                    _table.maxout_f64(<const double *>xp, <double *>yp, s, e, groups, pool, inner)
    return y

ctypedef fused _xreal:
    float
    double

ctypedef fused _greal:
    float
    double

cdef void _maxout_route(const _xreal *x, const _greal *g, _greal *y, Py_ssize_t r0,
                        Py_ssize_t r1, Py_ssize_t pool, Py_ssize_t inner) noexcept nogil:
    # Output rows r0..r1 (r = o * groups + group): y[r, k, i] = g[r, i] at the
    # first maximum k of x[r, :, i] (the first NaN if there is one, as the
    # forward's max), else +0.
    cdef Py_ssize_t r, i, k, bk
    cdef const _xreal *xr
    cdef const _greal *gr
    cdef _greal *yr
    cdef _xreal best, v
    for r in range(r0, r1):
        xr = x + r * pool * inner
        yr = y + r * pool * inner
        gr = g + r * inner
        for i in range(inner):
            best = xr[i]
            bk = 0
            if best == best:
                for k in range(1, pool):
                    v = xr[k * inner + i]
                    if v != v:
                        bk = k
                        break
                    if v > best:
                        best = v
                        bk = k
            for k in range(pool):
                yr[k * inner + i] = 0
            yr[bk * inner + i] = gr[i]

def maxout_backward(cnp.ndarray x, cnp.ndarray g, cnp.ndarray y, Py_ssize_t outer,
                    Py_ssize_t groups, Py_ssize_t pool, Py_ssize_t inner, int nthreads=1,
                    Py_ssize_t min_chunk=32768):
    """Route g (C-contiguous (outer, groups, inner)) to the first maximum of
    each group of x (C-contiguous (outer, groups*pool, inner)) into y (x's
    shape, g's dtype, C-contiguous, disjoint from x and g); zeros elsewhere.
    x and g may differ in dtype (float32/float64 each).  Every element is
    independent: bitwise the same for any thread count."""
    cdef Py_ssize_t rows = outer * groups
    cdef int xt = cnp.PyArray_TYPE(x)
    cdef int gt = cnp.PyArray_TYPE(g)
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef void *yp = cnp.PyArray_DATA(y)
    cdef int nc = _nchunks(rows * pool * inner, nthreads, min_chunk)
    cdef Py_ssize_t ch, c, s, e
    cdef bint x32 = xt == cnp.NPY_FLOAT32
    cdef bint g32 = gt == cnp.NPY_FLOAT32
    if (xt != cnp.NPY_FLOAT32 and xt != cnp.NPY_FLOAT64) or (gt != cnp.NPY_FLOAT32 and gt != cnp.NPY_FLOAT64) \
            or cnp.PyArray_TYPE(y) != gt:
        raise TypeError("internal: x, g must be float32/float64 and y of g's dtype")
    if cnp.PyArray_SIZE(x) != rows * pool * inner or cnp.PyArray_SIZE(y) != rows * pool * inner \
            or cnp.PyArray_SIZE(g) != rows * inner:
        raise ValueError("internal: maxout_backward sizes do not match the geometry")
    if rows == 0 or inner == 0 or pool == 0:
        return y
    if nc > rows:
        nc = <int>rows
    ch = (rows + nc - 1) // nc
    with nogil:
        for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
            s = c * ch
            e = s + ch
            if e > rows:
                e = rows
            if s < e:
                if x32 and g32:
                    _maxout_route(<const float *>xp, <const float *>gp, <float *>yp, s, e, pool, inner)
                elif x32:
                    _maxout_route(<const float *>xp, <const double *>gp, <double *>yp, s, e, pool, inner)
                elif g32:
                    _maxout_route(<const double *>xp, <const float *>gp, <float *>yp, s, e, pool, inner)
                else:
                    _maxout_route(<const double *>xp, <const double *>gp, <double *>yp, s, e, pool, inner)
    return y

# ---------------------------------------------------------------- fast path
# The common call -- a C-contiguous float32/float64 array, default
# parameters, out=None or a matching C-contiguous array -- is checked and run
# here in one C-level step (design point 5): per-call overhead comparable to
# a NumPy ufunc.  Anything else returns NotImplemented and takes the general
# Python path in _api, which has every check and error message.

cdef int _requested_threads = 0   # 0: OpenMP's default (omp_get_max_threads)

def set_requested_threads(int n):
    global _requested_threads
    _requested_threads = n if n > 0 else 0

cdef inline int _effective_threads() noexcept nogil:
    if fa_forked_child:   # see fa_register_atfork: no OpenMP team after fork
        return 1
    cdef int omp = omp_get_max_threads()
    if _requested_threads > 0 and _requested_threads < omp:
        return _requested_threads
    return omp if omp > 0 else 1

def effective_threads():
    return _effective_threads()

cdef inline bint _fast_input(cnp.ndarray xa):
    """The fast paths' input: an aligned C-contiguous float32/float64 array
    of at least one dimension."""
    cdef int typ = cnp.PyArray_TYPE(xa)
    return (typ == cnp.NPY_FLOAT32 or typ == cnp.NPY_FLOAT64) and cnp.PyArray_NDIM(xa) > 0 \
        and cnp.PyArray_IS_C_CONTIGUOUS(xa) and cnp.PyArray_ISALIGNED(xa)

cdef object _fast_out(cnp.ndarray xa, object out):
    """The fast paths' output: a new C-contiguous array like xa, or `out`
    if it is an aligned, writeable C-contiguous ndarray of xa's dtype and
    shape that is xa itself or disjoint from it; None otherwise (partial
    overlap, other layouts: the general path handles them, with a temporary)."""
    cdef int typ = cnp.PyArray_TYPE(xa)
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef cnp.ndarray ya
    cdef int i
    cdef char *xp
    cdef char *yp
    cdef Py_ssize_t nbytes
    if out is None:
        return cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(xa), typ, 0)
    if type(out) is not cnp.ndarray:
        return None
    ya = <cnp.ndarray>out
    if cnp.PyArray_TYPE(ya) != typ or cnp.PyArray_NDIM(ya) != nd \
            or not cnp.PyArray_IS_C_CONTIGUOUS(ya) or not cnp.PyArray_ISWRITEABLE(ya) \
            or not cnp.PyArray_ISALIGNED(ya):
        return None
    for i in range(nd):
        if cnp.PyArray_DIMS(ya)[i] != cnp.PyArray_DIMS(xa)[i]:
            return None
    xp = <char *>cnp.PyArray_DATA(xa)
    yp = <char *>cnp.PyArray_DATA(ya)
    nbytes = cnp.PyArray_NBYTES(xa)
    if xp != yp and xp < yp + nbytes and yp < xp + nbytes:
        return None
    return ya

def fast_unary(int kid, object x, object out, double a, double b, double c, double d,
               Py_ssize_t min_chunk):
    if type(x) is not cnp.ndarray:
        return NotImplemented
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef cnp.ndarray ya
    cdef int typ = cnp.PyArray_TYPE(xa)
    cdef Py_ssize_t n
    if not _fast_input(xa):
        return NotImplemented
    ya = _fast_out(xa, out)
    if ya is None:
        return NotImplemented
    cdef fa_params p
    p.a = a; p.b = b; p.c = c; p.d = d
    n = cnp.PyArray_SIZE(xa)
    cdef int nt = _effective_threads()
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            _unary_f32(_table.unary[kid].f32, <const float *>cnp.PyArray_DATA(xa),
                       <float *>cnp.PyArray_DATA(ya), n, &p, nt, min_chunk)
    else:
        with nogil:
            _unary_f64(_table.unary[kid].f64, <const double *>cnp.PyArray_DATA(xa),
                       <double *>cnp.PyArray_DATA(ya), n, &p, nt, min_chunk)
    return ya

cdef bint _axis_split(cnp.ndarray xa, object axis, Py_ssize_t *ax, Py_ssize_t *outer,
                      Py_ssize_t *inner):
    """The fast paths' axis: False unless `axis` (an int, compared as a
    Python int: any size) is in range for xa; else its index and the
    products of the dimensions before and after it."""
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef int i
    if axis < -nd or axis >= nd:
        return False
    ax[0] = axis + nd if axis < 0 else axis
    outer[0] = 1
    inner[0] = 1
    for i in range(nd):
        if i < ax[0]:
            outer[0] *= cnp.PyArray_DIMS(xa)[i]
        elif i > ax[0]:
            inner[0] *= cnp.PyArray_DIMS(xa)[i]
    return True

def fast_prelu(int kid, object x, object out, object weight, object axis, Py_ssize_t min_chunk):
    """prelu's fast path (fast_unary's contract for x and out; kid the
    leaky_relu kernel): a finite Python float weight (exactly a leaky ReLU),
    or a 1-D C-contiguous float64 ndarray of finite slopes, one per channel
    along an int axis in range (one slope: the scalar case).  Anything else
    returns NotImplemented: the general path converts and words errors."""
    if type(x) is not cnp.ndarray or type(axis) is not int:
        return NotImplemented
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef cnp.ndarray wa
    cdef double w0
    cdef const double *wp
    cdef Py_ssize_t i, nw, ax, outer, inner
    if not _fast_input(xa):
        return NotImplemented
    if type(weight) is float:
        w0 = weight
    elif type(weight) is cnp.ndarray:
        wa = <cnp.ndarray>weight
        if cnp.PyArray_TYPE(wa) != cnp.NPY_FLOAT64 or cnp.PyArray_NDIM(wa) != 1 \
                or not cnp.PyArray_IS_C_CONTIGUOUS(wa) or not cnp.PyArray_ISALIGNED(wa):
            return NotImplemented
        nw = cnp.PyArray_DIMS(wa)[0]
        wp = <const double *>cnp.PyArray_DATA(wa)
        if nw == 0:
            return NotImplemented
        for i in range(nw):
            if not (fabs(wp[i]) < INFINITY):
                return NotImplemented
        if nw == 1:
            w0 = wp[0]
        else:
            if not _axis_split(xa, axis, &ax, &outer, &inner) or cnp.PyArray_DIMS(xa)[ax] != nw:
                return NotImplemented
            ya = _fast_out(xa, out)
            if ya is None:
                return NotImplemented
            return per_channel(kid, xa, ya, weight, outer, nw, inner, _effective_threads(), min_chunk)
    else:
        return NotImplemented
    if not (fabs(w0) < INFINITY):
        return NotImplemented
    return fast_unary(kid, xa, out, w0, 0.0, 0.0, 0.0, min_chunk)

def fast_maxout(object x, object out, object pool, object axis, Py_ssize_t min_chunk):
    """maxout's fast path: fast_unary's input rules, int pool_size >= 1
    dividing the length of an int axis in range, `out` None or an aligned
    C-contiguous writeable array of x's dtype and the output shape that
    does not overlap x.  Anything else returns NotImplemented."""
    if type(x) is not cnp.ndarray or type(axis) is not int or type(pool) is not int:
        return NotImplemented
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef cnp.ndarray ya
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef int typ = cnp.PyArray_TYPE(xa)
    cdef Py_ssize_t ax, p, n, outer, inner
    cdef cnp.npy_intp dims[32]
    cdef int i
    cdef char *xp
    cdef char *yp
    if not _fast_input(xa) or nd > 32 or pool < 1 or pool > cnp.PyArray_SIZE(xa) + 1 \
            or not _axis_split(xa, axis, &ax, &outer, &inner):
        return NotImplemented
    p = pool
    n = cnp.PyArray_DIMS(xa)[ax]
    if n % p:
        return NotImplemented
    for i in range(nd):
        dims[i] = cnp.PyArray_DIMS(xa)[i]
    dims[ax] = n // p
    if out is None:
        ya = cnp.PyArray_EMPTY(nd, dims, typ, 0)
    else:
        if type(out) is not cnp.ndarray:
            return NotImplemented
        ya = <cnp.ndarray>out
        if cnp.PyArray_TYPE(ya) != typ or cnp.PyArray_NDIM(ya) != nd \
                or not cnp.PyArray_IS_C_CONTIGUOUS(ya) or not cnp.PyArray_ISWRITEABLE(ya) \
                or not cnp.PyArray_ISALIGNED(ya):
            return NotImplemented
        for i in range(nd):
            if cnp.PyArray_DIMS(ya)[i] != dims[i]:
                return NotImplemented
        xp = <char *>cnp.PyArray_DATA(xa)
        yp = <char *>cnp.PyArray_DATA(ya)
        if xp < yp + cnp.PyArray_NBYTES(ya) and yp < xp + cnp.PyArray_NBYTES(xa):
            return NotImplemented
    return maxout(xa, ya, outer, n // p, p, inner, _effective_threads(), min_chunk)

def softmax(int op, cnp.ndarray x, cnp.ndarray y, Py_ssize_t outer, Py_ssize_t n,
            Py_ssize_t inner, int nthreads=1, Py_ssize_t min_chunk=32768):
    """Softmax family (op: 0 softmax, 1 log_softmax, 2 softmin, 3 log_softmin)
    over the middle axis of C-contiguous (outer, n, inner) x into y (same
    dtype float32/float64, C-contiguous, identical to x or disjoint).

    Threads get static ranges of units (rows, or FA_SOFTMAX_LANES-wide inner blocks of
    one outer index): a reduction never spans threads, so the result does
    not depend on the thread count.  One C call per range."""
    cdef Py_ssize_t nb = 1 if inner == 1 else (inner + FA_SOFTMAX_LANES - 1) // FA_SOFTMAX_LANES
    cdef Py_ssize_t units = outer * nb
    cdef int typ = cnp.PyArray_TYPE(x)
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *yp = cnp.PyArray_DATA(y)
    cdef int nc = _nchunks(outer * n * inner, nthreads, min_chunk)
    cdef Py_ssize_t ch, c, s, e
    if units == 0 or n == 0 or inner == 0:
        return y
    if typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64:
        raise TypeError("internal: kernel dtype must be float32 or float64")
    if nc > units:
        nc = <int>units
    ch = (units + nc - 1) // nc
    with nogil:
        if nc <= 1:
            if typ == cnp.NPY_FLOAT32:
                _table.softmax_f32(<const float *>xp, <float *>yp, 0, units, n, inner, op)
            else:
                _table.softmax_f64(<const double *>xp, <double *>yp, 0, units, n, inner, op)
        else:
            for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
                s = c * ch
                e = s + ch
                if e > units:
                    e = units
                if s < e:
                    if typ == cnp.NPY_FLOAT32:
                        _table.softmax_f32(<const float *>xp, <float *>yp, s, e, n, inner, op)
                    else:
                        _table.softmax_f64(<const double *>xp, <double *>yp, s, e, n, inner, op)
    return y

def fast_rowwise(int op, object x, object out, object axis, Py_ssize_t min_chunk):
    """The softmax family's fast path (as fast_unary): an aligned
    C-contiguous float32/float64 ndarray, an int axis in range, `out` None
    or an aligned C-contiguous writeable array of the same dtype and shape,
    identical to x or disjoint.  Anything else (including empty arrays and
    bad axes, whose errors the general path words) returns NotImplemented."""
    if type(x) is not cnp.ndarray or type(axis) is not int:
        return NotImplemented
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef cnp.ndarray ya
    cdef Py_ssize_t ax, outer, inner
    if not _fast_input(xa) or cnp.PyArray_SIZE(xa) == 0 \
            or not _axis_split(xa, axis, &ax, &outer, &inner):
        return NotImplemented
    ya = _fast_out(xa, out)
    if ya is None:
        return NotImplemented
    return softmax(op, xa, ya, outer, cnp.PyArray_DIMS(xa)[ax], inner,
                   _effective_threads(), min_chunk)

def fast_rowwise_backward(int op, object g, object y, object out, object axis,
                          Py_ssize_t min_chunk):
    """The softmax family's backward fast path: fast_rowwise's contract for
    the pair (g, y) (_fast_pair, _fast_out2); NotImplemented otherwise."""
    if type(axis) is not int or not _fast_pair(g, y):
        return NotImplemented
    cdef cnp.ndarray ya = <cnp.ndarray>y
    cdef Py_ssize_t ax, outer, inner
    if cnp.PyArray_SIZE(ya) == 0 or not _axis_split(ya, axis, &ax, &outer, &inner):
        return NotImplemented
    o = _fast_out2(g, ya, out)
    if o is None:
        return NotImplemented
    return softmax_backward(op, g, ya, o, outer, cnp.PyArray_DIMS(ya)[ax], inner,
                            _effective_threads(), min_chunk)

cdef inline void _softmax_bwd_units(bint single, char *gp, char *yp, char *op_, Py_ssize_t u0,
                                    Py_ssize_t u1, Py_ssize_t n, Py_ssize_t inner, int op) noexcept nogil:
    if single:
        _table.softmax_bwd_f32(<const float *>gp, <const float *>yp, <float *>op_, u0, u1, n, inner, op)
    else:
        _table.softmax_bwd_f64(<const double *>gp, <const double *>yp, <double *>op_, u0, u1, n, inner, op)

def softmax_backward(int op, cnp.ndarray g, cnp.ndarray y, cnp.ndarray o, Py_ssize_t outer,
                     Py_ssize_t n, Py_ssize_t inner, int nthreads=1, Py_ssize_t min_chunk=32768):
    """Backward of the softmax family (op as `softmax`; issue 4): o = the
    vector-Jacobian product of g at the forward output y, over the middle
    axis of C-contiguous (outer, n, inner) buffers of one dtype (float32 or
    float64); o is identical to or disjoint from each of g and y.

    The units and their static ranges are those of `softmax`: each row's
    (or block's) sum is formed by one thread in a fixed order, so the result
    does not depend on the thread count.  One C call per range."""
    cdef Py_ssize_t nb = 1 if inner == 1 else (inner + FA_SOFTMAX_LANES - 1) // FA_SOFTMAX_LANES
    cdef Py_ssize_t units = outer * nb
    cdef int typ = cnp.PyArray_TYPE(y)
    cdef char *gp = <char *>cnp.PyArray_DATA(g)
    cdef char *yp = <char *>cnp.PyArray_DATA(y)
    cdef char *opp = <char *>cnp.PyArray_DATA(o)
    cdef int nc = _nchunks(outer * n * inner, nthreads, min_chunk)
    cdef Py_ssize_t ch, c, s, e
    cdef bint single = typ == cnp.NPY_FLOAT32
    if typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64:
        raise TypeError("internal: kernel dtype must be float32 or float64")
    if cnp.PyArray_TYPE(g) != typ or cnp.PyArray_TYPE(o) != typ:
        raise TypeError("internal: g, y and o must have the same dtype")
    if cnp.PyArray_SIZE(g) != outer * n * inner or cnp.PyArray_SIZE(y) != outer * n * inner \
            or cnp.PyArray_SIZE(o) != outer * n * inner:
        raise ValueError("internal: g, y and o must have outer * n * inner elements")
    if units == 0 or n == 0 or inner == 0:
        return o
    if nc > units:
        nc = <int>units
    ch = (units + nc - 1) // nc
    with nogil:
        if nc <= 1:
            _softmax_bwd_units(single, gp, yp, opp, 0, units, n, inner, op)
        else:
            for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
                s = c * ch
                e = s + ch
                if e > units:
                    e = units
                if s < e:
                    _softmax_bwd_units(single, gp, yp, opp, s, e, n, inner, op)
    return o

# ---------------------------------------------------------------- gradients
# Issue 4.  Same chunking, threading and GIL rules as `unary` (design
# points 1-3): contiguous buffers laid out alike by _api, one kernel call
# per static chunk, chunks at multiples of 64 elements, so results are
# bitwise identical for any thread count.

def fromy_kernel_names():
    """Output-based backward kernel names in table order (index = id)."""
    return [_table.fromy[i].name.decode() for i in range(fa_n_fromy)]

def derivative(int kid, cnp.ndarray x, cnp.ndarray y, double a=0.0, double b=0.0,
               double c=0.0, double d=0.0, int nthreads=1, Py_ssize_t min_chunk=32768):
    """y = f'(x) for unary kernel kid; same contract as `unary`."""
    if kid < 0 or kid >= fa_n_unary:
        raise ValueError(f"unknown kernel id {kid}")
    return _run_unary(_table.unary[kid].deriv_f32, _table.unary[kid].deriv_f64, x, y, a, b, c, d,
                      nthreads, min_chunk)

cdef void _binary_f32(fa_binary_f32 f, const float *g, const float *x, float *y, Py_ssize_t n,
                      const fa_params *p, int nthreads, Py_ssize_t min_chunk) noexcept nogil:
    cdef int nc = _nchunks(n, nthreads, min_chunk)
    cdef Py_ssize_t ch, c, s, e
    if nc <= 1:
        f(g, x, y, n, p)
        return
    ch = _chunk(n, nc)
    for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
        s = c * ch
        e = s + ch
        if e > n:
            e = n
        if s < e:
            f(g + s, x + s, y + s, e - s, p)

cdef void _binary_f64(fa_binary_f64 f, const double *g, const double *x, double *y, Py_ssize_t n,
                      const fa_params *p, int nthreads, Py_ssize_t min_chunk) noexcept nogil:
    cdef int nc = _nchunks(n, nthreads, min_chunk)
    cdef Py_ssize_t ch, c, s, e
    if nc <= 1:
        f(g, x, y, n, p)
        return
    ch = _chunk(n, nc)
    for c in prange(nc, schedule='dynamic', chunksize=1, num_threads=_team(nc, nthreads)):
        s = c * ch
        e = s + ch
        if e > n:
            e = n
        if s < e:
            f(g + s, x + s, y + s, e - s, p)

def binary(int kid, int which, cnp.ndarray g, cnp.ndarray x, cnp.ndarray y, double a=0.0,
           double b=0.0, double c=0.0, double d=0.0, int nthreads=1, Py_ssize_t min_chunk=32768):
    """y = g * f'(x): which = 0 -> unary kernel kid's backward from x;
    which = 1 -> output-based kernel kid (fromy_kernel_names()), x being
    the forward output.

    Contract (checked by _api): g, x, y have the same dtype (float32 or
    float64) and number of elements, and are contiguous in the same order;
    y is writeable and identical to or disjoint from each of g and x."""
    cdef fa_params p
    p.a = a; p.b = b; p.c = c; p.d = d
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef fa_binary_f32 f32
    cdef fa_binary_f64 f64
    if which == 0:
        if kid < 0 or kid >= fa_n_unary:
            raise ValueError(f"unknown kernel id {kid}")
        f32 = _table.unary[kid].backward_f32
        f64 = _table.unary[kid].backward_f64
    elif which == 1:
        if kid < 0 or kid >= fa_n_fromy:
            raise ValueError(f"unknown output-based kernel id {kid}")
        f32 = _table.fromy[kid].f32
        f64 = _table.fromy[kid].f64
    else:
        raise ValueError(f"which must be 0 or 1, got {which}")
    if cnp.PyArray_SIZE(g) != n or cnp.PyArray_SIZE(y) != n:
        raise ValueError("internal: g, x and y must have the same size")
    cdef int typ = cnp.PyArray_TYPE(x)
    if cnp.PyArray_TYPE(g) != typ or cnp.PyArray_TYPE(y) != typ:
        raise TypeError("internal: g, x and y must have the same dtype")
    if typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64:
        raise TypeError("internal: kernel dtype must be float32 or float64")
    _run_binary(f32, f64, g, x, y, &p, nthreads, min_chunk)
    return y

cdef inline void _run_binary(fa_binary_f32 f32, fa_binary_f64 f64, cnp.ndarray g, cnp.ndarray x,
                             cnp.ndarray y, const fa_params *p, int nthreads, Py_ssize_t min_chunk):
    """The call itself, GIL released: g, x, y checked alike, float32 or
    float64 (binary's checks, or fast_binary's)."""
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef void *gp = cnp.PyArray_DATA(g)
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *yp = cnp.PyArray_DATA(y)
    if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
        with nogil:
            _binary_f32(f32, <const float *>gp, <const float *>xp, <float *>yp, n, p,
                        nthreads, min_chunk)
    else:
        with nogil:
            _binary_f64(f64, <const double *>gp, <const double *>xp, <double *>yp, n, p,
                        nthreads, min_chunk)

cdef bint _fast_pair(object g, object x):
    """Both fast-path inputs (_fast_input) of one dtype and shape."""
    if type(g) is not cnp.ndarray or type(x) is not cnp.ndarray:
        return False
    cdef cnp.ndarray ga = <cnp.ndarray>g
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int nd = cnp.PyArray_NDIM(xa)
    cdef int i
    if not _fast_input(xa) or not _fast_input(ga) or cnp.PyArray_TYPE(ga) != cnp.PyArray_TYPE(xa) \
            or cnp.PyArray_NDIM(ga) != nd:
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(ga)[i] != cnp.PyArray_DIMS(xa)[i]:
            return False
    return True

cdef object _fast_out2(cnp.ndarray ga, cnp.ndarray xa, object out):
    """_fast_out for two inputs: a new array, or `out` if it suits and is
    identical to or disjoint from each of them; None otherwise."""
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(xa), cnp.PyArray_DIMS(xa), cnp.PyArray_TYPE(xa), 0)
    if _fast_out(xa, out) is None or _fast_out(ga, out) is None:
        return None
    return out

def fast_binary(int kid, int which, object g, object x, object out, double a, double b,
                double c, double d, Py_ssize_t min_chunk):
    """The `<name>_backward` fast path (as fast_unary): g and x aligned
    C-contiguous ndarrays of one float dtype and shape (x the forward
    output for which = 1), `out` None or an aligned C-contiguous writeable
    array of that dtype and shape, identical to or disjoint from each of g
    and x.  Anything else returns NotImplemented (the general path casts,
    copies or words the error)."""
    if not _fast_pair(g, x):
        return NotImplemented
    ya = _fast_out2(g, x, out)
    if ya is None:
        return NotImplemented
    cdef fa_params p
    p.a = a; p.b = b; p.c = c; p.d = d
    # straight to the loop (binary() re-checks what _fast_pair did, and a
    # def call costs ~50 ns: a quarter of a 16-element call)
    if which == 0 and 0 <= kid < fa_n_unary:
        _run_binary(_table.unary[kid].backward_f32, _table.unary[kid].backward_f64,
                    <cnp.ndarray>g, <cnp.ndarray>x, <cnp.ndarray>ya, &p, _effective_threads(),
                    min_chunk)
    elif which == 1 and 0 <= kid < fa_n_fromy:
        _run_binary(_table.fromy[kid].f32, _table.fromy[kid].f64, <cnp.ndarray>g, <cnp.ndarray>x,
                    <cnp.ndarray>ya, &p, _effective_threads(), min_chunk)
    else:
        return binary(kid, which, g, x, ya, a, b, c, d, _effective_threads(), min_chunk)
    return ya

def fast_derivative(int kid, object x, object out, double a, double b, double c, double d,
                    Py_ssize_t min_chunk):
    """The `<name>_grad` fast path: fast_unary's contract, f'(x)."""
    if type(x) is not cnp.ndarray:
        return NotImplemented
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef cnp.ndarray ya
    if not _fast_input(xa):
        return NotImplemented
    ya = _fast_out(xa, out)
    if ya is None:
        return NotImplemented
    if kid < 0 or kid >= fa_n_unary:
        return derivative(kid, xa, ya, a, b, c, d, _effective_threads(), min_chunk)  # (raises)
    return _run_unary(_table.unary[kid].deriv_f32, _table.unary[kid].deriv_f64, xa, ya, a, b, c, d,
                      _effective_threads(), min_chunk)

def prelu_contrib(cnp.ndarray g, cnp.ndarray x, cnp.ndarray v):
    """v = where(x > 0, +0.0, g * x) in float64 -- bit for bit the NumPy
    expression _api._prelu_weight_grad sums (x NaN: g * x, NaN) -- in one
    pass instead of NumPy's seven.  g and x: C-contiguous, of one dtype
    (float32 or float64) and size; v: C-contiguous float64, at least that
    size.  Returns v."""
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x), i
    cdef int typ = cnp.PyArray_TYPE(x)
    if cnp.PyArray_TYPE(g) != typ or cnp.PyArray_SIZE(g) != n or cnp.PyArray_TYPE(v) != cnp.NPY_FLOAT64 \
            or cnp.PyArray_SIZE(v) < n or not (cnp.PyArray_IS_C_CONTIGUOUS(g) and
                                              cnp.PyArray_IS_C_CONTIGUOUS(x) and
                                              cnp.PyArray_IS_C_CONTIGUOUS(v)):
        raise ValueError("internal: prelu_contrib needs C-contiguous g, x alike and a float64 v")
    cdef double *vp = <double *>cnp.PyArray_DATA(v)
    cdef const float *gf
    cdef const float *xf
    cdef const double *gd
    cdef const double *xd
    cdef double a, b
    if typ == cnp.NPY_FLOAT32:
        gf = <const float *>cnp.PyArray_DATA(g)
        xf = <const float *>cnp.PyArray_DATA(x)
        with nogil:
            for i in range(n):
                a = <double>gf[i]
                b = <double>xf[i]
                vp[i] = 0.0 if b > 0.0 else a * b
    elif typ == cnp.NPY_FLOAT64:
        gd = <const double *>cnp.PyArray_DATA(g)
        xd = <const double *>cnp.PyArray_DATA(x)
        with nogil:
            for i in range(n):
                vp[i] = 0.0 if xd[i] > 0.0 else gd[i] * xd[i]
    else:
        raise TypeError("internal: kernel dtype must be float32 or float64")
    return v

def per_channel_grad(int kid, object g, cnp.ndarray x, cnp.ndarray y, const double[::1] w,
                     Py_ssize_t outer, Py_ssize_t channels, Py_ssize_t inner,
                     int nthreads=1, Py_ssize_t min_chunk=32768):
    """PReLU gradients on C-contiguous (outer, channels, inner) buffers, with
    a = w[c] per channel: y = g * f'(x) (g an array laid out like x) or, for
    g None, y = f'(x), f = leaky_relu: the table's per-channel gradient
    kernel over static ranges of rows (as per_channel), not one call per
    row (a (N, C) input along axis 1 made N*C calls of one element)."""
    if kid < 0 or kid >= fa_n_unary or _table.unary[kid].name != b"leaky_relu":
        raise ValueError(f"per_channel_grad: kernel id {kid} is not leaky_relu")
    return _perchan_run(True, g, x, y, w, outer, channels, inner, nthreads, min_chunk)
