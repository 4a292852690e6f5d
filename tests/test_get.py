"""Issue 7: the Keras-style registry API -- get(), available(), register()."""
import functools
import pickle

import numpy as np
import pytest

import fastact
from fastact import _registry


@pytest.fixture
def registered():
    """Register activations inside a test and always remove them afterwards."""
    names = []

    def reg(name, *args, **kw):
        fn = fastact.register(name, *args, **kw)
        names.append(name)
        return fn
    yield reg
    for n in names:
        if n in _registry.REGISTRY:
            fastact.unregister(n)


X = np.linspace(-6, 6, 97)


@pytest.mark.parametrize("name", sorted(_registry.REGISTRY))
def test_get_name_returns_the_function(name):
    assert fastact.get(name) is getattr(fastact, name)


@pytest.mark.parametrize("alias, target", sorted(_registry.ALIASES.items()))
def test_get_alias(alias, target):
    assert fastact.get(alias) is getattr(fastact, target)
    assert alias in fastact.available()
    assert fastact.available()[alias] == fastact.available()[target]


def test_named_aliases():
    assert fastact.get("logistic") is fastact.sigmoid
    assert fastact.get("hard_swish") is fastact.hardswish
    x = X.astype(np.float32)
    np.testing.assert_array_equal(fastact.get("swish", beta=1.0)(x), fastact.silu(x))
    np.testing.assert_array_equal(fastact.get("swish")(x), fastact.get("silu")(x))


def test_get_binds_parameters():
    f = fastact.get("leaky_relu", negative_slope=0.2)
    assert isinstance(f, functools.partial)
    assert isinstance(f, fastact.BoundActivation)
    assert repr(f) == "fastact.get('leaky_relu', negative_slope=0.2)"
    np.testing.assert_array_equal(f(X), fastact.leaky_relu(X, negative_slope=0.2))
    g = fastact.get("gelu", approximate="tanh")
    np.testing.assert_array_equal(g(X), fastact.gelu(X, approximate="tanh"))
    assert repr(g) == "fastact.get('gelu', approximate='tanh')"
    p = fastact.get("prelu", weight=0.1)
    np.testing.assert_array_equal(p(X), fastact.leaky_relu(X, negative_slope=0.1))
    # the bound callable pickles (multiprocessing, model checkpoints)
    h = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(h(X), f(X))
    assert repr(h) == repr(f)


@pytest.mark.parametrize("name, params, exc, text", [
    ("leaky_relu", {"negative_slope": float("nan")}, ValueError, "negative_slope must not be NaN"),
    ("leaky_relu", {"negative_slope": "big"}, TypeError, "negative_slope must be a real number"),
    ("hardtanh", {"min_val": 2.0}, ValueError, "min_val (2.0) must be <= max_val"),
    ("celu", {"alpha": 0.0}, ValueError, "alpha must be a finite number > 0"),
    ("gelu", {"approximate": "fast"}, ValueError, "approximate must be one of"),
    ("relu", {"alpha": 1.0}, TypeError, "relu() has no parameter 'alpha'"),
    ("softplus", {"betta": 1.0}, TypeError, "has no parameter 'betta'"),
    ("prelu", {"weight": [[0.1]]}, ValueError, "weight must be a scalar or 1-D"),
    ("maxout", {"pool_size": 0}, ValueError, "pool_size must be >= 1"),
    ("softmax", {"axis": 1.5}, TypeError, "axis must be an integer"),
])
def test_get_validates_at_get_time(name, params, exc, text):
    with pytest.raises(exc) as ei:
        fastact.get(name, **params)
    assert text in str(ei.value)


def test_get_none_is_identity():
    f = fastact.get(None)
    a = np.arange(3.0)
    assert f(a) is a
    o = np.empty(3)
    assert f(a, out=o) is o and np.array_equal(o, a)
    with pytest.raises(TypeError):
        fastact.get(None, alpha=1.0)


def test_get_callable_passes_through():
    def mine(x):
        return x
    assert fastact.get(mine) is mine
    assert fastact.get(np.tanh) is np.tanh
    with pytest.raises(TypeError, match="parameters can only be bound"):
        fastact.get(mine, alpha=1.0)
    # a fastact function with parameters binds like its name
    assert repr(fastact.get(fastact.elu, alpha=0.5)) == "fastact.get('elu', alpha=0.5)"


def test_get_unknown_name_suggests():
    with pytest.raises(ValueError) as ei:
        fastact.get("gelu_fast")
    msg = str(ei.value)
    assert "'gelu_fast'" in msg and "did you mean" in msg and "'gelu'" in msg
    with pytest.raises(ValueError, match="'swihs'.*'swish'"):
        fastact.get("swihs")
    with pytest.raises(ValueError, match="unknown activation 'zzzzqqq'$"):
        fastact.get("zzzzqqq")
    with pytest.raises(TypeError, match="identifier must be"):
        fastact.get(3)


def test_available_lists_everything_with_parameters():
    av = fastact.available()
    assert set(_registry.REGISTRY) <= set(av)
    assert set(_registry.ALIASES) <= set(av)
    assert av["softplus"] == {"beta": 1.0, "threshold": 20.0}
    assert av["gelu"] == {"approximate": "none"}
    assert av["relu"] == {}


def _sqp(x):
    """Squareplus (So, 2021): (x + sqrt(x^2 + 4)) / 2."""
    return (x + np.sqrt(x * x + 4)) / 2


def _sqp_back(g, x):
    return g * (1 + x / np.sqrt(x * x + 4)) / 2


def test_register_forward_backward(registered):
    f = registered("squareplus", _sqp, backward=_sqp_back)
    assert fastact.get("squareplus") is f
    assert "squareplus" in fastact.available() and fastact.available()["squareplus"] == {}
    assert _registry.lookup("squareplus").kind == "python"
    x32 = X.astype(np.float32)
    y = f(x32)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _sqp(X), rtol=1e-6)
    assert f(np.arange(3)).dtype == np.float64               # integers -> float64
    assert f(np.float16(1.0)).dtype == np.float16 and np.ndim(f(np.float16(1.0))) == 0
    o = np.empty_like(x32)
    assert f(x32, out=o) is o
    np.testing.assert_allclose(f(X, backend="numpy"), _sqp(X))
    np.testing.assert_allclose(fastact.derivative("squareplus", X), _sqp_back(1.0, X))
    assert "Squareplus" in f.__doc__
    with pytest.raises(TypeError, match="out has dtype"):
        f(x32, out=np.empty(X.shape))


def test_register_without_backward(registered):
    registered("cube", lambda x: x ** 3)
    with pytest.raises(ValueError, match="no derivative"):
        fastact.derivative("cube", X)


def test_register_reference_is_used_by_check(registered):
    from fastact import _check
    e = _registry.lookup(registered("sqp_ref", _sqp, reference=_sqp).__name__)
    r64 = _check.check_float64(e, {}, samples=500)
    assert r64.max_ulp == 0 and r64.ok
    # a forward computed badly in float32 is caught by the float32 check
    registered("bad32", lambda x: (x + np.sqrt(x * x + np.float32(4))) / 2, reference=_sqp)
    r32 = _check.check_float32(_registry.lookup("bad32"), {})
    assert r32.max_ulp > 1          # x * x overflows float32 for |x| > 1.8e19
    assert _check.run(["bad32"], "float32", out=open("/dev/null", "w")) == 1


def test_register_rejects_bad_input(registered):
    with pytest.raises(ValueError, match="built-in"):
        fastact.register("relu", np.tanh)
    with pytest.raises(ValueError, match="built-in"):
        fastact.register("logistic", np.tanh)
    with pytest.raises(ValueError, match="identifier"):
        fastact.register("my act", np.tanh)
    with pytest.raises(TypeError, match="callable"):
        fastact.register("x1", 3)
    with pytest.raises(ValueError, match="shape"):
        fastact.register("x2", lambda x: x.sum())
    with pytest.raises(ValueError, match="failed on a test array"):
        fastact.register("x3", lambda x: 1 / 0)
    with pytest.raises(ValueError, match="not a user-registered"):
        fastact.unregister("relu")
    registered("again", np.tanh)
    registered("again", np.sin)      # re-registering replaces
    np.testing.assert_array_equal(fastact.get("again")(X), np.sin(X))


def test_registered_in_benchmarks(registered):
    from fastact import _bench, _peers
    registered("sqp_bench", _sqp)
    e = _registry.lookup("sqp_bench")
    rec = _bench.run_case(e, {}, 4096, np.float32, 1, repeats=1, min_time=0.0005, settle=0.0,
                          peer_list=["numpy"])
    assert "fastact" in rec["results"] and "numpy ref" in rec["results"]
    assert _peers.input_shape(e, {}, 4096) == (4096,)
