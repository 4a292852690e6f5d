"""Keras-style access to the registry: ``get``, ``available``, ``register``.

``get(identifier, **params)`` turns a name (or alias), a callable or None
into a function of x; ``register(name, forward, backward=None,
reference=None)`` adds a user-defined activation (registry kind "python")
that then works with ``get``, ``available``, ``derivative``, the benchmarks
(``fastact bench``) and the accuracy checker (``fastact check``).
"""
from __future__ import annotations

import functools
import keyword
from typing import Any, Callable, Dict, Optional

import numpy as np

from . import _api, _registry
from ._registry import Activation

# Functions made by register(): name -> {"forward": f, "grad": g, "backward": b}
_USER: Dict[str, Dict[str, Callable]] = {}


class BoundActivation(functools.partial):
    """An activation with some parameters bound (what ``get(name, **params)``
    returns): a :class:`functools.partial` whose repr is the ``get`` call
    that made it.

    Examples
    --------
    >>> import numpy as np, fastact
    >>> f = fastact.get("elu", alpha=0.5)
    >>> f, f.keywords
    (fastact.get('elu', alpha=0.5), {'alpha': 0.5})
    >>> f(np.array([-1.0, 1.0]))
    array([-0.31606028,  1.        ])
    """

    def __repr__(self) -> str:
        args = [repr(self.__name__)] + [f"{k}={v!r}" for k, v in self.keywords.items()]
        return f"fastact.get({', '.join(args)})"


def identity(x, *, out=None, backend=None):
    """The identity activation, f(x) = x (``fastact.get(None)``).

    f'(x) = 1.  x is returned unchanged (no copy); with ``out``, x is copied
    into it.

    Examples
    --------
    >>> import fastact
    >>> f = fastact.get(None)
    >>> f([1.0, -2.0])
    [1.0, -2.0]
    """
    if out is not None:
        np.copyto(out, x)
        return out
    return x


def _public(entry: Activation) -> Callable:
    if entry.kind == "python":
        return _USER[entry.name]["forward"]
    import fastact
    return getattr(fastact, entry.name)


def _check_params(entry: Activation, ident: str, params: Dict[str, Any]) -> None:
    """Validate `params` for `entry` now, with the messages the call would give."""
    specs = {p.name: p for p in entry.params}
    for k in params:
        if k not in specs:
            have = ", ".join(specs) if specs else "none"
            raise TypeError(f"get(): {ident}() has no parameter {k!r} (its parameters: {have})")
    values = {}
    for name, spec in specs.items():
        if name not in params:
            values[name] = spec.default
            continue
        v = params[name]
        if spec.kind == "array":
            _api._prelu_weight(entry.name, v)
        elif spec.kind == "axis":
            spec.convert(entry.name, v)
        values[name] = v
    if entry.kind == "prelu":
        return
    _api._params(entry, tuple(values[p.name] for p in entry.params))


def get(identifier: Any = None, **params: Any) -> Callable:
    """The activation function for `identifier` (Keras-style).

    * a name or alias (``"relu"``, ``"logistic"``): the function itself,
      ``fastact.<name>``; with keyword parameters, a :class:`BoundActivation`
      (a ``functools.partial``) with them bound -- validated here, so a bad
      value fails at ``get()`` time, not at the first call;
    * ``None``: the identity, f(x) = x;
    * a callable: returned as it is.

    Unknown names raise ValueError naming the identifier and suggesting the
    closest names.  Works for activations added with :func:`register`.

    Examples
    --------
    >>> import numpy as np, fastact
    >>> fastact.get("relu") is fastact.relu
    True
    >>> f = fastact.get("leaky_relu", negative_slope=0.2)
    >>> f
    fastact.get('leaky_relu', negative_slope=0.2)
    >>> f(np.array([-1.0, 2.0]))
    array([-0.2,  2. ])
    >>> fastact.get("logistic") is fastact.sigmoid
    True
    >>> fastact.get("gelu_fast")
    Traceback (most recent call last):
    ...
    ValueError: unknown activation 'gelu_fast'; did you mean 'gelu'?
    """
    if identifier is None:
        if params:
            raise TypeError(f"get(): the identity (None) takes no parameters, got {sorted(params)}")
        return identity
    if isinstance(identifier, str):
        entry = _registry.lookup(identifier)
        fn = _public(entry)
        if not params:
            return fn
        _check_params(entry, identifier, params)
        bound = BoundActivation(fn, **params)
        bound.__name__ = identifier
        bound.__doc__ = fn.__doc__
        return bound
    if callable(identifier):
        name = getattr(identifier, "__name__", None)
        if params:
            if isinstance(name, str) and name in _registry.REGISTRY and _public(_registry.REGISTRY[name]) is identifier:
                return get(name, **params)
            raise TypeError("get(): parameters can only be bound to a fastact activation "
                            f"(a name or a fastact function), got {identifier!r}")
        return identifier
    raise TypeError(f"get(): identifier must be an activation name, a callable or None; "
                    f"got {type(identifier).__name__} {identifier!r}")


def available() -> Dict[str, Dict[str, Any]]:
    """Every activation name -- aliases and registered ones included -- with
    its parameters and their defaults.

    Examples
    --------
    >>> import fastact
    >>> names = fastact.available()
    >>> names["leaky_relu"]
    {'negative_slope': 0.01}
    >>> names["logistic"] == names["sigmoid"] == {}
    True
    """
    out = {name: {p.name: p.default for p in e.params} for name, e in _registry.REGISTRY.items()}
    for alias, target in _registry.ALIASES.items():
        out[alias] = dict(out[target])
    return out


def _python_forward(entry: Activation) -> Callable:
    fwd = entry.py_forward
    name = entry.name

    def fn(x, *, out=None, backend=None):
        backend = _api._resolve_backend(backend)
        arr, work_dt, res_dt = _api.as_input(x)
        if out is not None:
            out = _api.check_out(out, arr.shape, res_dt)
        with np.errstate(all="ignore"):
            if backend == "numpy":
                y = entry.reference(arr)
            else:
                y = np.asarray(fwd(arr.astype(work_dt, copy=False)))
        if y.shape != arr.shape:
            raise ValueError(f"{name}(): the registered forward returned shape {y.shape} "
                             f"for an input of shape {arr.shape}")
        return _api._finish(y, res_dt, out, arr.ndim == 0)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = "fastact"
    fn.__doc__ = _python_doc(entry)
    return fn


def _python_grads(entry: Activation):
    bwd = entry.py_backward
    name = entry.name

    def backward(grad_output, x, *, out=None, backend=None):
        _api._resolve_backend(backend)
        g, xa, work_dt, res_dt = _api._pair(f"{name}_backward", grad_output, x, "x")
        if out is not None:
            out = _api.check_out(out, xa.shape, res_dt, f"{name}_backward(): out")
        with np.errstate(all="ignore"):
            r = np.asarray(bwd(g.astype(work_dt, copy=False), xa.astype(work_dt, copy=False)))
        if r.shape != xa.shape:
            raise ValueError(f"{name}_backward(): the registered backward returned shape {r.shape} "
                             f"for an input of shape {xa.shape}")
        return _api._finish(r, res_dt, out, xa.ndim == 0)

    def grad(x, *, out=None, backend=None):
        arr, work_dt, _ = _api.as_input(x, f"{name}_grad(): x")
        return backward(np.ones(arr.shape, dtype=work_dt), arr, out=out, backend=backend)

    backward.__name__ = backward.__qualname__ = f"{name}_backward"
    grad.__name__ = grad.__qualname__ = f"{name}_grad"
    backward.__doc__ = f"Backward pass of the registered activation {name}: the registered backward(grad_output, x)."
    grad.__doc__ = f"The derivative of the registered activation {name}: backward(ones, x)."
    return backward, grad


def _python_doc(entry: Activation) -> str:
    return "\n".join([
        entry.summary, "", f"    f(x) = {entry.formula}", f"    f'(x) = {entry.derivative}", "",
        "A user-defined activation (fastact.register): the registered Python function runs on the",
        "input in its compute dtype (float32/float64; float16 via float32; integers -> float64).",
        "backend='numpy' runs the reference (the given one, or forward evaluated in float64).",
    ])


def register(name: str, forward: Callable, backward: Optional[Callable] = None,
             reference: Optional[Callable] = None) -> Callable:
    """Add a user-defined activation and return its function.

    * ``forward(x) -> f(x)``: a NumPy function of one array (same shape out);
    * ``backward(grad_output, x) -> grad_output * f'(x)``, optional: enables
      ``fastact.derivative(name, x)``;
    * ``reference(x) -> f(x)`` in float64, optional: what ``fastact check``
      and ``backend="numpy"`` compare with (default: ``forward`` evaluated
      in float64).

    The activation then works with :func:`get`, :func:`available`,
    ``fastact.derivative``, ``fastact bench`` and ``fastact check`` (in this
    process).  Registering a name again replaces it; built-in names cannot
    be replaced.  :func:`unregister` removes it.

    Examples
    --------
    >>> import numpy as np, fastact
    >>> f = fastact.register("square_plus", lambda x: (x + np.sqrt(x * x + 4)) / 2,
    ...                      backward=lambda g, x: g * (1 + x / np.sqrt(x * x + 4)) / 2)
    >>> fastact.get("square_plus")(np.array([-2.0, 0.0, 2.0]))
    array([0.41421356, 1.        , 2.41421356])
    >>> fastact.derivative("square_plus", np.array([0.0]))
    array([0.5])
    >>> "square_plus" in fastact.available()
    True
    >>> fastact.unregister("square_plus")
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"register(): name must be a Python identifier, got {name!r}")
    for what, f in (("forward", forward), ("backward", backward), ("reference", reference)):
        if f is not None and not callable(f):
            raise TypeError(f"register(): {what} must be callable, got {type(f).__name__}")
    if forward is None:
        raise TypeError("register(): forward is required")
    probe = np.linspace(-2.0, 2.0, 5)
    try:
        y = np.asarray(forward(probe))
    except Exception as exc:
        raise ValueError(f"register(): forward(x) failed on a test array: {type(exc).__name__}: {exc}") from None
    if y.shape != probe.shape:
        raise ValueError(f"register(): forward(x) must return an array of x's shape; "
                         f"got shape {y.shape} for shape {probe.shape}")
    doc = (getattr(forward, "__doc__", None) or "").strip()
    summary = doc.splitlines()[0] if doc else f"User-defined activation {name!r}."
    fname = getattr(forward, "__name__", "forward")
    entry = Activation(
        name, summary, formula=f"{fname}(x)  (user-defined, Python)",
        derivative="backward(1, x)" if backward is not None else "not given",
        kind="python", family="exp", py_forward=forward, py_backward=backward, py_reference=reference)
    _registry.add_python(entry)
    fns = {"forward": _python_forward(entry)}
    if backward is not None:
        fns["backward"], fns["grad"] = _python_grads(entry)
    _USER[name] = fns
    _install_grads(name, fns)
    return fns["forward"]


def unregister(name: str) -> None:
    """Remove an activation added with :func:`register`.

    Examples
    --------
    >>> import fastact
    >>> _ = fastact.register("twice", lambda x: 2 * x)
    >>> fastact.unregister("twice")
    >>> "twice" in fastact.available()
    False
    """
    _registry.remove_python(name)
    _USER.pop(name, None)
    _install_grads(name, {})


def _install_grads(name: str, fns: Dict[str, Callable]) -> None:
    """Make ``derivative(name, x)`` find the registered gradient: it looks
    ``<name>_grad`` up, at call time, in the dict that
    build_gradient_functions returned (fastact._GRADIENT_NAMES and
    fastact.reference._GRADIENT_NAMES)."""
    import sys
    for modname in ("fastact", "fastact.reference"):
        mod = sys.modules.get(modname)
        table = getattr(mod, "_GRADIENT_NAMES", None)
        if table is None:
            continue
        for what in ("grad", "backward"):
            key = f"{name}_{what}"
            if what in fns:
                table[key] = fns[what]
            else:
                table.pop(key, None)
