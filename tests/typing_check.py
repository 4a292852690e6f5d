"""A small user script that calls fastact's public API; `mypy --strict` must
accept it (tests/test_interop.py::test_mypy_strict runs it when mypy is
installed).  It is also valid Python: running it executes the calls."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np
import numpy.typing as npt

import fastact


def activations(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    y: npt.NDArray[np.float32] = fastact.gelu(x, approximate="tanh")
    y = fastact.softplus(y, beta=2.0, threshold=10.0)
    y = fastact.softmax(y, axis=-1)
    fastact.silu(x, out=x)
    z = fastact.prelu(x, np.linspace(0.1, 0.2, x.shape[1]), axis=1)
    return y + z + fastact.maxout(x, pool_size=2).repeat(2, axis=-1)


def as_float64(i: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    return fastact.relu(i)


def gradients(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    d: npt.NDArray[np.float64] = fastact.gelu_grad(x)
    g: Any = fastact.gelu_backward(np.ones_like(x), x)
    total: npt.NDArray[np.float64] = d + np.asarray(g, dtype=np.float64)
    return total + np.asarray(fastact.derivative("swish", x, beta=1.5), dtype=np.float64)


def settings() -> Dict[str, Dict[str, Any]]:
    n: int = fastact.get_num_threads()
    fastact.set_num_threads(max(1, n))
    fastact.set_num_threads(None)
    with fastact.threads(1), fastact.use_backend("numpy"):
        fastact.sigmoid([0.0, 1.0])
    version: str = fastact.__version__
    assert version
    return fastact.available()


if __name__ == "__main__":
    a = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    print(activations(a).dtype, as_float64(np.arange(3)).dtype, gradients(a.astype(np.float64)).shape,
          len(settings()))
