"""fastact: fast, accurate neural-network activation functions for NumPy.

Every activation is ``fastact.<name>(x, <params>, *, out=None, backend=None)``;
the list lives in ``fastact.available()``.  ``backend="numpy"`` (or the
context manager ``use_backend("numpy")``) runs the pure-NumPy reference
instead of the compiled kernels, for validation.
"""
from __future__ import annotations

import os as _os

from . import _api, _registry
from ._api import use_backend
from ._threads import get_num_threads, set_num_threads, threads

__version__ = "0.1.0"

globals().update(_api.build_functions(__name__))
for _alias, _target in _registry.ALIASES.items():
    globals()[_alias] = globals()[_target]
_GRADIENT_NAMES = _api.build_gradient_functions(__name__)  # issue 4: <name>_backward, <name>_grad, derivative
globals().update(_GRADIENT_NAMES)

if _api._ext is not None and _os.environ.get("FASTACT_ISA"):
    _api._ext.select_isa(_os.environ["FASTACT_ISA"].strip().lower())


def available():
    """Every activation name with its parameters and defaults."""
    return {name: {p.name: p.default for p in e.params} for name, e in _registry.REGISTRY.items()}


def show_config(file=None):
    """Print the build and runtime configuration: version, ISA path, OpenMP, threads."""
    from ._info import config_lines
    print("\n".join(config_lines()), file=file)


__all__ = sorted(list(_registry.REGISTRY) + list(_registry.ALIASES) + [
    "available", "get_num_threads", "set_num_threads", "threads", "use_backend", "show_config"])
__all__ += sorted(_GRADIENT_NAMES)
