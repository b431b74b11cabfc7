"""The `gradcheck` assignment: trusted references, hidden checks, the solution notebook, the simulated class.

No kernel runs here (the whole-notebook execution, the release sync and the graded demo live in
``tests/test_course.py``). What is tested:

* the references of ``autograder/checks/gradcheck_references.py`` against loops, the lecture's numbers,
  closed forms, numerical gradients of ``cs231kit.gradcheck`` and laws (hypothesis); the hidden cases
  keep clear of kinks;
* every hidden check accepts the solution and rejects deliberately broken twins with a message that
  names the function, the input and the likely cause; an endless loop fails in seconds;
* the solution notebook's hidden test regions pass when run on its solution cells;
* the simulated students: every patch applies, and the hidden tests each fails are exactly those
  listed, and the blank release fails every hidden function test.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from notebook_cells import (  # tests/ is on sys.path under pytest
    assert_nbgrader_conventions,
    assert_simulated_class_is_well_formed,
    autograded_tests,
    hidden_tests,
    patched_sources,
    read_notebook,
    run_cells,
    solution_sources,
)

from cs231kit import course, gradcheck
from cs231kit.course import load_course_module

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # broken twins overflow on purpose

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "solutions" / "gradcheck" / "gradcheck.ipynb"
RELEASE = REPO / "notebooks" / "gradcheck" / "gradcheck.ipynb"
CHECKS = "autograder/checks/gradcheck.py"
checks = load_course_module(CHECKS, root=REPO)
references = load_course_module("autograder/checks/gradcheck_references.py", root=REPO)
simulated = load_course_module("autograder/simulated/gradcheck.py", root=REPO)

NUMERICAL_TOL = 1e-5
"""References against centered differences (float64, h = 1e-5, away from kinks). Rounding limits the
relative error of tiny entries: measured worst case 6e-6, on a softmax gradient entry of 1e-5."""
KINK_CLEARANCE = 1e-3
"""Hidden cases keep every hinge margin and ReLU input at least this far from 0 (100 h)."""
LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])
ANSWER_TESTS = {"test_steps_slopes", "test_steps_best_h"}
"""Hidden tests of numeric answers (the others test functions)."""


@pytest.fixture(scope="module")
def notebook():
    return read_notebook(SOURCE)


@pytest.fixture(scope="module")
def solution(notebook):
    return run_cells(solution_sources(notebook), "solution", {"np": np})


@pytest.fixture
def course_root(monkeypatch):
    """Hidden test regions load their checks from the course root: here the module loaded above, once
    (executing it again for every hidden region of every simulated student costs seconds)."""
    monkeypatch.setenv("CS231KIT_COURSE_ROOT", str(REPO))
    real = course.load_course_module
    monkeypatch.setattr(course, "load_course_module",
                        lambda path, root=None: checks if path == CHECKS else real(path, root))


def _trusted_backward(forward, x, dout):
    return gradcheck.numerical_gradient_array(forward, np.array(x, dtype=np.float64), dout)


# ------------------------------------------------------------------------------------ references


def test_forward_difference_reference_is_exact_on_linear_functions_and_first_order_otherwise():
    x = np.random.default_rng(0).standard_normal((2, 3))
    weights = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(references.forward_difference_reference(lambda v: np.sum(weights * v), x),
                               weights, atol=1e-9)
    for h in (1e-2, 1e-3):  # the error of exp is about h/2 * exp(x): it shrinks linearly with h
        error = references.forward_difference_reference(lambda v: np.sum(np.exp(v)), x, h) - np.exp(x)
        np.testing.assert_allclose(error, h / 2 * np.exp(x), rtol=0.01)
    assert np.array_equal(x, np.random.default_rng(0).standard_normal((2, 3)))


def test_affine_reference_equals_loops_and_its_gradients_the_numerical_ones():
    for x_shape, M, seed in references.AFFINE_CASES:
        x, w, b, dout = references.affine_case(x_shape, M, seed)
        rows = x.reshape(len(x), -1)
        loops = np.array([[sum(rows[n, d] * w[d, m] for d in range(w.shape[0])) + b[m] for m in range(M)]
                          for n in range(len(x))])
        np.testing.assert_allclose(references.affine_reference(x, w, b), loops, rtol=1e-12, atol=1e-12)
        dx, dw, db = references.affine_gradients_reference(x, w, dout)
        assert dx.shape == x.shape
        for got, numerical in ((dx, _trusted_backward(lambda v: references.affine_reference(v, w, b), x, dout)),
                               (dw, _trusted_backward(lambda v: references.affine_reference(x, v, b), w, dout)),
                               (db, _trusted_backward(lambda v: references.affine_reference(x, w, v), b, dout))):
            assert gradcheck.relative_error(got, numerical) < NUMERICAL_TOL


@pytest.mark.parametrize("forward, gradient", [
    (references.relu_reference, references.relu_gradient_reference),
    (references.sigmoid_reference, references.sigmoid_gradient_reference),
], ids=["relu", "sigmoid"])
def test_elementwise_references_against_numerical_gradients(forward, gradient):
    for shape, seed in references.ELEMENTWISE_CASES:
        x, dout = references.elementwise_case(shape, seed)
        assert np.min(np.abs(x)) >= 0.05  # no ReLU kink within reach of the step
        numerical = _trusted_backward(forward, x, dout)
        assert gradcheck.relative_error(gradient(x, dout), numerical) < NUMERICAL_TOL


def test_elementwise_references_closed_forms():
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(references.relu_reference(x), [0.0, 0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(references.relu_gradient_reference(x, np.full(5, 7.0)), [0, 0, 0, 7, 7])
    np.testing.assert_allclose(references.sigmoid_reference(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    assert references.sigmoid_reference(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]
    np.testing.assert_allclose(references.sigmoid_gradient_reference(np.zeros(1), np.ones(1)), [0.25])


def test_loss_references_give_the_lecture_values():
    assert references.svm_loss_reference(LECTURE_SCORES, LECTURE_LABELS)[0] == pytest.approx(15.8 / 3)
    per_image = [references.softmax_loss_reference(LECTURE_SCORES[i:i + 1], LECTURE_LABELS[i:i + 1])[0]
                 for i in range(3)]
    np.testing.assert_allclose(per_image, [2.04036, 0.07913, 6.15648], atol=1e-5)
    assert references.softmax_loss_reference(np.zeros((4, 10)), np.arange(4))[0] == pytest.approx(np.log(10))


def softmax_loss_loops(scores, y):
    N, C = scores.shape
    loss, dscores = 0.0, np.zeros((N, C))
    for i in range(N):
        top = max(scores[i])
        total = sum(np.exp(s - top) for s in scores[i])
        loss += top + np.log(total) - scores[i, y[i]]
        for k in range(C):
            dscores[i, k] = (np.exp(scores[i, k] - top) / total - (k == y[i])) / N
    return loss / N, dscores


def svm_loss_loops(scores, y):
    N, C = scores.shape
    loss, dscores = 0.0, np.zeros((N, C))
    for i in range(N):
        for j in range(C):
            margin = scores[i, j] - scores[i, y[i]] + 1
            if j != y[i] and margin > 0:
                loss += margin
                dscores[i, j] += 1 / N
                dscores[i, y[i]] -= 1 / N
    return loss / N, dscores


@pytest.mark.parametrize("reference, twin", [(references.softmax_loss_reference, softmax_loss_loops),
                                             (references.svm_loss_reference, svm_loss_loops)],
                         ids=["softmax", "svm"])
def test_loss_references_equal_loops_and_numerical_gradients(reference, twin):
    for N, C, seed in references.LOSS_CASES:
        scores, y = references.loss_case(N, C, seed)
        loss, dscores = reference(scores, y)
        twin_loss, twin_dscores = twin(scores, y)
        assert loss == pytest.approx(twin_loss, rel=1e-12)
        np.testing.assert_allclose(dscores, twin_dscores, atol=1e-14)
        numerical = gradcheck.numerical_gradient(lambda s: reference(s, y)[0], scores.copy())
        assert gradcheck.relative_error(dscores, numerical) < NUMERICAL_TOL


def test_svm_loss_cases_keep_clear_of_the_hinge():
    for N, C, seed in references.LOSS_CASES:
        scores, y = references.loss_case(N, C, seed)
        margins = scores - scores[np.arange(N), y][:, None] + 1
        margins[np.arange(N), y] = np.inf
        assert np.min(np.abs(margins)) > KINK_CLEARANCE


def test_two_layer_net_reference_against_numerical_gradients_and_clear_of_relu_kinks():
    for case in references.NET_CASES:
        params, X, y, reg = references.net_case(*case)
        assert np.min(np.abs(references.two_layer_pre_activations(params, X))) > KINK_CLEARANCE
        loss, grads = references.two_layer_net_reference(params, X, y, reg)
        assert set(grads) == set(params) and all(grads[k].shape == params[k].shape for k in params)
        for key in params:
            def loss_of(v, key=key):
                return references.two_layer_net_reference({**params, key: v}, X, y, reg)[0]
            numerical = gradcheck.numerical_gradient(loss_of, params[key].copy())
            assert gradcheck.relative_error(grads[key], numerical) < NUMERICAL_TOL, key


def test_two_layer_net_reference_is_softmax_of_the_layers_plus_the_penalty():
    params, X, y, reg = references.net_case(*references.NET_CASES[0])
    scores = np.maximum(0, X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    penalty = 0.7 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    expected = references.softmax_loss_reference(scores, y)[0] + penalty
    assert references.two_layer_net_reference(params, X, y, 0.7)[0] == pytest.approx(expected, rel=1e-12)


def test_the_step_sweep_minima_follow_the_theory():
    # best centered step ~ (3 eps |f| / |f'''|)^(1/3): about 1e-5 in float64 and 1e-2 in float32
    for dtype, low, high in ((np.float64, 1e-6, 1e-4), (np.float32, 1e-3, 1e-1)):
        errors = references.centered_error_curve(dtype)
        assert low <= references.shared.SWEEP_STEPS[np.argmin(errors)] <= high
    assert references.centered_error_curve(np.float64)[-1] == pytest.approx(0.1 ** 2 / 6, rel=0.01)  # truncation


@settings(deadline=None, max_examples=40)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 5)), elements=st.floats(-50, 50)),
       st.floats(-1e3, 1e3), st.data())
def test_loss_gradients_sum_to_zero_in_every_row_and_softmax_is_shift_invariant(scores, shift, data):
    N, C = scores.shape
    y = np.array(data.draw(st.lists(st.integers(0, C - 1), min_size=N, max_size=N)))
    for reference in (references.softmax_loss_reference, references.svm_loss_reference):
        loss, dscores = reference(scores, y)
        assert loss >= 0 and np.allclose(dscores.sum(axis=1), 0, atol=1e-12)
    shifted = references.softmax_loss_reference(scores + shift, y)
    assert shifted[0] == pytest.approx(references.softmax_loss_reference(scores, y)[0], rel=1e-9, abs=1e-9)


# ----------------------------------------------------------------------- the checks accept the solution


def test_solution_passes_every_hidden_test(notebook, solution, course_root):
    for grade_id, source in hidden_tests(notebook).items():
        exec(compile(source, f"<hidden {grade_id}>", "exec"), dict(solution))


def test_every_autograded_test_cell_has_a_hidden_part_or_is_visible(notebook):
    tests = autograded_tests(notebook)
    hidden = set(hidden_tests(notebook))
    assert hidden <= tests
    visible_only = tests - hidden
    assert all(t.endswith("_visible") for t in visible_only), visible_only


# ------------------------------------------------------------------------ numerical-gradient checks


def centered_without_restore(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        f_plus = f(x)
        x[index] = saved - h
        grad[index] = (f_plus - f(x)) / (2 * h)
    return grad


def centered_restoring_by_arithmetic(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += h
        f_plus = f(x)
        x[index] -= 2 * h
        grad[index] = (f_plus - f(x)) / (2 * h)
        x[index] += h
    return grad


def centered_on_a_copy(f, x, h=1e-5):
    """Perturbs a copy, never x itself: as valid as perturbing x in place and restoring it."""
    work = x.copy()
    return centered_restoring_exactly(f, work, h)


def centered_restoring_exactly(f, x, h=1e-5):
    return gradcheck.numerical_gradient(f, x, h)


def divided_by_h(f, x, h=1e-5):
    return 2 * gradcheck.numerical_gradient(f, x, h)


def ignores_h(f, x, h=1e-5):
    return gradcheck.numerical_gradient(f, x)


def flattened(f, x, h=1e-5):
    return gradcheck.numerical_gradient(f, x, h).ravel()


def calls_f_on_a_flat_copy(f, x, h=1e-5):
    flat = x.ravel().copy()
    return gradcheck.numerical_gradient(f, flat, h).reshape(x.shape)


def endless(f, x, h=1e-5):
    while True:
        pass


def never_calls_f(f, x, h=1e-5):
    return np.zeros(x.shape)


@pytest.fixture
def short_time_limit(monkeypatch):
    monkeypatch.setattr(checks, "CALL_SECONDS", 0.3)


@pytest.mark.parametrize("fn", [centered_restoring_exactly, centered_on_a_copy])
def test_numerical_gradient_checks_accept_correct_implementations(fn):
    checks.check_numerical_gradient(fn)
    checks.check_numerical_gradient_restores_x(fn)


def test_forward_difference_check_accepts_the_reference():
    checks.check_numerical_gradient_forward(references.forward_difference_reference)


@pytest.mark.parametrize("check, fn, message", [
    (checks.check_numerical_gradient, centered_without_restore, "x was not restored after your call"),
    (checks.check_numerical_gradient_restores_x, centered_without_restore, "it is off by -h"),
    (checks.check_numerical_gradient_restores_x, centered_restoring_by_arithmetic, "not exact in floating point"),
    (checks.check_numerical_gradient, references.forward_difference_reference, "these are forward differences"),
    (checks.check_numerical_gradient, divided_by_h, "divided by h, not 2h"),
    (checks.check_numerical_gradient, ignores_h, "the step h you were given is not used"),
    (checks.check_numerical_gradient, flattened, "of shape (24,) on f(x) = sum(sin(x) * x**2 + exp(x / 3))"),
    (checks.check_numerical_gradient, calls_f_on_a_flat_copy, "f was called with an array of shape (24,)"),
    (checks.check_numerical_gradient, never_calls_f, "never called f"),
    (checks.check_numerical_gradient_forward, centered_restoring_exactly,
     "Likely cause: these are centered differences"),
    (checks.check_numerical_gradient_forward, centered_without_restore, "the forward difference is"),
])
def test_numerical_gradient_checks_reject_broken_twins(check, fn, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(fn)


def test_an_endless_numerical_gradient_fails_its_check_in_seconds(short_time_limit):
    with pytest.raises(AssertionError, match=r"endless on f\(x\) = .* did not finish within 0.3 s"):
        checks.check_numerical_gradient(endless)


def test_the_centered_check_on_a_restoring_bug_of_one_ulp_passes_the_values():
    # the values of an arithmetic restore are right to rounding: only the restore check fails it
    checks.check_numerical_gradient(centered_restoring_by_arithmetic)


# --------------------------------------------------------------------- relative error, sparse check


def relative_error_max_denominator(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-8)))


def relative_error_nan_at_zero(a, b):
    with np.errstate(invalid="ignore"):
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


def relative_error_map_only(a, b):
    return gradcheck.relative_error_map(a, b)


@pytest.mark.parametrize("fn, message", [
    (relative_error_max_denominator, "Check the formula"),
    (relative_error_nan_at_zero, "Some entries are 0 in both"),
    (relative_error_map_only, "it must be a real number"),
])
def test_relative_error_check_rejects_broken_twins(fn, message):
    checks.check_relative_error(gradcheck.relative_error)
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_relative_error(fn)


def _sparse_with(draw, error=gradcheck.relative_error, restore=True):
    """A grad_check_sparse twin: ``draw(rng, shape)`` gives one index; ``error`` compares two numbers."""
    def grad_check_sparse(f, x, analytic_grad, num_checks, rng, h=1e-5):
        indices, errors = [], []
        for _ in range(num_checks):
            index = draw(rng, x.shape)
            saved = x[index]
            x[index] = saved + h
            f_plus = f(x)
            x[index] = saved - h
            f_minus = f(x)
            if restore:
                x[index] = saved
            numerical = (f_plus - f_minus) / (2 * h)
            indices.append(index)
            errors.append(error(np.array(analytic_grad[index]), np.array(numerical)))
        return indices, np.array(errors)
    return grad_check_sparse


def _draw(rng, shape):
    return tuple(int(i) for i in rng.integers(0, shape))


def _global_draw(rng, shape):
    return tuple(int(np.random.randint(n)) for n in shape)


SPARSE_BROKEN = [
    (_sparse_with(_draw, error=lambda a, b: float(abs(a - b))), "errors[0] is"),
    (_sparse_with(_draw, restore=False), "modified its input x in place"),
    (_sparse_with(lambda rng, shape: (0, 0, 0)), "checked the same entries"),
    (_sparse_with(_global_draw), "used numpy's global random state"),
    (lambda f, x, g, n, rng, h=1e-5: ([(0, 0, 0)] * (n - 1), np.zeros(n - 1)), "expected 7 index tuples"),
    (lambda f, x, g, n, rng, h=1e-5: [(0, 0, 0)] * n, "it must return the 2 values (indices, errors)"),
]


def test_sparse_check_accepts_a_correct_twin():
    checks.check_grad_check_sparse(_sparse_with(_draw))


@pytest.mark.parametrize("fn, message", SPARSE_BROKEN)
def test_sparse_check_rejects_broken_twins(fn, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_grad_check_sparse(fn)


# ------------------------------------------------------------------------------- gates and graphs


def _gates(solution, **replaced):
    names = ("add_forward", "add_backward", "mul_forward", "mul_backward", "max_forward", "max_backward")
    return [replaced.get(n, solution[n]) for n in names]


@pytest.mark.parametrize("replaced, message", [
    (dict(mul_backward=lambda dout, cache: (dout * cache[0], dout * cache[1])), "mul swaps"),
    (dict(add_backward=lambda dout, cache: (dout, 0.0)), "db is wrong"),
    (dict(max_backward=lambda dout, cache: (0.0, dout) if cache[0] > cache[1] else (dout, 0.0)), "max routes"),
    (dict(max_forward=lambda a, b: (min(a, b), (a, b))), ": out is wrong on a = 0.7, b = -1.3, dout = 2"),
    (dict(add_backward=lambda dout, cache: dout), "it must return the 2 values (da, db)"),
    (dict(mul_forward=lambda a, b: a * b), "returned float on a = 0.7, b = -1.3, dout = 2; it must return the 2 "
                                           "values (out, cache)"),
])
def test_binary_gate_check_rejects_broken_gates(solution, replaced, message):
    checks.check_binary_gates(*_gates(solution))
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_binary_gates(*_gates(solution, **replaced))


def test_unary_gate_check_rejects_broken_gates(solution):
    gates = [solution[n] for n in ("exp_forward", "exp_backward", "reciprocal_forward", "reciprocal_backward")]
    checks.check_unary_gates(*gates)
    with pytest.raises(AssertionError, match=re.escape("d(1/a)/da = -1/a**2")):
        checks.check_unary_gates(*gates[:3], lambda dout, cache: dout / cache ** 2)
    with pytest.raises(AssertionError, match=re.escape(": da is wrong on a = 0.7, dout = 2: expected 4.02751")):
        checks.check_unary_gates(gates[0], lambda dout, cache: dout, *gates[2:])


def test_graph_checks_name_the_gradient_and_the_inputs(solution):
    checks.check_add_mul_graph(solution["add_mul_graph"])
    checks.check_sigmoid_neuron(solution["sigmoid_neuron"])

    def wrong_dz(x, y, z):
        f, grads = solution["add_mul_graph"](x, y, z)
        return f, {**grads, "z": z}
    with pytest.raises(AssertionError, match=re.escape("grads['z'] is wrong on x = 0.7, y = -1.3, z = 2.0")):
        checks.check_add_mul_graph(wrong_dz)
    with pytest.raises(AssertionError, match=re.escape("it must be a dict with the keys ['x', 'y', 'z']")):
        checks.check_add_mul_graph(lambda x, y, z: ((x + y) * z, (z, z, x + y)))

    def forgets_the_bias(w, x):
        f, grads = solution["sigmoid_neuron"](w, x)
        return f, {"w": grads["w"][:2], "x": grads["x"]}
    with pytest.raises(AssertionError, match=re.escape("grads['w'] of shape (2,)")):
        checks.check_sigmoid_neuron(forgets_the_bias)


# ------------------------------------------------------------------------------------------ layers


def unreshaped(affine_backward):
    def affine_backward_unreshaped(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx.reshape(len(dx), -1), dw, db
    return affine_backward_unreshaped


def relu_backward_everywhere(dout, cache):
    return dout.copy()


def relu_backward_in_place(dout, cache):
    dout[cache <= 0] = 0
    return dout


def sigmoid_backward_on_input(dout, cache):
    x = np.log(cache / (1 - cache))
    return dout * x * (1 - x)


@pytest.mark.parametrize("check, names, replace, message", [
    (checks.check_affine, ("affine_forward", "affine_backward"),
     lambda ns: {"affine_backward": unreshaped(ns["affine_backward"])},
     "returned dx of shape (2, 12) on x of shape (2, 3, 4), w (12, 6), b (6,) (seed 502), but it must have shape "
     "(2, 3, 4) (reshape it back"),
    (checks.check_affine, ("affine_forward", "affine_backward"),
     lambda ns: {"affine_forward": lambda x, w, b: (x.reshape(len(x), -1) @ w, (x, w))},
     ": out is wrong on x of shape (3, 4)"),
    (checks.check_relu, ("relu_forward", "relu_backward"), lambda ns: {"relu_backward": relu_backward_everywhere},
     ": dx is wrong on x of shape (4, 5) (seed 601). Largest difference at dx[0, 4] (where x = -0.1416): "
     "expected 0,"),
    (checks.check_relu, ("relu_forward", "relu_backward"), lambda ns: {"relu_backward": relu_backward_everywhere},
     "Where x < 0 the ReLU's output does not depend on x, so nothing passes back: dx must be 0 there."),
    (checks.check_relu, ("relu_forward", "relu_backward"), lambda ns: {"relu_backward": relu_backward_in_place},
     "modified its input dout in place"),
    (checks.check_sigmoid, ("sigmoid_forward", "sigmoid_backward"),
     lambda ns: {"sigmoid_backward": sigmoid_backward_on_input}, ": dx is wrong on x of shape (4, 5)"),
])
def test_layer_checks_reject_broken_layers(solution, check, names, replace, message):
    check(*(solution[n] for n in names))
    replaced = replace(solution)
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(*(replaced.get(n, solution[n]) for n in names))


def _scaled(loss_fn, factor):
    def scaled(scores, y):
        loss, dscores = loss_fn(scores, y)
        return loss, factor(len(y)) * dscores
    return scaled


@pytest.mark.parametrize("check, name, broken, message", [
    (checks.check_softmax_loss, "softmax_loss", lambda f: _scaled(f, lambda N: N), "divide by N"),
    (checks.check_svm_loss, "svm_loss", lambda f: _scaled(f, lambda N: -1.0), "sign is flipped"),
    (checks.check_svm_loss, "svm_loss", lambda f: (lambda s, y: (f(s, y)[0] + 1, f(s, y)[1])), "the loss is wrong"),
    (checks.check_softmax_loss, "softmax_loss", lambda f: (lambda s, y: f(s, y)[0]), "it must return the 2 values"),
])
def test_loss_checks_reject_broken_losses(solution, check, name, broken, message):
    check(solution[name])
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(broken(solution[name]))


def test_two_layer_net_check_names_the_wrong_gradient_and_where_the_bug_lies(notebook, solution):
    net = solution["two_layer_net_loss"]

    def no_penalty_gradient(params, X, y, reg):
        loss, grads = net(params, X, y, reg)
        return loss, {**grads, "W2": grads["W2"] - 2 * reg * params["W2"]}
    with pytest.raises(AssertionError, match=r"grads\['W2'\] is wrong on N=1, .*reg=0\.1[\s\S]*regularisation"):
        checks.check_two_layer_net_loss(no_penalty_gradient)

    student = next(s for s in simulated.STUDENTS if s["name"] == "relu_passes_negative")
    relu_bug = run_cells(patched_sources(notebook, student), "relu", {"np": np})["two_layer_net_loss"]
    with pytest.raises(AssertionError, match=r"grads\['W1'\] is wrong[\s\S]*error lies below it: in relu_backward"):
        checks.check_two_layer_net_loss(relu_bug)

    def mutates_params(params, X, y, reg):
        params["W1"] *= 1.0 + 1e-3
        return net(params, X, y, reg)
    with pytest.raises(AssertionError, match="two_layer_net_loss|mutates_params modified its input params in place"):
        checks.check_two_layer_net_loss(mutates_params)


# -------------------------------------------------------------------------------- numeric answers


def test_answer_checks():
    checks.check_truncation_slopes(1, 2, -1)
    checks.check_best_steps(1e-5, 1e-2)
    for wrong in ((1, 1, -1), (2, 2, -1), (1, 2, 1)):
        with pytest.raises(AssertionError, match="slope = [-0-9.]+ is not right") as failure:
            checks.check_truncation_slopes(*wrong)
        hint = str(failure.value).split("is not right")[-1]
        assert not re.search(r"\d", hint.replace("decade", "")), hint  # the hint must not give the answer away
    with pytest.raises(AssertionError, match="best_h_float32 = 1e-05 is not where"):
        checks.check_best_steps(1e-5, 1e-5)
    with pytest.raises(AssertionError, match="must be a finite real number"):
        checks.check_best_steps("1e-5", 1e-2)


# ----------------------------------------------------------------------------- notebook and class


def test_notebook_metadata_follows_the_conventions(notebook):
    assert_nbgrader_conventions(notebook)


def _failing_hidden_tests(notebook, sources, label):
    namespace = run_cells(sources, label, {"np": np})
    failed = {}
    for grade_id, source in hidden_tests(notebook).items():
        try:
            exec(compile(source, f"<hidden {grade_id}>", "exec"), dict(namespace))
        except (AssertionError, NameError) as error:
            failed[grade_id] = str(error)
    return failed


def test_simulated_class_is_well_formed(notebook):
    assert_simulated_class_is_well_formed(notebook, simulated, "gradcheck")
    names = {s["name"] for s in simulated.STUDENTS}
    assert len(simulated.STUDENTS) <= 6 and {"reference", "blank"} <= names


def test_blank_release_fails_every_hidden_test_with_not_implemented(notebook, course_root):
    failed = _failing_hidden_tests(notebook, solution_sources(read_notebook(RELEASE)), "release")
    assert set(failed) == set(hidden_tests(notebook))
    for grade_id, message in failed.items():
        if grade_id not in ANSWER_TESTS:
            assert "NotImplementedError" in message, (grade_id, message)


@pytest.mark.parametrize("student", [s for s in simulated.STUDENTS if not s.get("release")], ids=lambda s: s["name"])
def test_simulated_students_fail_exactly_their_hidden_tests(notebook, student, course_root):
    failed = _failing_hidden_tests(notebook, patched_sources(notebook, student), student["name"])
    assert set(failed) == set(student["failing"]) & set(hidden_tests(notebook)), failed
