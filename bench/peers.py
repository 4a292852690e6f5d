"""Peer implementations for the benchmarks: moved into the package as
``fastact._peers`` (so ``fastact bench`` works from an installed fastact).
This module re-exports it for scripts that load bench/peers.py by path.
"""
import sys as _sys

from fastact import _peers as _impl

globals().update({k: v for k, v in vars(_impl).items() if not k.startswith("__")})
# `import peers` / loading this file by path gives the package module itself,
# so module-level state (imported peers, ONNX sessions) is shared.
_sys.modules[__name__] = _impl
