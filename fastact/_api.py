"""Argument handling shared by every public function, and the generator
that builds the public functions from the registry.

Data's walk for ``fastact.gelu(x, out=o)``:
  generated ``gelu`` -> ``_call(entry, x, params, out, backend)``
  -> parameters validated (registry Params) -> input dtype rule -> ``out``
  checked -> layout (a contiguous run, or a copy) -> one driver call in
  ``_ext`` (or the NumPy formula in ``_refmath``) -> result.
Nothing is written to ``out`` until every check has passed, so a call that
raises leaves ``out`` untouched.
"""
from __future__ import annotations

import contextlib
import math
import contextvars
from typing import Any, Dict, Iterator, Optional, Tuple

import numpy as np

from . import _registry, _threads
from ._registry import Activation

BACKENDS = ("c", "numpy")
_backend: contextvars.ContextVar[str] = contextvars.ContextVar("fastact_backend", default="c")

try:  # the reference backend works even when the extension failed to build
    from . import _ext
    _KERNEL_ID = {name: i for i, name in enumerate(_ext.unary_kernel_names())}
except ImportError as exc:  # pragma: no cover - exercised only on broken installs
    _ext = None
    _KERNEL_ID = {}
    _EXT_ERROR = exc


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Context manager: make `name` ("c" or "numpy") the default backend."""
    name = _check_backend(name)
    token = _backend.set(name)
    try:
        yield
    finally:
        _backend.reset(token)


def _check_backend(backend: Any) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    return backend


# ------------------------------------------------------------------ dtypes

def _work_dtype(dt: np.dtype, argname: str) -> Tuple[np.dtype, np.dtype]:
    """(dtype the kernel computes in, dtype of the result) for input dtype dt."""
    if dt.kind == "f":
        if dt == np.float32 or dt == np.float64:
            return dt, dt
        if dt == np.float16:
            return np.dtype(np.float32), dt
        raise TypeError(f"{argname} has dtype {dt}, which fastact does not support; "
                        f"cast it to float64 or float32")
    if dt.kind in "biu":
        return np.dtype(np.float64), np.dtype(np.float64)
    raise TypeError(f"{argname} must be a real floating-point, integer or bool array; got dtype {dt}")


def as_input(x: Any, argname: str = "x") -> Tuple[np.ndarray, np.dtype, np.dtype]:
    """Array view of x, its compute dtype and its result dtype."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{argname} could not be converted to an array: {exc}") from None
    work, res = _work_dtype(arr.dtype, argname)
    if not arr.flags.aligned:  # the C kernels take float*/double*: misaligned data is UB
        arr = arr.copy()
    return arr, work, res


def check_out(out: Any, shape: Tuple[int, ...], dtype: np.dtype, argname: str = "out") -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{argname} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{argname} has dtype {out.dtype} but the result has dtype {dtype}")
    if out.shape != shape:
        raise ValueError(f"{argname} has shape {out.shape} but the result has shape {shape}")
    if not out.flags.writeable:
        raise ValueError(f"{argname} is read-only")
    return out


def _contig_order(a: np.ndarray) -> Optional[str]:
    if not a.flags.aligned:  # never handed to a kernel (e.g. a misaligned `out`)
        return None
    if a.flags.c_contiguous:
        return "C"
    if a.flags.f_contiguous:
        return "F"
    return None


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides and a.shape == b.shape)


def _finish(y: np.ndarray, res_dtype: np.dtype, out: Optional[np.ndarray], scalar: bool):
    """Deliver the computed array: into `out` (cast/strided copy) or as the
    result; 0-d results without `out` become NumPy scalars (as ufuncs do)."""
    if out is not None:
        if y is not out:
            np.copyto(out, y, casting="unsafe")
        return out
    if y.dtype != res_dtype:
        y = y.astype(res_dtype)
    return y[()] if scalar else y


def _direct_target(work: np.ndarray, out: Optional[np.ndarray], order: Optional[str]) -> Optional[np.ndarray]:
    """`out` if the kernel can write into it directly: same dtype, same
    contiguous layout as the input, and identical or disjoint memory."""
    if out is None or order is None or out.dtype != work.dtype or _contig_order(out) != order:
        return None
    if _same_memory(work, out) or not np.may_share_memory(work, out):
        return out
    return None


# ------------------------------------------------------------------ calls

def _params(entry: Activation, values: Tuple[Any, ...]) -> Dict[str, Any]:
    p = {}
    for spec, v in zip(entry.params, values):
        p[spec.name] = v if spec.kind in ("array", "axis") else spec.convert(entry.name, v)
    if entry.check is not None:
        msg = entry.check(p)
        if msg:
            raise ValueError(f"{entry.name}(): {msg}")
    return p


def _same_shape_buffers(arr: np.ndarray, work_dt: np.dtype, out: Optional[np.ndarray]):
    """The kernel's buffers for a result of the input's shape: the input in
    the compute dtype, contiguous (C or F as it comes; copied to C only if it
    is neither), and `out` itself where the kernel may write there directly,
    else a new array laid out like the input."""
    work = arr if arr.dtype == work_dt else arr.astype(work_dt)
    order = _contig_order(work)
    if order is None:
        work = np.ascontiguousarray(work)
        order = "C"
    y = _direct_target(work, out, order)
    if y is None:
        y = np.empty_like(work, order=order)
    return work, y, order


def _elementwise(entry: Activation, x: Any, params: Dict[str, Any], out: Any, backend: str):
    arr, work_dt, res_dt = as_input(x)
    if out is not None:
        out = check_out(out, arr.shape, res_dt)
    work, y, order = _same_shape_buffers(arr, work_dt, out)
    if backend == "c":
        kname, kparams = entry.kernel_call(params)
        _ext.unary(_KERNEL_ID[kname], work, y, *kparams, nthreads=_ext.effective_threads(),
                   min_chunk=entry.min_chunk)
    else:
        with np.errstate(all="ignore"):  # overflow to inf etc. is the right answer here
            ref = entry.reference(work.astype(np.float64), **_ref_params(entry, params))
            y[...] = ref
    return _finish(y, res_dt, out, arr.ndim == 0)


def _ref_params(entry: Activation, params: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in params.items() if k in {p.name for p in entry.params}}


def _axis(func: str, axis: Any, ndim: int, argname: str = "axis") -> int:
    if type(axis) is not int:  # the common case skips the general conversion (per-call cost)
        axis = _registry.Param(argname, 0, kind="axis").convert(func, axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{func}(): {argname} {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def _prelu(entry: Activation, x: Any, params: Dict[str, Any], out: Any, backend: str):
    arr, work_dt, res_dt = as_input(x)
    w = params["weight"]
    try:
        w = np.asarray(w)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"prelu(): weight could not be converted to an array: {exc}") from None
    if w.dtype.kind not in "biuf":
        raise TypeError(f"prelu(): weight must be a real number or a 1-D array of real numbers; got dtype {w.dtype}")
    if w.ndim > 1:
        raise ValueError(f"prelu(): weight must be a scalar or 1-D, got shape {w.shape}")
    w = w.astype(np.float64).ravel()
    if w.size == 0:
        raise ValueError("prelu(): weight must not be empty")
    if not np.all(np.isfinite(w)):
        raise ValueError("prelu(): weight must be finite")
    if w.size == 1:  # one slope: exactly a leaky ReLU
        _registry.Param("axis", 1, kind="axis").convert("prelu", params["axis"])
        leaky = _registry.REGISTRY["leaky_relu"]
        return _elementwise(leaky, arr, {"negative_slope": float(w[0])}, out, backend)
    if arr.ndim == 0:
        raise ValueError(f"prelu(): a weight of length {w.size} needs an input with a channel axis; x is 0-d")
    axis = _axis("prelu", params["axis"], arr.ndim)
    if arr.shape[axis] != w.size:
        raise ValueError(f"prelu(): weight has {w.size} entries but x has {arr.shape[axis]} channels along axis {axis}")
    if out is not None:
        out = check_out(out, arr.shape, res_dt)
    work = np.ascontiguousarray(arr if arr.dtype == work_dt else arr.astype(work_dt))
    y = _direct_target(work, out, "C")
    if y is None:
        y = np.empty_like(work, order="C")
    if backend == "c":
        outer = math.prod(work.shape[:axis])
        inner = math.prod(work.shape[axis + 1:])
        _ext.per_channel(_KERNEL_ID["leaky_relu"], work, y, w, outer, w.size, inner,
                         nthreads=_threads.get_num_threads(), min_chunk=entry.min_chunk)
    else:
        shape = [1] * work.ndim
        shape[axis] = w.size
        y[...] = entry.reference(work.astype(np.float64), w.reshape(shape))
    return _finish(y, res_dt, out, False)


def _maxout(entry: Activation, x: Any, params: Dict[str, Any], out: Any, backend: str):
    arr, work_dt, res_dt = as_input(x)
    pool = params["pool_size"]
    if arr.ndim == 0:
        raise ValueError("maxout(): x must have at least one dimension")
    axis = _axis("maxout", params["axis"], arr.ndim)
    n = arr.shape[axis]
    if n % pool:
        raise ValueError(f"maxout(): pool_size {pool} does not divide the length {n} of axis {axis}")
    oshape = arr.shape[:axis] + (n // pool,) + arr.shape[axis + 1:]
    if out is not None:
        out = check_out(out, oshape, res_dt)
    work = np.ascontiguousarray(arr if arr.dtype == work_dt else arr.astype(work_dt))
    y = None
    if out is not None and out.dtype == work.dtype and out.flags.c_contiguous \
            and out.flags.aligned and not np.may_share_memory(work, out):
        y = out
    if y is None:
        y = np.empty(oshape, dtype=work.dtype)
    if backend == "c":
        outer = math.prod(work.shape[:axis])
        inner = math.prod(work.shape[axis + 1:])
        _ext.maxout(work, y, outer, n // pool, pool, inner,
                    nthreads=_threads.get_num_threads(), min_chunk=entry.min_chunk)
    else:
        y[...] = entry.reference(work, pool, axis)
    return _finish(y, res_dt, out, False)


_ROWWISE_OP = {"softmax": 0, "log_softmax": 1, "softmin": 2}


def _rowwise(entry: Activation, x: Any, params: Dict[str, Any], out: Any, backend: str):
    """softmax family: a reduction along `axis`, same shape out.  C- or
    F-contiguous input is used in place (an F array is the C-contiguous
    transpose, reduced along the mirrored axis); anything else is copied to
    C order.  A non-last axis runs as (outer, n, inner) with vectors along
    the contiguous inner dimension -- never a transpose-and-copy."""
    arr, work_dt, res_dt = as_input(x)
    axis = _axis(entry.name, params["axis"], arr.ndim)
    if out is not None:
        out = check_out(out, arr.shape, res_dt)
    work, y, order = _same_shape_buffers(arr, work_dt, out)
    if backend == "c":
        wc, yc, ax = (work, y, axis) if order == "C" else (work.T, y.T, work.ndim - 1 - axis)
        outer = math.prod(wc.shape[:ax])
        inner = math.prod(wc.shape[ax + 1:])
        _ext.softmax(_ROWWISE_OP[entry.name], wc, yc, outer, wc.shape[ax], inner,
                     nthreads=_threads.get_num_threads(), min_chunk=entry.min_chunk)
    else:
        y[...] = entry.reference(work.astype(np.float64), axis=axis)
    return _finish(y, res_dt, out, False)


_RUNNERS = {"unary": _elementwise, "prelu": _prelu, "maxout": _maxout, "rowwise": _rowwise}


def call(entry: Activation, x: Any, values: Tuple[Any, ...], out: Any, backend: Optional[str]):
    backend = _backend.get() if backend is None else _check_backend(backend)
    if backend == "c" and _ext is None:  # pragma: no cover
        raise ImportError(f"fastact's compiled extension is not available ({_EXT_ERROR}); "
                          f"use backend='numpy'")
    params = _params(entry, values)
    if type(x) is not np.ndarray and type(x).__module__.startswith("dask"):  # issue 8
        from . import _dask
        if _dask.is_dask_array(x):
            return _dask.call(entry, x, params, values, out, backend)
    return _RUNNERS[entry.kind](entry, x, params, out, backend)


# ------------------------------------------------------------------ codegen

def _docstring(entry: Activation) -> str:
    lines = [entry.summary, "", f"    f(x) = {entry.formula}", f"    f'(x) = {entry.derivative}", ""]
    lines += ["Parameters", "----------", "x : array_like",
              "    Input. float32 and float64 are computed natively; float16 via float32;",
              "    integers and bools give float64 (as NumPy ufuncs do)."]
    for p in entry.params:
        lines += [f"{p.name} : {p.kind}, default {p.default!r}"]
    lines += ["out : ndarray, optional",
              "    Where to write the result (same shape and dtype as the result; may be x).",
              "backend : {'c', 'numpy'}, optional",
              "    'c' (default) runs the compiled kernels; 'numpy' the pure-NumPy reference.",
              "", "Returns", "-------", "ndarray (a NumPy scalar for scalar input)"]
    if entry.special:
        lines += ["", "Special values", "--------------", entry.special]
    return "\n".join(lines)


_CACHE_TYPES = {"float": (float, int), "choice": (str,)}


def _zero_signs(vals: Tuple[Any, ...]) -> Optional[Tuple[float, ...]]:
    """Signs of the numbers in vals if any is zero, else None: -0.0 == 0 ==
    0.0, but e.g. hardtanh(min_val=-0.0) gives other zeros than min_val=0."""
    if not any(type(v) is not str and v == 0 for v in vals):
        return None
    return tuple(1.0 if type(v) is str else math.copysign(1.0, float(v)) for v in vals)


def _param_cache(entry: Activation):
    """(cell, remember) for the fast path's one-entry parameter cache.

    cell[0] = (values, kernel id, fa_params tuple, zero signs) for the last
    parameter tuple that passed validation.  A call whose parameters equal it
    by value, with types validation treats alike (float or int for floats,
    str for choices; bool, NaN and other types never match) and the same
    signed zeros, would validate to the same kernel arguments, so it skips
    straight to the C fast path.  remember(values) validates new values
    exactly as _call does and, if they pass, replaces the entry (one
    assignment: a racing thread sees the old or the new entry, both valid);
    invalid values return None and take _call, which raises."""
    cell = [((object(),), 0, (0.0,) * 4, None)]
    kinds = [_CACHE_TYPES[p.kind] for p in entry.params]

    def remember(vals):
        if not all(type(v) in k for v, k in zip(vals, kinds)):
            return None
        try:
            params = _params(entry, vals)
        except (TypeError, ValueError):
            return None
        kname, kparams = entry.kernel_call(params)
        e = (vals, _KERNEL_ID[kname], tuple(kparams) + (0.0,) * (4 - len(kparams)),
             _zero_signs(vals))
        cell[0] = e
        return e

    return cell, remember


def _fast_head(entry: Activation, ns: Dict[str, Any], calls: List[str], guard: str = "") -> str:
    """Source of a public function's fast path (its first lines).  `calls`
    are statements (4-space indented) that compute r from the kernel id
    `kid` and fa_params `kp` (a tuple of 4) -- each ends the call when r is
    not NotImplemented.  Default parameters (checked by identity) use the
    kernel arguments precomputed here; other values go through a one-entry
    cache of the last validated parameter tuple (_param_cache), so repeated
    calls with the same non-default parameters are fast too.  `guard`: more
    conditions (" and ...") for taking the fast path at all."""
    kname, kparams = entry.kernel_call({p.name: p.default for p in entry.params})
    ns.update(_backend_get=_backend.get, _kid=_KERNEL_ID[kname],
              _kp=tuple(kparams) + (0.0,) * (4 - len(kparams)), _mc=entry.min_chunk)
    run = "".join(f"    {c}\n    if r is not NotImplemented:\n        return r\n" for c in calls)

    def indent(src: str, n: int) -> str:
        return "".join(" " * n + line + "\n" for line in src.splitlines())

    defaults = "".join(f" and {p.name} is {p.name}_default" for p in entry.params)
    head = f"    if backend is None{guard} and _backend_get() == 'c':\n"
    if entry.params and all(p.kind in _CACHE_TYPES for p in entry.params):
        cell, remember = _param_cache(entry)
        ns.update(_cell=cell, _remember=remember, _zero_signs=_zero_signs,
                  **{f"_t{i}": _CACHE_TYPES[p.kind] for i, p in enumerate(entry.params)})
        names = ", ".join(p.name for p in entry.params)
        vals = f"({names},)"
        types = " and ".join(f"type({p.name}) in _t{i}" for i, p in enumerate(entry.params))
        return (head + f"        if {defaults[5:]}:\n"
                f"            kid, kp = _kid, _kp\n"
                f"        else:\n"
                f"            e = _cell[0]\n"
                f"            if not ({types} and {vals} == e[0]\n"
                f"                    and (e[3] is None or _zero_signs({vals}) == e[3])):\n"
                f"                e = _remember({vals})\n"
                f"            kid, kp = (e[1], e[2]) if e is not None else (-1, None)\n"
                f"        if kid >= 0:\n" + indent(run, 8))
    if defaults:
        head = f"    if backend is None{defaults}{guard} and _backend_get() == 'c':\n"
    return head + "        kid, kp = _kid, _kp\n" + indent(run, 4)


def _fast_call_src(call: str) -> str:
    """The head of a public function whose fast path is one _ext call
    (`call`, which computes r): taken with the C backend, falling through
    to the general path when the call returns NotImplemented."""
    return ("    if backend is None and _backend_get() == 'c':\n"
            f"        r = {call}\n"
            "        if r is not NotImplemented:\n"
            "            return r\n")


def make_function(entry: Activation, module: str, backend: Optional[str] = None):
    """Build the public function for `entry` with a real signature."""
    sig = ", ".join(f"{p.name}={p.name}_default" if p.kind != "array" else p.name
                    for p in entry.params)
    if entry.kind == "prelu":  # weight is required
        sig = "weight, axis=axis_default"
    names = ", ".join(p.name for p in entry.params)
    body = f"    return _call(_entry, x, ({names}{',' if names else ''}), out, backend)\n"
    ns: Dict[str, Any] = {"_call": call, "_entry": entry}
    if entry.kind == "unary" and backend is None and _ext is not None:
        # Fast path (see _ext.fast_unary and _fast_head)
        ns.update(_fast=_ext.fast_unary)
        body = _fast_head(entry, ns, ["r = _fast(kid, x, out, *kp, _mc)"]) + body
    if entry.kind == "prelu" and backend is None and _ext is not None:
        # Fast path (see _ext.fast_prelu): a float or 1-D float64 weight, int axis
        ns.update(_fastp=_ext.fast_prelu, _backend_get=_backend.get,
                  _kid=_KERNEL_ID["leaky_relu"], _mc=entry.min_chunk)
        body = _fast_call_src("_fastp(_kid, x, out, weight, axis, _mc)") + body
    if entry.kind == "maxout" and backend is None and _ext is not None:
        # Fast path (see _ext.fast_maxout): int pool_size and axis
        ns.update(_fastm=_ext.fast_maxout, _backend_get=_backend.get, _mc=entry.min_chunk)
        body = _fast_call_src("_fastm(x, out, pool_size, axis, _mc)") + body
    if entry.kind == "rowwise" and backend is None and _ext is not None:
        # Fast path (see _ext.fast_rowwise): C-contiguous input, int axis.
        ns.update(_fastrow=_ext.fast_rowwise, _backend_get=_backend.get,
                  _op=_ROWWISE_OP[entry.name], _mc=entry.min_chunk)
        body = _fast_call_src("_fastrow(_op, x, out, axis, _mc)") + body
    src = f"def {entry.name}(x{', ' + sig if sig else ''}, *, out=None, backend={backend!r}):\n" + body
    ns.update({f"{p.name}_default": p.default for p in entry.params})
    exec(compile(src, f"<fastact.{entry.name}>", "exec"), ns)
    fn = ns[entry.name]
    fn.__doc__ = _docstring(entry)
    fn.__module__ = module
    fn.__qualname__ = entry.name
    fn.__source__ = src
    return fn


def build_functions(module: str, backend: Optional[str] = None) -> Dict[str, Any]:
    return {name: make_function(e, module, backend) for name, e in _registry.REGISTRY.items()}


# ------------------------------------------------------------------ gradients
# Issue 4.  Generated from the registry like the forward functions:
#   <name>_backward(grad_output, x, <params>, *, y=None, out=None, backend=None)
#       = grad_output * f'(x)            (one fused kernel call)
#   <name>_grad(x, <params>, *, out=None, backend=None) = f'(x)
#   derivative(name, x, *, out=None, backend=None, **params) = f'(x)
# grad_output and x must have the same shape (no broadcasting); the result
# dtype follows the forward rule applied to both (float32/float64 native,
# float16 via float32, integers/bools -> float64, mixed -> promoted).
# `y` (the forward output) selects the cheaper output-based kernel for the
# activations in FA_FROM_Y_LIST (their _refmath.dy_<kernel> exists); x may
# then be None.  Other kinds: prelu_backward returns (grad_x, grad_weight)
# (grad_x by the leaky_relu gradient kernels with per-channel slopes,
# grad_weight summed in float64 by NumPy in bounded blocks); maxout_backward routes
# grad_output to the first maximum of each group (_ext.maxout_backward;
# the NumPy backend: _refmath.maxout_mask).
# The softmax family (kind "rowwise") has a Jacobian, not a derivative per
# element, so it gets only <name>_backward(grad_output, y, axis=-1, *,
# out=None, backend=None) from the forward output y (the registry's `vjp`
# formula; one fused C kernel, _ext.softmax_backward) and no <name>_grad.

from . import _refmath  # noqa: E402  (gradients only)

try:
    _FROMY_ID = {name: i for i, name in enumerate(_ext.fromy_kernel_names())} if _ext else {}
except AttributeError:  # pragma: no cover - an extension built before issue 4
    _FROMY_ID = {}

GRAD_KINDS = ("unary", "prelu", "maxout")       # <name>_backward and <name>_grad
BACKWARD_KINDS = GRAD_KINDS + ("rowwise",)     # <name>_backward
# Parameters whose gradient <name>_backward can also return (`<param>_grad=True`).
PARAM_GRADS = {"swish": ("beta",)}


def _has_from_y(kname: str) -> bool:
    return hasattr(_refmath, "dy_" + kname)


def _grad_params(entry: Activation, values: Tuple[Any, ...], fname: str) -> Dict[str, Any]:
    p = {}
    for spec, v in zip(entry.params, values):
        p[spec.name] = v if spec.kind in ("array", "axis") else spec.convert(fname, v)
    if entry.check is not None:
        msg = entry.check(p)
        if msg:
            raise ValueError(f"{fname}(): {msg}")
    return p


def _pair(fname: str, g: Any, x: Any, xname: str):
    """Arrays for grad_output and x (or y), their common compute and result
    dtypes; shapes must be equal."""
    ga, _, gres = as_input(g, f"{fname}(): grad_output")
    xa, _, xres = as_input(x, f"{fname}(): {xname}")
    if ga.shape != xa.shape:
        raise ValueError(f"{fname}(): grad_output has shape {ga.shape} but {xname} has shape "
                         f"{xa.shape}; they must be equal (no broadcasting)")
    res = np.promote_types(gres, xres)
    work, res = _work_dtype(res, f"{fname}(): grad_output")
    return ga, xa, work, res


def _lay_out(work_dt: np.dtype, *arrays: np.ndarray) -> Tuple[Tuple[np.ndarray, ...], str]:
    """Cast to work_dt and bring all arrays into one contiguous order
    (theirs if they already share one, else C)."""
    arrs = [a if a.dtype == work_dt else a.astype(work_dt) for a in arrays]
    orders = {_contig_order(a) for a in arrs}
    if len(orders) == 1 and None not in orders:
        return tuple(arrs), orders.pop()
    return tuple(np.ascontiguousarray(a) for a in arrs), "C"


def _direct_target2(arrs: Tuple[np.ndarray, ...], out: Optional[np.ndarray], order: str):
    """`out` if every kernel input is identical to it or disjoint from it."""
    if out is None or out.dtype != arrs[0].dtype or _contig_order(out) != order:
        return None
    for a in arrs:
        if not (_same_memory(a, out) or not np.may_share_memory(a, out)):
            return None
    return out


def _threads_now() -> int:
    return _threads.get_num_threads()


def _unary_backward(entry: Activation, fname: str, g: Any, x: Any, yf: Any,
                    params: Dict[str, Any], out: Any, backend: str):
    kname, kparams = entry.kernel_call(params)
    from_y = yf is not None and _has_from_y(kname)
    if from_y and kname == "elu" and params["alpha"] < 0:
        # x <= 0 <=> y <= 0 only holds for alpha >= 0 (PyTorch has the same rule).
        if x is None:
            raise ValueError(f"{fname}(): the output-based gradient (y=) needs alpha >= 0, "
                             f"got alpha={params['alpha']}; pass x")
        from_y = False
    if x is None and not from_y:
        if yf is None:
            raise TypeError(f"{fname}(): x is required (or y, the forward output, for "
                            f"{sorted(k for k in _FROMY_ID) or 'the output-based kernels'})")
        raise TypeError(f"{fname}(): x is required: {entry.name} has no output-based gradient "
                        f"(y= works for {sorted(_FROMY_ID)})")
    if from_y:
        ga, xa, work_dt, res_dt = _pair(fname, g, yf, "y")
    else:
        ga, xa, work_dt, res_dt = _pair(fname, g, x, "x")
        if yf is not None:  # accepted and ignored, but it must fit
            _pair(fname, g, yf, "y")
    if out is not None:
        out = check_out(out, xa.shape, res_dt, f"{fname}(): out")
    (gw, xw), order = _lay_out(work_dt, ga, xa)
    res = _direct_target2((gw, xw), out, order)
    if res is None:
        res = np.empty_like(xw, order=order)
    if backend == "c":
        if from_y:
            _ext.binary(_FROMY_ID[kname], 1, gw, xw, res, *kparams,
                        nthreads=_threads_now(), min_chunk=entry.min_chunk)
        else:
            _ext.binary(_KERNEL_ID[kname], 0, gw, xw, res, *kparams,
                        nthreads=_threads_now(), min_chunk=entry.min_chunk)
    else:
        with np.errstate(all="ignore"):
            if from_y:
                d = getattr(_refmath, "dy_" + kname)(xw.astype(np.float64), *kparams)
            else:
                d = getattr(_refmath, "d_" + entry.name)(xw.astype(np.float64),
                                                          **_ref_params(entry, params))
            res[...] = gw.astype(np.float64) * d
    return _finish(res, res_dt, out, xa.ndim == 0)


def _unary_grad(entry: Activation, fname: str, x: Any, params: Dict[str, Any], out: Any, backend: str):
    arr, work_dt, res_dt = as_input(x, f"{fname}(): x")
    if out is not None:
        out = check_out(out, arr.shape, res_dt, f"{fname}(): out")
    (work,), order = _lay_out(work_dt, arr)
    y = _direct_target(work, out, order)
    if y is None:
        y = np.empty_like(work, order=order)
    if backend == "c":
        kname, kparams = entry.kernel_call(params)
        _ext.derivative(_KERNEL_ID[kname], work, y, *kparams, nthreads=_threads_now(),
                        min_chunk=entry.min_chunk)
    else:
        with np.errstate(all="ignore"):
            y[...] = getattr(_refmath, "d_" + entry.name)(work.astype(np.float64),
                                                           **_ref_params(entry, params))
    return _finish(y, res_dt, out, arr.ndim == 0)


# ------------------------------------------------------------------ parameter gradients
# grad_weight (prelu) and d/dbeta (swish) are reductions over the whole
# input.  Both backends compute them with the same NumPy code, in float64,
# one bounded block at a time (issue 9: no whole-array float64 temporaries):
# at most _BLOCK elements are widened into preallocated float64 scratch, each
# block is reduced by NumPy, and the block results are added in block order.
# Block boundaries depend only on the shape, so the result is bitwise
# reproducible -- the same for any thread count and any memory layout of the
# inputs, and the same in both backends.

_BLOCK = 32768   # elements: 3 float64 scratch blocks + a bool block < 1 MiB


def _c_blocks(a: np.ndarray, block: int = _BLOCK) -> Iterator[np.ndarray]:
    """Views of `a` that tile it in C order, each of at most `block`
    elements (or a single element), cut along leading axes only, at places
    that depend only on a.shape."""
    if a.size == 0:
        return
    if a.size <= block:
        yield a
        return
    per = a.size // a.shape[0]
    if per <= block:
        k = block // per
        for i in range(0, a.shape[0], k):
            yield a[i:i + k]
    else:
        for i in range(a.shape[0]):
            yield from _c_blocks(a[i], block)


def _widen(buf: np.ndarray, piece: np.ndarray) -> np.ndarray:
    """piece's values in float64, in the first piece.size entries of buf
    (returned with piece's shape; C order whatever piece's layout)."""
    v = buf[:piece.size].reshape(piece.shape)
    with np.errstate(invalid="ignore"):     # a signalling NaN widens to a quiet one, silently
        np.copyto(v, piece, casting="unsafe")
    return v


def _prelu_weight_grad(g: np.ndarray, x: np.ndarray, outer: int, channels: int,
                       inner: int, use_c: bool = False) -> np.ndarray:
    """grad_weight[c] = sum of g * x over x <= 0 (or NaN) in channel c of the
    C-contiguous (outer, channels, inner) arrays g, x; float64, summed in
    blocks of at most _BLOCK elements: whole (k, channels, inner) slabs, else
    runs of channels of one outer index, else runs within one channel row.
    use_c: each block's terms from _ext.prelu_contrib (one pass; the same
    bits as the NumPy expression below, so the same sums)."""
    gw = np.zeros(channels)
    if outer * channels * inner == 0:
        return gw
    g3 = g.reshape(outer, channels, inner)
    x3 = x.reshape(outer, channels, inner)
    n = min(_BLOCK, g3.size)
    gb = np.empty(n)
    xb, zb = (None, None) if use_c else (np.empty(n), np.empty(n, dtype=bool))

    def contrib(gp, xp):
        if use_c:
            return _ext.prelu_contrib(gp, xp, gb[:gp.size]).reshape(gp.shape)
        # where(x > 0, 0, g * x) in float64, in gb, without a masked store
        # (slow on a random mask): AND the product's bits with 0 where x > 0
        # (giving +0.0, as np.where) and with all ones elsewhere.
        m = gp.size
        gf, xf, keep, z = gb[:m], xb[:m], xb[:m].view(np.int64), zb[:m]
        _widen(gf, gp)
        _widen(xf, xp)
        with np.errstate(all="ignore"):
            np.greater(xf, 0.0, out=z)
            np.multiply(gf, xf, out=gf)
        np.copyto(keep, z)                 # xf is no longer needed
        np.subtract(keep, 1, out=keep)     # x > 0: 0, else -1 (all bits set)
        np.bitwise_and(gf.view(np.int64), keep, out=gf.view(np.int64))
        return gf.reshape(gp.shape)

    if channels * inner <= _BLOCK:
        k = _BLOCK // (channels * inner)
        for o in range(0, outer, k):
            gw += np.sum(contrib(g3[o:o + k], x3[o:o + k]), axis=(0, 2))
    elif inner <= _BLOCK:
        m = _BLOCK // inner
        for o in range(outer):
            for c in range(0, channels, m):
                gw[c:c + m] += np.sum(contrib(g3[o, c:c + m], x3[o, c:c + m]), axis=1)
    else:
        for o in range(outer):
            for c in range(channels):
                for i in range(0, inner, _BLOCK):
                    gw[c] += np.sum(contrib(g3[o, c, i:i + _BLOCK], x3[o, c, i:i + _BLOCK]))
    return gw


def _prelu_weight(fname: str, weight: Any) -> Tuple[np.ndarray, Tuple[int, ...]]:
    try:
        w = np.asarray(weight)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{fname}(): weight could not be converted to an array: {exc}") from None
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{fname}(): weight must be a real number or a 1-D array of real numbers; "
                        f"got dtype {w.dtype}")
    if w.ndim > 1:
        raise ValueError(f"{fname}(): weight must be a scalar or 1-D, got shape {w.shape}")
    shape = w.shape
    w = w.astype(np.float64).ravel()
    if w.size == 0:
        raise ValueError(f"{fname}(): weight must not be empty")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{fname}(): weight must be finite")
    return w, shape


def _prelu_slopes(fname: str, w: np.ndarray, ndim: int, shape: Tuple[int, ...], axis: Any):
    """(slopes broadcastable against x, channel axis or None)."""
    if w.size == 1:
        _registry.Param("axis", 1, kind="axis").convert(fname, axis)
        return w[0], None
    if ndim == 0:
        raise ValueError(f"{fname}(): a weight of length {w.size} needs an input with a channel axis; x is 0-d")
    ax = _axis(fname, axis, ndim)
    if shape[ax] != w.size:
        raise ValueError(f"{fname}(): weight has {w.size} entries but x has {shape[ax]} channels along axis {ax}")
    bshape = [1] * ndim
    bshape[ax] = w.size
    return w.reshape(bshape), ax


def _prelu_kernel_grad(entry, g, work, w, ax, slopes, backend):
    """grad_x (g given) or f'(x) (g None) for C-contiguous work arrays, in
    work's dtype: the leaky_relu gradient kernels with one slope per channel
    (backend "c"), or the float64 reference rounded once."""
    y = np.empty_like(work, order="C")
    if backend == "c":
        kid = _KERNEL_ID["leaky_relu"]
        if ax is None:
            if g is None:
                _ext.derivative(kid, work, y, float(slopes), nthreads=_threads_now(),
                                min_chunk=entry.min_chunk)
            else:
                _ext.binary(kid, 0, g, work, y, float(slopes), nthreads=_threads_now(),
                            min_chunk=entry.min_chunk)
        else:
            outer = math.prod(work.shape[:ax])
            inner = math.prod(work.shape[ax + 1:])
            _ext.per_channel_grad(kid, g, work, y, w, outer, w.size, inner,
                                  nthreads=_threads_now(), min_chunk=entry.min_chunk)
    else:
        with np.errstate(all="ignore"):
            d = _refmath.d_prelu(work.astype(np.float64), slopes)
            y[...] = d if g is None else g.astype(np.float64) * d
    return y


def _prelu_backward(entry, fname, g, x, weight, axis, out, backend):
    ga, xa, work_dt, res_dt = _pair(fname, g, x, "x")
    w, wshape = _prelu_weight(fname, weight)
    slopes, ax = _prelu_slopes(fname, w, xa.ndim, xa.shape, axis)
    if out is not None:
        out = check_out(out, xa.shape, res_dt, f"{fname}(): out")
    # .reshape: np.ascontiguousarray turns a 0-d array into shape (1,)
    gw_, xw_ = (np.ascontiguousarray(a.astype(work_dt, copy=False)).reshape(xa.shape) for a in (ga, xa))
    gx = _prelu_kernel_grad(entry, gw_, xw_, w, ax, slopes, backend)
    use_c = backend == "c" and _ext is not None
    if ax is None:
        gw = _prelu_weight_grad(gw_, xw_, 1, 1, xw_.size, use_c)[0]
        gw = np.float64(gw) if wshape == () else np.full(wshape, gw)
    else:
        outer = math.prod(xw_.shape[:ax])
        inner = math.prod(xw_.shape[ax + 1:])
        gw = _prelu_weight_grad(gw_, xw_, outer, w.size, inner, use_c)
    return _finish(gx, res_dt, out, xa.ndim == 0), gw


def _fast_prelu_backward(kid: int, g: Any, x: Any, out: Any, weight: Any, axis: Any,
                         min_chunk: int) -> Any:
    """prelu_backward's fast path: g and x aligned C-contiguous float32 or
    float64 ndarrays of one dtype and shape (at least 1-D), no `out`, and a
    finite Python float weight or a 1-D float32/float64 ndarray of >= 2
    finite slopes along an int axis in range.  The same kernels and the
    same blocked float64 sums as _prelu_backward (so the same bits),
    without its conversions and checks (~20 us of a 64x64 call: 0.49x
    torch's); anything else returns NotImplemented."""
    if out is not None or type(g) is not np.ndarray or type(x) is not np.ndarray \
            or type(axis) is not int:
        return NotImplemented
    dt = x.dtype
    if (dt != np.float32 and dt != np.float64) or g.dtype != dt or g.shape != x.shape or x.ndim == 0 \
            or not (x.flags.c_contiguous and g.flags.c_contiguous and x.flags.aligned and g.flags.aligned):
        return NotImplemented
    y = np.empty(x.shape, dtype=dt)
    if type(weight) is float:
        if not math.isfinite(weight):
            return NotImplemented
        _ext.binary(kid, 0, g, x, y, weight, nthreads=_threads_now(), min_chunk=min_chunk)
        return y, np.float64(_prelu_weight_grad(g, x, 1, 1, x.size, True)[0])
    if type(weight) is not np.ndarray or (weight.dtype != np.float64 and weight.dtype != np.float32) \
            or weight.ndim != 1 or weight.size < 2:
        return NotImplemented
    weight = np.ascontiguousarray(weight, dtype=np.float64)    # (the general path's float64 slopes)
    nd = x.ndim
    if not -nd <= axis < nd or x.shape[axis] != weight.size or not np.isfinite(weight).all():
        return NotImplemented
    ax = axis % nd
    outer = math.prod(x.shape[:ax])
    inner = math.prod(x.shape[ax + 1:])
    _ext.per_channel_grad(kid, g, x, y, weight, outer, weight.size, inner,
                          nthreads=_threads_now(), min_chunk=min_chunk)
    return y, _prelu_weight_grad(g, x, outer, weight.size, inner, True)


def _prelu_grad(entry, fname, x, weight, axis, out, backend):
    arr, work_dt, res_dt = as_input(x, f"{fname}(): x")
    w, _ = _prelu_weight(fname, weight)
    slopes, ax = _prelu_slopes(fname, w, arr.ndim, arr.shape, axis)
    if out is not None:
        out = check_out(out, arr.shape, res_dt, f"{fname}(): out")
    work = np.ascontiguousarray(arr.astype(work_dt, copy=False)).reshape(arr.shape)  # keep 0-d
    d = _prelu_kernel_grad(entry, None, work, w, ax, slopes, backend)
    return _finish(d, res_dt, out, arr.ndim == 0)


def _maxout_geometry(fname: str, shape: Tuple[int, ...], pool: int, axis: Any):
    if len(shape) == 0:
        raise ValueError(f"{fname}(): x must have at least one dimension")
    ax = _axis(fname, axis, len(shape))
    n = shape[ax]
    if n % pool:
        raise ValueError(f"{fname}(): pool_size {pool} does not divide the length {n} of axis {ax}")
    return ax, shape[:ax] + (n // pool,) + shape[ax + 1:]


def _maxout_backward(entry, fname, g, x, pool, axis, out, backend):
    ga, _, gres = as_input(g, f"{fname}(): grad_output")
    xa, xwork, xres = as_input(x, f"{fname}(): x")
    ax, oshape = _maxout_geometry(fname, xa.shape, pool, axis)
    if ga.shape != oshape:
        raise ValueError(f"{fname}(): grad_output has shape {ga.shape} but maxout's output "
                         f"has shape {oshape}")
    work_dt, res_dt = _work_dtype(np.promote_types(gres, xres), f"{fname}(): grad_output")
    if out is not None:
        out = check_out(out, xa.shape, res_dt, f"{fname}(): out")
    if backend == "c":  # one pass, no temporaries (issue 9); x keeps its own compute dtype
        xw = np.ascontiguousarray(xa.astype(xwork, copy=False))
        gw = np.ascontiguousarray(ga.astype(work_dt, copy=False))
        y = None
        if out is not None and out.dtype == work_dt and out.flags.c_contiguous and out.flags.aligned \
                and not np.may_share_memory(out, xw) and not np.may_share_memory(out, gw):
            y = out
        if y is None:
            y = np.empty(xa.shape, dtype=work_dt)
        outer = math.prod(xa.shape[:ax])
        inner = math.prod(xa.shape[ax + 1:])
        _ext.maxout_backward(xw, gw, y, outer, oshape[ax], pool, inner,
                             nthreads=_threads_now(), min_chunk=entry.min_chunk)
        return _finish(y, res_dt, out, False)
    mask = _refmath.maxout_mask(xa.astype(xwork), pool, ax) > 0
    grep = np.repeat(ga.astype(work_dt), pool, axis=ax)
    gx = np.where(mask, grep, np.zeros((), dtype=work_dt))  # not g * 0: g may be inf/NaN
    return _finish(gx, res_dt, out, False)


def _maxout_grad(entry, fname, x, pool, axis, out, backend):
    arr, work_dt, res_dt = as_input(x, f"{fname}(): x")
    ax, _ = _maxout_geometry(fname, arr.shape, pool, axis)
    if out is not None:
        out = check_out(out, arr.shape, res_dt, f"{fname}(): out")
    mask = _refmath.maxout_mask(arr.astype(work_dt), pool, ax)
    return _finish(mask.astype(work_dt), res_dt, out, False)


def _swish_beta_grad(g: Any, x: Any, beta: float) -> float:
    """d/dbeta sum(g * swish(x; beta)) = sum(g x^2 s (1 - s)), s = sigmoid(beta x),
    in float64: s (1 - s) as _refmath._dsig, terms where it underflows to 0
    are 0 (not inf * 0); NumPy sums each _c_blocks block, the block sums
    are added in order (deterministic, see _BLOCK)."""
    ga = np.asarray(g)
    xa = np.asarray(x)
    n = min(_BLOCK, xa.size)
    xb, tb, gb, zb = np.empty(n), np.empty(n), np.empty(n), np.empty(n, dtype=bool)
    total = 0.0
    for gp, xp in zip(_c_blocks(ga), _c_blocks(xa)):
        m = xp.size
        t, d, z = tb[:m], gb[:m], zb[:m]
        with np.errstate(all="ignore"):
            x64 = _widen(xb, xp).reshape(-1)
            np.multiply(x64, beta, out=t)     # _dsig(beta x): e = exp(-|beta x|),
            np.abs(t, out=t)
            np.negative(t, out=t)
            np.exp(t, out=t)
            np.add(t, 1.0, out=d)             # ds = e / ((1 + e) (1 + e))
            np.multiply(d, d, out=d)
            np.divide(t, d, out=t)
            np.equal(t, 0.0, out=z)
            g64 = _widen(gb, gp).reshape(-1)  # (d is free again)
            np.multiply(x64, x64, out=x64)    # g (x x) ds
            np.multiply(g64, x64, out=g64)
            np.multiply(g64, t, out=g64)
            if z.any():                       # rare: |beta x| > ~745
                np.copyto(g64, 0.0, where=z)
        total += float(np.sum(g64, dtype=np.float64))
    return total


def _resolve_backend(backend: Optional[str]) -> str:
    backend = _backend.get() if backend is None else _check_backend(backend)
    if backend == "c" and _ext is None:  # pragma: no cover
        raise ImportError(f"fastact's compiled extension is not available ({_EXT_ERROR}); "
                          f"use backend='numpy'")
    return backend


def _rowwise_backward(entry: Activation, fname: str, g: Any, yf: Any, axis: Any, out: Any,
                      backend: str):
    """softmax family backward from the forward output: the layout rules of
    the forward (_rowwise: C or F order used as it is, a non-last axis as
    (outer, n, inner) without a transpose) for the pair (g, y)."""
    ga, ya, work_dt, res_dt = _pair(fname, g, yf, "y")
    ax = _axis(fname, axis, ya.ndim)
    if out is not None:
        out = check_out(out, ya.shape, res_dt, f"{fname}(): out")
    (gw, yw), order = _lay_out(work_dt, ga, ya)
    res = _direct_target2((gw, yw), out, order)
    if res is None:
        res = np.empty_like(yw, order=order)
    if backend == "c":
        if order == "C":
            gc, yc, rc, a = gw, yw, res, ax
        else:  # an F array is the C-contiguous transpose
            gc, yc, rc, a = gw.T, yw.T, res.T, yw.ndim - 1 - ax
        outer = math.prod(yc.shape[:a])  # Python ints: a few us less than np.prod per call
        inner = math.prod(yc.shape[a + 1:])
        _ext.softmax_backward(_ROWWISE_OP[entry.name], gc, yc, rc, outer, yc.shape[a], inner,
                              nthreads=_threads_now(), min_chunk=entry.min_chunk)
    else:
        res[...] = getattr(_refmath, "vjp_" + entry.name)(gw.astype(np.float64),
                                                           yw.astype(np.float64), axis=ax)
    return _finish(res, res_dt, out, False)


def backward_call(entry: Activation, fname: str, g: Any, x: Any, values: Tuple[Any, ...],
                  y: Any, out: Any, backend: Optional[str], param_grads: Tuple[bool, ...] = ()):
    backend = _resolve_backend(backend)
    if entry.kind == "rowwise":
        return _rowwise_backward(entry, fname, g, y, values[0], out, backend)
    if entry.kind == "prelu":
        weight, axis = values
        return _prelu_backward(entry, fname, g, x, weight, axis, out, backend)
    if entry.kind == "maxout":
        pool = entry.params[0].convert(fname, values[0])
        return _maxout_backward(entry, fname, g, x, pool, values[1], out, backend)
    params = _grad_params(entry, values, fname)
    gx = _unary_backward(entry, fname, g, x, y, params, out, backend)
    if not any(param_grads):
        return gx
    extra = []
    for pname, want in zip(PARAM_GRADS.get(entry.name, ()), param_grads):
        if want:
            if x is None:
                raise TypeError(f"{fname}(): {pname}_grad=True needs x")
            _pair(fname, g, x, "x")
            extra.append(_swish_beta_grad(g, x, params[pname]))
    return (gx, *extra)


def grad_call(entry: Activation, fname: str, x: Any, values: Tuple[Any, ...], out: Any,
              backend: Optional[str]):
    backend = _resolve_backend(backend)
    if entry.kind == "prelu":
        return _prelu_grad(entry, fname, x, values[0], values[1], out, backend)
    if entry.kind == "maxout":
        pool = entry.params[0].convert(fname, values[0])
        return _maxout_grad(entry, fname, x, pool, values[1], out, backend)
    return _unary_grad(entry, fname, x, _grad_params(entry, values, fname), out, backend)


def _grad_doc(entry: Activation, what: str) -> str:
    if entry.kind == "rowwise":
        return "\n".join([
            f"Backward pass of {entry.name} from its output y: the vector-Jacobian product.", "",
            f"    f(x) = {entry.formula}", f"    J = {entry.derivative}",
            f"    grad_x = {entry.vjp}   (g = grad_output, y = {entry.name}(x, axis))", "",
            "grad_output and y must have the same shape; the result has y's shape.",
            "Each row's sum is formed in double (float32) or compensated (float64), by one",
            "thread in a fixed order: the result does not depend on the thread count."])
    head = {"backward": f"Backward pass of {entry.name}: grad_output * f'(x).",
            "grad": f"The derivative of {entry.name}: f'(x)."}[what]
    lines = [head, "", f"    f(x) = {entry.formula}", f"    f'(x) = {entry.derivative}", ""]
    lines += ["Conventions: NaN -> NaN; at the kinks PyTorch's values (see fastact docs)."]
    if what == "backward":
        lines += ["grad_output and x must have the same shape; the result has x's shape",
                  "(maxout: grad_output has the output's shape)."]
        if entry.kind == "unary":
            lines += ["y: the forward output; selects the output-based kernel where one exists",
                      "(then x may be None)."]
        if entry.kind == "prelu":
            lines += ["Returns (grad_x, grad_weight), grad_weight summed per channel in float64."]
        for pn in PARAM_GRADS.get(entry.name, ()):
            lines += [f"{pn}_grad=True: also return d(sum(grad_output * f))/d{pn} as a float."]
    return "\n".join(lines)


def _grad_signature(entry: Activation) -> str:
    if entry.kind == "prelu":
        return "weight, axis=axis_default"
    return ", ".join(f"{p.name}={p.name}_default" for p in entry.params)


def _fast_gradient_src(entry: Activation, base: str, sig: str, kw: str, vals: str, yarg: str,
                       pgt: str, ns: Dict[str, Any]) -> str:
    """`<base>_backward` and `<base>_grad` with fast paths (_fast_head):
    contiguous arrays alike (_ext.fast_binary: g and x; or g and y alone,
    for the output-based kernels with default parameters), no parameter
    gradients; anything else falls through to backward_call / grad_call,
    which validate, cast, copy and word the errors."""
    kname, _ = entry.kernel_call({p.name: p.default for p in entry.params})
    ns.update(_fastb=_ext.fast_binary, _fastd=_ext.fast_derivative,
              _ykid=_FROMY_ID.get(kname, -1) if _has_from_y(kname) else -1)
    nograd = "".join(f" and {p}_grad is False" for p in PARAM_GRADS.get(entry.name, ()))
    bwd = _fast_head(entry, ns, [
        "r = (_fastb(kid, 0, grad_output, x, out, *kp, _mc) if y is None else\n"
        "     _fastb(_ykid, 1, grad_output, y, out, *kp, _mc)\n"
        "     if x is None and _ykid >= 0 and kp is _kp else NotImplemented)"],
        guard=nograd)
    grad = _fast_head(entry, ns, ["r = _fastd(kid, x, out, *kp, _mc)"])
    return (f"def {base}_backward(grad_output, x{sig}, *, y=None{kw}, out=None, backend=None):\n"
            + bwd +
            f"    return _bcall(_entry, {base + '_backward'!r}, grad_output, x, {vals}, {yarg},"
            f" out, backend, {pgt})\n"
            f"def {base}_grad(x{sig}, *, out=None, backend=None):\n"
            + grad +
            f"    return _gcall(_entry, {base + '_grad'!r}, x, {vals}, out, backend)\n")


def make_gradient_functions(entry: Activation, module: str, backend: Optional[str] = None,
                            alias: Optional[str] = None) -> Dict[str, Any]:
    """{<name>_backward, <name>_grad} for `entry` (named after `alias` if given)."""
    if entry.kind not in BACKWARD_KINDS:
        return {}
    base = alias or entry.name
    if entry.kind == "rowwise":
        return _make_rowwise_backward(entry, module, backend, base)
    sig = _grad_signature(entry)
    sig = f", {sig}" if sig else ""
    names = ", ".join(p.name for p in entry.params)
    vals = f"({names}{',' if names else ''})"
    pg = PARAM_GRADS.get(entry.name, ())
    kw = "".join(f", {p}_grad=False" for p in pg)
    pgt = f"({', '.join(p + '_grad' for p in pg)}{',' if pg else ''})"
    ykw = ", y=None" if entry.kind == "unary" else ""
    yarg = "y" if entry.kind == "unary" else "None"
    src = (f"def {base}_backward(grad_output, x{sig}, *{ykw}{kw}, out=None, backend={backend!r}):\n"
           f"    return _bcall(_entry, {base + '_backward'!r}, grad_output, x, {vals}, {yarg}, out,"
           f" backend, {pgt})\n"
           f"def {base}_grad(x{sig}, *, out=None, backend={backend!r}):\n"
           f"    return _gcall(_entry, {base + '_grad'!r}, x, {vals}, out, backend)\n")
    ns: Dict[str, Any] = {"_bcall": backward_call, "_gcall": grad_call, "_entry": entry}
    if entry.kind == "unary" and backend is None and _ext is not None:
        src = _fast_gradient_src(entry, base, sig, kw, vals, yarg, pgt, ns)
    if entry.kind == "prelu" and backend is None and _ext is not None:
        # Fast path (_fast_prelu_backward): the general path's answer, bit for bit
        ns.update(_fastpb=_fast_prelu_backward, _backend_get=_backend.get,
                  _kid=_KERNEL_ID["leaky_relu"], _mc=entry.min_chunk)
        src = src.replace(f"    return _bcall(_entry, {base + '_backward'!r}",
                          _fast_call_src("_fastpb(_kid, grad_output, x, out, weight, axis, _mc)")
                          + f"    return _bcall(_entry, {base + '_backward'!r}", 1)
    ns.update({f"{p.name}_default": p.default for p in entry.params})
    exec(compile(src, f"<fastact.{base}_backward>", "exec"), ns)
    fns = {}
    for what in ("backward", "grad"):
        fn = ns[f"{base}_{what}"]
        fn.__doc__ = _grad_doc(entry, what)
        fn.__module__ = module
        fn.__qualname__ = f"{base}_{what}"
        fns[fn.__name__] = fn
    return fns


def _make_rowwise_backward(entry: Activation, module: str, backend: Optional[str],
                           base: str) -> Dict[str, Any]:
    """{<name>_backward} for a softmax-family entry: from the output y."""
    assert entry.vjp, f"rowwise entry {entry.name} needs its vjp formula"
    src = (f"def {base}_backward(grad_output, y, axis=axis_default, *, out=None, backend={backend!r}):\n"
           f"    return _bcall(_entry, {base + '_backward'!r}, grad_output, None, (axis,), y, out,"
           f" backend)\n")
    ns: Dict[str, Any] = {"_bcall": backward_call, "_entry": entry}
    if backend is None and _ext is not None:
        # Fast path (see _ext.fast_rowwise_backward): g, y C-contiguous alike, int axis
        ns.update(_fastrb=_ext.fast_rowwise_backward, _backend_get=_backend.get,
                  _op=_ROWWISE_OP[entry.name], _mc=entry.min_chunk)
        head, rest = src.split("\n", 1)
        src = head + "\n" + _fast_call_src("_fastrb(_op, grad_output, y, out, axis, _mc)") + rest
    ns.update({f"{p.name}_default": p.default for p in entry.params})
    exec(compile(src, f"<fastact.{base}_backward>", "exec"), ns)
    fn = ns[f"{base}_backward"]
    fn.__doc__ = _grad_doc(entry, "backward")
    fn.__module__ = module
    fn.__qualname__ = f"{base}_backward"
    return {fn.__name__: fn}


def build_gradient_functions(module: str, backend: Optional[str] = None) -> Dict[str, Any]:
    """Every <name>_backward / <name>_grad (aliases included) and `derivative`."""
    fns: Dict[str, Any] = {}
    for name, e in _registry.REGISTRY.items():
        fns.update(make_gradient_functions(e, module, backend))
    for alias, target in _registry.ALIASES.items():
        for what in ("backward", "grad"):
            if f"{target}_{what}" in fns:
                fns[f"{alias}_{what}"] = fns[f"{target}_{what}"]

    def derivative(name, x, *, out=None, backend=backend, **params):
        """f'(x) for the activation `name` (parameters as keywords), e.g.
        ``derivative("gelu", x, approximate="tanh")``; same rules as
        ``<name>_grad``."""
        entry = _registry.lookup(name)
        fn = fns.get(f"{entry.name}_grad")
        if fn is None:
            raise ValueError(f"derivative(): {entry.name!r} has no derivative yet")
        return fn(x, **params, out=out, backend=backend)

    derivative.__module__ = module
    fns["derivative"] = derivative
    return fns
