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


def _elementwise(entry: Activation, x: Any, params: Dict[str, Any], out: Any, backend: str):
    arr, work_dt, res_dt = as_input(x)
    if out is not None:
        out = check_out(out, arr.shape, res_dt)
    work = arr if arr.dtype == work_dt else arr.astype(work_dt)
    order = _contig_order(work)
    if order is None:
        work = np.ascontiguousarray(work)
        order = "C"
    y = _direct_target(work, out, order)
    if y is None:
        y = np.empty_like(work, order=order)
    if backend == "c":
        kname, kparams = entry.kernel_call(params)
        _ext.unary(_KERNEL_ID[kname], work, y, *kparams, nthreads=_threads.get_num_threads(),
                   min_chunk=entry.min_chunk)
    else:
        with np.errstate(all="ignore"):  # overflow to inf etc. is the right answer here
            ref = entry.reference(work.astype(np.float64), **_ref_params(entry, params))
            y[...] = ref
    return _finish(y, res_dt, out, arr.ndim == 0)


def _ref_params(entry: Activation, params: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in params.items() if k in {p.name for p in entry.params}}


def _axis(func: str, axis: Any, ndim: int, argname: str = "axis") -> int:
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
        outer = int(np.prod(work.shape[:axis], dtype=np.int64))
        inner = int(np.prod(work.shape[axis + 1:], dtype=np.int64))
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
            and not np.may_share_memory(work, out):
        y = out
    if y is None:
        y = np.empty(oshape, dtype=work.dtype)
    if backend == "c":
        outer = int(np.prod(work.shape[:axis], dtype=np.int64))
        inner = int(np.prod(work.shape[axis + 1:], dtype=np.int64))
        _ext.maxout(work, y, outer, n // pool, pool, inner,
                    nthreads=_threads.get_num_threads(), min_chunk=entry.min_chunk)
    else:
        y[...] = entry.reference(work, pool, axis)
    return _finish(y, res_dt, out, False)


_RUNNERS = {"unary": _elementwise, "prelu": _prelu, "maxout": _maxout}


def call(entry: Activation, x: Any, values: Tuple[Any, ...], out: Any, backend: Optional[str]):
    backend = _backend.get() if backend is None else _check_backend(backend)
    if backend == "c" and _ext is None:  # pragma: no cover
        raise ImportError(f"fastact's compiled extension is not available ({_EXT_ERROR}); "
                          f"use backend='numpy'")
    params = _params(entry, values)
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


def make_function(entry: Activation, module: str, backend: Optional[str] = None):
    """Build the public function for `entry` with a real signature."""
    sig = ", ".join(f"{p.name}={p.name}_default" if p.kind != "array" else p.name
                    for p in entry.params)
    if entry.kind == "prelu":  # weight is required
        sig = "weight, axis=axis_default"
    names = ", ".join(p.name for p in entry.params)
    src = (f"def {entry.name}(x{', ' + sig if sig else ''}, *, out=None, backend={backend!r}):\n"
           f"    return _call(_entry, x, ({names}{',' if names else ''}), out, backend)\n")
    ns: Dict[str, Any] = {"_call": call, "_entry": entry}
    ns.update({f"{p.name}_default": p.default for p in entry.params})
    exec(compile(src, f"<fastact.{entry.name}>", "exec"), ns)
    fn = ns[entry.name]
    fn.__doc__ = _docstring(entry)
    fn.__module__ = module
    fn.__qualname__ = entry.name
    return fn


def build_functions(module: str, backend: Optional[str] = None) -> Dict[str, Any]:
    return {name: make_function(e, module, backend) for name, e in _registry.REGISTRY.items()}
