"""Issue 7: the command line.  Every error is one line on stderr and a
non-zero exit status, never a traceback."""
import json
import re
import os
import subprocess
import sys

import numpy as np
import pytest

import fastact
from fastact.__main__ import main


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(rc, err, *fragments):
    assert rc != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], (f, lines[0])


@pytest.mark.parametrize("argv, fragments", [
    (["nosuchact"], ["unknown activation 'nosuchact'"]),
    (["gleu"], ["'gleu'", "did you mean", "'gelu'"]),
    (["plto"], ["did you mean the command 'plot'"]),
    (["--size", "10"], ["--size must be at least 1024"]),
    (["--size", "ten"], ["invalid int value: 'ten'"]),
    (["--dtype", "float16"], ["invalid choice: 'float16'"]),
    (["--threads", "0"], ["--threads must be >= 1"]),
    (["--bogus"], ["unrecognized arguments: --bogus"]),
    (["bench", "nosuchact"], ["fastact bench: error:", "unknown activation"]),
    (["bench", "relu", "--sizes", "0"], ["--sizes must be >= 1, got 0"]),
    (["bench", "relu", "--sizes", "-5"], ["--sizes must be >= 1"]),
    (["bench", "relu", "--sizes", "big"], ["invalid int value: 'big'"]),
    (["bench", "relu", "--threads", "0"], ["--threads must be >= 1"]),
    (["bench", "relu", "--dtype", "int8"], ["invalid choice: 'int8'"]),
    (["bench", "relu", "--json", "/nonexistent/dir/x.json"], ["does not exist"]),
    (["bench", "--frobnicate"], ["unrecognized arguments"]),
    (["check", "nosuchact"], ["fastact check: error:", "unknown activation"]),
    (["check", "relu", "--samples", "0"], ["--samples must be >= 1"]),
    (["check", "--dtype", "float8"], ["invalid choice"]),
    (["plot", "nosuchact"], ["fastact plot: error:", "unknown activation"]),
    (["plot", "relu", "-o", "x.jpg"], [".png"]),
    (["plot", "relu", "-o", "/nonexistent/dir/x.png"], ["does not exist"]),
    (["info", "extra"], ["unrecognized arguments"]),
    (["docs", "--json", "/nonexistent.json"], ["no measurement file"]),
    (["docs", "--samples", "0", "--measure"], ["--samples must be >= 1"]),
    (["docs", "--update-readme", "/nonexistent/README.md"], ["no such file"]),
])
def test_errors_are_one_line(capsys, argv, fragments):
    rc, out, err = run(capsys, *argv)
    one_line_error(rc, err, *fragments)
    assert rc == 2


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--help"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("bench", "check", "plot", "info", "docs"):
        assert f"fastact {cmd}" in out


def test_info(capsys):
    rc, out, err = run(capsys, "info")
    assert rc == 0 and "SIMD path" in out and "threads" in out


def test_summary_runs_and_has_the_table(capsys):
    rc, out, err = run(capsys, "relu", "gelu", "softmax", "--size", "4096", "--threads", "1")
    assert rc == 0, err
    assert "SIMD path" in out and "threads: " in out
    assert "speed-up vs" in out and "max ULP" in out
    rows = {ln.split()[0]: ln for ln in out.splitlines() if ln.split()[:1] and ln.split()[0] in
            ("relu", "gelu", "softmax")}
    assert set(rows) == {"relu", "gelu", "softmax"}
    head = next(ln for ln in out.splitlines() if ln.startswith("function"))
    assert "ref" in head and "numpy" in head and "fastact" in head
    from fastact import _peers
    have = _peers.available()   # onnxruntime counts only with onnx, which builds its graphs
    for peer, col in (("torch", "torch"), ("onnxruntime", "ort")):
        if have.get(peer):
            assert col in head


def test_bench_command(capsys, tmp_path):
    j = tmp_path / "b.json"
    rc, out, err = run(capsys, "bench", "relu", "sigmoid", "--sizes", "4096", "--dtype", "float32",
                       "--threads", "1", "--repeats", "1", "--min-time", "0.0005", "--json", str(j), "-q")
    assert rc == 0, err
    assert "fastact / best" in out and "relu" in out and "sigmoid" in out
    data = json.loads(j.read_text())
    assert {r["function"] for r in data["records"]} == {"relu", "sigmoid"}
    assert data["command"].startswith("fastact bench")


def test_bench_compare_wrapper_keeps_working(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = os.path.join(root, "bench", "compare.py")
    if not os.path.exists(script):
        pytest.skip("bench/ not present (installed package)")
    j = tmp_path / "c.json"
    p = subprocess.run([sys.executable, script, "relu", "--sizes", "4096", "--dtype", "float64",
                        "--threads", "1", "--repeats", "1", "--min-time", "0.0005", "--peers", "numpy",
                        "--json", str(j), "-q", "--markdown"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    # a row measured under outside load L carries a "~L" marker after the name
    assert re.search(r"\| relu( ~[0-9.]+)? \|", p.stdout), p.stdout
    assert json.loads(j.read_text())["peers"] == ["numpy"]
    p = subprocess.run([sys.executable, script, "--sizes", "0"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0 and "Traceback" not in p.stderr


def test_check_command(capsys):
    rc, out, err = run(capsys, "check", "relu", "--dtype", "float64", "--samples", "50")
    assert rc == 0, err
    assert "relu" in out and "max ULP" in out


def test_plot_without_matplotlib(capsys, monkeypatch):
    import builtins
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", fake)
    rc, out, err = run(capsys, "plot", "relu")
    one_line_error(rc, err, "matplotlib", "pip install 'fastact[plot]'")
    assert rc == 1


def test_plot_writes_png(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "acts.png"
    rc, out, err = run(capsys, "plot", "relu", "gelu", "prelu", "maxout", "softmax", "-o", str(png))
    assert rc == 0, err
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_plot_data_is_the_function_and_its_derivative():
    from fastact.__main__ import _plot_data
    from fastact import _registry
    x = np.linspace(-6, 6, 1201)
    for e in _registry.REGISTRY.values():
        title, y, d, dlabel = _plot_data(e, x)
        assert y.shape == x.shape and d.shape == x.shape, e.name
        assert title.startswith(e.name)
        if e.kind in ("unary", "prelu"):
            kw = dict(e.examples[0])
            np.testing.assert_array_equal(y, fastact.get(e.name)(x, **kw))
            np.testing.assert_array_equal(d, fastact.derivative(e.name, x, **kw))
            assert dlabel == "f'(x)"
    # the 2-entry softmax row is the sigmoid
    t, y, d, _ = _plot_data(_registry.lookup("softmax"), x)
    np.testing.assert_allclose(y, fastact.sigmoid(x), rtol=1e-12)


def test_python_dash_m_and_console_script():
    p = subprocess.run([sys.executable, "-m", "fastact", "nosuchact"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip() == "fastact: error: unknown activation 'nosuchact'"
    exe = os.path.join(os.path.dirname(sys.executable), "fastact")
    if os.path.exists(exe):
        p = subprocess.run([exe, "info"], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and "SIMD path" in p.stdout
