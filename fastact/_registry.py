"""The registry: one entry per activation.  Everything else -- the public
functions and their docstrings, the NumPy reference module, the tests, the
benchmarks, the command line -- is generated from or parametrised by the
entries here.  Adding an activation = one C core (src_c/fa_activations.h,
plus its name in FA_UNARY_LIST), one formula in _refmath.py, one entry below.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from . import _refmath

# Serial below 2 * min_chunk elements, and at least min_chunk per thread.
# exp-based kernels cost ~1-3 ns/element, piecewise-linear ones ~0.1 ns, so
# the cheap family needs far larger arrays before a second thread pays.
MIN_CHUNK = {"exp": 16384, "linear": 131072, "libm": 4096}


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    kind: str = "float"          # float | choice | int | array | axis
    choices: Tuple[str, ...] = ()
    check: Optional[Callable[[Any], Optional[str]]] = None   # -> error text
    doc: str = ""

    def convert(self, func: str, value: Any) -> Any:
        """Validate and convert one argument; raise TypeError/ValueError
        naming the function, the parameter and the problem."""
        where = f"{func}(): {self.name}"
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{where} must be a real number, got {type(value).__name__} {value!r}")
            value = float(value)
            if math.isnan(value):
                raise ValueError(f"{where} must not be NaN")
        elif self.kind in ("int", "axis"):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{where} must be an integer, got {type(value).__name__} {value!r}")
            value = int(value)
        elif self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"{where} must be one of {list(self.choices)}, got {value!r}")
        if self.check is not None:
            msg = self.check(value)
            if msg:
                raise ValueError(f"{where} {msg}, got {value!r}")
        return value


def _finite(v):
    return None if math.isfinite(v) else "must be finite"


def _positive(v):
    return None if (math.isfinite(v) and v > 0) else "must be a finite number > 0"


def _nonzero(v):
    return None if (math.isfinite(v) and v != 0) else "must be finite and non-zero"


def _pool(v):
    # upper bound: an index (Py_ssize_t) -- larger ones raised OverflowError in _ext
    return None if 1 <= v <= 2 ** 63 - 1 else "must be >= 1 and < 2**63"


@dataclass(frozen=True)
class Activation:
    name: str
    summary: str
    formula: str
    derivative: str
    params: Tuple[Param, ...] = ()
    kind: str = "unary"              # unary | prelu | maxout | rowwise | python (fastact.register)
    family: str = "exp"              # exp | linear | libm  (threading threshold, bench groups)
    kernel: Optional[Callable[[Dict[str, Any]], Tuple[str, Tuple[float, ...]]]] = None
    odd: bool = False                # f(-0) = -0
    check: Optional[Callable[[Dict[str, Any]], Optional[str]]] = None   # cross-parameter check
    aliases: Tuple[str, ...] = ()
    examples: Tuple[Dict[str, Any], ...] = ({},)   # parameter sets the tests and benchmarks use
    special: str = ""                # special values, for the docs
    # kind "rowwise": the backward from the forward output y (issue 4),
    # <name>_backward(grad_output, y, axis), g = grad_output; for the docs
    vjp: str = ""
    # kind "python" (user-defined, fastact.register): the callables themselves
    py_forward: Optional[Callable] = None
    py_backward: Optional[Callable] = None       # (grad_output, x) -> grad_x
    py_reference: Optional[Callable] = None      # float64 x -> f(x); default: py_forward in float64

    @property
    def reference(self) -> Callable:
        if self.kind == "python":
            ref = self.py_reference or self.py_forward
            return lambda x, **kw: np.asarray(ref(np.asarray(x, dtype=np.float64), **kw), dtype=np.float64)
        return getattr(_refmath, self.name)

    @property
    def min_chunk(self) -> int:
        return MIN_CHUNK[self.family]

    def kernel_call(self, params: Dict[str, Any]) -> Tuple[str, Tuple[float, ...]]:
        if self.kernel is None:
            return self.name, ()
        return self.kernel(params)


def _k(name, *keys):
    """Kernel selector: the kernel `name` with fa_params from `keys`."""
    return lambda p: (name, tuple(float(p[k]) for k in keys))


A = Activation
REGISTRY: Dict[str, Activation] = {}


def _add(*entries: Activation) -> None:
    for e in entries:
        REGISTRY[e.name] = e


_add(
    A("sigmoid", "Logistic sigmoid.", "1 / (1 + exp(-x))", "f(x) (1 - f(x))",
      aliases=("logistic",), special="sigmoid(-inf) = 0, sigmoid(+inf) = 1"),
    A("log_sigmoid", "Log of the logistic sigmoid.", "min(x, 0) - log1p(exp(-|x|))", "sigmoid(-x)",
      special="log_sigmoid(-inf) = -inf, log_sigmoid(+inf) = 0"),
    A("hard_sigmoid", "Piecewise-linear sigmoid, PyTorch's hardsigmoid.", "relu6(x + 3) / 6",
      "1/6 on (-3, 3), else 0", family="linear", aliases=("hardsigmoid",),
      special="0 for x <= -3, 1 for x >= 3"),
    A("tanh", "Hyperbolic tangent.", "tanh(x)", "1 - f(x)^2", odd=True,
      special="tanh(+-inf) = +-1, tanh(-0) = -0"),
    A("hardtanh", "Clamp to [min_val, max_val].", "min(max(x, min_val), max_val)",
      "1 on (min_val, max_val), else 0 (0 at the edges)", family="linear", odd=True,
      params=(Param("min_val", -1.0, check=_finite), Param("max_val", 1.0, check=_finite)),
      kernel=_k("hardtanh", "min_val", "max_val"),
      check=lambda p: None if p["min_val"] <= p["max_val"] else
      f"min_val ({p['min_val']}) must be <= max_val ({p['max_val']})",
      examples=({}, {"min_val": -2.0, "max_val": 0.5})),
    A("tanhshrink", "x minus its tanh.", "x - tanh(x)", "tanh(x)^2", odd=True,
      special="tanhshrink(+-inf) = +-inf"),
    A("softsign", "Softsign.", "x / (1 + |x|)", "1 / (1 + |x|)^2", family="linear", odd=True,
      special="softsign(+-inf) = +-1"),
    A("relu", "Rectified linear unit.", "max(x, 0)", "1 for x > 0, else 0 (0 at 0)", family="linear",
      special="relu(NaN) = NaN, relu(-0) = +0"),
    A("relu6", "ReLU clipped at 6.", "min(max(x, 0), 6)", "1 on (0, 6), else 0", family="linear"),
    A("leaky_relu", "Leaky ReLU.", "x if x > 0 else negative_slope * x",
      "1 for x > 0, else negative_slope (negative_slope at 0)", family="linear", odd=True,
      params=(Param("negative_slope", 0.01, check=_finite),), kernel=_k("leaky_relu", "negative_slope"),
      examples=({}, {"negative_slope": 0.2})),
    A("prelu", "Parametric ReLU: a leaky ReLU with one learned slope per channel.",
      "x if x > 0 else weight[c] * x  (c: index along `axis`)", "1 for x > 0, else weight[c]",
      kind="prelu", family="linear", odd=True,
      params=(Param("weight", 0.25, kind="array"), Param("axis", 1, kind="axis")),
      examples=({"weight": 0.25}, {"weight": "per-channel"})),
    A("elu", "Exponential linear unit.", "x if x > 0 else alpha * expm1(x)",
      "1 for x > 0, else alpha * exp(x)", odd=True,
      params=(Param("alpha", 1.0, check=_finite),), kernel=_k("elu", "alpha"),
      examples=({}, {"alpha": 0.5})),
    A("celu", "Continuously differentiable ELU.", "x if x > 0 else alpha * expm1(x / alpha)",
      "1 for x > 0, else exp(x / alpha)", odd=True,
      params=(Param("alpha", 1.0, check=_positive),), kernel=_k("celu", "alpha"),
      examples=({}, {"alpha": 2.0})),
    A("selu", "Scaled ELU (self-normalising).",
      "scale * (x if x > 0 else alpha * expm1(x)), alpha = 1.67326..., scale = 1.05070...",
      "scale for x > 0, else scale * alpha * exp(x)", odd=True),
    A("gelu", "Gaussian error linear unit.",
      "x * Phi(x) = x/2 * erfc(-x/sqrt 2); approximate='tanh': x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
      "Phi(x) + x phi(x)", odd=True, family="libm",
      params=(Param("approximate", "none", kind="choice", choices=("none", "tanh")),),
      kernel=lambda p: ("gelu_tanh" if p["approximate"] == "tanh" else "gelu", ()),
      examples=({}, {"approximate": "tanh"}),
      special="gelu(-inf) = -0, gelu(+inf) = +inf; finite for every finite x"),
    A("silu", "Sigmoid-weighted linear unit (swish with beta = 1).", "x * sigmoid(x)",
      "s (1 + x (1 - s)), s = sigmoid(x)", odd=True),
    A("swish", "Swish.", "x * sigmoid(beta * x)", "s + beta x s (1 - s), s = sigmoid(beta x)", odd=True,
      params=(Param("beta", 1.0, check=_finite),), kernel=_k("swish", "beta"),
      examples=({}, {"beta": 0.5}, {"beta": 1.702})),
    A("hardswish", "Piecewise-quadratic swish (MobileNetV3).", "x * relu6(x + 3) / 6",
      "0 for x < -3, 1 for x > 3, else (2x + 3) / 6", family="linear", odd=True,
      aliases=("hard_swish",)),
    A("mish", "Mish.", "x * tanh(softplus(x))", "tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)", odd=True),
    A("softplus", "Smooth ReLU (PyTorch's beta/threshold form).",
      "log1p(exp(beta x)) / beta, or x where beta x > threshold", "sigmoid(beta x) (1 where linear)",
      params=(Param("beta", 1.0, check=_nonzero), Param("threshold", 20.0)),
      kernel=_k("softplus", "beta", "threshold"),
      examples=({}, {"beta": 2.0, "threshold": 10.0})),
    A("maxout", "Maxout: the maximum over groups of `pool_size` consecutive entries along `axis`.",
      "max(x[..., g*pool_size:(g+1)*pool_size, ...]) along axis",
      "1 at the (first) maximum of each group, else 0", kind="maxout", family="linear",
      params=(Param("pool_size", 2, kind="int", check=_pool), Param("axis", -1, kind="axis")),
      examples=({"pool_size": 2}, {"pool_size": 3, "axis": 0})),
    A("softmax", "Softmax along `axis` (max-shifted: stable for every finite input).",
      "exp(x - max) / sum(exp(x - max)) along axis", "diag(f) - f f^T (along axis)",
      kind="rowwise", params=(Param("axis", -1, kind="axis"),),
      examples=({}, {"axis": 0}), vjp="y * (g - sum(g * y)) along axis",
      special="a row holding NaN, +inf, or only -inf gives NaN for the whole row (as PyTorch)"),
    A("log_softmax", "Log of the softmax along `axis`, never formed as log(softmax).",
      "x - max - log(sum(exp(x - max))) along axis", "I - softmax (along axis)",
      kind="rowwise", params=(Param("axis", -1, kind="axis"),),
      examples=({}, {"axis": 0}), vjp="g - exp(y) * sum(g) along axis",
      special="-inf entries give -inf; a row holding NaN, +inf, or only -inf gives NaN"),
    A("softmin", "Softmin along `axis`: the softmax of -x.",
      "exp(min - x) / sum(exp(min - x)) along axis", "-(diag(f) - f f^T) (along axis)",
      kind="rowwise", params=(Param("axis", -1, kind="axis"),),
      examples=({}, {"axis": 0}), vjp="-y * (g - sum(g * y)) along axis",
      special="a row holding NaN, -inf, or only +inf gives NaN for the whole row"),
)

ALIASES: Dict[str, str] = {a: e.name for e in REGISTRY.values() for a in e.aliases}


BUILTIN = frozenset(REGISTRY) | frozenset(ALIASES)


def add_python(entry: Activation) -> None:
    """Add (or replace) a user-defined entry of kind "python"; built-in
    names and aliases cannot be replaced."""
    if entry.name in BUILTIN:
        raise ValueError(f"register(): {entry.name!r} is a built-in fastact activation; choose another name")
    REGISTRY[entry.name] = entry


def remove_python(name: str) -> None:
    """Remove a user-defined entry (built-ins stay)."""
    e = REGISTRY.get(name)
    if e is None or e.kind != "python":
        raise ValueError(f"unregister(): {name!r} is not a user-registered activation")
    del REGISTRY[name]


def lookup(name: str) -> Activation:
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a str, got {type(name).__name__} {name!r}")
    key = ALIASES.get(name, name)
    try:
        return REGISTRY[key]
    except KeyError:
        import difflib
        close = difflib.get_close_matches(name, list(REGISTRY) + list(ALIASES), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown activation {name!r}{hint}") from None
