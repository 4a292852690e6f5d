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


def test_bench_targets_reads_compare_json(tmp_path):
    """bench/targets.py: a real compare.py JSON (the NT copy ceiling row
    included, --no-ref leaves the reference out), then synthetic records
    whose verdicts are known."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    compare = os.path.join(root, "bench", "compare.py")
    targets = os.path.join(root, "bench", "targets.py")
    if not os.path.exists(targets):
        pytest.skip("bench/ not present (installed package)")
    j = tmp_path / "t.json"
    p = subprocess.run([sys.executable, compare, "relu", "--sizes", "4096", "--dtype", "float32",
                        "--threads", "1", "--repeats", "1", "--min-time", "0.0005", "--peers", "numpy",
                        "--no-ref", "--json", str(j), "-q"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "(ceiling: NT copy, C, 1 thread)" in p.stdout
    data = json.loads(j.read_text())
    assert "numpy ref" not in data["records"][0]["results"]
    assert "copy_nt" in data["ceilings"][0]["results"]
    rec = lambda f, n, t, fa, peer, kind="unary": {
        "function": f, "label": f, "kind": kind, "dtype": "float32", "n": n, "threads": t,
        "results": {"fastact": {"gelem_s": fa}, "torch": {"gelem_s": peer}, "numpy": {"gelem_s": peer / 4}},
        "best_peer": "torch", "ratio": fa / peer}
    synth = {"records": [rec("sigmoid", 262144, 1, 1.0, 2.0), rec("relu", 262144, 1, 1.1, 1.0),
                         rec("sigmoid", 262144, 2, 1.9, 1.0), rec("relu", 1 << 26, 2, 4.7, 9.0)],
             "ceilings": [{"dtype": "float32", "n": 1 << 26, "threads": 2,
                           "results": {"copy_nt": {"gelem_s": 5.0}}}]}
    s = tmp_path / "s.json"
    s.write_text(json.dumps(synth))
    p = subprocess.run([sys.executable, targets, str(j), str(s), "--dtype", "float32"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # a run beside NumPy only (no pooled peers) is where 2-thread scaling is read from
    alone = {"peers": ["numpy"], "records": [rec("sigmoid", 262144, 1, 1.0, 0.5), rec("sigmoid", 262144, 2, 1.95, 0.5)]}
    a = tmp_path / "a.json"
    a.write_text(json.dumps(alone))
    q = subprocess.run([sys.executable, targets, str(s), str(a), "--dtype", "float32"],
                       capture_output=True, text=True, timeout=60)
    assert q.returncode == 0, q.stderr
    assert re.search(r"ok   sigmoid n=262144 +1\.95x own 1-thread", q.stdout) and "1.90x own" not in q.stdout
    text = p.stdout
    assert re.search(r"T1: \d+/\d+ met", text)
    assert re.search(r"MISS sigmoid +0\.50x torch \(>= 1\.5x\)", text)         # T1, exp-based
    assert re.search(r"ok   relu +1\.10x torch \(>= 1\.0x\)", text)            # T1, piecewise
    assert re.search(r"ok   sigmoid n=262144 +1\.90x own 1-thread", text)      # T2a
    assert re.search(r"ok   relu +4\.70 of 5\.00 Gelem/s = 0\.94x", text)      # T3
    assert re.search(r"MISS sigmoid +2\.0x numpy \(>= 5x\)", text)             # T5
    # the real compare.py row was read: a T4 line against its only peer
    assert re.search(r"T4: \d+/1 met\n +(ok  |MISS) relu +\d+\.\d+x numpy \(>= 1\.0x\)", text), text
