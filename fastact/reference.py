"""The pure-NumPy reference: every fastact function with the same signature,
argument checks and dtype rules, computed by the accuracy-first formulas in
``fastact._refmath`` instead of the compiled kernels.

    >>> import numpy as np, fastact, fastact.reference as ref
    >>> x = np.linspace(-5, 5, 11, dtype=np.float32)
    >>> bool(np.all(fastact.gelu(x) == ref.gelu(x)))
    True
"""
from . import _api, _registry

globals().update(_api.build_functions(__name__, backend="numpy"))
for _alias, _target in _registry.ALIASES.items():
    globals()[_alias] = globals()[_target]
_GRADIENT_NAMES = _api.build_gradient_functions(__name__, backend="numpy")  # issue 4
globals().update(_GRADIENT_NAMES)

__all__ = sorted(list(_registry.REGISTRY) + list(_registry.ALIASES))
__all__ += sorted(_GRADIENT_NAMES)
