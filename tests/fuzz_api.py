"""Coverage-guided fuzzing of fastact's public entry points (issue 9).

Run (60 s, bounded):

    pip install atheris && python tests/fuzz_api.py -max_total_time=60 -rss_limit_mb=4096

Without atheris (or with --random) the same harness runs on random bytes:

    python tests/fuzz_api.py --random -max_total_time=60

Each input is decoded into one call: a public function (every activation and
alias, <name>_grad, <name>_backward, derivative(), get() -- bound or not --
when present), an input (0-d..5-d, any dtype including complex/object/str,
strided/negative/transposed views, NaN/inf/subnormal/huge values), parameters
of any type and value, `out=` (none, good, strided, x itself, wrong dtype or
shape, read-only, not an array), `axis`, and backend "c".  The properties:
  * the call returns or raises TypeError/ValueError -- anything else (another
    exception, a crash, a hang caught by libFuzzer's -timeout) is a finding;
  * a call that raises leaves `out` and the input untouched;
  * a call that returns gives the shape and dtype the reference
    (backend="numpy") gives, and NaN exactly where the reference has NaN.
fastact's Python layer is instrumented for coverage (atheris.instrument_imports);
the C extension is not (it would need a clang -fsanitize=fuzzer-no-link build).
"""
import os
import random
import sys
import time

import numpy as np

try:
    import atheris
except ImportError:  # the fallback below
    atheris = None

if atheris is not None and "--random" not in sys.argv:
    with atheris.instrument_imports(include=["fastact"]):
        import fastact
        import fastact.reference as ref
else:
    import fastact
    import fastact.reference as ref
from fastact import _registry  # noqa: E402

NAMES = sorted(set(_registry.REGISTRY) | set(_registry.ALIASES))
FUNCS = []
for _n in NAMES:
    FUNCS.append(("fwd", _n))
    if hasattr(fastact, _n + "_grad"):
        FUNCS += [("grad", _n), ("backward", _n), ("derivative", _n)]
    if hasattr(fastact, "get"):
        FUNCS.append(("get", _n))
DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.uint64, np.bool_, np.complex64, np.longdouble, object, "U2"]
SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -5e-324, 1e-45, 1.7976931348623157e308,
           -1.7976931348623157e308, 3.4028235e38, 65504.0, 88.72, -103.97, 709.78, -745.13, 3.0, -3.0,
           6.0, 20.0, 1.0, -1.0]
PARAM_VALUES = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, 1e300, float("nan"), float("inf"), float("-inf"),
                5e-324, -5e-324, 20.0, 1.7976931348623157e308, 3, -2, 0, 2 ** 63, -(2 ** 63), True, None,
                "none", "tanh", "x", 1j, [0.1, 0.2], [], np.float32(0.3), np.int64(2), np.array([0.1, 0.2, 0.3]),
                np.array([[0.1]]), np.array([np.nan]), object()]
PARAM_NAMES = ["alpha", "beta", "threshold", "min_val", "max_val", "negative_slope", "approximate",
               "pool_size", "axis", "weight", "bogus"]


class RandomProvider:
    """The subset of atheris.FuzzedDataProvider used here, on random bytes."""

    def __init__(self, data):
        self.r = random.Random(data)

    def ConsumeIntInRange(self, lo, hi):
        return self.r.randint(lo, hi)

    def ConsumeBool(self):
        return self.r.random() < 0.5

    def ConsumeRegularFloat(self):
        return self.r.choice([self.r.uniform(-30, 30), self.r.uniform(-1e308, 1e308), self.r.gauss(0, 1)])

    def ConsumeBytes(self, n):
        return bytes(self.r.getrandbits(8) for _ in range(n))


def _pick(fdp, seq):
    return seq[fdp.ConsumeIntInRange(0, len(seq) - 1)]


def _array(fdp):
    dt = np.dtype(_pick(fdp, DTYPES))
    ndim = fdp.ConsumeIntInRange(0, 5)
    shape = tuple(fdp.ConsumeIntInRange(0, 5) for _ in range(ndim))
    size = int(np.prod(shape))
    mode = fdp.ConsumeIntInRange(0, 3)
    if dt.kind in "fc" or dt == object:
        if mode == 0:
            vals = [_pick(fdp, SPECIAL) for _ in range(size)]
        elif mode == 1:
            vals = [fdp.ConsumeRegularFloat() for _ in range(size)]
        else:
            raw = np.frombuffer(fdp.ConsumeBytes(8 * size).ljust(8 * size, b"\0"), dtype=np.float64)
            vals = list(raw)
        with np.errstate(all="ignore"):
            base = np.array(vals, dtype=np.float64).reshape(shape).astype(dt)
    elif dt.kind == "U":
        base = np.full(shape, "ab", dtype=dt)
    elif dt.kind == "b":
        base = np.frombuffer(fdp.ConsumeBytes(size).ljust(size, b"\0"), dtype=np.uint8).reshape(shape) % 2 == 1
    else:
        nb = dt.itemsize * size
        base = np.frombuffer(fdp.ConsumeBytes(nb).ljust(nb, b"\0"), dtype=dt).reshape(shape).copy()
    x = base
    if ndim and fdp.ConsumeBool():
        x = x[tuple(slice(None, None, _pick(fdp, [1, 2, -1, -2, 3])) for _ in range(ndim))]
    if ndim > 1 and fdp.ConsumeBool():
        x = x.transpose(np.roll(np.arange(ndim), fdp.ConsumeIntInRange(1, ndim - 1)))
    if fdp.ConsumeIntInRange(0, 15) == 0:
        x = _pick(fdp, [x.tolist(), 1.5, -3, True, "abc", None, [[1.0], [2.0, 3.0]], 1j])
    return x


def _params(fdp, name):
    entry = _registry.lookup(name)
    kw = {}
    for p in entry.params:
        if fdp.ConsumeIntInRange(0, 2) == 0:
            continue
        kw[p.name] = _pick(fdp, PARAM_VALUES) if fdp.ConsumeBool() else fdp.ConsumeRegularFloat()
        if p.kind in ("axis", "int") and fdp.ConsumeBool():
            kw[p.name] = fdp.ConsumeIntInRange(-6, 6)
    if entry.kind == "prelu" and "weight" not in kw:
        kw["weight"] = 0.25
    if fdp.ConsumeIntInRange(0, 9) == 0:
        kw[_pick(fdp, PARAM_NAMES)] = _pick(fdp, PARAM_VALUES)
    return kw


def _out(fdp, like):
    if not isinstance(like, np.ndarray):
        return None
    m = fdp.ConsumeIntInRange(0, 8)
    if m <= 2:
        return None
    if m == 3:
        return np.full(like.shape, 7, dtype=like.dtype)
    if m == 4 and like.ndim:
        big = np.full(tuple(2 * n for n in like.shape), 7, dtype=like.dtype)
        return big[tuple(slice(None, None, -2) for _ in like.shape)]
    if m == 5:
        o = np.full(like.shape, 7, dtype=like.dtype)
        o.flags.writeable = False
        return o
    if m == 6:
        return np.full(like.shape + (1,), 7, dtype=like.dtype)
    if m == 7:
        return np.full(like.shape, 7, dtype=np.float32 if like.dtype != np.float32 else np.float64)
    return [7.0]


def _snap(a):
    return (a.shape, a.dtype.str, a.tobytes()) if isinstance(a, np.ndarray) and a.dtype != object else None


def _invoke(mod, kind, name, args, kw, out):
    extra = {} if out is None else {"out": out}
    if kind == "fwd":
        return getattr(mod, name)(*args, **kw, **extra)
    if kind == "grad":
        return getattr(mod, name + "_grad")(*args, **kw, **extra)
    if kind == "backward":
        return getattr(mod, name + "_backward")(*args, **kw, **extra)
    if kind == "derivative":
        return mod.derivative(name, *args, **kw, **extra)
    f = fastact.get(name, **kw) if kw else fastact.get(name)  # "get": validation at get() time
    r = f(*args, **extra)
    return r


def one_input(data, fdp=None):
    fdp = fdp or atheris.FuzzedDataProvider(data)
    kind, name = _pick(fdp, FUNCS)
    x = _array(fdp)
    kw = _params(fdp, name)
    args = (x,)
    if kind == "backward":
        g = x
        if isinstance(x, np.ndarray) and fdp.ConsumeBool():
            g = _array(fdp) if fdp.ConsumeIntInRange(0, 3) == 0 else np.ones(x.shape, dtype=x.dtype)
        args = (g, x)
    threads = fdp.ConsumeIntInRange(1, 3)
    try:
        like = _invoke(ref, kind if kind != "get" else "fwd", name,
                       [a.copy() if isinstance(a, np.ndarray) else a for a in args], kw, None)
        like = np.asarray(like[0] if isinstance(like, tuple) else like)
        ref_err = None
    except (TypeError, ValueError) as e:
        like, ref_err = None, e
    out = _out(fdp, like if like is not None and like.dtype != object else
               (x if isinstance(x, np.ndarray) and x.dtype != object else None))
    if isinstance(x, np.ndarray) and fdp.ConsumeIntInRange(0, 5) == 0 and x.dtype in (np.float32, np.float64):
        out = x  # in place
    before = [_snap(a) for a in args]
    out_before = _snap(out)
    try:
        with fastact.threads(threads), np.errstate(all="ignore"):
            got = _invoke(fastact, kind, name, args, kw, out)
    except (TypeError, ValueError):
        if out is not None and not any(out is a for a in args):
            assert _snap(out) == out_before, f"{kind} {name}: out modified by a call that raised"
        for a, b in zip(args, before):
            assert _snap(a) == b, f"{kind} {name}: input modified by a call that raised"
        return
    if isinstance(got, tuple):
        got = got[0]
    if like is not None and ref_err is None and out is None:
        got = np.asarray(got)
        assert got.shape == like.shape and got.dtype == like.dtype, (kind, name, got.shape, like.shape,
                                                                      got.dtype, like.dtype)
        if got.dtype.kind == "f":
            assert np.array_equal(np.isnan(got), np.isnan(like)), f"{kind} {name}: NaN pattern differs"


def _random_main(seconds):
    t_end = time.time() + seconds
    n = 0
    seed = int.from_bytes(os.urandom(8), "little")
    while time.time() < t_end:
        one_input(None, RandomProvider(seed + n))
        n += 1
    print(f"fuzz_api (random fallback): {n} inputs in {seconds} s, seed {seed}, no crash")


def main():
    secs = 60
    for a in sys.argv[1:]:
        if a.startswith("-max_total_time="):
            secs = int(a.split("=", 1)[1])
    if atheris is None or "--random" in sys.argv:
        _random_main(secs)
        return
    argv = [a for a in sys.argv if a != "--random"]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
