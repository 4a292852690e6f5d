"""The accuracy checker itself: its ULP measure and its verdicts."""
import io

import numpy as np
import pytest

from fastact import _check


def test_ulp_measure_float32():
    ref = np.array([1.0 + 2.0 ** -24, 1e-45 * 0.75, 3e38, 0.0, np.nan, np.inf])
    exact32 = ref.astype(np.float32)
    err = _check._ulp_err32(exact32, ref)
    assert err[0] == pytest.approx(0.5)              # correctly rounded: 1/2 ULP
    assert err[1] <= 0.5                             # subnormal units (2^-149)
    assert err[3] == 0 and err[4] == 0 and err[5] == 0
    flushed = np.array([0.0], np.float32)            # a flush to zero is an error
    assert _check._ulp_err32(flushed, np.array([2.0 ** -140]))[0] == 2.0 ** 9


def test_check_passes_and_reports():
    out = io.StringIO()
    rc = _check.run(["sigmoid", "relu"], "float32", out=out)
    text = out.getvalue()
    assert rc == 0, text
    assert "sigmoid" in text and "f'" in text and "g*f'" in text


def test_check_float64_mpmath():
    pytest.importorskip("mpmath")
    out = io.StringIO()
    assert _check.run(["tanh"], "float64", samples=300, out=out) == 0, out.getvalue()


def test_check_fails_above_bound(monkeypatch):
    """A kernel one ULP off everywhere must fail the float32 bound."""
    import fastact
    real = fastact.softsign

    def broken(x, **kw):
        y = real(x, **kw)
        return np.nextafter(np.nextafter(y, np.inf), np.inf)
    monkeypatch.setattr(fastact, "softsign", broken)
    out = io.StringIO()
    assert _check.run(["softsign"], "float32", out=out, grads=False) == 1
    assert "FAIL" in out.getvalue()


def test_exhaustive_needs_float32():
    with pytest.raises(ValueError, match="float32"):
        _check.run(["relu"], "float64", exhaustive=True)


def test_check_backward_from_y(monkeypatch):
    """`--what "g*f'(y)"`: the from-output backward is checked on the
    sampled outputs (and on y as sampled) against the reference's from-y
    formula; functions without it get no such row; a kernel two ULP off
    fails."""
    import fastact
    out = io.StringIO()
    assert _check.run(["tanh", "relu"], "float32", out=out, only=["g*f'(y)"]) == 0, out.getvalue()
    rows = [ln.split() for ln in out.getvalue().splitlines()[1:]]
    assert [r[:2] for r in rows] == [["tanh", "g*f'(y)"]], out.getvalue()
    assert float(rows[0][3]) <= 0.5 + 2.0 ** -13
    real = fastact.tanh_backward

    def broken(g, x, y=None, **kw):
        r = real(g, x, y=y, **kw)
        return np.nextafter(np.nextafter(r, np.inf), np.inf)
    monkeypatch.setattr(fastact, "tanh_backward", broken)
    out = io.StringIO()
    assert _check.run(["tanh"], "float32", out=out, only=["g*f'(y)"]) == 1
    assert "FAIL" in out.getvalue()
