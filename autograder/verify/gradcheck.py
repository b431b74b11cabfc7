"""Out-of-process verification of the ``gradcheck`` assignment (see ``cs231kit.grading.verify``).

Each probe mirrors what its test cells check, on inputs of the same kind, and runs in the sandbox
for the student's code and for the reference alike: the probe of a visible test uses that test's
own inputs; the probe of a hidden test, inputs built here like those of the hidden check. This file
is visible to the sandbox (it holds no reference implementation); ``autograder/checks/`` is not, but
for the inputs it shares with the checks, ``autograder/checks/cases/``.

Three habits run through it:

- What a test requires of the *form* of a result (a real number, an ndarray of x's shape, a dict
  with exactly these keys, valid indices, inputs left unchanged, x restored) is checked here, and
  the probe raises where the test fails; the *values* go back to the parent, which compares them
  with the reference's.
- The tolerances are the tests' own, restated as ``|a - r| <= atol + rtol |r|`` and never stricter:
  ``relative_error(a, e) <= tol`` lets ``a`` lie about ``2 tol`` from ``e``, and the hidden checks
  allow ``rtol (|e| + max(1, max |e|))`` (see :func:`like_hidden_checks`).
- Where one test cell checks values with two tolerances, two probes share one ``run`` and split its
  outputs with ``reference_keys``.
"""

import copy
import numbers
from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module
from cs231kit.grading.probing import gradient_samples
from cs231kit.grading.verify import Probe

shared = load_course_module("autograder/checks/cases/gradcheck.py", root=Path(__file__).resolve().parents[2])
"""The tolerances and the step sweep, shared with the hidden checks of ``autograder/checks/gradcheck.py``."""

SEED = 0
"""The notebook's seed: the visible tests' inputs are rebuilt from it."""
SCALE = 10.0
"""At least ``max(1, max |e|)`` of every array the hidden probes compare (the largest is about 4, in
the affine layer); probes of scalars and of arrays whose entries stay below 1 use 1."""
NUMERICAL_RTOL = 2 * shared.NUMERICAL_TOL
"""The hidden checks' ``relative_error <= 1e-7`` against trusted finite differences (the reference's
are within 1e-11 of them)."""
ISCLOSE = {"rtol": 1e-5, "atol": 1e-8}
"""``np.isclose`` / ``np.allclose`` defaults, as the visible tests use them."""
ISCLOSE_1E4 = {"rtol": 1e-5, "atol": 1e-4}
"""``np.isclose(..., atol=1e-4)``: the visible tests of the losses and of the sigmoid neuron."""
VALUE_KEYS = ("out", "f", "loss")
GRADIENT_KEYS = ("da", "db", "dx", "dy", "dz", "dw", "dscores", "dW1", "db1", "dW2", "db2")
VISIBLE_KEYS = ("out", "f", "grads", "lecture_loss", "dx", "dy", "dz", "dw")
"""What the visible probes compare; not the keys of ``gradient_samples`` (checked against the
student's own loss, in the parent)."""
OWN_STEP = 1e-5
"""The step of ``gradcheck.check_gradient``, which the visible tests use."""

# Every autograded test of the notebook is backed by a probe.
IN_KERNEL_ONLY = {}

CHECKER = ("cs231kit.gradcheck",)
"""The course's checker (numerical gradients, relative errors, sparse checks): the notebook's
``gradcheck`` is not the student's to use in the functions they write; a probe that reaches it fails."""


def like_hidden_checks(rtol, scale=SCALE):
    """Probe tolerances for a hidden check's ``|a - e| <= rtol (|e| + max(1, max |e|))``.

    ``2 rtol |r| + rtol scale`` covers it wherever ``scale >= max(1, max |e|)``; for scalars
    (``scale=1``) ``|e| + max(1, |e|) <= 2 |e| + 1`` always.
    """
    return {"rtol": 2 * rtol, "atol": rtol * scale}


# ------------------------------------------------------------------------------- form of results


def _require(condition, message):
    """Raise where the test cell fails on the form of a result (the parent shows the message)."""
    if not condition:
        raise ValueError(message)


def _number(value, allow_0d=False):
    """``value`` if it is a real number: a ``numbers.Real`` (the visible tests' check_is_number) or,
    with ``allow_0d``, any real scalar, a 0-d array included (the hidden checks)."""
    if allow_0d:
        real = np.ndim(value) == 0 and np.asarray(value).dtype.kind in "iuf"
    else:
        real = isinstance(value, numbers.Real)
    _require(real and not isinstance(value, (bool, np.bool_)), f"{value!r:.80} is not a real number")
    return value


def _shaped(value, shape, label):
    """``value`` if it is a real numpy array (or number, for ``shape == ()``) of exactly ``shape``."""
    if shape == ():
        return _number(value, allow_0d=True)
    _require(isinstance(value, np.ndarray) and value.dtype.kind in "iuf",
             f"{label} is {type(value).__name__}, not a real numpy array")
    _require(value.shape == tuple(shape), f"{label} has shape {value.shape}, expected {tuple(shape)}")
    return value


def _parts(result, count, label):
    """A result of ``count`` values as a tuple (one value is returned alone, not in a tuple)."""
    if count == 1:
        return (result,)
    _require(isinstance(result, (tuple, list)) and len(result) == count, f"{label} must return {count} values")
    return tuple(result)


def _as_tuple(grads):
    """Gradients as the visible tests read them: a tuple or list as is, anything else as one gradient."""
    return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)


def _unchanged(original, passed):
    """Whether ``passed``, a deep copy of ``original`` given to the student's code, still equals it."""
    if isinstance(original, dict):
        return isinstance(passed, dict) and original.keys() == passed.keys() and all(
            _unchanged(original[k], passed[k]) for k in original)
    return not isinstance(original, np.ndarray) or np.array_equal(original, passed, equal_nan=True)


def _called(fn, *args, watched=None):
    """``fn`` as the hidden checks call it: on copies of the first ``watched`` arguments (all by
    default; the rest, such as a layer's opaque cache, as they are), which it must leave unchanged."""
    copies = [*copy.deepcopy(args[:watched]), *args[len(args[:watched]):]]
    result = fn(*copies)
    _require(all(_unchanged(a, c) for a, c in zip(args[:watched], copies)),
             f"{getattr(fn, '__name__', 'the function')} modified one of its inputs in place")
    return result


def _outside(value, low, high):
    """How far ``value`` lies outside ``[low, high]`` (0 inside): the reference's is 0."""
    return max(0.0, low - value, value - high)


# ---------------------------------------------------------------------------- finite differences


def cube(x):
    return np.sum(x ** 3)


def exponential(x):
    return np.sum(np.exp(x))


def wavy(x):
    """Non-linear in every entry."""
    return np.sum(np.sin(2.0 * x) + 0.25 * x ** 4)


def coupled(x):
    """Couples every entry: an entry left perturbed changes the derivatives along the others."""
    return np.sum(np.tanh(x)) * np.sqrt(1.0 + np.sum(x ** 2))


def steep(x):
    return np.sum(np.exp(2.0 * x))


def _shape_guarded(f, shape):
    """``f`` that refuses arrays of another shape than x, as the hidden checks' ``f`` does."""
    def f_checked(v):
        _require(np.shape(v) == shape, f"f was called on an array of shape {np.shape(v)}, x has shape {shape}")
        return f(v)
    return f_checked


def finite_differences(name, cases, *, restored=True, guarded=False):
    """The student's finite differences ``name(f, x[, h])`` on each ``(label, f, x, h)``, called on x
    itself; x must come back bit for bit if ``restored``; ``guarded``: f refuses reshaped copies."""
    def run(namespace):
        outputs = {}
        for label, f, x, h in cases:
            x, before = x.copy(), x.copy()
            f = _shape_guarded(f, x.shape) if guarded else f
            grad = namespace[name](f, x) if h is None else namespace[name](f, x, h)
            _require(not restored or np.array_equal(x, before), "x was not restored exactly after the call")
            outputs[label] = {"grad": _shaped(grad, x.shape, "the gradient")}
        return outputs
    return run


_visible = np.random.default_rng(SEED)
VISIBLE_CUBE = ("sum(x**3)", cube, _visible.standard_normal((3, 4)), None)
VISIBLE_EXP = ("sum(exp(x))", exponential, _visible.standard_normal((2, 3, 2)), None)
VISIBLE_FORWARD = ("sum(exp(x))", exponential, np.random.default_rng(SEED).standard_normal((2, 3, 2)), None)
# A 3-D x, a function that couples all entries, a step h passed explicitly (as the hidden checks).
# They separate: an x flattened or reshaped (3-D x, f refuses other shapes); an entry left perturbed
# or restored as saved - h + h (coupled: every derivative then moves); a forward difference or a
# step other than the h given (wavy and steep are curved, so the truncation error shows).
HIDDEN_DIFFERENCES = (("wavy", wavy, np.random.default_rng(411).standard_normal((3, 2, 2)), None),
                      ("coupled", coupled, np.random.default_rng(412).standard_normal((4, 3)), None),
                      ("steep", steep, np.random.default_rng(413).standard_normal(5), 1e-3))


# ------------------------------------------------------------------------------- numeric answers


def answers(*names):
    """The notebook's answer variables, each a real number."""
    return lambda namespace: {name: _number(namespace[name]) for name in names}


def measured_best_step(dtype):
    """The step of the sweep where the centered difference of sin at 1, in ``dtype``, errs least."""
    x0, steps = dtype(shared.SWEEP_X0), shared.SWEEP_STEPS.astype(dtype)
    estimate = (np.sin(x0 + steps) - np.sin(x0 - steps)) / (dtype(2) * steps)
    return shared.SWEEP_STEPS[np.argmin(np.abs(estimate.astype(np.float64) - np.cos(shared.SWEEP_X0)))]


def best_steps(namespace):
    """How many decades each best step lies outside the window around the measured minimum (0 inside)."""
    outputs = {}
    for name, dtype in (("best_h_float64", np.float64), ("best_h_float32", np.float32)):
        value = float(_number(namespace[name]))
        _require(value > 0, f"{name} must be positive")
        centre, width = np.log10(measured_best_step(dtype)), np.log10(shared.STEP_FACTOR)
        outputs[name] = _outside(np.log10(value), centre - width, centre + width)
    return outputs


# -------------------------------------------------------------------------------- relative error


def relative_errors(cases, strict):
    """``relative_error(a, b)`` of each pair, a real number; ``strict``: as the hidden check calls it."""
    def run(namespace):
        fn = namespace["relative_error"]
        call = _called if strict else (lambda g, *args: g(*[np.copy(a) for a in args]))
        return {"error": [float(_number(call(fn, a, b), allow_0d=strict)) for a, b in cases]}
    return run


VISIBLE_RELATIVE = ((np.array([1.0, 2.0]), np.array([1.0, 2.0])), (np.array([1.0, 5.0]), np.array([3.0, 5.0])),
                    (np.zeros((2, 2)), np.zeros((2, 2))), (np.array([0.0, 1e-3]), np.array([0.0, -1e-3])))


def hidden_relative_cases():
    """Near-equal arrays, a 3-D pair zero in both at some entries, all zeros, zero against non-zero,
    tiny values (the 1e-8 floor), a hand-sized pair."""
    rng = np.random.default_rng(911)
    a, cube3 = rng.standard_normal((4, 3)), rng.standard_normal((3, 2, 2))
    cube3[:, 0] = 0.0
    return ((a, a + 1e-3 * rng.standard_normal((4, 3))), (cube3, 3 * cube3 - 0.5 * (cube3 != 0)),
            (np.zeros((3, 2)), np.zeros((3, 2))), (np.array([0.0, 0.0, 1.0]), np.array([0.0, 4.0, 1.0])),
            (np.array([2e-12]), np.array([5e-12])), (np.array([2.0, 7.0]), np.array([6.0, 7.0])))


# --------------------------------------------------------------------------------- sparse checks


SPARSE_X = np.random.default_rng(SEED).standard_normal((4, 3, 2))


def sparse_visible(namespace):
    """The visible test: indices and errors with the exact gradient, then again with 1.1 times it."""
    fn, x = namespace["grad_check_sparse"], SPARSE_X.copy()
    indices, errors = fn(cube, x, 3 * SPARSE_X ** 2, 5, np.random.default_rng(1))
    _require(np.shape(indices) == (5, 3) and np.shape(errors) == (5,), "expected 5 indices of 3 ints and 5 errors")
    _require(np.array_equal(x, SPARSE_X), "x was not restored exactly")
    again, wrong = fn(cube, x, 1.1 * 3 * SPARSE_X ** 2, 5, np.random.default_rng(1))
    _require(np.array_equal(again, indices), "the same rng seed must check the same entries")
    return {"exact_errors": errors, "skewed_errors": wrong}


def cubic_plus_linear(x):
    """Its gradient ``x**2 + 1`` is at least 1: relative errors of a skewed gradient are known exactly."""
    return np.sum(x ** 3 / 3.0 + x)


SPARSE_SHAPE, SPARSE_CHECKS, SPARSE_SEEDS = (2, 3, 4), 6, (21, 22, 23)
SKEW = 0.01 * np.arange(np.prod(SPARSE_SHAPE)).reshape(SPARSE_SHAPE)
"""The analytic gradient is ``(1 + SKEW) * exact``: its relative error at an entry is ``SKEW / (2 + SKEW)``."""


def _sparse_run(fn, x, analytic, seed):
    """One hidden-style call: valid int indices, a real (SPARSE_CHECKS,) array of errors, no global rng."""
    state = np.random.get_state()[1].copy()
    result = _called(fn, cubic_plus_linear, x, analytic, SPARSE_CHECKS, np.random.default_rng(seed), watched=3)
    indices, errors = _parts(result, 2, "grad_check_sparse")
    _require(np.array_equal(np.random.get_state()[1], state), "numpy's global random state was used")
    indices = np.asarray(indices)
    _require(indices.shape == (SPARSE_CHECKS, len(SPARSE_SHAPE)) and indices.dtype.kind in "iu"
             and np.all((indices >= 0) & (indices < SPARSE_SHAPE)), "the indices are not valid entries of x")
    return indices, _shaped(errors, (SPARSE_CHECKS,), "errors")


def sparse_hidden(namespace):
    """Each error against the known one at the entry checked, in units of the hidden check's tolerance
    (1e-3 relative + 1e-7); the same seed draws the same entries, other seeds others."""
    fn, outputs, drawn = namespace["grad_check_sparse"], {}, []
    for seed in SPARSE_SEEDS:
        x = np.random.default_rng(seed + 100).standard_normal(SPARSE_SHAPE)
        indices, errors = _sparse_run(fn, x, (1.0 + SKEW) * (x ** 2 + 1.0), seed)
        skew = SKEW[tuple(indices.T)]
        expected = skew / (2.0 + skew)
        outputs[f"seed{seed}"] = {"deviation": (errors - expected) / (1e-3 * expected + 1e-7)}
        again, _ = _sparse_run(fn, x, x ** 2 + 1.0, seed)
        _require(np.array_equal(again, indices), "two rngs of the same seed checked different entries")
        drawn.append(indices)
    _require(not all(np.array_equal(d, drawn[0]) for d in drawn), "rngs of different seeds checked the same entries")
    return outputs


# ---------------------------------------------------------------------------------------- gates


def lecture_gates(cases):
    """``name_forward(*inputs)`` and ``name_backward(dout, cache)`` for each ``(name, inputs, dout)``."""
    def run(namespace):
        outputs = {}
        for i, (name, inputs, dout) in enumerate(cases):
            out, cache = namespace[f"{name}_forward"](*inputs)
            grads = _as_tuple(namespace[f"{name}_backward"](dout, cache))
            outputs[f"{name}{i}"] = {"out": out, "grads": np.asarray(grads, dtype=np.float64)}
        return outputs
    return run


def gates(names, arity, cases):
    """Every gate of ``names`` on each ``(a, b, dout)`` (``a`` alone for unary gates), numbers required."""
    def run(namespace):
        outputs = {}
        for name in names:
            for i, (a, b, dout) in enumerate(cases):
                out, cache = _parts(namespace[f"{name}_forward"](*(a, b)[:arity]), 2, f"{name}_forward")
                grads = _parts(namespace[f"{name}_backward"](dout, cache), arity, f"{name}_backward")
                outputs[f"{name}{i}"] = {"out": _number(out, allow_0d=True),
                                         **{d: _number(g, allow_0d=True) for d, g in zip(("da", "db"), grads)}}
        return outputs
    return run


E = np.exp(-1.0)
LECTURE_BINARY = (("add", (-12.0, 2.0), 2.0), ("max", (2.0, -1.0), 2.0), ("mul", (3.0, -4.0), 2.0))
LECTURE_UNARY = (("exp", (-1.0,), 1.0), ("reciprocal", (1 + E,), 1.0), ("exp", (-1.0,), -1 / (1 + E) ** 2))
GATE_CASES = ((1.2, -0.7, 1.5), (-1.8, 2.6, -0.4), (0.3, 0.9, -2.2))
"""(a, b, dout): no ties (max) and no zero (1/a); also (x, y, z) of the add-mul graph."""
GATE_ISCLOSE = {"rtol": 1e-5, "atol": 1e-6}
"""check_gate's ``np.isclose(..., atol=1e-6)``."""


# --------------------------------------------------------------------------------------- graphs


def graph(name, cases, strict):
    """``name(**inputs) -> (f, grads)`` on each case: f and ``d<input>`` for every input;
    ``strict``: as the hidden checks call it (copies left unchanged, a number, exact shapes)."""
    def run(namespace):
        outputs = {}
        for i, inputs in enumerate(cases):
            result = _called(namespace[name], *inputs.values(), watched=None if strict else 0)
            f, grads = _parts(result, 2, name)
            _require(isinstance(grads, dict) and set(grads) == set(inputs), f"grads needs the keys {sorted(inputs)}")
            if strict:
                f, grads = _number(f, allow_0d=True), {k: _shaped(grads[k], np.shape(v), f"grads[{k!r}]")
                                                       for k, v in inputs.items()}
            outputs[f"case{i}"] = {"f": f, **{f"d{k}": grads[k] for k in inputs}}
        return outputs
    return run


ADD_MUL_EXAMPLE = [{"x": -2.0, "y": 5.0, "z": -4.0}]
NEURON_EXAMPLE = [{"w": np.array([2.0, -3.0, -3.0]), "x": np.array([-1.0, -2.0])}]


def neuron_cases(seed, count=3):
    """Random ``w`` (3,) and ``x`` (2,), as the hidden check draws them."""
    rng = np.random.default_rng(seed)
    return [{"w": rng.standard_normal(3), "x": rng.standard_normal(2)} for _ in range(count)]


# --------------------------------------------------------------------------------------- layers


def _contracted(forward, backward, inputs, k, dout):
    """``v -> (sum(forward(..., v, ...) * dout), the k-th gradient of backward)`` for gradient_samples."""
    def loss_fn(v):
        out, cache = forward(*[v if j == k else np.copy(a) for j, a in enumerate(inputs)])
        return float(np.sum(out * dout)), _as_tuple(backward(dout, cache))[k]
    return loss_fn


def own_layer_gradients(forward, backward, inputs, names):
    """The visible tests' check_layer_gradients: every gradient against centred differences of the
    student's own forward contracted with a seeded dout (all entries). That check perturbs one array
    in place and passes it to forward, so a forward that changes its input fails it."""
    out, cache = _called(forward, *inputs)
    dout = np.random.default_rng(SEED).standard_normal(np.shape(out))
    grads = _as_tuple(backward(dout, cache))
    _require(len(grads) == len(inputs), f"backward must return {len(inputs)} gradients")
    outputs = {}
    for k, (name, grad) in enumerate(zip(names, grads)):
        _shaped(grad, np.shape(inputs[k]), f"d{name}")
        outputs[f"own_d{name}"] = gradient_samples(_contracted(forward, backward, inputs, k, dout), inputs[k], (),
                                                   np.random.default_rng(k), count=np.size(inputs[k]), h=OWN_STEP)
    return outputs


def layer_visible(name, example, inputs, names):
    """The worked example (out, and dx for its dout when given), then the student's own gradients."""
    def run(namespace):
        forward, backward = namespace[f"{name}_forward"], namespace[f"{name}_backward"]
        example_inputs, example_dout = example
        out, cache = forward(*[np.copy(a) for a in example_inputs])
        outputs = {"out": out}
        if example_dout is not None:
            outputs["dx"] = _as_tuple(backward(example_dout, cache))[0]
        return {**outputs, **own_layer_gradients(forward, backward, inputs, names)}
    return run


def layer_hidden(name, names, cases):
    """out and every gradient on each ``(inputs, dout)``, as the hidden checks call the layer."""
    def run(namespace):
        forward, backward, outputs = namespace[f"{name}_forward"], namespace[f"{name}_backward"], {}
        for i, (inputs, dout) in enumerate(cases):
            out, cache = _parts(_called(forward, *inputs), 2, f"{name}_forward")
            grads = _parts(_called(backward, dout, cache, watched=1), len(inputs), f"{name}_backward")
            outputs[f"case{i}"] = {"out": _shaped(out, dout.shape, "out"), **{
                f"d{n}": _shaped(g, np.shape(a), f"d{n}") for n, g, a in zip(names, grads, inputs)}}
        return outputs
    return run


def affine_cases():
    """x of shapes (N, D) to (N, d1, d2, d3), N = 1 and M = 1 included; ``((x, w, b), dout)``."""
    cases = []
    for x_shape, M, seed in (((4, 3), 2, 511), ((2, 2, 3), 4, 512), ((1, 3, 2, 2), 3, 513), ((3, 5), 1, 514)):
        rng = np.random.default_rng(seed)
        D = int(np.prod(x_shape[1:]))
        x, w, b = rng.standard_normal(x_shape), rng.standard_normal((D, M)) / np.sqrt(D), rng.standard_normal(M)
        cases.append(((x, w, b), rng.standard_normal((x_shape[0], M))))
    return cases


def elementwise_cases():
    """x of several shapes, values on both sides of 0 (at least 0.05 from it); ``((x,), dout)``."""
    cases = []
    for shape, seed in (((3, 4), 611), ((2, 2, 3), 612), ((6,), 613), ((1, 1), 614)):
        rng = np.random.default_rng(seed)
        z = 2.0 * rng.standard_normal(shape)
        cases.append(((np.sign(z) * (0.05 + np.abs(z)),), rng.standard_normal(shape)))
    return cases


_layer_rng = np.random.default_rng(SEED)
AFFINE_INPUTS = tuple(_layer_rng.standard_normal(shape) for shape in ((3, 2, 4), (8, 5), (5,)))
RELU_INPUTS = (np.random.default_rng(SEED).standard_normal((4, 5)),)
SIGMOID_INPUTS = (np.random.default_rng(SEED).standard_normal((3, 4, 2)),)
AFFINE_EXAMPLE = ((np.array([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, -1.0]]]),
                   np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]]), np.array([0.5, -1.0])), None)
RELU_EXAMPLE = ((np.array([[-2.0, -0.5, 0.5, 3.0]]),), np.array([[1.0, 2.0, 3.0, 4.0]]))
SIGMOID_EXAMPLE = ((np.array([-1.0, 0.0, 2.0]),), np.ones(3))


# --------------------------------------------------------------------------------------- losses


LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])


def loss_visible(name, scale):
    """The lecture's loss (and dscores of the scores' shape), then dscores against centred differences
    of the student's own loss on the visible test's seeded scores (``scale`` times a normal)."""
    def run(namespace):
        loss, dscores = _called(namespace[name], LECTURE_SCORES, LECTURE_LABELS)  # (see own_layer_gradients)
        _require(np.shape(dscores) == LECTURE_SCORES.shape, f"dscores must have the shape {LECTURE_SCORES.shape}")
        rng = np.random.default_rng(SEED)
        scores, y = scale * rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
        return {"lecture_loss": loss, "own": gradient_samples(namespace[name], scores, (y,), np.random.default_rng(1),
                                                              count=scores.size, h=OWN_STEP)}
    return run


def loss_hidden(name, cases):
    """Loss (a number) and dscores on each ``(N, C, seed)``: scores of order 3, N = 1 and C = 2 included."""
    def run(namespace):
        outputs = {}
        for N, C, seed in cases:
            rng = np.random.default_rng(seed)
            scores, y = 3.0 * rng.standard_normal((N, C)), rng.integers(0, C, size=N)
            loss, dscores = _parts(_called(namespace[name], scores, y), 2, name)
            outputs[f"N{N}_C{C}"] = {"loss": _number(loss, allow_0d=True),
                                     "dscores": _shaped(dscores, scores.shape, "dscores")}
        return outputs
    return run


LOSS_CASES = ((1, 3, 711), (4, 2, 712), (7, 10, 713), (16, 5, 714))
"""(N, C, seed): N = 1 and N > 1 separate a loss or gradient not divided by N; C = 2 an SVM margin
counted for the correct class or a softmax over the wrong axis; scores of order 3 an unstable exp."""



# ------------------------------------------------------------------------------------------ net


def net_case(N, D, H, C, seed, scale=1.0):
    """Seeded ``params`` (W1, b1, W2, b2), ``X`` (N, D) and ``y`` (N,), drawn in the visible test's order."""
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((D, H)) * scale, "b1": 0.1 * rng.standard_normal(H),
              "W2": rng.standard_normal((H, C)) * scale, "b2": 0.1 * rng.standard_normal(C)}
    return params, rng.standard_normal((N, D)), rng.integers(0, C, size=N)


def _grads(result, params):
    """``(loss, grads)`` of the net; grads must be a dict with the keys of params."""
    loss, grads = _parts(result, 2, "two_layer_net_loss")
    _require(isinstance(grads, dict) and set(grads) == set(params), f"grads must have the keys {sorted(params)}")
    return loss, grads


def net_visible(namespace):
    """The visible test: the loss near log 3 (0 if within 1.5 of it), then every gradient against
    centred differences of the student's own loss, reg = 0 and 0.3."""
    fn = namespace["two_layer_net_loss"]
    params, X, y = net_case(5, 4, 6, 3, SEED, scale=0.5)
    loss, _ = _grads(_called(fn, params, X, y, 0.0), params)  # (see own_layer_gradients)
    outputs = {"log3_miss": _outside(float(loss), np.log(3) - 1.5, np.log(3) + 1.5)}
    for reg in (0.0, 0.3):
        _grads(fn(params, X, y, reg), params)
        for name in params:
            def loss_fn(value, name=name, reg=reg):
                loss, grads = fn({**params, name: value}, X, y, reg)
                return loss, grads[name]
            outputs[f"reg{reg:g}_{name}"] = gradient_samples(loss_fn, params[name], (), np.random.default_rng(2),
                                                             count=params[name].size, h=OWN_STEP)
    return outputs


def net_hidden(namespace):
    """Loss and every gradient on several sizes (N = 1 included) and reg, params and X left unchanged."""
    outputs = {}
    for N, D, H, C, reg, seed in ((3, 4, 5, 3, 0.0, 811), (1, 2, 3, 2, 0.2, 812), (5, 6, 8, 4, 0.05, 813)):
        params, X, y = net_case(N, D, H, C, seed, scale=1.0 / np.sqrt(D))
        loss, grads = _grads(_called(namespace["two_layer_net_loss"], params, X, y, reg), params)
        outputs[f"N{N}_reg{reg:g}"] = {"loss": _number(loss, allow_0d=True), **{
            f"d{k}": _shaped(grads[k], v.shape, f"grads[{k!r}]") for k, v in params.items()}}
    return outputs


# --------------------------------------------------------------------------------------- probes


def values_and_gradients(name, tests, run, scale=SCALE):
    """The two probes of a hidden check: forward values to ``VALUE_RTOL``, gradients to ``GRADIENT_RTOL``."""
    return (Probe(f"{name}: values", tests, run, reference_keys=VALUE_KEYS,
                  **like_hidden_checks(shared.VALUE_RTOL, scale)),
            Probe(f"{name}: gradients", tests, run, reference_keys=GRADIENT_KEYS,
                  **like_hidden_checks(shared.GRADIENT_RTOL, scale)))


def _visible_and_hidden(prefix, visible_run, hidden_run, visible_tolerance, scale=SCALE):
    """A visible test's probe (values compared as the test does) and the hidden test's two probes."""
    return (Probe(f"{prefix} on the visible test's inputs", (f"test_{prefix}_visible",), visible_run,
                  reference_keys=VISIBLE_KEYS, **visible_tolerance),
            *values_and_gradients(f"{prefix} on hidden-style inputs", (f"test_{prefix}_hidden",), hidden_run, scale))


def _relative(tol, reference_error):
    """A visible test's ``relative_error(grad, exact) <= tol`` around the reference, which is itself
    ``reference_error`` (relative, measured) from exact on the test's inputs."""
    return {"rtol": 2 * tol + reference_error, "atol": 1e-8 * tol}


NG, NGF = "numerical_gradient", "numerical_gradient_forward"
PROBES = (
    # The visible test's two functions have their own tolerances; the reference errs 2.0e-8 and 1.3e-10.
    Probe(f"{NG} on sum(x**3)", ("test_numerical_gradient_visible",), finite_differences(NG, [VISIBLE_CUBE]),
          **_relative(1e-7, 3e-8), course_twins=CHECKER),
    Probe(f"{NG} on sum(exp(x))", ("test_numerical_gradient_visible",), finite_differences(NG, [VISIBLE_EXP]),
          **_relative(1e-8, 1e-9), course_twins=CHECKER),
    Probe(f"{NG} on unseen functions", ("test_numerical_gradient_hidden",),
          finite_differences(NG, HIDDEN_DIFFERENCES, restored=False, guarded=True), rtol=NUMERICAL_RTOL, atol=1e-15, course_twins=CHECKER),
    Probe(f"{NG} restores x", ("test_numerical_gradient_restores_x",),
          finite_differences(NG, HIDDEN_DIFFERENCES, guarded=True), reference_keys=(), course_twins=CHECKER),
    # Forward differences are off by about h/2 f'': the reference errs 5e-6.
    Probe(f"{NGF} on sum(exp(x))", ("test_numerical_gradient_forward_visible",),
          finite_differences(NGF, [VISIBLE_FORWARD]), **_relative(1e-4, 1e-5), course_twins=CHECKER),
    Probe(f"{NGF} on unseen functions", ("test_numerical_gradient_forward_hidden",),
          finite_differences(NGF, HIDDEN_DIFFERENCES, guarded=True), rtol=NUMERICAL_RTOL, atol=1e-15, course_twins=CHECKER),
    Probe("truncation and round-off slopes", ("test_steps_slopes",),
          answers("forward_truncation_slope", "centered_truncation_slope", "roundoff_slope"), rtol=0.0, atol=0.25),
    Probe("best steps", ("test_steps_best_h",), best_steps),
    Probe("relative_error on the visible cases", ("test_relative_error_visible",),
          relative_errors(VISIBLE_RELATIVE, strict=False), **ISCLOSE, course_twins=CHECKER),
    Probe("relative_error on hidden-style cases", ("test_relative_error_hidden",),
          relative_errors(hidden_relative_cases(), strict=True), rtol=1e-3, atol=1e-15, course_twins=CHECKER),
    Probe("grad_check_sparse with the exact gradient", ("test_grad_check_sparse_visible",), sparse_visible,
          reference_keys=("exact_errors",), rtol=0.0, atol=1e-7, course_twins=CHECKER),
    Probe("grad_check_sparse with 1.1 times the gradient", ("test_grad_check_sparse_visible",), sparse_visible,
          reference_keys=("skewed_errors",), **ISCLOSE, course_twins=CHECKER),
    Probe("grad_check_sparse's errors where it checks", ("test_grad_check_sparse_hidden",), sparse_hidden,
          rtol=0.0, atol=1.0, course_twins=CHECKER),
    *_visible_and_hidden("binary_gates", lecture_gates(LECTURE_BINARY), gates(("add", "mul", "max"), 2, GATE_CASES),
                         GATE_ISCLOSE, scale=1.0),
    *_visible_and_hidden("unary_gates", lecture_gates(LECTURE_UNARY), gates(("exp", "reciprocal"), 1, GATE_CASES),
                         GATE_ISCLOSE, scale=1.0),
    *_visible_and_hidden("add_mul_graph", graph("add_mul_graph", ADD_MUL_EXAMPLE, strict=False),
                         graph("add_mul_graph", [dict(zip("xyz", case)) for case in GATE_CASES], strict=True),
                         ISCLOSE, scale=1.0),
    *_visible_and_hidden("sigmoid_neuron", graph("sigmoid_neuron", NEURON_EXAMPLE, strict=False),
                         graph("sigmoid_neuron", neuron_cases(1011), strict=True), ISCLOSE_1E4, scale=1.0),
    *_visible_and_hidden("affine", layer_visible("affine", AFFINE_EXAMPLE, AFFINE_INPUTS, ("x", "w", "b")),
                         layer_hidden("affine", ("x", "w", "b"), affine_cases()), ISCLOSE),
    *_visible_and_hidden("relu", layer_visible("relu", RELU_EXAMPLE, RELU_INPUTS, ("x",)),
                         layer_hidden("relu", ("x",), elementwise_cases()), ISCLOSE),
    *_visible_and_hidden("sigmoid", layer_visible("sigmoid", SIGMOID_EXAMPLE, SIGMOID_INPUTS, ("x",)),
                         layer_hidden("sigmoid", ("x",), elementwise_cases()), ISCLOSE),
    *_visible_and_hidden("softmax_loss", loss_visible("softmax_loss", 1.0), loss_hidden("softmax_loss", LOSS_CASES),
                         ISCLOSE_1E4),
    *_visible_and_hidden("svm_loss", loss_visible("svm_loss", 3.0), loss_hidden("svm_loss", LOSS_CASES), ISCLOSE_1E4),
    Probe("two_layer_net_loss on the visible test's inputs", ("test_two_layer_net_visible",), net_visible),
    *values_and_gradients("two_layer_net_loss on hidden-style inputs", ("test_two_layer_net_hidden",), net_hidden),
)
