"""Issue 7: documentation.  Every public function's docstring example runs
as a doctest (the generated functions are made with exec, so doctest's
finder does not see them: they are run explicitly here); the README keeps
its two fresh-machine commands, its Python blocks run, and its function
table is the one `fastact docs` generates from the registry."""
import doctest
import json
import os
import re

import numpy as np
import pytest

import fastact
import fastact.reference
from fastact import _docs, _registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
NEEDS_README = pytest.mark.skipif(not os.path.exists(README), reason="no README (installed package)")

PUBLIC = sorted(n for n in fastact.__all__ if callable(getattr(fastact, n)))


def _run_doctest(obj, name):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(obj.__doc__ or "", {"__name__": "fastact_doctest"}, name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    runner.run(test, out=out.append)
    return runner.summarize(verbose=False), "".join(out), len(test.examples)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_docstring_example_runs(name):
    obj = getattr(fastact, name)
    res, report, n = _run_doctest(obj, f"fastact.{name}")
    assert n > 0, f"fastact.{name} has no example"
    assert res.failed == 0, report


@pytest.mark.parametrize("name", sorted(_registry.REGISTRY))
def test_generated_docstring_has_everything(name):
    e = _registry.REGISTRY[name]
    fn = getattr(fastact, name)
    doc = fn.__doc__
    assert e.formula in doc and e.derivative in doc
    assert "Parameters" in doc and "Examples" in doc and ">>> " in doc
    for p in e.params:
        assert p.name in doc
    if e.special:
        assert e.special in doc
    for what in ("grad", "backward"):
        g = getattr(fastact, f"{name}_{what}", None)
        if g is not None:
            assert e.derivative in g.__doc__ and "Parameters" in g.__doc__ and ">>> " in g.__doc__


def test_module_docstrings_run():
    for mod in (fastact.reference,):
        finder = doctest.DocTestFinder(exclude_empty=True)
        runner = doctest.DocTestRunner()
        for t in finder.find(mod):
            runner.run(t)
        assert runner.summarize(verbose=False).failed == 0


def test_examples_file_matches_the_reference():
    """fastact/_examples.py was generated from the current reference."""
    import fastact.reference as ref
    from fastact._examples import EXAMPLES
    for name, items in EXAMPLES.items():
        ns = {"np": np, "fastact": ref}
        for src, want in items:
            got = _docs._run(src, ns)
            assert got == want, (name, src)


@NEEDS_README
def test_readme_first_block_is_the_two_commands():
    text = open(README, encoding="utf-8").read()
    first = re.search(r"```[a-z]*\n(.*?)```", text, re.S).group(1)
    assert first == ("python -m pip install -e . && python -m fastact\n"
                     'python -m pip install -e ".[test]" && python -m pytest\n')


@NEEDS_README
def test_readme_python_blocks_run(capsys):
    text = open(README, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    for src in blocks:
        ns = {"__name__": "readme"}
        exec(compile(src, "README.md", "exec"), ns)
    out = capsys.readouterr().out
    losses = [float(v) for v in re.findall(r"loss ([0-9.]+)", out)]
    assert len(losses) == 4 and losses[-1] < 0.5 * losses[0], out   # the MLP learns
    assert "squareplus" not in _registry.REGISTRY                   # the example cleaned up


@NEEDS_README
def test_readme_table_is_generated_from_registry_and_measurements():
    text = open(README, encoding="utf-8").read()
    i, j = text.index(_docs.BEGIN), text.index(_docs.END)
    table = text[i + len(_docs.BEGIN):j].strip()
    path = os.path.join(ROOT, _docs.DEFAULT_JSON)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    assert table == _docs.table(data).strip(), "README table is stale: run python -m fastact docs --update-readme"
    for name in _registry.BUILTIN & set(_registry.REGISTRY):
        assert f"| `{name}`" in table
        a = data["accuracy"][name]
        assert a["float32"] is not None and a["float64"] is not None
        assert name in data["speed"]
    assert data["accuracy_float64_samples"] == 2000
    assert data["bench"] == {"n": 262144, "dtype": "float32", "threads": 1}


def test_table_and_update_readme(tmp_path):
    data = {"accuracy": {"relu": {"float32": 0.0, "float64": 0.0, "how": "fastact check"}},
            "speed": {"relu": {"vs_numpy": 3.0, "best_peer": "torch", "vs_best": 1.5}},
            "bench": {"n": 1, "dtype": "float32", "threads": 1}}
    t = _docs.table(data)
    assert "| `relu` | max(x, 0) |  | 1 for x > 0, else 0 (0 at 0) | 0 / 0 | 3.00x | 1.50x (torch) |" in t
    assert "| `gelu` |" in t                    # every built-in has a row, measured or not
    p = tmp_path / "R.md"
    p.write_text(f"intro\n{_docs.BEGIN}\nold\n{_docs.END}\nrest\n")
    _docs.update_readme(str(p), "NEW")
    assert p.read_text() == f"intro\n{_docs.BEGIN}\nNEW\n{_docs.END}\nrest\n"
    p.write_text("no markers")
    with pytest.raises(ValueError, match="no table markers"):
        _docs.update_readme(str(p), "NEW")
