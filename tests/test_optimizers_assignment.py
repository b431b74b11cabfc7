"""The `optimizers` assignment: trusted references, hidden checks, the solution notebook, the simulated class.

No kernel runs here (the whole-notebook execution, the release sync and the graded demo live in
``tests/test_course.py``). What is tested:

* the update-rule references of ``autograder/checks/optimizers.py`` (one table, :data:`RULES`)
  against closed forms for a constant gradient, element-by-element loop twins and Nesterov's
  original look-ahead form; the schedules, strategies, L-BFGS and ensemble references against
  hand values, scipy and the kit's training loop;
* every hidden check accepts the reference and rejects deliberately broken twins with a message
  that names the problem (the twins of the rule table with their hints, in-place updates, lost
  dtypes, other draws, ...);
* the solution notebook's functions pass every hidden check;
* the simulated students: every patch applies, and the hidden function tests they are expected to
  fail are exactly those that fail when their patched functions are checked directly.
"""

import math
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_cells import (
    assert_nbgrader_conventions,
    assert_simulated_class_is_well_formed,
    autograded_tests,
    nbgrader,
    patched_sources,
    read_notebook,
    run_cells,
    solution_sources,
)

from cs231kit.course import load_course_module
from cs231kit.landscapes import run_update_rule

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # broken twins overflow on purpose

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "solutions" / "optimizers" / "optimizers.ipynb"
RELEASE = REPO / "notebooks" / "optimizers" / "optimizers.ipynb"
checks = load_course_module("autograder/checks/optimizers.py", root=REPO)
simulated = load_course_module("autograder/simulated/optimizers.py", root=REPO)
RULES = checks.RULES

EXACT = 1e-12
"""Two float64 evaluations of the same closed form agree to rounding."""


def _rule_test(name):
    return lambda fn: checks.check_update_rule(fn, name)


def _schedule_test(name):
    return lambda fn: checks.check_schedule(fn, name)


# Hidden function tests of the notebook: grade_id -> (function name, check).
HIDDEN_FUNCTION_TESTS = {
    "test_random_search_hidden": ("random_search", checks.check_random_search),
    "test_random_local_search_hidden": ("random_local_search", checks.check_random_local_search),
    "test_gradient_descent_hidden": ("gradient_descent", checks.check_gradient_descent),
    "test_minibatch_sgd_hidden": ("minibatch_sgd", checks.check_minibatch_sgd),
    **{f"test_{name}_hidden": (name, _rule_test(name)) for name in RULES},
    **{f"test_{name}_hidden": (name, _schedule_test(name)) for name in checks.SCHEDULES},
    "test_newton_step_hidden": ("newton_step", checks.check_newton_step),
    "test_train_lbfgs_hidden": ("train_lbfgs", checks.check_train_lbfgs),
    "test_polyak_hidden": ("with_polyak_average", checks.check_polyak_average),
    "test_ensemble_hidden": ("ensemble_predict", checks.check_ensemble_predict),
}


# ------------------------------------------------------------------------- rule references


def constant_gradient_closed_form(name, hyper, g, t):
    """``w_t - w_0`` after t steps of a rule with the constant gradient g (float64 scalars)."""
    lr = hyper["learning_rate"]
    if name == "sgd":
        return -lr * g * t
    if name in ("sgd_momentum", "nesterov_momentum"):
        mu = hyper["momentum"]
        velocities = [-lr * g * (1 - mu**k) / (1 - mu) for k in range(1, t + 1)]  # v_k, geometric sums
        if name == "sgd_momentum":
            return sum(velocities)
        return sum(velocities) + mu * velocities[-1]  # the look-ahead sum telescopes to mu * v_t
    if name == "adagrad":
        return -sum(lr * g / (math.sqrt(k) * abs(g) + hyper["epsilon"]) for k in range(1, t + 1))
    if name == "rmsprop":
        rho = hyper["decay_rate"]
        return -sum(lr * g / (math.sqrt(1 - rho**k) * abs(g) + hyper["epsilon"]) for k in range(1, t + 1))
    return -t * lr * g / (abs(g) + hyper["epsilon"])  # adam: the corrected moments are exactly g and g**2


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("g", [2.5, -0.03])
def test_rule_references_follow_the_closed_form_for_a_constant_gradient(name, g):
    hyper = {**RULES[name].defaults, **RULES[name].hidden}
    rule, w, state = checks.reference_rule(name), np.array([1.0]), dict(hyper)
    for t in range(1, 8):
        w, state = rule(w, np.array([g]), state)
        assert w[0] - 1.0 == pytest.approx(constant_gradient_closed_form(name, hyper, g, t), rel=1e-10)
    assert state.get("t", 7) == 7


def loop_twin(name, hyper, w, gradients):
    """The rule applied one element at a time with Python floats: the list of w after every step."""
    flat = [float(v) for v in np.ravel(w)]
    buffers = [dict(velocity=0.0, cache=0.0, m=0.0, v=0.0) for _ in flat]
    out = []
    for t, dw in enumerate(gradients, start=1):
        for i, g in enumerate(np.ravel(dw)):
            flat[i] = _scalar_step(name, hyper, flat[i], float(g), buffers[i], t)
        out.append(np.array(flat).reshape(np.shape(w)))
    return out


def _scalar_step(name, h, w, g, b, t):
    lr, eps = h["learning_rate"], h.get("epsilon")
    if name == "sgd":
        return w - lr * g
    if name in ("sgd_momentum", "nesterov_momentum"):
        previous, b["velocity"] = b["velocity"], h["momentum"] * b["velocity"] - lr * g
        extra = h["momentum"] * (b["velocity"] - previous) if name == "nesterov_momentum" else 0.0
        return w + b["velocity"] + extra
    if name in ("adagrad", "rmsprop"):
        rho = h.get("decay_rate", 1.0)
        b["cache"] = rho * b["cache"] + (1.0 if name == "adagrad" else 1 - rho) * g * g
        return w - lr * g / (math.sqrt(b["cache"]) + eps)
    b["m"] = h["beta1"] * b["m"] + (1 - h["beta1"]) * g
    b["v"] = h["beta2"] * b["v"] + (1 - h["beta2"]) * g * g
    return w - lr * (b["m"] / (1 - h["beta1"] ** t)) / (math.sqrt(b["v"] / (1 - h["beta2"] ** t)) + eps)


@pytest.mark.parametrize("name", RULES)
def test_rule_references_equal_their_loop_twins_on_the_hidden_sequence(name):
    w0, gradients = checks.shared.rule_sequence()
    hyper = {**RULES[name].defaults, **RULES[name].hidden}
    expected = checks.reference_sequence(RULES[name].step, hyper, w0, gradients, checks.initial_buffers(RULES[name], w0))
    for (w, _), twin in zip(expected, loop_twin(name, hyper, w0, gradients)):
        np.testing.assert_allclose(w, twin, rtol=EXACT, atol=EXACT)


def test_nesterov_reference_is_the_look_ahead_method_in_shifted_variables():
    # Original Nesterov on f(w) = a w^2 / 2: v <- mu v - lr f'(w + mu v), w <- w + v. Its look-ahead
    # point w + mu v is what the reference (CS231n's form) iterates.
    a, lr, mu = 3.0, 0.1, 0.8
    rule = checks.reference_rule("nesterov_momentum")
    w, v = 2.0, 0.0
    shifted, state = np.array([w + mu * v]), {"learning_rate": lr, "momentum": mu}
    for _ in range(12):
        v = mu * v - lr * a * (w + mu * v)
        w = w + v
        shifted, state = rule(shifted, a * shifted, state)
        assert shifted[0] == pytest.approx(w + mu * v, rel=1e-12)


@pytest.mark.parametrize("name", RULES)
def test_reference_rules_are_pure_keep_float32_and_fill_in_defaults(name):
    rule = checks.reference_rule(name)
    w, dw = np.ones((2, 3), np.float32), np.full((2, 3), 0.5, np.float32)
    _, state = rule(w, dw)
    state_copy = {k: np.copy(v) for k, v in state.items()}
    next_w, next_state = rule(w, dw, state)
    assert next_w.dtype == np.float32 and not np.shares_memory(next_w, w)
    assert all(np.array_equal(state[k], state_copy[k]) for k in state) and next_state is not state
    assert {k: state[k] for k in RULES[name].defaults} == RULES[name].defaults


@pytest.mark.parametrize("name", RULES)
def test_every_rule_reaches_the_quadratic_minimum_within_half_its_budget(name):
    # The budget leaves a margin of 2 over the reference (measured: 15 to 233 steps).
    path = run_update_rule(checks.reference_rule(name), checks.QUADRATIC, num_steps=RULES[name].budget,
                           state=dict(RULES[name].quadratic))
    distances = np.linalg.norm(path, axis=1)
    assert distances.min() < checks.shared.CONVERGED_DISTANCE
    assert np.argmax(distances < checks.shared.CONVERGED_DISTANCE) <= 0.8 * RULES[name].budget


# -------------------------------------------------------------------------------- rule checks


@pytest.mark.parametrize("name", RULES)
def test_rule_check_accepts_the_reference(name):
    checks.check_update_rule(checks.reference_rule(name), name)


@pytest.mark.parametrize("name, twin, hint", [(name, twin, hint) for name, spec in RULES.items()
                                             for twin, hint in spec.twins],
                         ids=lambda v: getattr(v, "__name__", str(v))[:40])
def test_rule_check_names_the_bug_of_every_twin(name, twin, hint):
    with pytest.raises(AssertionError) as failure:
        checks.check_update_rule(checks.reference_rule(name, step=twin), name)
    assert f"Likely cause: {hint}" in str(failure.value)


def _in_place_momentum(w, dw, state=None):
    state = {"learning_rate": 1e-2, "momentum": 0.9, **(state or {})}
    velocity = state.setdefault("velocity", np.zeros_like(w))
    velocity *= state["momentum"]
    velocity -= state["learning_rate"] * dw
    return w + velocity, state


def _float64_buffers_adam(w, dw, state=None):
    next_w, state = checks.reference_rule("adam")(w.astype(np.float64), dw, state)
    return next_w, state


def _hard_coded_sgd(w, dw, state=None):
    return w - 1e-2 * dw, {"learning_rate": 1e-2}


def _t_not_stored_adam(w, dw, state=None):
    next_w, state = checks.reference_rule("adam")(w, dw, state)
    return next_w, {**state, "t": 0}


def _returns_w_only(w, dw, state=None):
    return w - 0.01 * dw


@pytest.mark.parametrize("name, broken, message", [
    ("sgd_momentum", _in_place_momentum, "modified its input state"),
    ("adam", _float64_buffers_adam, "next_w has dtype float64 but w has float32"),
    ("sgd", _hard_coded_sgd, "next_w is wrong at step 1"),
    ("adam", _t_not_stored_adam, "next_state['t'] is 0 after step 1"),
    ("sgd", _returns_w_only, "must return a pair (next_w, next_state)"),
    ("rmsprop", checks.reference_rule("adagrad"), "next_w is wrong at step 1"),
])
def test_rule_check_rejects_broken_contracts(name, broken, message):
    broken.__name__ = name
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_update_rule(broken, name)


def test_rule_check_requires_the_defaults():
    def sgd_without_defaults(w, dw, state=None):
        state = {"learning_rate": 0.5, **(state or {})}
        return w - state["learning_rate"] * dw, state

    with pytest.raises(AssertionError, match=r"next_state\['learning_rate'\] should be the default 0.01"):
        checks.check_update_rule(sgd_without_defaults, "sgd")


def test_rule_check_requires_convergence():
    # A correct sgd whose learning rate is far too small for the step budget never gets close enough.
    spec = RULES["sgd"]
    stalled = checks.RuleSpec(spec.step, spec.defaults, (), spec.hidden, {"learning_rate": 1e-4}, spec.budget)
    with pytest.raises(AssertionError, match="does not converge on the quadratic"):
        checks.SECTIONS["rules"]._check_converges(checks.reference_rule("sgd"), "sgd", stalled)


# --------------------------------------------------------------------------------- schedules


def test_schedule_references_give_hand_values():
    step, exponential, inverse, cosine = (checks.SCHEDULES[n][0] for n in
                                          ("step_decay", "exponential_decay", "inverse_time_decay", "cosine_decay"))
    assert [step(t, 1.0, 0.5, 10) for t in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    assert exponential(100, 2.0, 0.01) == pytest.approx(2 / math.e)
    assert inverse(30, 1.0, 0.1) == pytest.approx(0.25)
    assert [cosine(t, 1.0, 100) for t in (0, 50, 100)] == pytest.approx([1.0, 0.5, 0.0], abs=1e-15)
    np.testing.assert_allclose(cosine(np.arange(5), 1.0, 4), [1.0, 0.5 + 0.5 * math.sqrt(0.5), 0.5,
                                                              0.5 - 0.5 * math.sqrt(0.5), 0.0], atol=1e-15)


@pytest.mark.parametrize("name", checks.SCHEDULES)
def test_schedule_check_accepts_the_reference(name):
    checks.check_schedule(checks.SCHEDULES[name][0], name)


@pytest.mark.parametrize("name, broken, message", [
    ("cosine_decay", lambda t, learning_rate, num_iterations:
     0.5 * learning_rate * (1 + math.cos(math.pi * t / num_iterations)), "must also work on an array"),
    ("step_decay", lambda t, learning_rate, factor, every: learning_rate * factor ** ((t + 1) // every),
     "step_decay(24, "),
    ("exponential_decay", lambda t, learning_rate, k: learning_rate * np.exp(-k * (t + 1)), "exponential_decay(0, "),
    ("inverse_time_decay", lambda t, learning_rate, k: learning_rate / (k * t), "raised ZeroDivisionError"),
])
def test_schedule_check_rejects_broken_twins(name, broken, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_schedule(broken, name)


# ----------------------------------------------------------------------------- the strategies


def test_minibatch_reference_is_the_training_loop_and_equals_a_plain_loop():
    X, y = checks.search_problem(N=60, seed=504)
    W0 = 0.1 * np.random.default_rng(41).standard_normal((X.shape[1], 4))
    W, history = checks.minibatch_sgd_reference(checks.softmax_loss_reference, X, y, W0, 0.2, 10, 16, 43, 0.05)
    rng, W_loop = np.random.default_rng(43), W0
    for k in range(10):
        batch = rng.integers(0, 60, size=16)
        loss, dW = checks.softmax_loss_reference(W_loop, X[batch], y[batch], 0.05)
        assert history[k] == pytest.approx(loss, rel=EXACT)
        W_loop = W_loop - 0.2 * dW
    np.testing.assert_allclose(W, W_loop, rtol=1e-12)


def test_search_references_do_what_they_say():
    X, y = checks.search_problem()
    W, loss = checks.random_search_reference(checks.softmax_loss_reference, X, y, 4, 30, 1.0, np.random.default_rng(1))
    rng = np.random.default_rng(1)
    losses = [checks.softmax_loss_reference(rng.standard_normal((6, 4)), X, y, 0.0)[0] for _ in range(30)]
    assert loss == min(losses) and checks.softmax_loss_reference(W, X, y, 0.0)[0] == loss
    W0 = np.zeros((6, 4))
    W, history = checks.random_local_search_reference(checks.softmax_loss_reference, X, y, W0, 60, 0.3,
                                                      np.random.default_rng(2))
    assert history[0] == pytest.approx(np.log(4)) and np.all(np.diff(history) <= 0) and history[-1] > history[-1] / 2
    assert checks.softmax_loss_reference(W, X, y, 0.0)[0] <= history[-1]


def _search_student(**changes):
    """random_search with one thing changed: 'keep' ("last"), 'reg', or 'shape' ((C, D) candidates)."""
    def random_search(loss_fn, X, y, num_classes, num_tries, weight_scale, rng):
        shape = (num_classes, X.shape[1]) if changes.get("shape") else (X.shape[1], num_classes)
        best = (None, np.inf)
        for _ in range(num_tries):
            W = weight_scale * rng.standard_normal(shape)
            W = W.T if changes.get("shape") else W
            loss = loss_fn(W, X, y, changes.get("reg", 0.0))[0]
            if changes.get("keep") == "last" or loss < best[1]:
                best = (W, loss)
        return best
    return random_search


def test_random_search_check_accepts_the_reference_and_rejects_twins():
    checks.check_random_search(lambda loss_fn, X, y, num_classes, num_tries, weight_scale, rng:
                               checks.random_search_reference(loss_fn, X, y, num_classes, num_tries, weight_scale, rng))
    checks.check_random_search(_search_student())
    for changes, message in ((dict(keep="last"), "the weights are wrong"), (dict(reg=0.1), "reg = [0.1]"),
                             (dict(shape=True), "Draw every candidate")):
        with pytest.raises(AssertionError, match=re.escape(message)):
            checks.check_random_search(_search_student(**changes))


def _greedy_local_search(loss_fn, X, y, W0, num_steps, step_size, rng):
    W, history = W0, []
    for _ in range(num_steps):
        history.append(loss_fn(W, X, y, 0.0)[0])
        W = W + step_size * rng.standard_normal(W.shape)  # every step accepted
    return W, history


def _in_place_gradient_descent(loss_fn, X, y, W0, learning_rate, num_steps, reg):
    W, history = W0, []
    for _ in range(num_steps):
        loss, dW = loss_fn(W, X, y, reg)
        history.append(loss)
        W -= learning_rate * dW
    return W, history


def _choice_sgd(loss_fn, X, y, W0, learning_rate, num_steps, batch_size, rng, reg):
    W, history = W0, []
    for _ in range(num_steps):
        batch = rng.choice(X.shape[0], size=batch_size, replace=False)
        loss, dW = loss_fn(W, X[batch], y[batch], reg)
        history.append(loss)
        W = W - learning_rate * dW
    return W, history


@pytest.mark.parametrize("check, broken, message", [
    (checks.check_random_local_search, _greedy_local_search, "moves only if the loss gets strictly lower"),
    (checks.check_gradient_descent, _in_place_gradient_descent, "modified its input W0 in place"),
    (checks.check_minibatch_sgd, _choice_sgd, "loss_history[0] is wrong"),
    (checks.check_gradient_descent, lambda *a, **k: None, "must return a pair"),
])
def test_strategy_checks_reject_broken_twins(check, broken, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(broken)


# ------------------------------------------------------------------------------ second order


@settings(deadline=None, max_examples=25)
@given(n=st.integers(1, 6), seed=st.integers(0, 1000))
def test_quadratic_problems_are_positive_definite_with_condition_100(n, seed):
    A, b = checks.quadratic_problem(n, seed)
    eigenvalues = np.linalg.eigvalsh(A)
    assert eigenvalues.min() > 0 and eigenvalues.max() / eigenvalues.min() == pytest.approx(100 if n > 1 else 1)


def test_newton_check_accepts_solve_and_inverse_and_rejects_a_wrong_sign():
    checks.check_newton_step(lambda w, g, H: w - np.linalg.solve(H, g))
    checks.check_newton_step(lambda w, g, H: w - np.linalg.inv(H) @ g)
    with pytest.raises(AssertionError, match="should land exactly on the minimum"):
        checks.check_newton_step(lambda w, g, H: w + np.linalg.solve(H, g))
    with pytest.raises(AssertionError, match="should land exactly on the minimum"):
        checks.check_newton_step(lambda w, g, H: w - g / np.diag(H))  # ignores the off-diagonal curvature


def test_lbfgs_reference_reaches_the_minimum_of_a_convex_problem():
    X, y = checks.search_problem(N=50, seed=505)
    W0 = np.zeros((6, 4))
    W, losses = checks.lbfgs_reference(checks.softmax_loss_reference, X, y, 0.01, W0, 200)
    _, dW = checks.softmax_loss_reference(W, X, y, 0.01)
    assert np.abs(dW).max() < 1e-4 and len(losses) > 3 and not W0.any()


def test_lbfgs_check_accepts_the_reference_and_rejects_twins():
    checks.check_train_lbfgs(checks.lbfgs_reference)

    def without_maxiter(loss_fn, X, y, reg, W0, max_iterations):
        return checks.lbfgs_reference(loss_fn, X, y, reg, W0, 1000)

    def gradient_descent_instead(loss_fn, X, y, reg, W0, max_iterations):
        return checks.gradient_descent_reference(loss_fn, X, y, W0, 0.1, max_iterations, reg)

    def returns_flat(loss_fn, X, y, reg, W0, max_iterations):
        W, losses = checks.lbfgs_reference(loss_fn, X, y, reg, W0, max_iterations)
        return W.ravel(), losses

    for broken, message in ((without_maxiter, "max_iterations=3 the returned W has loss"),
                            (gradient_descent_instead, "scipy's L-BFGS-B reaches"),
                            (returns_flat, "must return W of shape (6, 4)")):
        with pytest.raises(AssertionError, match=re.escape(message)):
            checks.check_train_lbfgs(broken)


# ---------------------------------------------------------------------- averaging and ensembles


def test_polyak_check_accepts_the_reference_and_rejects_twins():
    checks.check_polyak_average(lambda rule, decay: checks.polyak_reference(rule.__name__, decay))

    def starts_at_next_w(rule, decay):
        def averaged(w, dw, state=None):
            state = dict(state or {})
            average = state.pop("average", None)
            next_w, next_state = rule(w, dw, state)
            average = next_w if average is None else decay * average + (1 - decay) * next_w
            return next_w, {**next_state, "average": average}
        return averaged

    def forgets_the_state(rule, decay):
        def averaged(w, dw, state=None):
            average = (state or {}).get("average", w)
            next_w, next_state = rule(w, dw, {"learning_rate": (state or {}).get("learning_rate", 0.1)})
            return next_w, {**next_state, "average": decay * average + (1 - decay) * next_w}
        return averaged

    for broken, message in ((starts_at_next_w, "The average starts at w"), (forgets_the_state, "next_w")):
        with pytest.raises(AssertionError, match=message):
            checks.check_polyak_average(broken)


def test_ensemble_reference_averages_probabilities():
    weights, X, _ = next(iter(checks.ensemble_cases()))
    assert checks.ensemble_reference(weights, X).tolist() == [1]  # mean probability of class 0: 0.466
    assert np.mean([W[0, 0] for W in weights]) > 0                 # while the mean score favours class 0
    for weights, X, _ in checks.ensemble_cases():
        assert np.all(np.isfinite(X @ weights[0])) and checks.ensemble_reference(weights, X).shape == (len(X),)


def _vote(weights, X):
    votes = np.array([np.argmax(X @ W, axis=1) for W in weights])
    return np.array([np.bincount(column, minlength=weights[0].shape[1]).argmax() for column in votes.T])


def _mean_scores(weights, X):
    return np.argmax(sum(X @ W for W in weights), axis=1)


def _unstable(weights, X):
    return np.argmax(sum(np.exp(X @ W) / np.exp(X @ W).sum(axis=1, keepdims=True) for W in weights), axis=1)


@pytest.mark.parametrize("broken", [_vote, _mean_scores, _unstable])
def test_ensemble_check_accepts_the_reference_and_rejects_other_averages(broken):
    checks.check_ensemble_predict(checks.ensemble_reference)
    with pytest.raises(AssertionError, match="Average the softmax probabilities"):
        checks.check_ensemble_predict(broken)


# --------------------------------------------------------------------------- numeric answers


def test_answer_checks_accept_right_answers_and_reject_wrong_ones_without_revealing_them():
    checks.check_adagrad_step_ratio(0.1)
    checks.check_adam_first_steps(3.16, 1)
    checks.check_adam_first_steps(0.1 / math.sqrt(0.001), 1.0)
    for call, message in ((lambda: checks.check_adagrad_step_ratio(0.01), "adagrad_step_ratio = 0.01 is not right"),
                          (lambda: checks.check_adam_first_steps(1.0, 1.0), "without_correction = 1.0 is not right"),
                          (lambda: checks.check_adam_first_steps(3.16, 0.1), "with_correction = 0.1 is not right"),
                          (lambda: checks.check_adagrad_step_ratio("0.1"), "must be a real number")):
        with pytest.raises(AssertionError, match=re.escape(message)) as failure:
            call()
        hint = str(failure.value).split("not right")[-1]
        assert not any(answer in hint for answer in ("0.1.", "3.16", " 1.")), hint


# ------------------------------------------------------------------ the solution notebook


def _namespace(label):
    return {"np": np, "scipy": scipy, "__name__": f"notebook_{label}"}


@pytest.fixture(scope="module")
def solution():
    return run_cells(solution_sources(read_notebook(SOURCE)), "solution", _namespace("solution"))


@pytest.mark.parametrize("grade_id", sorted(HIDDEN_FUNCTION_TESTS))
def test_solution_passes_every_hidden_function_check(solution, grade_id):
    function, check = HIDDEN_FUNCTION_TESTS[grade_id]
    check(solution[function])


@pytest.mark.parametrize("name", RULES)
def test_solution_rules_agree_with_the_references_on_float32_training_steps(solution, name):
    rng = np.random.default_rng(3)
    w = (1e-3 * rng.standard_normal((3073, 10))).astype(np.float32)
    state, reference_state, reference_w = None, None, w
    for _ in range(3):
        dw = (1e-2 * rng.standard_normal(w.shape)).astype(np.float32)
        w, state = solution[name](w, dw, state)
        reference_w, reference_state = checks.reference_rule(name)(reference_w, dw, reference_state)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, reference_w, rtol=1e-5, atol=1e-7)


def test_solution_answers_pass_the_answer_checks(solution):
    checks.check_adagrad_step_ratio(solution["adagrad_step_ratio"])
    checks.check_adam_first_steps(solution["adam_first_step_without_correction"],
                                  solution["adam_first_step_with_correction"])


def test_notebook_metadata_follows_the_conventions():
    notebook = read_notebook(SOURCE)
    assert_nbgrader_conventions(notebook)
    cells = {c["id"]: c for c in notebook["cells"]}
    assert nbgrader(cells["setup"])["locked"] and "load_dataset()" in cells["setup"]["source"]
    given = cells["softmax_loss_given"]
    assert nbgrader(given)["locked"] and not nbgrader(given)["solution"] and "def softmax_loss" in given["source"]
    assert set(HIDDEN_FUNCTION_TESTS) <= autograded_tests(notebook)


# -------------------------------------------------------------------------- simulated class


def test_simulated_class_is_well_formed():
    assert_simulated_class_is_well_formed(read_notebook(SOURCE), simulated, "optimizers")
    names = {s["name"] for s in simulated.STUDENTS}
    assert len(simulated.STUDENTS) <= 6 and {"reference", "blank"} <= names


def test_blank_release_fails_every_hidden_function_test():
    release = read_notebook(RELEASE)
    namespace = run_cells(solution_sources(release), "release", _namespace("release"))
    for grade_id, (function, check) in HIDDEN_FUNCTION_TESTS.items():
        with pytest.raises(AssertionError, match="NotImplementedError"):
            check(namespace[function])


@pytest.mark.parametrize("student", [s for s in simulated.STUDENTS if not s.get("release")], ids=lambda s: s["name"])
def test_simulated_students_fail_exactly_their_hidden_function_tests(student):
    namespace = run_cells(patched_sources(read_notebook(SOURCE), student), student["name"], _namespace(student["name"]))
    failed = set()
    for grade_id, (function, check) in HIDDEN_FUNCTION_TESTS.items():
        try:
            check(namespace[function])
        except AssertionError:
            failed.add(grade_id)
    assert failed == set(student["failing"]) & set(HIDDEN_FUNCTION_TESTS)
