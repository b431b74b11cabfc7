"""Hidden checks of the ``gradcheck`` assignment: student code judged against trusted references.

Never released to students. Hidden test cells of ``solutions/gradcheck/gradcheck.ipynb`` load this
file with ``cs231kit.course.load_course_module("autograder/checks/gradcheck.py")`` and call one
``check_*`` function per test cell. Every check raises ``AssertionError`` with a message a student
can act on (which function, which input, which index, expected vs got, the likely cause) and
returns None when it passes. The references and the hidden inputs are in ``gradcheck_references.py``.

Trust: every backward pass is compared with the exact gradient of a reference *and* with centered
differences of that reference computed by :mod:`cs231kit.gradcheck`, never with the student's own
``numerical_gradient`` (which may be wrong, slow or endless). The student's ``numerical_gradient``
is itself compared with the trusted one on functions the notebook never shows. Every call of
student code runs on copies of the inputs (then compared with the originals) and under
:func:`cs231kit.timelimit.time_limit`, so an endless loop fails its own check in seconds.

Every failure is raised by ``_fail``; the other functions set ``__tracebackhide__``, which IPython
honours for every frame but the last, so a student's traceback shows the message, not grading code.
"""

import numbers
from pathlib import Path

import numpy as np

from cs231kit import gradcheck
from cs231kit.course import load_course_module

ref = load_course_module("autograder/checks/gradcheck_references.py", root=Path(__file__).resolve().parents[2])
"""The reference implementations and the hidden inputs."""
_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _array = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.array
shared = load_course_module("autograder/checks/cases/gradcheck.py", root=Path(__file__).resolve().parents[2])
"""The tolerances and the step sweep, shared with the probes of ``autograder/verify/gradcheck.py``."""

CALL_SECONDS = 10.0
"""Wall-clock limit of one call of a student's function on a hidden input (they take milliseconds)."""
RELATIVE_ERROR_RTOL = 1e-3
"""relative_error against the trusted one: tells |a|+|b| from max(|a|, |b|), not an epsilon's placement."""
NEW_ARRAYS = "Work on new arrays (e.g. out = x * mask, dx = dout.copy()), never assign into an input."


# ------------------------------------------------------------------------------------- contract


def _call(fn, args, what, names=(), **options):
    """The contract's ``call`` with this assignment's time limit (:data:`CALL_SECONDS`) and advice."""
    __tracebackhide__ = True
    return _CONTRACT.call(fn, args, what, names, seconds=CALL_SECONDS, advice=NEW_ARRAYS, **options)


def _parts(result, count, fn, what, names):
    """``result`` as a tuple of ``count`` values (``names`` say what each is), or a clear failure."""
    __tracebackhide__ = True
    if count == 1:
        return (result,)
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        _fail(f"{_name(fn)} returned {got} on {what}; it must return the {count} values ({', '.join(names)}).")
    return tuple(result)


def _number(value, fn, label, what):
    """``value`` as a float; fails unless it is a real scalar (int, float, numpy scalar or 0-d array)."""
    __tracebackhide__ = True
    if isinstance(value, bool) or np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "iuf":
        _fail(f"{_name(fn)} returned {label} = {value!r} on {what}; it must be a real number.")
    return float(value)


def _allclose(got, expected, rtol):
    """``|got - expected| <= rtol * (|expected| + scale)`` elementwise, scale = max |expected| (at least 1)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    return bool(np.all(np.abs(got - expected) <= rtol * (np.abs(expected) + scale)))


def _worst_index(got, expected):
    diff = np.abs(np.nan_to_num(np.asarray(got) - expected, nan=np.inf))
    return tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))


def _format_index(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


# ---------------------------------------------------------------------------- values, gradients


def _expect_value(fn, label, got, expected, what, hint=""):
    """A forward value (scalar or array, already validated) must equal the reference."""
    __tracebackhide__ = True
    if _allclose(got, expected, shared.VALUE_RTOL):
        return
    if np.ndim(expected) == 0:
        _fail(f"{_name(fn)}: {label} is wrong on {what}: expected {float(expected):.10g}, "
              f"got {float(got):.10g}.{hint}")
    index = _worst_index(got, expected)
    _fail(f"{_name(fn)}: {label} is wrong on {what}. Largest difference at {label}{_format_index(index)}: "
          f"expected {expected[index]:.6g}, got {got[index]:.6g}.{hint}")


def _expect_gradient(fn, label, got, scalar_f, x, expected, what, *, at=None, hint="", **report_options):
    """A gradient (validated float64 array of x's shape) must match the exact reference gradient and
    the trusted centered differences of the reference ``scalar_f`` at ``x``.

    ``at`` is ``(name, array)``: the input whose value at the worst index the message shows.
    ``report_options`` (num_examples, reg) help the hint of the gradient-check report.
    """
    __tracebackhide__ = True
    x = np.array(x, dtype=np.float64)
    numerical = gradcheck.numerical_gradient(scalar_f, x.copy())
    if _allclose(got, expected, shared.GRADIENT_RTOL) and gradcheck.relative_error(got, numerical) <= \
            gradcheck.ACCEPTABLE_REL_ERROR:
        return
    if x.ndim == 0:
        _fail(f"{_name(fn)}: {label} is wrong on {what}: expected {float(expected):.6g} (the numerical gradient is "
              f"{float(numerical):.6g}), got {float(got):.6g}.{hint}")
    index = _worst_index(got, expected)
    where = f" (where {at[0]} = {at[1][index]:.4g})" if at is not None else ""
    report = gradcheck.check_gradient(scalar_f, x, got, name=label, tolerance=gradcheck.ACCEPTABLE_REL_ERROR,
                                      **report_options)
    _fail(f"{_name(fn)}: {label} is wrong on {what}. Largest difference at {label}{_format_index(index)}{where}: "
          f"expected {expected[index] + 0.0:.6g}, got {got[index] + 0.0:.6g}.{hint}\n"
          f"Your {label} against the numerical gradient of a correct implementation on the same inputs:\n{report}")


def _contracted(forward, dout):
    """The scalar ``sum(forward(v) * dout)``: its gradient is the backward pass of ``forward`` for ``dout``."""
    return lambda v: float(np.sum(forward(v) * dout))


# --------------------------------------------------------------------------- numerical gradients


def _recording(f, shape, calls):
    """``f`` that records the shape it is called with and refuses arrays of another shape than x."""
    def f_checked(v):
        calls.append(np.shape(v))
        if np.shape(v) != shape:
            raise ValueError(f"f was called with an array of shape {np.shape(v)}, but x has shape {shape}: "
                             f"call f on x itself (perturbed), not on a flattened or reshaped copy")
        return f(v)
    return f_checked


def _finite_differences(fn, case, what_kind):
    """Run the student's finite-difference function ``fn`` on one case; return (result, x before, x after, what)."""
    __tracebackhide__ = True
    description, f, shape, h, seed = case
    x = np.random.default_rng(seed).standard_normal(shape)
    before, calls = x.copy(), []
    what = f"{description} (x of shape {shape})"
    args = (_recording(f, shape, calls), x) + (() if h is None else (h,))
    result = _call(fn, args, what, on_copies=False)  # on x itself: the caller checks it comes back restored
    if not calls:
        _fail(f"{_name(fn)} never called f on {what}: a {what_kind} needs f at perturbed copies of x.")
    return _array(fn, result, shape, what, "the gradient"), before, x, what


def _numerical_hint(got, before, after, f, h, kind):
    """Likely cause of wrong finite differences (``kind`` is what they should be)."""
    if not np.array_equal(before, after):
        return (" x was not restored after your call: the entries after the first were differentiated at a "
                "shifted point. Save each entry and write it back after evaluating f.")
    step = 1e-5 if h is None else h
    centered = gradcheck.numerical_gradient(f, before.copy(), step)
    forward = ref.forward_difference_reference(f, before, step)
    candidates = [(forward, "these are forward differences (f(x+h) - f(x)) / h"),
                  (centered, "these are centered differences (f(x+h) - f(x-h)) / 2h"),
                  (2 * centered, "the difference is divided by h, not 2h"),
                  (0.5 * centered, "the difference is divided by 4h")]
    if h is not None:
        candidates.append((gradcheck.numerical_gradient(f, before.copy()), "the step h you were given is not used"))
    for candidate, cause in candidates:
        if kind not in cause and gradcheck.relative_error(got, candidate) <= shared.NUMERICAL_TOL:
            return f" Likely cause: {cause}."
    return ""


def _check_differences(fn, expected_of, kind):
    __tracebackhide__ = True
    for case in ref.NUMERICAL_CASES:
        description, f, shape, h, seed = case
        got, before, after, what = _finite_differences(fn, case, kind)
        expected = expected_of(f, before.copy(), 1e-5 if h is None else h)
        if gradcheck.relative_error(got, expected) > shared.NUMERICAL_TOL:
            index = _worst_index(got, expected)
            hint = _numerical_hint(got, before, after, f, h, kind)
            _fail(f"{_name(fn)} is wrong on {what}: at index {_format_index(index)} the {kind} is "
                  f"{expected[index]:.10g}, you returned {got[index]:.10g} (relative error "
                  f"{gradcheck.relative_error(got, expected):.1e}).{hint}")


def _check_restored(fn, kind):
    __tracebackhide__ = True
    for case in ref.NUMERICAL_CASES:
        _, before, after, what = _finite_differences(fn, case, kind)
        if not np.array_equal(before, after):
            index = _worst_index(after, before)
            shift, h = after[index] - before[index], case[3] or 1e-5
            cause = ("it is off by -h: after the x - h evaluation the entry is never put back"
                     if np.isclose(shift, -h) else "adding and subtracting h is not exact in floating point"
                     if abs(shift) < 1e-12 else "the entry is left perturbed")
            _fail(f"{_name(fn)} did not restore x exactly on {what}: x{_format_index(index)} was "
                  f"{float(before[index])!r} and is {float(after[index])!r} after your call ({cause}). Save each "
                  f"entry before perturbing it and write the saved value back.")


def check_numerical_gradient(fn):
    """Hidden test: centered differences equal the trusted ones on unseen functions (incl. a 3-D x and a given h)."""
    __tracebackhide__ = True
    _check_differences(fn, gradcheck.numerical_gradient, "centered difference")


def check_numerical_gradient_restores_x(fn):
    """Hidden test: after ``numerical_gradient(f, x)`` every entry of x holds its old value, bit for bit."""
    __tracebackhide__ = True
    _check_restored(fn, "centered difference")


def check_numerical_gradient_forward(fn):
    """Hidden test: forward differences equal the reference ones, and x is restored exactly."""
    __tracebackhide__ = True
    _check_differences(fn, ref.forward_difference_reference, "forward difference")
    _check_restored(fn, "forward difference")


# ------------------------------------------------------------------------------- relative error


def check_relative_error(fn):
    """Hidden test: ``relative_error`` equals the trusted one (incl. both zero: 0.0), returns a number."""
    __tracebackhide__ = True
    for description, a, b in ref.relative_error_cases():
        what = f"{description}"
        got = _number(_call(fn, (a, b), what, ("a", "b")), fn, "the relative error", what)
        expected = gradcheck.relative_error(a, b)
        if not (np.isfinite(got) and abs(got - expected) <= RELATIVE_ERROR_RTOL * expected + 1e-15):
            hint = (" Some entries are 0 in both: there the denominator must not be 0 (take max(|a| + |b|, 1e-8))."
                    if np.any((a == 0) & (b == 0)) and not np.isfinite(got) else
                    " Check the formula: |a - b| / max(|a| + |b|, 1e-8), elementwise, then the maximum.")
            _fail(f"{_name(fn)}(a, b) is wrong for {what}: expected {expected:.6g}, got {got!r}.{hint}")


# ------------------------------------------------------------------------------- sparse checks


def _indices(value, count, shape, fn, what):
    """The checked indices as a list of tuples of int, or a clear failure."""
    __tracebackhide__ = True
    try:
        array = np.asarray(value)
    except Exception:  # ragged nesting and the like
        array = np.asarray([], dtype=object)
    if array.shape != (count, len(shape)) or array.dtype.kind not in "iu":
        _fail(f"{_name(fn)} returned indices {value!r:.200} on {what}; expected {count} index tuples of "
              f"{len(shape)} ints each (a list of tuples such as (0, 2, 1), or an int array of shape "
              f"({count}, {len(shape)})).")
    if np.any(array < 0) or np.any(array >= np.array(shape)):
        _fail(f"{_name(fn)} returned an index outside x of shape {shape} on {what}: {array.tolist()}.")
    return [tuple(int(i) for i in row) for row in array]


def _sparse_run(fn, analytic, seed, what):
    """Call the student's grad_check_sparse once; return (indices, errors)."""
    __tracebackhide__ = True
    x = ref.sparse_point(seed)[0]
    state = np.random.get_state()[1].copy()
    args = (ref.smooth_in_every_entry, x, analytic, ref.SPARSE_CHECKS, np.random.default_rng(seed))
    result = _call(fn, args, what, ("f", "x", "analytic_grad"))
    if not np.array_equal(np.random.get_state()[1], state):
        _fail(f"{_name(fn)} used numpy's global random state on {what}: draw the entries with the rng argument.")
    indices, errors = _parts(result, 2, fn, what, ("indices", "errors"))
    indices = _indices(indices, ref.SPARSE_CHECKS, ref.SPARSE_SHAPE, fn, what)
    return indices, _array(fn, errors if isinstance(errors, np.ndarray) else np.asarray(errors, dtype=object),
                           (ref.SPARSE_CHECKS,), what, "errors")


def check_grad_check_sparse(fn):
    """Hidden test: ``grad_check_sparse`` checks ``num_checks`` entries drawn with ``rng``, returns their
    indices and the relative errors of the analytic against the (trusted) centered differences there."""
    __tracebackhide__ = True
    drawn = []
    for seed in ref.SPARSE_SEEDS:
        x, exact = ref.sparse_point(seed)
        skewed = exact * (1.0 + 0.01 * np.arange(exact.size).reshape(exact.shape))  # a known error per entry
        what = f"x of shape {ref.SPARSE_SHAPE}, num_checks={ref.SPARSE_CHECKS}, rng=np.random.default_rng({seed})"
        indices, errors = _sparse_run(fn, skewed, seed, what + ", an analytic gradient with a known error per entry")
        expected = gradcheck.relative_error_map(skewed, gradcheck.numerical_gradient(ref.smooth_in_every_entry, x))
        for k, index in enumerate(indices):
            if abs(errors[k] - expected[index]) > RELATIVE_ERROR_RTOL * expected[index] + gradcheck.GOOD_REL_ERROR:
                _fail(f"{_name(fn)}: errors[{k}] is {errors[k]:.6g} for index {index} on {what}, but the relative "
                      f"error of the analytic gradient there is {expected[index]:.6g}: compare analytic_grad[index] "
                      f"with the centered difference at the same index.")
        again, _ = _sparse_run(fn, exact, seed, what + " (a second run with a fresh rng of the same seed)")
        if again != indices:
            _fail(f"{_name(fn)} checked {indices} and then {again} with two rngs of the same seed ({what}): draw "
                  f"the entries from rng only, so that a check can be repeated.")
        drawn.append(indices)
    if all(d == drawn[0] for d in drawn):
        _fail(f"{_name(fn)} checked the same entries {drawn[0]} for rngs of seeds {ref.SPARSE_SEEDS}: draw them at "
              f"random with rng (e.g. rng.integers).")


# ------------------------------------------------------------------------------------- gates


def _scalar_gate(fn_forward, fn_backward, args, dout, reference, partials, rule):
    """Forward value and every local gradient of one scalar gate at ``args`` (floats)."""
    __tracebackhide__ = True
    what = ", ".join(f"{n} = {v:g}" for n, v in zip("ab", args)) + f", dout = {dout:g}"
    out, cache = _parts(_call(fn_forward, args, what), 2, fn_forward, what, ("out", "cache"))
    _expect_value(fn_forward, "out", _number(out, fn_forward, "out", what), reference(*args), what)
    names = ("da", "db")[:len(args)]
    grads = _parts(_call(fn_backward, (dout, cache), what), len(args), fn_backward, what, names)
    for k, (label, grad) in enumerate(zip(names, grads)):
        point = np.array(args, dtype=np.float64)

        def moved(v, k=k):
            return dout * reference(*[v if j == k else a for j, a in enumerate(point)])
        _expect_gradient(fn_backward, label, _number(grad, fn_backward, label, what), moved, np.float64(args[k]),
                         dout * partials(*args)[k], what, hint=f" ({rule})")


BINARY_GATES = (
    ("add", lambda a, b: a + b, lambda a, b: (1.0, 1.0), "add distributes: da = db = dout"),
    ("mul", lambda a, b: a * b, lambda a, b: (b, a), "mul swaps: da = dout * b, db = dout * a"),
    ("max", max, lambda a, b: (float(a > b), float(b > a)),
     "max routes: dout goes to the larger input, 0 to the other"),
)
UNARY_GATES = (
    ("exp", np.exp, lambda a: (np.exp(a),), "d exp(a) / da = exp(a): da = dout * exp(a)"),
    ("reciprocal", lambda a: 1.0 / a, lambda a: (-1.0 / a ** 2,), "d(1/a)/da = -1/a**2: da = -dout / a**2"),
)


def check_binary_gates(add_forward, add_backward, mul_forward, mul_backward, max_forward, max_backward):
    """Hidden test of the gates ``*_forward(a, b) -> (out, cache)``, ``*_backward(dout, cache) -> (da, db)``."""
    __tracebackhide__ = True
    pairs = ((add_forward, add_backward), (mul_forward, mul_backward), (max_forward, max_backward))
    for (forward, backward), (_, reference, partials, rule) in zip(pairs, BINARY_GATES):
        for a, b, dout in ref.SCALAR_CASES:
            _scalar_gate(forward, backward, (a, b), dout, reference, partials, rule)


def check_unary_gates(exp_forward, exp_backward, reciprocal_forward, reciprocal_backward):
    """Hidden test of the gates ``*_forward(a) -> (out, cache)``, ``*_backward(dout, cache) -> da``."""
    __tracebackhide__ = True
    pairs = ((exp_forward, exp_backward), (reciprocal_forward, reciprocal_backward))
    for (forward, backward), (_, reference, partials, rule) in zip(pairs, UNARY_GATES):
        for a, _, dout in ref.SCALAR_CASES:
            _scalar_gate(forward, backward, (a,), dout, reference, partials, rule)


# ------------------------------------------------------------------------------------- graphs


def _graph_result(fn, result, what, shapes):
    """Validate ``(f, grads)`` where grads is a dict with exactly the keys of ``shapes``."""
    __tracebackhide__ = True
    value, grads = _parts(result, 2, fn, what, ("f", "grads"))
    if not isinstance(grads, dict) or set(grads) != set(shapes):
        keys = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        _fail(f"{_name(fn)} returned grads = {keys} on {what}; it must be a dict with the keys {sorted(shapes)}.")
    grads = {k: _array(fn, grads[k], shape, what, f"grads[{k!r}]") for k, shape in shapes.items()}
    return _number(value, fn, "f", what), grads


def _check_graph(fn, inputs, formula, gradients):
    """Value and every gradient of a graph function ``fn(**inputs) -> (f, grads)`` against a formula."""
    __tracebackhide__ = True
    what = ", ".join(f"{k} = {np.round(v, 4).tolist()}" for k, v in inputs.items())
    shapes = {k: np.shape(v) for k, v in inputs.items()}
    value, grads = _graph_result(fn, _call(fn, tuple(inputs.values()), what, tuple(inputs)), what, shapes)
    _expect_value(fn, "f", value, formula(**inputs), what)
    expected = gradients(**inputs)
    for key, point in inputs.items():
        def moved(v, key=key):
            return formula(**{**inputs, key: v})
        _expect_gradient(fn, f"grads[{key!r}]", grads[key], moved, point, expected[key], what)


def check_add_mul_graph(fn):
    """Hidden test: ``add_mul_graph(x, y, z)`` returns f = (x + y) z and the gradients dict x, y, z."""
    __tracebackhide__ = True
    for x, y, z in ref.SCALAR_CASES:
        _check_graph(fn, {"x": x, "y": y, "z": z}, ref.add_mul_reference, ref.add_mul_gradients_reference)


def check_sigmoid_neuron(fn):
    """Hidden test: ``sigmoid_neuron(w, x)`` returns f = sigmoid(w0 x0 + w1 x1 + w2) and grads w (3,), x (2,)."""
    __tracebackhide__ = True
    rng = np.random.default_rng(1001)
    for _ in range(3):
        _check_graph(fn, {"w": rng.standard_normal(3), "x": rng.standard_normal(2)}, ref.sigmoid_neuron_reference,
                     ref.sigmoid_neuron_gradients_reference)


# ------------------------------------------------------------------------------------- layers


def _layer(forward, backward, inputs, names, dout, what):
    """Run a student's layer pair; return (out, grads) validated against the shapes of ``inputs``."""
    __tracebackhide__ = True
    out, cache = _parts(_call(forward, inputs, what, names), 2, forward, what, ("out", "cache"))
    out = _array(forward, out, dout.shape, what, "out")
    grads = _parts(_call(backward, (dout, cache), what, ("dout",)), len(inputs), backward, what,
                   tuple(f"d{n}" for n in names))
    return out, [_array(backward, g, np.shape(a), what, f"d{n}") for g, a, n in zip(grads, inputs, names)]


def check_affine(forward, backward):
    """Hidden test of ``affine_forward(x, w, b)`` / ``affine_backward(dout, cache) -> (dx, dw, db)``."""
    __tracebackhide__ = True
    for x_shape, M, seed in ref.AFFINE_CASES:
        x, w, b, dout = ref.affine_case(x_shape, M, seed)
        what = f"x of shape {x.shape}, w {w.shape}, b {b.shape} (seed {seed})"
        out, (dx, dw, db) = _layer(forward, backward, (x, w, b), ("x", "w", "b"), dout, what)
        _expect_value(forward, "out", out, ref.affine_reference(x, w, b), what,
                      " out[i] is x[i] flattened to a row, times w, plus b.")
        expected = ref.affine_gradients_reference(x, w, dout)
        moves = (lambda v: ref.affine_reference(v, w, b), lambda v: ref.affine_reference(x, v, b),
                 lambda v: ref.affine_reference(x, w, v))
        for label, got, point, exact, move in zip(("dx", "dw", "db"), (dx, dw, db), (x, w, b), expected, moves):
            _expect_gradient(backward, label, got, _contracted(move, dout), point, exact, what)


def _check_elementwise(forward, backward, reference, gradient_reference, hint_of=lambda x, dx: ""):
    """Forward values and dx of an elementwise layer; ``hint_of(x, dx)`` names a typical bug."""
    __tracebackhide__ = True
    for shape, seed in ref.ELEMENTWISE_CASES:
        x, dout = ref.elementwise_case(shape, seed)
        what = f"x of shape {shape} (seed {seed})"
        out, (dx,) = _layer(forward, backward, (x,), ("x",), dout, what)
        _expect_value(forward, "out", out, reference(x), what)
        _expect_gradient(backward, "dx", dx, _contracted(reference, dout), x, gradient_reference(x, dout), what,
                         at=("x", x), hint=hint_of(x, dx))


def _relu_hint(x, dx):
    if np.any(dx[x < 0] != 0):
        return " Where x < 0 the ReLU's output does not depend on x, so nothing passes back: dx must be 0 there."
    return ""


def check_relu(forward, backward):
    """Hidden test of ``relu_forward(x)`` / ``relu_backward(dout, cache) -> dx`` on arrays of several shapes."""
    __tracebackhide__ = True
    _check_elementwise(forward, backward, ref.relu_reference, ref.relu_gradient_reference, _relu_hint)


def check_sigmoid(forward, backward):
    """Hidden test of ``sigmoid_forward(x)`` / ``sigmoid_backward(dout, cache) -> dx`` on arrays."""
    __tracebackhide__ = True
    _check_elementwise(forward, backward, ref.sigmoid_reference, ref.sigmoid_gradient_reference)


def _check_scores_loss(fn, reference):
    __tracebackhide__ = True
    for N, C, seed in ref.LOSS_CASES:
        scores, y = ref.loss_case(N, C, seed)
        what = f"scores of shape {scores.shape} (N={N}, C={C}, seed {seed})"
        loss, dscores = _parts(_call(fn, (scores, y), what, ("scores", "y")), 2, fn, what, ("loss", "dscores"))
        expected_loss, expected_grad = reference(scores, y)
        _expect_value(fn, "the loss", _number(loss, fn, "loss", what), expected_loss, what,
                      f" (the mean over the N = {N} examples)")
        _expect_gradient(fn, "dscores", _array(fn, dscores, scores.shape, what, "dscores"),
                         lambda s: reference(s, y)[0], scores, expected_grad, what, num_examples=N)


def check_softmax_loss(fn):
    """Hidden test of ``softmax_loss(scores, y) -> (loss, dscores)``."""
    __tracebackhide__ = True
    _check_scores_loss(fn, ref.softmax_loss_reference)


def check_svm_loss(fn):
    """Hidden test of ``svm_loss(scores, y) -> (loss, dscores)``."""
    __tracebackhide__ = True
    _check_scores_loss(fn, ref.svm_loss_reference)


_FIRST_LAYER_HINT = (
    " grads['W2'] and grads['b2'] are right, so the gradient reaching the second affine layer is right and "
    "the error lies below it: in relu_backward (does it pass the gradient only where the hidden "
    "pre-activation is > 0?), in the first affine_backward, or in the penalty's 2 * reg * W1.")
"""Added to a wrong first-layer gradient: the second layer was checked first and is right."""


def check_two_layer_net_loss(fn):
    """Hidden test: loss and every entry of every gradient of ``two_layer_net_loss(params, X, y, reg)``."""
    __tracebackhide__ = True
    for case in ref.NET_CASES:
        params, X, y, reg = ref.net_case(*case)
        shapes = {k: v.shape for k, v in params.items()}
        what = f"N={case[0]}, D={case[1]}, H={case[2]}, C={case[3]}, reg={reg:g} (seed {case[5]})"
        loss, grads = _graph_result(fn, _call(fn, (params, X, y, reg), what, ("params", "X", "y")), what, shapes)
        expected_loss, expected = ref.two_layer_net_reference(params, X, y, reg)
        _expect_value(fn, "the loss", loss, expected_loss, what,
                      " It is the mean softmax loss plus reg * (np.sum(W1 * W1) + np.sum(W2 * W2)).")
        for key in ("W2", "b2", "W1", "b1"):  # top layer first: its gradients do not depend on the lower one
            def moved(v, key=key):
                return ref.two_layer_net_reference({**params, key: v}, X, y, reg)[0]
            _expect_gradient(fn, f"grads[{key!r}]", grads[key], moved, params[key], expected[key], what,
                             hint=_FIRST_LAYER_HINT if key.endswith("1") else "",
                             num_examples=case[0], reg=reg if key.startswith("W") else None)



# ----------------------------------------------------------------------------- numeric answers


def _answer(value, name):
    __tracebackhide__ = True
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        _fail(f"{name} must be a finite real number; it is {value!r}.")
    return float(value)


def check_truncation_slopes(forward_slope, centered_slope, roundoff_slope):
    """Hidden test: on the log-log plot the truncation error has slope 1 (forward) and 2 (centered), round-off -1."""
    __tracebackhide__ = True
    for name, value, correct, part in (
            ("forward_truncation_slope", forward_slope, 1.0, "the straight part of the forward curve (large h)"),
            ("centered_truncation_slope", centered_slope, 2.0, "the straight part of the centered curve (large h)"),
            ("roundoff_slope", roundoff_slope, -1.0, "the ragged part of both curves (small h)")):
        if abs(_answer(value, name) - correct) > 0.25:
            _fail(f"{name} = {value!r} is not right. On {part}, by how many decades does the error change when h "
                  f"grows by one decade? (Compare with the dashed reference lines; mind the sign.)")


def check_best_steps(best_h_float64, best_h_float32):
    """Hidden test: the best steps read off the plot lie within ``STEP_FACTOR`` of the measured minima."""
    __tracebackhide__ = True
    for name, value, dtype in (("best_h_float64", best_h_float64, np.float64),
                               ("best_h_float32", best_h_float32, np.float32)):
        measured = shared.SWEEP_STEPS[np.argmin(ref.centered_error_curve(dtype))]
        value = _answer(value, name)
        if not (value > 0 and measured / shared.STEP_FACTOR <= value <= measured * shared.STEP_FACTOR):
            _fail(f"{name} = {value!r} is not where the centered-difference curve in {np.dtype(dtype).name} has "
                  f"its minimum: read the h of its lowest point off the plot (within a factor of "
                  f"{shared.STEP_FACTOR}).")
