"""Peer implementations of fastact's activations, for the benchmarks
(``fastact bench``, the default ``fastact`` run, ``bench/compare.py``).

Each peer is written the way its users would call it, writing into a
preallocated ``out`` wherever the peer has a way to do so:

* ``numpy``       -- the obvious NumPy expression (``1/(1+np.exp(-x))`` ...),
                     ``out=`` on the last ufunc where NumPy allows it;
* ``scipy``       -- ``scipy.special`` (expit, log_expit, ndtr, softmax ...);
* ``numexpr``     -- ``numexpr.evaluate(expr, out=out)``;
* ``torch``       -- CPU, ``torch.from_numpy`` views; the ``out=`` overload of
                     the op where PyTorch has one (``torch.sigmoid(x, out=o)``,
                     ``torch._C._nn.gelu(x, out=o)`` -- the same ATen kernel
                     ``F.gelu`` calls), else ``o.copy_(F.<op>(x))``;
* ``onnxruntime`` -- a one-node (or few-node) ONNX graph, run with IO binding
                     into ``out``; ``intra_op_num_threads = nthreads``.

Every peer is optional: a missing package, or a function/parameter/dtype a
peer cannot do, gives ``None`` from :func:`make` (the column is skipped).

Factories: ``FACTORIES[peer][registry_name](params, x, out, nthreads)`` returns
a zero-argument callable.  The callable writes into ``out`` and returns it (or
a tensor view of it, or None) -- or, for the few peers that cannot write into
a given array (``np.where``, ``scipy.special.softmax``), returns a new array.
Use :func:`result_of` to get the result as a NumPy array either way.

``params`` are concrete keyword arguments (see :func:`resolve_params`).
"""
from __future__ import annotations

import importlib
import math
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

PEERS: Tuple[str, ...] = ("numpy", "scipy", "numexpr", "torch", "onnxruntime")

Factory = Callable[[Dict[str, Any], np.ndarray, np.ndarray, int], Optional[Callable[[], Any]]]


def _try_import(name: str):
    try:
        return importlib.import_module(name)
    except Exception:  # ImportError, or a broken install
        return None


# The peer packages are imported on first use (importing torch takes a
# second or two; the pytest-benchmark suite never needs it).
_sp = _ne = _torch = _ort = _onnx = None
AVAILABLE: Dict[str, bool] = {}


def _ensure_imports() -> Dict[str, bool]:
    global _sp, _ne, _torch, _ort, _onnx
    if not AVAILABLE:
        _sp = _try_import("scipy.special")
        _ne = _try_import("numexpr")
        _torch = _try_import("torch")
        _ort = _try_import("onnxruntime")
        _onnx = _try_import("onnx") if _ort is not None else None
        AVAILABLE.update({
            "numpy": True,
            "scipy": _sp is not None,
            "numexpr": _ne is not None,
            "torch": _torch is not None,
            "onnxruntime": _ort is not None and _onnx is not None,
        })
    return AVAILABLE


def available() -> Dict[str, bool]:
    """{peer: installed and importable}."""
    return dict(_ensure_imports())


def versions() -> Dict[str, str]:
    """Version of every installed peer package."""
    out = {"numpy": np.__version__}
    for peer, mod in (("scipy", "scipy"), ("numexpr", "numexpr"), ("torch", "torch"),
                      ("onnxruntime", "onnxruntime"), ("onnx", "onnx")):
        m = _try_import(mod)
        if m is not None:
            out[peer] = getattr(m, "__version__", "?")
    return out


def available_peers() -> List[str]:
    return [p for p, ok in _ensure_imports().items() if ok]


# ------------------------------------------------------------------ inputs

ROW = 1024          # row length for row-wise (softmax family) and maxout inputs
CHANNELS = 64       # channel count for per-channel PReLU inputs


def input_shape(entry, params: Dict[str, Any], n: int) -> Tuple[int, ...]:
    """The benchmark input's shape for `entry` with about `n` elements."""
    if entry.kind in ("unary", "python") or (entry.kind == "prelu" and params.get("weight") != "per-channel"):
        return (n,)
    if entry.kind == "prelu":
        c = CHANNELS
        return (max(1, n // c), c)               # channel axis 1 (NCHW-like with HW = 1)
    row = min(ROW, n)
    shape = [max(1, n // row), row]
    if entry.kind == "maxout":
        pool = int(params.get("pool_size", 2))
        ax = int(params.get("axis", -1)) % 2
        shape[ax] = max(pool, shape[ax] // pool * pool)
    return tuple(shape)


def resolve_params(entry, example: Dict[str, Any], x: np.ndarray) -> Dict[str, Any]:
    """Concrete keyword arguments for a registry example and input x (the
    same rule as tests/conftest.py: a per-channel PReLU weight is a linspace
    over the channel axis)."""
    kw = dict(example)
    if kw.get("weight") == "per-channel":
        axis = kw.get("axis", 1)
        kw["weight"] = np.linspace(0.05, 0.5, x.shape[axis])
    return kw


def output_shape(entry, params: Dict[str, Any], shape: Tuple[int, ...]) -> Tuple[int, ...]:
    if entry.kind == "maxout":
        pool = int(params.get("pool_size", 2))
        ax = int(params.get("axis", -1)) % len(shape)
        s = list(shape)
        s[ax] //= pool
        return tuple(s)
    return tuple(shape)


def make_input(entry, example: Dict[str, Any], n: int, dtype, seed: int = 0):
    """(x, params, out) for one benchmark case: moderate values (normal, sd 3)."""
    rng = np.random.default_rng(seed)
    shape = input_shape(entry, example, n)
    x = (rng.standard_normal(int(np.prod(shape))) * 3).astype(dtype).reshape(shape)
    kw = resolve_params(entry, example, x)
    out = np.empty(output_shape(entry, kw, shape), dtype=dtype)
    return x, kw, out


def result_of(ret: Any, out: np.ndarray) -> np.ndarray:
    """The result of a peer call as a NumPy array."""
    return ret if isinstance(ret, np.ndarray) else out


# ------------------------------------------------------------------ threads

def set_threads(n: int) -> None:
    """Set every installed threaded peer to n threads (ONNX Runtime gets it
    per session).  NumPy and SciPy ufuncs are single-threaded."""
    _ensure_imports()
    if _ne is not None:
        _ne.set_num_threads(n)
    if _torch is not None and _torch.get_num_threads() != n:
        _torch.set_num_threads(n)


# ------------------------------------------------------------------ fastact itself

def make_fastact(entry, params, x, out, nthreads, backend: Optional[str] = None):
    """fastact's own function (backend=None: the compiled kernels;
    backend="numpy": the pure-NumPy reference).  Threads are set by the
    caller (fastact.set_num_threads), once per configuration."""
    import fastact
    fn = fastact.get(entry.name)
    if backend is None:
        return lambda: fn(x, **params, out=out)
    return lambda: fn(x, **params, out=out, backend=backend)


# ------------------------------------------------------------------ numpy, the obvious way

SQRT2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _bshape(x, axis, size):
    s = [1] * x.ndim
    s[axis % x.ndim] = size
    return s


def _np_prelu(p, x, o, nt):
    w = np.asarray(p["weight"], dtype=x.dtype)
    if w.size > 1:
        w = w.reshape(_bshape(x, p.get("axis", 1), w.size))
    else:
        w = w.reshape(())
    return lambda: np.where(x > 0, x, w * x)


def _np_gelu(p, x, o, nt):
    if p.get("approximate", "none") == "tanh":
        c = SQRT_2_OVER_PI
        return lambda: np.multiply(0.5 * x, 1 + np.tanh(c * (x + 0.044715 * x ** 3)), out=o)
    if _sp is None:
        return None          # NumPy has no erf; the obvious user code imports it from SciPy
    erf = _sp.erf
    return lambda: np.multiply(0.5 * x, 1 + erf(x / SQRT2), out=o)


def _np_softplus(p, x, o, nt):
    b, t = p.get("beta", 1.0), p.get("threshold", 20.0)
    if b == 1.0:
        return lambda: np.where(x > t, x, np.log1p(np.exp(x)))
    return lambda: np.where(b * x > t, x, np.log1p(np.exp(b * x)) / b)


def _np_maxout(p, x, o, nt):
    pool, axis = int(p.get("pool_size", 2)), int(p.get("axis", -1)) % x.ndim
    shape = x.shape[:axis] + (x.shape[axis] // pool, pool) + x.shape[axis + 1:]
    return lambda: np.max(x.reshape(shape), axis=axis + 1, out=o)


def _np_softmax(p, x, o, nt):
    ax = p.get("axis", -1)

    def f():
        e = np.exp(x - x.max(axis=ax, keepdims=True))
        return np.divide(e, e.sum(axis=ax, keepdims=True), out=o)
    return f


def _np_log_softmax(p, x, o, nt):
    ax = p.get("axis", -1)

    def f():
        s = x - x.max(axis=ax, keepdims=True)
        return np.subtract(s, np.log(np.exp(s).sum(axis=ax, keepdims=True)), out=o)
    return f


def _np_softmin(p, x, o, nt):
    ax = p.get("axis", -1)

    def f():
        e = np.exp(x.min(axis=ax, keepdims=True) - x)
        return np.divide(e, e.sum(axis=ax, keepdims=True), out=o)
    return f


NUMPY: Dict[str, Factory] = {
    "sigmoid": lambda p, x, o, nt: lambda: np.divide(1, 1 + np.exp(-x), out=o),
    "log_sigmoid": lambda p, x, o, nt: lambda: np.subtract(np.minimum(x, 0), np.log1p(np.exp(-np.abs(x))), out=o),
    "hard_sigmoid": lambda p, x, o, nt: lambda: np.clip(x / 6 + 0.5, 0, 1, out=o),
    "tanh": lambda p, x, o, nt: lambda: np.tanh(x, out=o),
    "hardtanh": lambda p, x, o, nt: (lambda lo, hi: lambda: np.clip(x, lo, hi, out=o))(
        p.get("min_val", -1.0), p.get("max_val", 1.0)),
    "tanhshrink": lambda p, x, o, nt: lambda: np.subtract(x, np.tanh(x), out=o),
    "softsign": lambda p, x, o, nt: lambda: np.divide(x, 1 + np.abs(x), out=o),
    "relu": lambda p, x, o, nt: lambda: np.maximum(x, 0, out=o),
    "relu6": lambda p, x, o, nt: lambda: np.clip(x, 0, 6, out=o),
    "leaky_relu": lambda p, x, o, nt: (lambda a: lambda: np.where(x > 0, x, a * x))(
        p.get("negative_slope", 0.01)),
    "prelu": _np_prelu,
    "elu": lambda p, x, o, nt: (lambda a: lambda: np.where(x > 0, x, a * np.expm1(x)))(p.get("alpha", 1.0)),
    "celu": lambda p, x, o, nt: (lambda a: lambda: np.where(x > 0, x, a * np.expm1(x / a)))(p.get("alpha", 1.0)),
    "selu": lambda p, x, o, nt: lambda: np.multiply(
        SELU_SCALE, np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), out=o),
    "gelu": _np_gelu,
    "silu": lambda p, x, o, nt: lambda: np.divide(x, 1 + np.exp(-x), out=o),
    "swish": lambda p, x, o, nt: (lambda b: lambda: np.divide(x, 1 + np.exp(-b * x), out=o))(p.get("beta", 1.0)),
    "hardswish": lambda p, x, o, nt: lambda: np.divide(x * np.clip(x + 3, 0, 6), 6, out=o),
    "mish": lambda p, x, o, nt: lambda: np.multiply(x, np.tanh(np.log1p(np.exp(x))), out=o),
    "softplus": _np_softplus,
    "maxout": _np_maxout,
    "softmax": _np_softmax,
    "log_softmax": _np_log_softmax,
    "softmin": _np_softmin,
}


# ------------------------------------------------------------------ scipy.special

def _sp_gelu(p, x, o, nt):
    if p.get("approximate", "none") != "none":
        return None
    ndtr = _sp.ndtr
    return lambda: np.multiply(x, ndtr(x), out=o)     # x * Phi(x)


def _sp_softplus(p, x, o, nt):
    b = p.get("beta", 1.0)
    if b <= 0:
        return None
    le = _sp.log_expit
    if b == 1.0:
        return lambda: np.negative(le(-x), out=o)     # softplus(x) = -log(sigmoid(-x))
    return lambda: np.divide(le(-b * x), -b, out=o)


SCIPY: Dict[str, Factory] = {
    "sigmoid": lambda p, x, o, nt: lambda: _sp.expit(x, out=o),
    "log_sigmoid": lambda p, x, o, nt: lambda: _sp.log_expit(x, out=o),
    "gelu": _sp_gelu,
    "silu": lambda p, x, o, nt: lambda: np.multiply(x, _sp.expit(x), out=o),
    "swish": lambda p, x, o, nt: (lambda b: lambda: np.multiply(x, _sp.expit(b * x), out=o))(p.get("beta", 1.0)),
    "softplus": _sp_softplus,
    "softmax": lambda p, x, o, nt: (lambda ax: lambda: _sp.softmax(x, axis=ax))(p.get("axis", -1)),
    "log_softmax": lambda p, x, o, nt: (lambda ax: lambda: _sp.log_softmax(x, axis=ax))(p.get("axis", -1)),
    "softmin": lambda p, x, o, nt: (lambda ax: lambda: _sp.softmax(-x, axis=ax))(p.get("axis", -1)),
}


# ------------------------------------------------------------------ numexpr

def _nexpr(expr: str, **consts):
    """Factory for numexpr.evaluate(expr, out=out).  Constants are passed as
    scalars of x's dtype (numexpr treats float literals as double, which
    would turn a float32 expression into a float64 one)."""
    def factory(p, x, o, nt):
        env = {"x": x}
        for k, v in consts.items():
            env[k] = x.dtype.type(v(p, x) if callable(v) else v)
        probe = dict(env, x=x.ravel()[:4])
        if _ne.evaluate(expr, local_dict=probe).dtype != x.dtype:
            return None
        ev = _ne.evaluate
        return lambda: ev(expr, local_dict=env, out=o)
    return factory


def _ne_prelu(p, x, o, nt):
    w = np.asarray(p["weight"], dtype=x.dtype)
    if w.size > 1:
        w = np.broadcast_to(w.reshape(_bshape(x, p.get("axis", 1), w.size)), x.shape)
        w = np.ascontiguousarray(w)       # numexpr broadcasts, but a full array is what users pass
    else:
        w = x.dtype.type(w.reshape(()))
    env = {"x": x, "w": w}
    return lambda: _ne.evaluate("where(x > 0, x, w * x)", local_dict=env, out=o)


def _ne_gelu(p, x, o, nt):
    if p.get("approximate", "none") != "tanh":
        return None          # numexpr has no erf
    return _nexpr("h * x * (1 + tanh(c * (x + k * x * x * x)))",
                  h=0.5, c=SQRT_2_OVER_PI, k=0.044715)(p, x, o, nt)


NUMEXPR: Dict[str, Factory] = {
    "sigmoid": _nexpr("1 / (1 + exp(-x))"),
    "log_sigmoid": _nexpr("where(x < 0, x, 0) - log1p(exp(-abs(x)))"),
    "hard_sigmoid": _nexpr("where(x <= -3, 0, where(x >= 3, 1, x * s + h))", s=1 / 6, h=0.5),
    "tanh": _nexpr("tanh(x)"),
    "hardtanh": _nexpr("where(x < lo, lo, where(x > hi, hi, x))",
                       lo=lambda p, x: p.get("min_val", -1.0), hi=lambda p, x: p.get("max_val", 1.0)),
    "tanhshrink": _nexpr("x - tanh(x)"),
    "softsign": _nexpr("x / (1 + abs(x))"),
    "relu": _nexpr("where(x > 0, x, 0)"),
    "relu6": _nexpr("where(x < 0, 0, where(x > 6, 6, x))"),
    "leaky_relu": _nexpr("where(x > 0, x, a * x)", a=lambda p, x: p.get("negative_slope", 0.01)),
    "prelu": _ne_prelu,
    "elu": _nexpr("where(x > 0, x, a * expm1(x))", a=lambda p, x: p.get("alpha", 1.0)),
    "celu": _nexpr("where(x > 0, x, a * expm1(x / a))", a=lambda p, x: p.get("alpha", 1.0)),
    "selu": _nexpr("s * where(x > 0, x, a * expm1(x))", s=SELU_SCALE, a=SELU_ALPHA),
    "gelu": _ne_gelu,
    "silu": _nexpr("x / (1 + exp(-x))"),
    "swish": _nexpr("x / (1 + exp(-b * x))", b=lambda p, x: p.get("beta", 1.0)),
    "hardswish": _nexpr("x * where(x < -3, 0, where(x > 3, 6, x + 3)) / 6"),
    "mish": _nexpr("x * tanh(log1p(exp(x)))"),
    "softplus": _nexpr("where(b * x > t, x, log1p(exp(b * x)) / b)",
                       b=lambda p, x: p.get("beta", 1.0), t=lambda p, x: p.get("threshold", 20.0)),
}


# ------------------------------------------------------------------ torch

def _tv(x, o):
    return _torch.from_numpy(x), _torch.from_numpy(o)


def _t_out(op_name: str, *args_of):
    """Factory: torch.<op> / torch._C._nn.<op>(t, *args, out=o)."""
    def factory(p, x, o, nt):
        op = _resolve_torch(op_name)
        t, to = _tv(x, o)
        args = tuple(a(p) for a in args_of)
        return lambda: op(t, *args, out=to)
    return factory


def _t_copy(op_name: str, *args_of):
    """Factory: o.copy_(torch.nn.functional.<op>(t, *args)) -- no out= overload."""
    def factory(p, x, o, nt):
        op = getattr(_torch.nn.functional, op_name)
        t, to = _tv(x, o)
        args = tuple(a(p) for a in args_of)
        return lambda: to.copy_(op(t, *args))
    return factory


def _resolve_torch(path: str):
    obj = _torch
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _t_gelu(p, x, o, nt):
    t, to = _tv(x, o)
    ap = p.get("approximate", "none")
    g = _torch._C._nn.gelu
    return lambda: g(t, approximate=ap, out=to)


def _t_swish(p, x, o, nt):
    b = p.get("beta", 1.0)
    t, to = _tv(x, o)
    if b == 1.0:
        silu = _torch._C._nn.silu
        return lambda: silu(t, out=to)
    sig, mul = _torch.sigmoid, _torch.mul
    return lambda: mul(t, sig(b * t), out=to)


def _t_prelu(p, x, o, nt):
    t, to = _tv(x, o)
    w = _torch.as_tensor(np.asarray(p["weight"], dtype=x.dtype).reshape(-1))
    if w.numel() > 1 and p.get("axis", 1) % x.ndim != 1:
        return None           # torch's channel dimension is always dim 1
    F = _torch.nn.functional
    return lambda: to.copy_(F.prelu(t, w))


def _t_maxout(p, x, o, nt):
    pool, axis = int(p.get("pool_size", 2)), int(p.get("axis", -1)) % x.ndim
    t, to = _tv(x, o)
    tv = t.unflatten(axis, (x.shape[axis] // pool, pool))
    amax = _torch.amax
    return lambda: amax(tv, dim=axis + 1, out=to)


TORCH: Dict[str, Factory] = {
    "sigmoid": _t_out("sigmoid"),
    "log_sigmoid": _t_out("_C._nn.log_sigmoid"),
    "hard_sigmoid": _t_out("_C._nn.hardsigmoid"),
    "tanh": _t_out("tanh"),
    "hardtanh": _t_out("_C._nn.hardtanh", lambda p: p.get("min_val", -1.0), lambda p: p.get("max_val", 1.0)),
    "tanhshrink": _t_copy("tanhshrink"),
    "softsign": _t_copy("softsign"),
    "relu": _t_out("clamp_min", lambda p: 0),
    "relu6": _t_out("_C._nn.hardtanh", lambda p: 0.0, lambda p: 6.0),     # what F.relu6 calls
    "leaky_relu": _t_out("_C._nn.leaky_relu", lambda p: p.get("negative_slope", 0.01)),
    "prelu": _t_prelu,
    "elu": _t_out("_C._nn.elu", lambda p: p.get("alpha", 1.0)),
    "celu": _t_copy("celu", lambda p: p.get("alpha", 1.0)),
    "selu": _t_copy("selu"),
    "gelu": _t_gelu,
    "silu": _t_out("_C._nn.silu"),
    "swish": _t_swish,
    "hardswish": _t_out("_C._nn.hardswish"),
    "mish": _t_out("_C._nn.mish"),
    "softplus": _t_out("_C._nn.softplus", lambda p: p.get("beta", 1.0), lambda p: p.get("threshold", 20.0)),
    "maxout": _t_maxout,
    "softmax": _t_out("softmax", lambda p: p.get("axis", -1)),
    "log_softmax": _t_out("log_softmax", lambda p: p.get("axis", -1)),
    "softmin": _t_copy("softmin", lambda p: p.get("axis", -1)),
}


# ------------------------------------------------------------------ onnxruntime

_SESSIONS: Dict[Any, Any] = {}


def _ort_session(key, build_nodes, x: np.ndarray, oshape, nthreads: int):
    """An InferenceSession for graph `key` (built by build_nodes(helper,
    dtype_enum, np_dtype) -> (nodes, initializers)), cached per
    (key, dtype, shapes, nthreads)."""
    ck = (key, x.dtype.str, x.shape, tuple(oshape), nthreads)
    if ck in _SESSIONS:
        return _SESSIONS[ck]
    helper, TP = _onnx.helper, _onnx.TensorProto
    et = TP.FLOAT if x.dtype == np.float32 else TP.DOUBLE
    nodes, inits = build_nodes(helper, et, x.dtype)
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", et, list(x.shape))],
        [helper.make_tensor_value_info("y", et, list(oshape))], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = min(model.ir_version, 10)
    so = _ort.SessionOptions()
    so.intra_op_num_threads = nthreads
    so.inter_op_num_threads = 1
    so.execution_mode = _ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    try:
        sess = _ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    except Exception:
        sess = None          # op not implemented for this dtype, etc.
    _SESSIONS[ck] = sess
    return sess


def release() -> None:
    """Drop the cached ONNX Runtime sessions (each owns a thread pool)."""
    _SESSIONS.clear()


def _const(helper, name, np_dtype, value):
    arr = np.asarray(value, dtype=np_dtype)
    return helper.make_tensor(name, _onnx.helper.np_dtype_to_tensor_dtype(arr.dtype), list(arr.shape),
                              arr.ravel().tolist())


def _ort_graph(key_fn, nodes_fn):
    """Factory for an ONNX graph: nodes_fn(p, helper, np_dtype, x) -> (nodes, inits);
    key_fn(p) -> hashable (the session cache key)."""
    def factory(p, x, o, nt):
        key = key_fn(p)
        sess = _ort_session(key, lambda helper, et, dt: nodes_fn(p, helper, dt, x), x, o.shape, nt)
        if sess is None:
            return None
        b = sess.io_binding()
        b.bind_input("x", "cpu", 0, x.dtype, list(x.shape), x.ctypes.data)
        b.bind_output("y", "cpu", 0, o.dtype, list(o.shape), o.ctypes.data)
        run = sess.run_with_iobinding

        def f(_keep=(x, o, sess)):     # the binding holds raw pointers: keep x and o alive
            run(b)
            return o
        return f
    return factory


def _one(op, **attrs_of):
    """A one-node graph x -> op -> y with attributes computed from params."""
    def nodes(p, helper, dt, x):
        attrs = {k: f(p) if callable(f) else f for k, f in attrs_of.items()}
        return [helper.make_node(op, ["x"], ["y"], **attrs)], []
    return _ort_graph(lambda p: (op, tuple(sorted((k, f(p) if callable(f) else f)
                                                   for k, f in attrs_of.items()))), nodes)


def _ort_log_sigmoid(p, helper, dt, x):      # -softplus(-x)
    return [helper.make_node("Neg", ["x"], ["n"]), helper.make_node("Softplus", ["n"], ["s"]),
            helper.make_node("Neg", ["s"], ["y"])], []


def _ort_clip(lo_of, hi_of):
    def nodes(p, helper, dt, x):
        return ([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])],
                [_const(helper, "lo", dt, lo_of(p)), _const(helper, "hi", dt, hi_of(p))])
    return _ort_graph(lambda p: ("Clip", lo_of(p), hi_of(p)), nodes)


def _ort_tanhshrink(p, helper, dt, x):
    return [helper.make_node("Tanh", ["x"], ["t"]), helper.make_node("Sub", ["x", "t"], ["y"])], []


def _ort_swish(p, helper, dt, x):
    b = p.get("beta", 1.0)
    if b == 1.0:
        return [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["y"])], []
    return ([helper.make_node("Mul", ["x", "b"], ["bx"]), helper.make_node("Sigmoid", ["bx"], ["s"]),
             helper.make_node("Mul", ["x", "s"], ["y"])], [_const(helper, "b", dt, b)])


def _ort_prelu(p, helper, dt, x):
    w = np.asarray(p["weight"], dtype=dt).reshape(-1)
    if w.size > 1:
        w = w.reshape([w.size] + [1] * (x.ndim - 1 - p.get("axis", 1) % x.ndim))
    return [helper.make_node("PRelu", ["x", "w"], ["y"])], [_const(helper, "w", dt, w)]


def _ort_softplus(p, helper, dt, x):
    b = p.get("beta", 1.0)
    # ONNX Softplus has no beta/threshold: log(exp(x) + 1).  The threshold
    # only changes results by < exp(-threshold) relative, so it is left out.
    if b == 1.0:
        return [helper.make_node("Softplus", ["x"], ["y"])], []
    return ([helper.make_node("Mul", ["x", "b"], ["bx"]), helper.make_node("Softplus", ["bx"], ["s"]),
             helper.make_node("Div", ["s", "b"], ["y"])], [_const(helper, "b", dt, b)])


def _ort_maxout(p, helper, dt, x):
    pool, axis = int(p.get("pool_size", 2)), int(p.get("axis", -1)) % x.ndim
    shape = list(x.shape[:axis]) + [x.shape[axis] // pool, pool] + list(x.shape[axis + 1:])
    return ([helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("ReduceMax", ["r", "axes"], ["y"], keepdims=0)],
            [_const(helper, "shape", np.int64, shape), _const(helper, "axes", np.int64, [axis + 1])])


def _ort_gelu(p, helper, dt, x):
    return [helper.make_node("Gelu", ["x"], ["y"], approximate=p.get("approximate", "none"))], []


def _pkey(name):
    return lambda p: (name, tuple(sorted((k, v) for k, v in p.items() if not isinstance(v, np.ndarray))),
                      tuple(np.asarray(v).tobytes() for v in p.values() if isinstance(v, np.ndarray)))


ONNXRUNTIME: Dict[str, Factory] = {
    "sigmoid": _one("Sigmoid"),
    "log_sigmoid": _ort_graph(_pkey("log_sigmoid"), _ort_log_sigmoid),
    "hard_sigmoid": _one("HardSigmoid", alpha=1 / 6, beta=0.5),
    "tanh": _one("Tanh"),
    "hardtanh": _ort_clip(lambda p: p.get("min_val", -1.0), lambda p: p.get("max_val", 1.0)),
    "tanhshrink": _ort_graph(_pkey("tanhshrink"), _ort_tanhshrink),
    "softsign": _one("Softsign"),
    "relu": _one("Relu"),
    "relu6": _ort_clip(lambda p: 0.0, lambda p: 6.0),
    "leaky_relu": _one("LeakyRelu", alpha=lambda p: p.get("negative_slope", 0.01)),
    "prelu": _ort_graph(_pkey("prelu"), _ort_prelu),
    "elu": _one("Elu", alpha=lambda p: p.get("alpha", 1.0)),
    "celu": _one("Celu", alpha=lambda p: p.get("alpha", 1.0)),
    "selu": _one("Selu"),
    "gelu": _ort_graph(_pkey("gelu"), _ort_gelu),
    "silu": _ort_graph(_pkey("silu"), lambda p, h, dt, x: _ort_swish({}, h, dt, x)),
    "swish": _ort_graph(_pkey("swish"), _ort_swish),
    "hardswish": _one("HardSwish"),
    "mish": _one("Mish"),
    "softplus": _ort_graph(_pkey("softplus"), _ort_softplus),
    "maxout": _ort_graph(_pkey("maxout"), _ort_maxout),
    "softmax": _one("Softmax", axis=lambda p: p.get("axis", -1)),
    "log_softmax": _one("LogSoftmax", axis=lambda p: p.get("axis", -1)),
    "softmin": _ort_graph(_pkey("softmin"), lambda p, helper, dt, x: (
        [helper.make_node("Neg", ["x"], ["n"]),
         helper.make_node("Softmax", ["n"], ["y"], axis=p.get("axis", -1))], [])),
}


FACTORIES: Dict[str, Dict[str, Factory]] = {
    "numpy": NUMPY, "scipy": SCIPY, "numexpr": NUMEXPR, "torch": TORCH, "onnxruntime": ONNXRUNTIME,
}

# Which peers have an implementation of which registry function (before
# dtype/parameter restrictions, which make() discovers).
PEER_SUPPORT: Dict[str, Tuple[str, ...]] = {}
for _peer, _table in FACTORIES.items():
    for _name in _table:
        PEER_SUPPORT.setdefault(_name, ())
        PEER_SUPPORT[_name] += (_peer,)


def make(peer: str, name: str, params: Dict[str, Any], x: np.ndarray, out: np.ndarray,
         nthreads: int) -> Optional[Callable[[], Any]]:
    """A callable running registry function `name` with peer `peer`, or None
    when the peer is not installed or cannot do this function/params/dtype."""
    if not _ensure_imports().get(peer):
        return None
    factory = FACTORIES[peer].get(name)
    if factory is None:
        return None
    try:
        with np.errstate(all="ignore"):
            fn = factory(params, x, out, nthreads)
            if fn is not None:
                fn()            # a peer that raises on first use is no peer
    except Exception:
        return None
    return fn


# ------------------------------------------------------------------ verification

RTOL = 1e-3
ATOL = 1e-5


def check(got: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> Tuple[bool, float]:
    """(ok, worst relative error): ok when |got - exp| <= rtol |exp| + atol
    everywhere (NaN must match NaN).  The error reported is
    max |got - exp| / (|exp| + atol / rtol)."""
    got = np.asarray(got, dtype=np.float64)
    exp = np.asarray(expected, dtype=np.float64)
    if got.shape != exp.shape:
        return False, math.inf
    with np.errstate(all="ignore"):
        d = np.abs(got - exp)
        both_nan = np.isnan(got) & np.isnan(exp)
        same = (got == exp) | both_nan
        d = np.where(same, 0.0, d)
        d = np.where(np.isnan(d), np.inf, d)
        ok = bool(np.all(d <= rtol * np.abs(exp) + atol))
        rel = float(np.max(d / (np.abs(exp) + atol / rtol))) if d.size else 0.0
    return ok, rel
