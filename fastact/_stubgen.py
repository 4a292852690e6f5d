"""Generate ``fastact/__init__.pyi`` (the type stub of the public API) from
the registry and the live functions, so the registry stays the single
source: ``python -m fastact._stubgen`` rewrites the stub, and
tests/test_interop.py fails if the checked-in stub is out of date.

* every generated function (forward, ``<name>_backward``, ``<name>_grad``,
  aliases) gets its runtime signature, each parameter typed from its
  registry ``Param`` (float -> float, int/axis -> int, choice -> Literal,
  array -> ArrayLike); forward functions and ``<name>_grad`` are
  overloaded: a floating ndarray keeps its dtype, an integer/bool ndarray
  gives float64, anything else array-like gives ``Any`` (NumPy scalars for
  scalars, NumPy arrays for lists/pandas, dask arrays for dask arrays);
* the other public names have hand-written stubs below, or, if new, a stub
  derived from their annotations (``Any`` where there are none).
"""
from __future__ import annotations

import inspect
import os
import re
import sys
from typing import Any, Dict, List, Optional

HEADER = '''\
# Generated from fastact's registry by `python -m fastact._stubgen`: do not edit.
import contextlib
import functools
from typing import Any, Callable, Dict, Iterator, List, Literal, Optional, TextIO, Tuple, TypeVar, Union, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

_F = TypeVar("_F", bound=np.floating[Any])
_Backend = Literal["c", "numpy"]
_IntArray = Union[NDArray[np.integer[Any]], NDArray[np.bool_]]

__version__: str
'''

HANDWRITTEN = {
    "available": "def available() -> Dict[str, Dict[str, Any]]: ...",
    "get_num_threads": "def get_num_threads() -> int: ...",
    "set_num_threads": "def set_num_threads(n: Optional[int]) -> None: ...",
    "threads": "def threads(n: int) -> contextlib.AbstractContextManager[None]: ...",
    "use_backend": "def use_backend(name: _Backend) -> contextlib.AbstractContextManager[None]: ...",
    "show_config": "def show_config(file: Optional[TextIO] = None) -> None: ...",
    "derivative": ("def derivative(name: str, x: ArrayLike, *, out: Optional[NDArray[Any]] = None,\n"
                   "               backend: Optional[_Backend] = None, **params: Any) -> Any: ..."),
}

# names the header imports: annotations of new functions that use only these
# are copied verbatim, anything else becomes Any
_KNOWN = {"Any", "Callable", "Dict", "Iterator", "List", "Literal", "Optional", "Tuple", "Union",
          "str", "int", "float", "bool", "None", "dict", "list", "tuple", "ArrayLike", "NDArray", "np"}
_BARE_GENERIC = {"Callable": "Callable[..., Any]", "Dict": "Dict[Any, Any]", "List": "List[Any]",
                 "Tuple": "Tuple[Any, ...]", "dict": "Dict[Any, Any]", "list": "List[Any]",
                 "tuple": "Tuple[Any, ...]", "Iterator": "Iterator[Any]"}


def _literal(v: Any) -> str:
    if v is None or isinstance(v, (bool, int, float, str)):
        r = repr(v)
        return r if len(r) < 40 and "inf" not in r and "nan" not in r else "..."
    return "..."


def _param_type(spec) -> str:
    if spec.kind == "float":
        return "float"
    if spec.kind in ("int", "axis"):
        return "int"
    if spec.kind == "choice":
        return "Literal[" + ", ".join(repr(c) for c in spec.choices) + "]"
    if spec.kind == "array":
        return "ArrayLike"
    return "Any"


def _render(name: str, fn: Any, entry, what: str, xtype: str, outtype: str, ret: str) -> str:
    """One `def` line for a generated function: runtime signature, registry types."""
    specs = {p.name: p for p in entry.params}
    parts: List[str] = []
    kwonly = False
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.KEYWORD_ONLY and not kwonly:
            parts.append("*")
            kwonly = True
        if p.name == "x":
            t = xtype
        elif p.name == "grad_output":
            t = "ArrayLike"
        elif p.name == "y":  # optional for the elementwise kinds; the softmax family needs it
            t = "ArrayLike" if entry.kind == "rowwise" else "Optional[ArrayLike]"
        elif p.name == "out":
            t = outtype
        elif p.name == "backend":
            t = "Optional[_Backend]"
        elif p.name in specs:
            t = _param_type(specs[p.name])
        elif p.name.endswith("_grad"):
            t = "bool"
        else:
            t = "Any"
        if p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}: {t}")
            continue
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}: {t}")
            kwonly = True
            continue
        default = "" if p.default is p.empty else " = " + _literal(p.default)
        parts.append(f"{p.name}: {t}{default}")
    return f"def {name}({', '.join(parts)}) -> {ret}: ..."


def _overloaded(name: str, fn: Any, entry, what: str, x_optional: bool = False) -> List[str]:
    opt = "Optional[{}]" if x_optional else "{}"
    sigs = [("NDArray[_F]", "Optional[NDArray[_F]]", "NDArray[_F]"),
            ("_IntArray", "Optional[NDArray[np.float64]]", "NDArray[np.float64]"),
            (opt.format("ArrayLike"), "Optional[NDArray[Any]]", "Any")]
    out = []
    for xt, ot, rt in sigs:
        out += ["@overload", _render(name, fn, entry, what, xt, ot, rt)]
    return out


def _annotation(a: Any) -> str:
    if a is inspect.Parameter.empty:
        return "Any"
    s = a if isinstance(a, str) else getattr(a, "__name__", None) or repr(a)
    s = s.replace("typing.", "").replace("numpy.", "np.")
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", s))
    if not words <= _KNOWN and not all(w.split(".")[0] in _KNOWN for w in words):
        return "Any"
    for bare, full in _BARE_GENERIC.items():
        s = re.sub(rf"\b{bare}\b(?!\[)", full, s)
    return s


def _from_annotations(name: str, obj: Any) -> str:
    if inspect.isclass(obj):
        import functools
        base = "functools.partial[Any]" if issubclass(obj, functools.partial) else ""
        body = "    def __call__(self, *args: Any, **kwargs: Any) -> Any: ..." if base else (
            "    def __init__(self, *args: Any, **kwargs: Any) -> None: ...\n"
            "    def __getattr__(self, name: str) -> Any: ...")
        return f"class {name}({base}):\n{body}" if base else f"class {name}:\n{body}"
    if not callable(obj):
        return f"{name}: Any"
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return f"def {name}(*args: Any, **kwargs: Any) -> Any: ..."
    parts: List[str] = []
    kwonly = False
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not kwonly:
            parts.append("*")
            kwonly = True
        t = _annotation(p.annotation)
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}: {t}")
            kwonly = True
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}: {t}")
        else:
            default = "" if p.default is p.empty else " = " + _literal(p.default)
            if p.kind is p.POSITIONAL_ONLY:
                pass
            parts.append(f"{p.name}: {t}{default}")
    return f"def {name}({', '.join(parts)}) -> {_annotation(sig.return_annotation)}: ..."


def generate() -> str:
    import fastact
    from fastact import _registry
    entries: Dict[str, Any] = dict(_registry.REGISTRY)
    entries.update({a: _registry.REGISTRY[t] for a, t in _registry.ALIASES.items()})
    blocks: List[str] = []
    for name in fastact.__all__:
        obj = getattr(fastact, name)
        if name in HANDWRITTEN:
            blocks.append(HANDWRITTEN[name])
            continue
        lines: Optional[List[str]] = None
        if name in entries and entries[name].kind != "python":
            lines = _overloaded(name, obj, entries[name], "forward")
        else:
            for what in ("backward", "grad"):
                base = name[: -len(what) - 1] if name.endswith("_" + what) else None
                if base in entries:
                    e = entries[base]
                    if what == "grad":
                        lines = _overloaded(name, obj, e, what)
                    else:
                        lines = [_render(name, obj, e, what, "Optional[ArrayLike]" if e.kind == "unary"
                                         else "ArrayLike", "Optional[NDArray[Any]]", "Any")]
                    break
        blocks.append("\n".join(lines) if lines else _from_annotations(name, obj))
    all_list = "__all__ = [\n" + "".join(f"    {n!r},\n" for n in fastact.__all__) + "]\n"
    return HEADER + "\n" + all_list + "\n" + "\n".join(blocks) + "\n"


def stub_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "__init__.pyi")


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = generate()
    if "--check" in argv:
        with open(stub_path()) as f:
            ok = f.read() == text
        print("fastact/__init__.pyi is " + ("up to date" if ok else
              "OUT OF DATE: run `python -m fastact._stubgen`"))
        return 0 if ok else 1
    with open(stub_path(), "w") as f:
        f.write(text)
    print(f"wrote {stub_path()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
