"""Every registry function x dtype x layout x output mode x threads,
compared with the NumPy reference (backend="numpy")."""
import numpy as np
import pytest

import fastact
from fastact import _registry
from conftest import DTYPES, applicable, assert_close_ulp, call, cases, resolve_params, sample_values


def make_layout(layout, dtype):
    v = sample_values(200, dtype, seed=1)
    big = v[: 12 * 24].reshape(12, 24)
    if layout == "C":
        return np.ascontiguousarray(big[:6, :12])
    if layout == "F":
        return np.asfortranarray(big[:6, :12])
    if layout == "strided":
        return big[::2, ::2]
    if layout == "negative":
        return big[::-2, ::-2]
    if layout == "0-d":
        return np.array(v[7])
    if layout == "empty":
        return np.empty((0, 12), dtype=dtype)
    raise AssertionError(layout)


LAYOUTS = ["C", "F", "strided", "negative", "0-d", "empty"]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("mode", ["new", "out", "inplace"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry,example", cases())
def test_matches_reference(entry, example, dtype, layout, mode, threads):
    x = make_layout(layout, dtype)
    if not applicable(entry, example, x):
        pytest.skip("not applicable to this shape")
    kw = resolve_params(entry, example, x)
    expected = call(entry, x.copy(), kw, backend="numpy")
    x_before = x.copy()
    with fastact.threads(threads):
        if mode == "new":
            got = call(entry, x, kw)
            np.testing.assert_array_equal(x, x_before)  # input untouched
        elif mode == "out":
            out = np.full(np.shape(expected), 7.0, dtype=np.asarray(expected).dtype)
            got = call(entry, x, kw, out=out)
            assert got is out
        else:
            if entry.kind == "maxout" or x.ndim == 0:
                pytest.skip("in place needs an output of the input's shape (not a 0-d scalar)")
            got = call(entry, x, kw, out=x)
            assert got is x
    if x.ndim == 0 and mode == "new":
        assert isinstance(got, np.generic), type(got)
        assert got.dtype == dtype
    assert_close_ulp(np.asarray(got), np.asarray(expected), what=f"{entry.name}{kw}")


@pytest.mark.parametrize("entry,example", cases())
def test_dtype_rules(entry, example):
    x64 = sample_values(40, np.float64, seed=2)[:72].reshape(6, 12)
    x64 = np.nan_to_num(x64, nan=0.5, posinf=30.0, neginf=-30.0)
    kw = resolve_params(entry, example, x64)
    # float16 -> computed in float32, returned as float16
    x16 = x64.astype(np.float16)
    y16 = call(entry, x16, kw)
    assert y16.dtype == np.float16
    np.testing.assert_array_equal(y16, call(entry, x16.astype(np.float32), kw).astype(np.float16))
    # integers and bools -> float64
    xi = np.arange(-36, 36).reshape(6, 12)
    yi = call(entry, xi, resolve_params(entry, example, xi))
    assert yi.dtype == np.float64
    assert_close_ulp(yi, call(entry, xi.astype(np.float64), resolve_params(entry, example, xi)))
    xb = (np.arange(72) % 3 == 0).reshape(6, 12)
    assert call(entry, xb, resolve_params(entry, example, xb)).dtype == np.float64
    # lists work and give float64
    yl = call(entry, x64.tolist(), kw)
    assert isinstance(yl, np.ndarray) and yl.dtype == np.float64
    assert_close_ulp(yl, call(entry, x64, kw))


@pytest.mark.parametrize("entry,example", cases())
def test_scalar_in_scalar_out(entry, example):
    if entry.kind in ("maxout", "rowwise") or example.get("weight") == "per-channel":
        pytest.skip("needs an axis")
    for v in (-1.5, 0.0, 2):
        y = call(entry, v, dict(example))
        assert isinstance(y, np.float64), type(y)
        assert_close_ulp(y, call(entry, v, dict(example), backend="numpy"))
    y32 = call(entry, np.float32(-1.5), dict(example))
    assert isinstance(y32, np.float32)


@pytest.mark.parametrize("entry,example", cases())
def test_overlapping_out(entry, example):
    """out overlapping x without being x: must equal the non-overlapping result."""
    if entry.kind == "maxout":
        pytest.skip("output shape differs from the input's")
    buf = sample_values(40, np.float64, seed=3)[:60].copy()
    x = buf[:48].reshape(4, 12)
    out = buf[12:60].reshape(4, 12)  # shifted by one row
    kw = resolve_params(entry, example, x)
    expected = call(entry, x.copy(), kw)
    got = call(entry, x, kw, out=out)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("entry,example", cases())
def test_threads_bitwise_identical(entry, example):
    """Large arrays (several chunks per thread): 1 and 2 threads agree bitwise."""
    for dtype in DTYPES:
        x = sample_values(150_000, dtype, seed=4)[:300_000].reshape(-1, 60)
        if not applicable(entry, example, x):
            continue
        kw = resolve_params(entry, example, x)
        with fastact.threads(1):
            y1 = call(entry, x, kw)
        with fastact.threads(2):
            y2 = call(entry, x, kw)
        assert y1.tobytes() == y2.tobytes()
        assert_close_ulp(y1, call(entry, x, kw, backend="numpy"), what=entry.name)


@pytest.mark.parametrize("entry,example", cases())
def test_special_values(entry, example):
    """NaN -> NaN, +-inf -> the limit (as the reference), odd functions keep -0."""
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, -1e-300], dtype=np.float64).reshape(1, 7)
    if not applicable(entry, example, x):
        pytest.skip("shape")
    kw = resolve_params(entry, example, x)
    for dtype in DTYPES:
        xd = x.astype(dtype)
        got = call(entry, xd, kw)
        exp = call(entry, xd, kw, backend="numpy")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
        np.testing.assert_array_equal(got[~np.isnan(got)], exp[~np.isnan(exp)])
        if entry.kind == "unary" and entry.odd:
            assert np.signbit(got[0, 4]) and got[0, 4] == 0, f"{entry.name}(-0) = {got[0, 4]!r}"
            assert not np.signbit(got[0, 3]), f"{entry.name}(+0) = {got[0, 3]!r}"
        if entry.kind == "unary":
            assert np.isnan(got[0, 0]), f"{entry.name}(NaN) = {got[0, 0]!r}"


def _check_nontemporal(name, dtype):
    """Out-of-place calls with >= 32 MB of output per chunk use
    non-temporal stores (FA_GEN_NT, fa_kernels_impl.h); the values must be
    bitwise those of small calls, for a misaligned input and a misaligned
    output too, NaN and infinities included."""
    n = (33 << 20) // np.dtype(dtype).itemsize + 17
    x = (np.random.default_rng(5).standard_normal(n) * 6).astype(dtype)
    x[[3, 1000, n - 2]] = [np.nan, np.inf, -np.inf]
    f = getattr(fastact, name)
    step = 1 << 18
    with fastact.threads(1):
        for xs in (x, x[1:]):
            small = np.concatenate([f(xs[i:i + step]) for i in range(0, xs.size, step)])
            big = f(xs)
            assert np.array_equal(big.view(np.uint8), small.view(np.uint8))
            buf = np.empty(xs.size + 3, dtype)
            f(xs, out=buf[3:])
            assert np.array_equal(buf[3:].view(np.uint8), small.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["relu", "sigmoid", "gelu"])
def test_nontemporal_path_bitwise(name, dtype, isa):
    """Every path, one kernel of each kind (through the L1 block; on AVX-512
    float32 relu streams straight from its loop)."""
    _check_nontemporal(name, dtype)


@pytest.mark.parametrize("name", [e.name for e in _registry.REGISTRY.values()
                                  if e.kind == "unary" and e.name not in ("relu", "sigmoid", "gelu")])
def test_nontemporal_path_bitwise_all(name):
    """float32, every other elementwise function on the default path (on
    AVX-512 the piecewise kernels and hard_sigmoid stream straight from
    their loop, the others through the L1 block)."""
    _check_nontemporal(name, np.float32)


def test_copy_stream_ceiling():
    """The benchmarks' non-temporal copy (fastact._ext.copy_stream): an
    exact copy for any size and alignment, and a clear error for arrays it
    cannot take."""
    from fastact import _ext
    x = np.random.default_rng(2).standard_normal(100_003).astype(np.float32)
    for off in (0, 1, 3):
        for n in (0, 1, 15, 64, 100_000):
            buf = np.full(n + 3, -1.0, np.float32)
            _ext.copy_stream(x[off:off + n], buf[off:off + n], 2, 1024)
            assert np.array_equal(buf[off:off + n], x[off:off + n])
            assert (buf[:off] == -1.0).all() and (buf[off + n:] == -1.0).all()
    with pytest.raises(ValueError, match="copy_stream"):
        _ext.copy_stream(x[::2], np.empty(x[::2].size, np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry,example", cases())
def test_fast_path_matches_general_path(entry, example, dtype):
    """A C-contiguous input takes the fast path of its kind (_ext.fast_unary,
    fast_prelu, fast_maxout, fast_rowwise); a strided view of the same
    values takes the general path, which copies it to C order for the same
    kernel: bitwise the same result, new and into `out`."""
    x = np.ascontiguousarray(sample_values(200, dtype, seed=3)[:144].reshape(12, 12))
    xs = np.repeat(x, 2, axis=-1)[:, ::2]
    assert not xs.flags.c_contiguous and np.array_equal(xs, x, equal_nan=True)
    kw = resolve_params(entry, example, x)
    fn = getattr(fastact, entry.name)
    expected = fn(xs, **kw)
    got = fn(x, **kw)
    np.testing.assert_array_equal(got, expected)
    out = np.full_like(expected, 7.0)
    assert fn(x, **kw, out=out) is out
    np.testing.assert_array_equal(out, expected)


def test_gelu_float64_blocks_bitwise(isa):
    """float64 gelu, gelu' and g gelu' skip their asymptotic branch
    (x < -15 sqrt2) in blocks of 64 that have no such element
    (fa_gelu64_blocks): a block with one must give every element the bits
    it gets alone, wherever in the block the tail element sits."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal(1000) * 3
    x[[0, 63, 64, 130, 999]] = [-21.3, -30.0, -1e300, -np.inf, -22.0]
    x[5] = np.nan
    g = rng.standard_normal(x.size)
    fwd, grad, bwd = fastact.gelu(x), fastact.derivative("gelu", x), fastact.gelu_backward(g, x)
    tail = [0, 63, 64, 130, 999]          # and right, not only consistent
    np.testing.assert_allclose(fwd[tail], fastact.gelu(x, backend="numpy")[tail], rtol=1e-13, atol=0)
    np.testing.assert_allclose(grad[tail], fastact.derivative("gelu", x, backend="numpy")[tail],
                               rtol=1e-13, atol=0)
    for i in range(x.size):
        s = slice(i, i + 1)
        for got, one in ((fwd, fastact.gelu(x[s])), (grad, fastact.derivative("gelu", x[s])),
                         (bwd, fastact.gelu_backward(g[s], x[s]))):
            assert got[i].tobytes() == one[0].tobytes() or (np.isnan(got[i]) and np.isnan(one[0])), i


def _piecewise_inputs(dtype):
    """Random bit patterns (every exponent, subnormals, NaN payloads, both
    infinities) plus dense values around the kinks at -3, 0, 3 and 6."""
    rng = np.random.default_rng(11)
    it = np.uint32 if dtype == np.float32 else np.uint64
    bits = rng.integers(0, np.iinfo(it).max, 200_003, dtype=it, endpoint=True).view(dtype)
    dense = (rng.uniform(-8, 8, 100_001)).astype(dtype)
    kinks = np.array([-3, 0, 3, 6], dtype)
    near = np.concatenate([np.nextafter(kinks, kinks + 1), np.nextafter(kinks, kinks - 1), kinks,
                           -kinks, [-0.0, np.inf, -np.inf, np.nan]]).astype(dtype)
    return np.concatenate([bits, dense, near])


def _same_bits_or_both_nan(a, b):
    nan = np.isnan(a)
    return np.array_equal(nan, np.isnan(b)) and np.array_equal(a[~nan].view(np.uint8),
                                                               b[~nan].view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", [("relu", {}), ("relu6", {}), ("hardtanh", {}),
                                     ("hardtanh", dict(min_val=-0.0, max_val=0.5)),
                                     ("leaky_relu", {}), ("leaky_relu", dict(negative_slope=0.25)),
                                     ("hard_sigmoid", {})])
def test_piecewise_kernels_bitwise_across_isas(name, kw, dtype):
    """The hand-written piecewise kernels (AVX-512 float lanes for float32,
    one- or two-instruction cores for float64; hard_sigmoid's Fast2Sum
    form) give the baseline path's values bit for bit -- forward, f' and
    g f' -- except for NaN payloads; baseline runs the portable C cores."""
    from fastact import _api
    x = _piecewise_inputs(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        g = np.roll(x, 7) * dtype(0.75)
    calls = [lambda: getattr(fastact, name)(x, **kw),
             lambda: getattr(fastact, name + "_grad")(x, **kw),
             lambda: getattr(fastact, name + "_backward")(g, x, **kw)]
    old = _api._ext.current_isa()
    try:
        results = {}
        for isa in [i for i in ("baseline", "avx2", "avx512") if _api._ext.isa_supported(i)]:
            _api._ext.select_isa(isa)
            results[isa] = [c() for c in calls]
    finally:
        _api._ext.select_isa(old)
    for isa, res in results.items():
        for what, a, b in zip(("f", "f'", "g f'"), res, results["baseline"]):
            assert _same_bits_or_both_nan(a, b), f"{name}{kw} {what} {np.dtype(dtype).name}: {isa} != baseline"
