"""Checks shared by the hidden tests of every exercise set.

``exercises/build.py`` ships this file in every autograder zip (otter's ``autograder_files``); it is
not in the student folders. A hidden test of a master notebook uses it like this::

    def test_q1_hidden(kl_standard_normal, env):
        import importlib.util    # loaded afresh from its file: a notebook cannot pre-empt the import
        spec = importlib.util.spec_from_file_location("dgmcheck", "dgmcheck.py")
        dgmcheck = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(dgmcheck)
        c = dgmcheck.Checks(env, kl_standard_normal, public=globals())
        with c.case("random non-square batch"):
            out = c.call(kl_standard_normal, mu, logvar)    # fails if it modifies mu or logvar
            c.close(out, reference_computed_here_in_numpy)
        c.done()                                            # one AssertionError listing every failed case

What it guards against, since the tests run in the kernel that ran the student's notebook:

* comparison functions replaced from the notebook (``torch.allclose = lambda *a, **k: True``,
  ``numpy.isclose = ...``): :func:`untampered` fails the test when an attribute of ``torch``,
  ``numpy``, ``math``, ``builtins`` (or this module) is a function or callable defined in the
  notebook; the comparisons here use numpy on the answer's values, and the references are
  computed by the test itself, never by dgmlib or by the student's namespace;
* answers that call dgmlib where the question asks for plain torch: :func:`uses_dgmlib` inspects
  the answer's code objects, globals, closures and defaults, and the helpers it calls in turn;
* in-place changes of any argument (:meth:`Checks.call` compares every tensor, list, tuple, dict
  and module argument with a copy taken before the call: values, lengths, and which objects a
  list holds);
* gradients of the wrong value: :meth:`Checks.grads` compares them with the test's own gradient
  (:func:`autograd_reference`, autograd on the test's reference implementation), so that a graph
  cut by ``no_grad``/``detach``/``.item()``/``float()``, a non-reparameterized draw (zero
  gradient) or a NaN gradient at an extreme input fails, not only a gradient that is missing;
* constructions a question forbids (:func:`largest_intermediate`: the largest tensor any torch
  function or tensor method returns during a call, e.g. no ``[d, d]`` matrix);
* samplers that re-seed the global generator (:func:`reseeds`), and samplers with the right
  marginals but the wrong joint structure (:func:`correlation_is_zero`, :func:`chi2_fits`,
  :func:`ks_fits`: goodness-of-fit tests at a stated significance level, :data:`ALPHA`), or counts
  too regular to be random (:func:`counts_vary_as_multinomial`, and :func:`chi2_fits` is two-sided).

Every statistical check runs on draws made after a fixed ``torch.manual_seed``, so a given answer
always gets the same verdict.

The hidden test also runs the question's public tests (``public=globals()``), so passing the
hidden test implies passing the public ones.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import math
import sys
import types

import numpy as np
import torch

# Every statistical check below uses a fixed seed and this significance level: a correct sampler
# fails one such check with probability ALPHA over seeds (about 1e-6), a wrong one with a
# probability near 1 for the sample sizes the tests use.
ALPHA = 1e-6
Z_ALPHA = 4.89  # two-sided normal quantile of ALPHA: P(|N(0, 1)| > 4.89) = 1.0e-6

SETUP_MARKER = "# Setup: works locally and on Colab"


# ---------------------------------------------------------------- the kernel is not tampered with

def _from_notebook(value) -> bool:
    """Whether ``value`` is a function or callable object defined in the notebook (``__main__``)."""
    if isinstance(value, functools.partial):
        return True
    for obj in (value, type(value)):
        if getattr(obj, "__module__", None) == "__main__":
            return True
    return False


def _namespaces():
    import torch.nn.functional
    import torch.testing
    yield "torch", vars(torch)
    yield "torch.Tensor", vars(torch.Tensor)
    for name in ("torch.nn.functional", "torch.testing", "torch.linalg", "torch.special", "numpy",
                 "numpy.testing", "math", "builtins", "scipy.stats", "scipy.special", __name__):
        module = sys.modules.get(name)
        if module is not None:
            yield name, vars(module)
    yield f"{__name__}.Checks", vars(Checks)


def untampered() -> None:
    """Fail when the notebook replaced a function of torch, numpy, math, builtins or of this module."""
    found = [f"{where}.{name}" for where, space in _namespaces() for name, value in list(space.items())
             if not name.startswith("__") and _from_notebook(value)]
    if found:
        raise AssertionError(f"the notebook replaced library functions: {', '.join(sorted(found))}")


# ---------------------------------------------------------------- plain torch

def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _is_dgmlib(value) -> bool:
    if isinstance(value, types.ModuleType):
        return value.__name__.split(".")[0] == "dgmlib"
    for obj in (value, type(value)):
        module = getattr(obj, "__module__", None)
        if isinstance(module, str) and module.split(".")[0] == "dgmlib":
            return True
    return False


def uses_dgmlib(fn, _seen: set | None = None) -> str | None:
    """How ``fn`` (or a notebook function it refers to) reaches dgmlib, or None if it does not."""
    seen = set() if _seen is None else _seen
    if id(fn) in seen:
        return None
    seen.add(id(fn))
    if _is_dgmlib(fn):
        return f"{getattr(fn, '__qualname__', fn)!s} is dgmlib's own"
    if isinstance(fn, functools.partial):
        return uses_dgmlib(fn.func, seen)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    glb = getattr(fn, "__globals__", {})
    related = []
    for co in _code_objects(code):
        for name in co.co_names:
            if name == "dgmlib":
                return f"{fn.__qualname__} refers to dgmlib"
            if name in glb:
                related.append((name, glb[name]))
        for const in co.co_consts:
            if isinstance(const, str) and "dgmlib" in const:
                return f"{fn.__qualname__} names dgmlib in a string"
    related += [(f"closure {i}", cell.cell_contents) for i, cell in enumerate(fn.__closure__ or ())
                if _cell_filled(cell)]
    related += [("a default", v) for v in (fn.__defaults__ or ())]
    related += [("a default", v) for v in (fn.__kwdefaults__ or {}).values()]
    for name, value in related:
        if _is_dgmlib(value):
            return f"{fn.__qualname__} uses {name}, from dgmlib"
        if callable(value) and getattr(value, "__module__", None) == "__main__":
            how = uses_dgmlib(value, seen)  # a helper defined in the notebook: look inside it too
            if how:
                return how
    return None


def _cell_filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def notebook_uses_dgmlib(env: dict) -> str | None:
    """For answers that are numbers: the first notebook cell (other than the setup cell) whose code
    refers to dgmlib, from IPython's input history ``In``."""
    for source in env.get("In", []) or []:
        if not isinstance(source, str) or source.lstrip().startswith(SETUP_MARKER):
            continue
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Name):
                names = [node.id]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value]
            if any("dgmlib" in n for n in names):
                return source.strip().splitlines()[0][:80]
    return None


# ---------------------------------------------------------------- values

def numpy(x) -> np.ndarray:
    """The values of a tensor (or number) as a float64 numpy array; fails on anything else."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().to(torch.float64).numpy()
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return np.asarray(float(x))
    raise AssertionError(f"expected a tensor or a number, got {type(x).__name__}")


def lse(a, axis) -> np.ndarray:
    """Stable log-sum-exp of a numpy array along ``axis`` (a reference: shifted per slice)."""
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def log_normal(z, mu, logvar) -> np.ndarray:
    """log N(z; mu, diag(exp(logvar))) summed over the last axis, numpy, broadcasting."""
    z, mu, logvar = (np.asarray(t, dtype=np.float64) for t in (z, mu, logvar))
    return -0.5 * np.sum(np.log(2 * np.pi) + logvar + (z - mu) ** 2 * np.exp(-logvar), axis=-1)


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> tuple[bool, float]:
    if a.shape != b.shape:
        return False, math.inf
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        same = np.array_equal(a, b, equal_nan=False)
        return bool(same), (0.0 if same else math.inf)
    err = np.abs(a - b)
    return bool(np.all(err <= atol + rtol * np.abs(b))), float(np.max(err, initial=0.0))


def _snapshot(obj):
    """What ``obj`` holds now: tensor values, module states, and the items of lists, tuples and dicts
    (which objects, recursively); other objects are compared by identity only."""
    if isinstance(obj, torch.Tensor):
        return ("tensor", obj, obj.detach().clone())
    if isinstance(obj, torch.nn.Module):
        return ("module", obj, {k: v.detach().clone() for k, v in obj.state_dict().items()})
    if isinstance(obj, (list, tuple)):
        return ("sequence", obj, [_snapshot(o) for o in obj])
    if isinstance(obj, dict):
        return ("dict", obj, {k: _snapshot(v) for k, v in obj.items()})
    return ("object", obj, None)


def _same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(numpy(a), numpy(b), equal_nan=True)


def _changes(snap, where: str) -> list[str]:
    """The places where the object of a snapshot differs from the snapshot."""
    kind, obj, data = snap
    if kind == "tensor":
        return [] if _same_tensor(obj, data) else [where]
    if kind == "module":
        now = obj.state_dict()
        same = now.keys() == data.keys() and all(_same_tensor(now[k], data[k]) for k in data)
        return [] if same else [f"{where} (its parameters or buffers)"]
    if kind == "sequence":
        if len(obj) != len(data) or any(o is not d[1] for o, d in zip(obj, data)):
            return [f"{where} (its items)"]
        return [c for i, d in enumerate(data) for c in _changes(d, f"{where}[{i}]")]
    if kind == "dict":
        if obj.keys() != data.keys() or any(obj[k] is not data[k][1] for k in data):
            return [f"{where} (its items)"]
        return [c for k, d in data.items() for c in _changes(d, f"{where}[{k!r}]")]
    return []


def _argument_names(fn, args, kwargs) -> list[str]:
    import inspect
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
        return [f"argument {name!r}" for name in bound.arguments]
    except (TypeError, ValueError):
        return [f"argument {i + 1}" for i in range(len(args))] + [f"argument {k!r}" for k in kwargs]


class Checks:
    """The checks of one hidden test: run each case, collect the failures, fail once at the end."""

    def __init__(self, env: dict, *answers, public: dict | None = None, plain: bool = True,
                 number: bool = False):
        untampered()
        self.env, self.failures = env, []
        for answer in answers:
            if answer is None:
                raise AssertionError("the answer is not defined (run its cell)")
            if plain and not number:
                how = uses_dgmlib(answer)
                if how:
                    raise AssertionError(f"the question asks for plain torch, but {how}")
        if number:
            where = notebook_uses_dgmlib(env)
            if where:
                raise AssertionError(f"the notebook uses dgmlib (in the cell starting {where!r})")
        if public is not None:
            self._public(public)

    def _public(self, space: dict) -> None:
        tests = [v for v in list(space.values()) if type(v).__name__ == "test_case" and not v.hidden]
        for tc in tests:
            with self.case(f"public test {tc.test_func.__name__}"):
                tc.call_func(self.env)

    @contextlib.contextmanager
    def case(self, label: str):
        try:
            yield
        except Exception as e:  # noqa: BLE001 - every failure of a case is reported, none stops the others
            self.failures.append(f"{label}: {type(e).__name__}: {str(e)[:300]}")

    def done(self) -> None:
        untampered()  # the answers ran meanwhile: they must not have replaced anything either
        if self.failures:
            raise AssertionError(f"{len(self.failures)} hidden check(s) failed:\n  " + "\n  ".join(self.failures))

    # -- calling and comparing

    @staticmethod
    def call(fn, *args, **kwargs):
        """``fn(*args, **kwargs)``, failing if it modified any argument in place: a tensor's values
        (or shape), a module's parameters, or a list, tuple or dict (its length, which objects it
        holds, and theirs in turn)."""
        values = list(args) + list(kwargs.values())
        snaps = [_snapshot(v) for v in values]
        out = fn(*args, **kwargs)
        changed = [c for name, snap in zip(_argument_names(fn, args, kwargs), snaps) for c in _changes(snap, name)]
        if changed:
            raise AssertionError(f"the answer modified its input in place: {', '.join(changed)}")
        return out

    @staticmethod
    def close(out, ref, rtol: float = 1e-7, atol: float = 1e-9, dtype=torch.float64) -> None:
        """``out`` is a tensor of ``ref``'s shape (and of ``dtype`` unless None) with its values."""
        if not isinstance(out, torch.Tensor):
            raise AssertionError(f"expected a tensor, got {type(out).__name__}")
        if dtype is not None and out.dtype != dtype:
            raise AssertionError(f"expected dtype {dtype}, got {out.dtype}")
        a, b = numpy(out), np.asarray(ref, dtype=np.float64)
        ok, err = _close(a, b, rtol, atol)
        if not ok:
            raise AssertionError(f"values differ: shape {a.shape} (expected {b.shape}), largest error {err:.3g}"
                                 f"{'' if np.all(np.isfinite(a)) else ', non-finite values'}")

    @staticmethod
    def number(out, ref, rtol: float = 1e-9, atol: float = 1e-12, kind=float) -> None:
        """``out`` is a Python number of type ``kind`` (not a tensor) close to ``ref``."""
        if not isinstance(out, kind) or isinstance(out, bool):
            raise AssertionError(f"expected a Python {kind.__name__}, got {type(out).__name__}")
        ok, err = _close(np.asarray(float(out)), np.asarray(float(ref)), rtol, atol)
        if not ok:
            raise AssertionError(f"expected {ref!r}, got {out!r}")

    @staticmethod
    def scalar(out, ref, rtol: float = 1e-7, atol: float = 1e-9) -> None:
        """``out`` is a 0-dimensional float64 tensor with the value ``ref``."""
        Checks.close(out, np.asarray(float(ref)), rtol=rtol, atol=atol)

    @staticmethod
    def grads(out, inputs: dict, refs: dict | None = None, rtol: float = 1e-7, atol: float = 1e-9,
              weight=None) -> dict:
        """Gradients of ``(weight * out).sum()`` (``out.sum()`` without a weight) with respect to each
        named input; fails when the graph is cut (no gradient reaches an input), when a gradient is
        not finite, and when it differs from ``refs`` (name -> numpy array, e.g. from
        :func:`autograd_reference`) for the inputs ``refs`` names."""
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            raise AssertionError("the result carries no gradient (no_grad, detach, .sample() or float()?)")
        names = list(inputs)
        total = (out * weight).sum() if weight is not None else out.sum()
        got = torch.autograd.grad(total, [inputs[n] for n in names], allow_unused=True)
        result = {}
        for name, g in zip(names, got):
            if g is None:
                raise AssertionError(f"no gradient reaches {name}")
            result[name] = numpy(g)
            if not np.all(np.isfinite(result[name])):
                raise AssertionError(f"the gradient with respect to {name} is not finite (NaN or inf)")
            if refs is not None and name in refs:
                ok, err = _close(result[name], np.asarray(refs[name], dtype=np.float64), rtol, atol)
                if not ok:
                    raise AssertionError(f"wrong gradient with respect to {name} (largest error {err:.3g}: "
                                         "part of the computation detached, or not reparameterized?)")
        return result


def autograd_reference(fn, inputs: dict, weight=None) -> dict:
    """The test's own gradients: name -> numpy gradient of ``(weight * fn(**leaves)).sum()`` with
    respect to fresh float64 copies of ``inputs`` (name -> tensor), by autograd on ``fn``, the
    test's reference implementation (its own few lines of torch, never the notebook's)."""
    leaves = {k: v.detach().clone().to(torch.float64).requires_grad_() for k, v in inputs.items()}
    out = fn(**leaves)
    total = (out * weight).sum() if weight is not None else out.sum()
    got = torch.autograd.grad(total, list(leaves.values()), allow_unused=True)
    return {k: (np.zeros(tuple(v.shape)) if g is None else numpy(g)) for (k, v), g in zip(leaves.items(), got)}


def largest_intermediate(fn, *args, **kwargs) -> tuple[int, tuple]:
    """(number of elements, shape) of the largest tensor that any torch function or tensor method
    returns while ``fn(*args, **kwargs)`` runs (a ``TorchFunctionMode`` sees every call, however it
    is written: ``torch.eye``, ``torch.outer``, ``v[:, None] * v``, ``@``, ``einsum``): catches a
    construction a question forbids, such as a ``[d, d]`` matrix where ``O(d)`` memory is asked for.
    (A function mode, not a dispatch mode: entering a dispatch mode imports torch._dynamo, 3 s.)"""
    from torch.overrides import TorchFunctionMode
    from torch.utils._pytree import tree_flatten

    class Largest(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.size, self.shape = 0, ()

        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor) and t.numel() > self.size:
                    self.size, self.shape = t.numel(), tuple(t.shape)
            return out

    with Largest() as mode:
        fn(*args, **kwargs)
    return mode.size, mode.shape


# ---------------------------------------------------------------- randomness

def reseeds(draw) -> bool:
    """Whether ``draw()`` resets torch's global generator (calls ``torch.manual_seed`` inside): the
    generator's state after the call would then not depend on its state before."""
    after = []
    for seed in (11, 12):
        torch.manual_seed(seed)
        draw()
        after.append(torch.rand(4, dtype=torch.float64))
    return bool(torch.equal(after[0], after[1]))


def uses_global_generator(draw) -> bool:
    """Whether ``draw()`` follows torch's global generator: the same seed gives the same draws, and
    the next numbers drawn after it differ from those of an untouched generator."""
    torch.manual_seed(5)
    a = numpy(draw())
    torch.manual_seed(5)
    b = numpy(draw())
    after = torch.rand(4, dtype=torch.float64)
    torch.manual_seed(5)
    untouched = torch.rand(4, dtype=torch.float64)
    return bool(np.array_equal(a, b)) and not bool(torch.equal(after, untouched))


def correlation_is_zero(a, b) -> tuple[bool, float]:
    """Test of zero correlation between two samples of length n at level ALPHA (|r| sqrt(n) < z)."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    r = float(np.corrcoef(a, b)[0, 1])
    return abs(r) * math.sqrt(len(a)) < Z_ALPHA, r


def binomial_fits(count, n, p) -> tuple[bool, float]:
    """Normal-approximation test that ``count`` successes in ``n`` trials have probability ``p``, level ALPHA."""
    z = (count - n * p) / math.sqrt(n * p * (1 - p))
    return abs(z) < Z_ALPHA, z


def labels_are_independent(labels, probs) -> tuple[bool, float]:
    """The categories drawn one after the other are independent: consecutive draws agree with
    probability sum_k p_k^2 (components taken in turn never, one repeated always)."""
    labels = np.asarray(labels).ravel()
    same = int(np.sum(labels[1:] == labels[:-1]))
    return binomial_fits(same, len(labels) - 1, float(np.sum(np.asarray(probs) ** 2)))


def _two_sided_chi2(statistic: float, df: int) -> float:
    from scipy import stats
    return float(min(1.0, 2 * min(stats.chi2.cdf(statistic, df), stats.chi2.sf(statistic, df))))


def chi2_fits(counts, probs) -> tuple[bool, float]:
    """Pearson's chi-square goodness-of-fit test of category counts against probabilities, level
    ALPHA, two-sided: counts too far from the expected ones fail, and so do counts too close to
    them to be random (exactly n p_k of each category, as a stratified or balanced sampler gives)."""
    counts = np.asarray(counts, dtype=np.float64)
    expected = np.asarray(probs, dtype=np.float64) * counts.sum()
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    p = _two_sided_chi2(statistic, len(counts) - 1)
    return p > ALPHA, p


def counts_vary_as_multinomial(counts, probs) -> tuple[bool, float]:
    """Category counts of R independent calls (``counts``: [R, K]) vary as multinomial counts do:
    the sum of the R Pearson statistics is chi-square with R (K - 1) degrees of freedom; two-sided
    test at level ALPHA (counts that hardly vary from call to call fail, as do counts that vary
    too much)."""
    counts = np.asarray(counts, dtype=np.float64)
    expected = counts.sum(1, keepdims=True) * np.asarray(probs, dtype=np.float64)[None]
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    p = _two_sided_chi2(statistic, counts.shape[0] * (counts.shape[1] - 1))
    return p > ALPHA, p


def ks_fits(sample, cdf) -> tuple[bool, float]:
    """Kolmogorov-Smirnov goodness-of-fit test of a 1-D sample against a CDF, level ALPHA."""
    from scipy import stats
    p = float(stats.kstest(np.asarray(sample, dtype=np.float64).ravel(), cdf).pvalue)
    return p > ALPHA, p


def normal_cdf(x, mean=0.0, std=1.0):
    from scipy import special
    return 0.5 * special.erfc(-(np.asarray(x) - mean) / (std * math.sqrt(2)))

