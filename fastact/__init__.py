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
from ._get import BoundActivation, available, get, register, unregister

__version__ = "0.1.0"

globals().update(_api.build_functions(__name__))
for _alias, _target in _registry.ALIASES.items():
    globals()[_alias] = globals()[_target]
_GRADIENT_NAMES = _api.build_gradient_functions(__name__)  # issue 4: <name>_backward, <name>_grad, derivative
globals().update(_GRADIENT_NAMES)
_docs_examples = __import__("fastact._docs", fromlist=["add_examples"]).add_examples
_docs_examples(globals())  # issue 7: a doctest Examples section in every generated docstring
del _docs_examples

if _api._ext is not None and _os.environ.get("FASTACT_ISA"):
    _api._ext.select_isa(_os.environ["FASTACT_ISA"].strip().lower())


def show_config(file=None):
    """Print the build and runtime configuration: version, ISA path, OpenMP, threads.

    The same as ``fastact info`` on the command line.

    Examples
    --------
    >>> import fastact
    >>> fastact.show_config()   # doctest: +ELLIPSIS
    fastact ...
    """
    from ._info import config_lines
    print("\n".join(config_lines()), file=file)


__all__ = sorted(list(_registry.REGISTRY) + list(_registry.ALIASES) + [
    "available", "get_num_threads", "set_num_threads", "threads", "use_backend", "show_config",
    "get", "register", "unregister", "BoundActivation"])
__all__ += sorted(_GRADIENT_NAMES)
