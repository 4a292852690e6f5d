"""The one place that resolves how many threads a kernel call may use.

The effective count is min(requested, omp_get_max_threads()):
* OMP_NUM_THREADS sets OpenMP's default, hence ours;
* threadpoolctl.threadpool_limits(n) lowers omp_get_max_threads() for the
  calling thread, hence ours;
* set_num_threads(n) / threads(n) set `requested` for the whole process
  (and OpenMP's value in the calling thread, so a request above the default
  is honoured there).
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator, Optional

_requested: Optional[int] = None
_lock = threading.Lock()


def _ext():
    from . import _ext
    return _ext


def get_num_threads() -> int:
    """Number of threads fastact kernels use for large arrays.

    The effective count: min(requested, omp_get_max_threads()).

    Examples
    --------
    >>> import fastact
    >>> fastact.get_num_threads() >= 1
    True
    """
    return _ext().effective_threads()


def set_num_threads(n: Optional[int]) -> None:
    """Use `n` threads (>= 1) for large arrays; None restores the default.

    Results are bitwise identical for any thread count.

    Examples
    --------
    >>> import fastact
    >>> fastact.set_num_threads(1)
    >>> fastact.get_num_threads()
    1
    >>> fastact.set_num_threads(None)
    """
    global _requested
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"set_num_threads(): n must be an int or None, got {type(n).__name__}")
        if n < 1:
            raise ValueError(f"set_num_threads(): n must be >= 1, got {n}")
    with _lock:
        _requested = n
        _ext().set_requested_threads(n or 0)
        if n is not None:
            _ext().omp_set_threads(n)


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Context manager: run fastact with `n` threads inside the block.

    Examples
    --------
    >>> import numpy as np, fastact
    >>> with fastact.threads(1):
    ...     y = fastact.sigmoid(np.zeros(3))
    >>> y
    array([0.5, 0.5, 0.5])
    """
    global _requested
    old = _requested
    old_omp = _ext().omp_max_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        with _lock:
            _requested = old
            _ext().set_requested_threads(old or 0)
            _ext().omp_set_threads(old_omp)
