"""Dask adapter: fastact functions on ``dask.array`` inputs return lazy dask
arrays.  Reached from ``_api.call`` only when ``x`` is not an ndarray and its
type lives in a ``dask`` module, so importing fastact never imports dask.

* Arguments are checked eagerly, at graph-building time, by running the very
  same function on a tiny NumPy probe (x's dtype, every axis of length <= 1
  except the one the function works along): a bad parameter, dtype or axis
  raises here, not later on a worker.  The probe also gives the result dtype.
* elementwise functions (and ``prelu`` with one slope): ``map_blocks``, one
  kernel call per chunk.
* ``prelu`` with per-channel weights: each chunk gets the weights of its own
  channels (``block_info``).
* ``maxout``: the axis is rechunked to multiples of ``pool_size`` if needed,
  then ``map_blocks``.
* the softmax family (kind "rowwise"): if ``axis`` is a single chunk, one
  kernel call per chunk.  If it spans several chunks, two blockwise passes:
  the row maximum (minimum for softmin) and the row sum of exp(x - max) are
  reduced over the chunks, then every chunk is normalised independently, in
  float64, rounded once to the result dtype.  No chunk ever holds a whole
  row, so rows larger than memory work.
* ``out=`` is refused (dask arrays are immutable): use the returned array.
* The backend ("c" or "numpy") is resolved when the graph is built and
  travels with the tasks.  Tasks refer to activations by name, so they
  unpickle in other processes (``distributed``).
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from . import _registry


def is_dask_array(x: Any) -> bool:
    mod = type(x).__module__
    if not mod.startswith("dask"):
        return False
    import dask.array as da
    return isinstance(x, da.Array)


def _entry_ref(entry):
    """What the tasks carry: the name if the registry resolves it (cheap to
    pickle, portable), else the entry itself."""
    builtin = entry.kind != "python"   # user-registered ones exist in this process only
    return entry.name if builtin and _registry.REGISTRY.get(entry.name) is entry else entry


def _resolve(ref):
    return _registry.REGISTRY[ref] if isinstance(ref, str) else ref


def _run(ref, block, values, backend):
    from . import _api
    r = _api.call(_resolve(ref), block, values, None, backend)
    return np.asarray(r)  # a 0-d block gives a NumPy scalar; dask wants arrays


def _block_elementwise(block, ref, values, backend):
    return _run(ref, block, values, backend)


def _block_prelu(block, ref, weight, axis, backend, block_info=None):
    start, stop = block_info[0]["array-location"][axis]
    return _run(ref, block, (weight[start:stop], axis), backend)


def _probe(entry, x, values, backend, keep_axis: Optional[int]):
    """Run the NumPy path on a tiny array of x's dtype: validates the
    arguments eagerly and returns the (tiny) result."""
    from . import _api
    shape = [min(n, 1) for n in x.shape]
    if keep_axis is not None:
        shape[keep_axis] = x.shape[keep_axis]
    return np.asarray(_api.call(entry, np.zeros(shape, dtype=x.dtype), values, None, backend))


def call(entry, x, params, values: Tuple[Any, ...], out: Any, backend: str):
    """The dask version of ``_api.call`` (params already validated)."""
    import dask.array as da
    from . import _api
    if out is not None:
        raise TypeError(f"{entry.name}(): out= is not supported for dask arrays (they are "
                        f"immutable); use the returned lazy array")
    # dtype check first, with fastact's own message
    _api._work_dtype(x.dtype, "x")
    ref = _entry_ref(entry)
    kind = entry.kind

    if kind in ("unary", "python"):   # "python": fastact.register(); same shape out
        res = _probe(entry, x, values, backend, None)
        return x.map_blocks(_block_elementwise, ref, values, backend, dtype=res.dtype,
                            meta=np.empty((0,) * x.ndim, dtype=res.dtype))

    if kind == "prelu":
        w = np.asarray(params["weight"])
        if w.size == 1 or x.ndim == 0:
            res = _probe(entry, x, values, backend, None)
            return x.map_blocks(_block_elementwise, ref, values, backend, dtype=res.dtype,
                                meta=np.empty((0,) * x.ndim, dtype=res.dtype))
        ax = _api._axis("prelu", params["axis"], x.ndim)
        res = _probe(entry, x, values, backend, ax)
        return x.map_blocks(_block_prelu, ref, w, ax, backend, dtype=res.dtype,
                            meta=np.empty((0,) * x.ndim, dtype=res.dtype))

    if kind == "maxout":
        if x.ndim == 0:
            _probe(entry, x, values, backend, None)  # raises fastact's error
        ax = _api._axis("maxout", params["axis"], x.ndim)
        res = _probe(entry, x, values, backend, ax)
        pool = int(params["pool_size"])
        if any(c % pool for c in x.chunks[ax]):
            target = pool * max(1, round(max(x.chunks[ax]) / pool))
            x = x.rechunk({ax: target})
        chunks = tuple(tuple(c // pool for c in cs) if i == ax else cs
                       for i, cs in enumerate(x.chunks))
        return x.map_blocks(_block_elementwise, ref, values, backend, dtype=res.dtype,
                            chunks=chunks, meta=np.empty((0,) * x.ndim, dtype=res.dtype))

    if kind == "rowwise":
        if x.ndim == 0:
            _probe(entry, x, values, backend, None)
        ax = _api._axis(entry.name, params["axis"], x.ndim)
        res = _probe(entry, x, values, backend, None)
        if len(x.chunks[ax]) == 1:
            return x.map_blocks(_block_elementwise, ref, values, backend, dtype=res.dtype,
                                meta=np.empty((0,) * x.ndim, dtype=res.dtype))
        return _rowwise_two_pass(entry.name, x, ax, res.dtype)

    raise TypeError(f"{entry.name}(): dask arrays are not supported for this function")


# ------------------------------------------------------------ rowwise, 2 passes

def _shifted(block, shift, op):
    """z = x - shift (shift - x for softmin) as an unevaluated sum hi + lo
    (TwoSum: exact), so exp(z) keeps full float64 accuracy for large |x|."""
    a = block.astype(np.float64)
    b = -shift if op != "softmin" else shift
    if op == "softmin":
        a = -a
    hi = a + b
    bv = hi - a
    lo = (a - (hi - bv)) + (b - bv)
    lo = np.where(np.isfinite(lo), lo, 0.0)
    return hi, lo


def _block_exp(block, shift, op):
    """Per chunk, along the row: sum of exp(z) over the entries with z != 0,
    and the count of z == 0 (the maxima, which contribute exactly 1 each),
    stacked on a new last axis; keeping them apart lets log_softmax use
    log1p and stay accurate when the sum is close to 1."""
    with np.errstate(all="ignore"):
        hi, lo = _shifted(block, shift, op)
        top = (hi == 0) & (lo == 0)
        e = np.where(top, 0.0, np.exp(hi) * (1.0 + lo))
    return np.stack([e, top.astype(np.float64)], axis=-1)


def _log_total(rest, k):
    with np.errstate(all="ignore"):
        return np.where(k == 1, np.log1p(rest), np.log(k + rest))


def _block_normalise(block, shift, rest, count, op, dtype):
    with np.errstate(all="ignore"):
        hi, lo = _shifted(block, shift, op)
        if op == "log_softmax":
            y = (hi - _log_total(rest, count)) + lo
        else:
            y = np.exp(hi) * (1.0 + lo) / (rest + count)
    return y.astype(dtype)


def _rowwise_two_pass(op, x, ax, dtype):
    """softmax / log_softmax / softmin along an axis that spans several
    chunks: pass 1 reduces the shift (max, or min for softmin) and
    sum(exp(z)) per row, pass 2 normalises each chunk on its own."""
    import dask.array as da
    x64 = x.astype(np.float64)
    shift = x64.min(axis=ax, keepdims=True) if op == "softmin" else x64.max(axis=ax, keepdims=True)
    parts = da.map_blocks(_block_exp, x, shift, op, dtype=np.float64, new_axis=x.ndim,
                          chunks=x.chunks + ((2,),), meta=np.empty((0,) * (x.ndim + 1), np.float64))
    rest = parts[..., 0].sum(axis=ax, keepdims=True)
    count = parts[..., 1].sum(axis=ax, keepdims=True)
    return da.map_blocks(_block_normalise, x, shift, rest, count, op, np.dtype(dtype),
                         dtype=dtype, meta=np.empty((0,) * x.ndim, dtype=dtype))
