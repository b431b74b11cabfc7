"""The `loss` assignment: trusted references, hidden checks, the solution notebook, the simulated class.

No kernel runs here (the whole-notebook execution, the release sync and the graded demo live in
``tests/test_course.py``). What is tested:

* the references of ``autograder/checks/loss.py`` against loop twins, the lecture's hand-computed
  values, numerical gradients (``cs231kit.gradcheck``) and laws (hypothesis);
* every hidden check accepts the reference and rejects deliberately broken twins, with a message
  that names the problem;
* the solution notebook's functions (solution cells executed in a namespace) agree with the
  references and pass every hidden check;
* the simulated students: every patch applies, and the hidden function tests they are expected to
  fail are exactly those that fail when their patched functions are checked directly.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_cells import (  # tests/ is on sys.path under pytest
    assert_nbgrader_conventions,
    assert_simulated_class_is_well_formed,
    failing_hidden_checks,
    patched_sources,
    read_notebook,
    run_cells,
    solution_sources,
)

from cs231kit import gradcheck
from cs231kit.course import load_course_module

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # broken twins overflow on purpose

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "solutions" / "loss" / "loss.ipynb"
RELEASE = REPO / "notebooks" / "loss" / "loss.ipynb"
checks = load_course_module("autograder/checks/loss.py", root=REPO)
simulated = load_course_module("autograder/simulated/loss.py", root=REPO)

REF_RTOL = 1e-9
"""Two exact float64 formulas of the same loss agree to rounding."""
NUMERICAL_TOL = 1e-5
"""Reference gradient vs centered differences (measured worst case: 7e-7 on the largest hidden case)."""
LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])
LOSS_FUNCTIONS = ("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized")
REFERENCE_OF = {
    "svm_loss_naive": checks.svm_loss_reference,
    "svm_loss_vectorized": checks.svm_loss_reference,
    "softmax_loss_naive": checks.softmax_loss_reference,
    "softmax_loss_vectorized": checks.softmax_loss_reference,
}
# Hidden function tests of the notebook: grade_id -> (function name, check name).
HIDDEN_FUNCTION_TESTS = {
    "test_svm_naive_hidden": ("svm_loss_naive", "check_svm_loss_naive"),
    "test_svm_vectorized_hidden": ("svm_loss_vectorized", "check_svm_loss_vectorized"),
    "test_svm_vectorized_no_loops": ("svm_loss_vectorized", "check_no_python_loops"),
    "test_softmax_naive_hidden": ("softmax_loss_naive", "check_softmax_loss_naive"),
    "test_softmax_vectorized_hidden": ("softmax_loss_vectorized", "check_softmax_loss_vectorized"),
    "test_softmax_vectorized_stable": ("softmax_loss_vectorized", "check_softmax_stable"),
    "test_softmax_vectorized_no_loops": ("softmax_loss_vectorized", "check_no_python_loops"),
    "test_l2_penalty_hidden": ("l2_penalty", "check_l2_penalty"),
    "test_l1_penalty_hidden": ("l1_penalty", "check_l1_penalty"),
}


# ------------------------------------------------------------------------------- loop twins


def svm_loss_loops(W, X, y, reg):
    """The SVM loss and gradient, one example and one class at a time (a twin of the reference)."""
    N, C = X.shape[0], W.shape[1]
    loss, dW = 0.0, np.zeros_like(W, dtype=np.float64)
    for i in range(N):
        s = X[i] @ W
        for j in range(C):
            margin = s[j] - s[y[i]] + 1.0
            if j != y[i] and margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    return loss / N + reg * np.sum(W ** 2), dW / N + 2 * reg * W


def softmax_loss_loops(W, X, y, reg):
    """The softmax loss and gradient, one example at a time with math.exp-free log-sum-exp."""
    N, C = X.shape[0], W.shape[1]
    loss, dW = 0.0, np.zeros_like(W, dtype=np.float64)
    for i in range(N):
        s = X[i] @ W
        top = max(s)
        total = sum(np.exp(s_k - top) for s_k in s)
        loss += top + np.log(total) - s[y[i]]
        for k in range(C):
            p = np.exp(s[k] - top) / total
            dW[:, k] += (p - (k == y[i])) * X[i]
    return loss / N + reg * np.sum(W ** 2), dW / N + 2 * reg * W


ALL_CASES = checks.shared.LOSS_CASES + (checks.shared.LARGE_CASE,)


def _assert_same(result, expected, rtol=REF_RTOL):
    (loss, dW), (loss_e, dW_e) = result, expected
    np.testing.assert_allclose(loss, loss_e, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(dW, dW_e, rtol=rtol, atol=1e-12)


# ------------------------------------------------------------------------------ references


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
@pytest.mark.parametrize("reference, twin", [(checks.svm_loss_reference, svm_loss_loops),
                                             (checks.softmax_loss_reference, softmax_loss_loops)],
                         ids=["svm", "softmax"])
def test_reference_equals_its_loop_twin(reference, twin, case):
    W, X, y, reg = checks.shared.loss_case(*case)
    _assert_same(reference(W, X, y, reg), twin(W, X, y, reg))


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
@pytest.mark.parametrize("reference", [checks.svm_loss_reference, checks.softmax_loss_reference],
                         ids=["svm", "softmax"])
def test_reference_gradient_equals_centered_differences(reference, case):
    W, X, y, reg = checks.shared.loss_case(*case)
    numerical = gradcheck.numerical_gradient(lambda W_: reference(W_, X, y, reg)[0], W.copy())
    assert gradcheck.relative_error(reference(W, X, y, reg)[1], numerical) < NUMERICAL_TOL


@pytest.mark.parametrize("offset", checks.STABLE_OFFSETS)
def test_softmax_reference_is_exact_at_large_scores(offset):
    W, X, y, reg = checks.stable_case(offset)
    loss, dW = checks.softmax_loss_reference(W, X, y, reg)
    loss_twin, dW_twin = softmax_loss_loops(W, X, y, reg)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    _assert_same((loss, dW), (loss_twin, dW_twin), rtol=1e-7)
    numerical = gradcheck.numerical_gradient(lambda W_: checks.softmax_loss_reference(W_, X, y, reg)[0], W.copy())
    assert gradcheck.relative_error(dW, numerical) < NUMERICAL_TOL


def test_svm_reference_gives_the_lecture_losses():
    per_image = [checks.svm_loss_reference(LECTURE_SCORES, np.eye(3)[i:i + 1], LECTURE_LABELS[i:i + 1], 0.0)[0]
                 for i in range(3)]
    np.testing.assert_allclose(per_image, [2.9, 0.0, 12.9], atol=1e-12)
    mean = checks.svm_loss_reference(LECTURE_SCORES, np.eye(3), LECTURE_LABELS, 0.0)[0]
    assert mean == pytest.approx(15.8 / 3) and round(mean, 2) == 5.27


def test_softmax_reference_gives_the_lecture_loss_of_the_cat_image():
    # The lecture: probabilities (0.13, 0.87, 0.00), L = -log(0.13) = 2.04 (natural log).
    loss = checks.softmax_loss_reference(LECTURE_SCORES, np.eye(3)[:1], LECTURE_LABELS[:1], 0.0)[0]
    assert round(loss, 2) == 2.04


@pytest.mark.parametrize("C", [2, 3, 10])
def test_losses_at_zero_weights(C):
    X = np.random.default_rng(C).standard_normal((7, 5))
    y = np.arange(7) % C
    W = np.zeros((5, C))
    assert checks.softmax_loss_reference(W, X, y, 0.3)[0] == pytest.approx(np.log(C), rel=1e-12)
    assert checks.svm_loss_reference(W, X, y, 0.3)[0] == pytest.approx(C - 1, rel=1e-12)


def test_penalty_references():
    W = np.random.default_rng(0).standard_normal((4, 3))
    value, dW = checks.l2_penalty_reference(W, 0.7)
    assert value == pytest.approx(0.7 * sum(w * w for w in W.ravel()))
    numerical = gradcheck.numerical_gradient(lambda W_: checks.l2_penalty_reference(W_, 0.7)[0], W.copy())
    assert gradcheck.relative_error(dW, numerical) < NUMERICAL_TOL
    value, dW = checks.l1_penalty_reference(W, 0.7)
    assert value == pytest.approx(0.7 * sum(abs(w) for w in W.ravel()))
    numerical = gradcheck.numerical_gradient(lambda W_: checks.l1_penalty_reference(W_, 0.7)[0], W.copy())
    assert gradcheck.relative_error(dW, numerical) < NUMERICAL_TOL
    assert checks.l1_penalty_reference(np.zeros((2, 2)), 1.0)[1].tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_lecture_regularisation_example():
    x = np.ones(4)
    w1, w2 = np.array([[1.0], [0.0], [0.0], [0.0]]), np.full((4, 1), 0.25)
    assert x @ w1 == x @ w2 == 1.0
    assert checks.l2_penalty_reference(w1, 1.0)[0] == 1.0 and checks.l2_penalty_reference(w2, 1.0)[0] == 0.25
    assert checks.l1_penalty_reference(w1, 1.0)[0] == checks.l1_penalty_reference(w2, 1.0)[0] == 1.0


# ------------------------------------------------------------------------------ laws (hypothesis)


@st.composite
def loss_inputs(draw):
    N, D, C = draw(st.integers(1, 6)), draw(st.integers(1, 5)), draw(st.integers(2, 6))
    values = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
    W = np.array(draw(st.lists(values, min_size=D * C, max_size=D * C))).reshape(D, C)
    X = np.array(draw(st.lists(values, min_size=N * D, max_size=N * D))).reshape(N, D)
    y = np.array(draw(st.lists(st.integers(0, C - 1), min_size=N, max_size=N)))
    return W, X, y, draw(st.floats(0, 10))


@settings(deadline=None, max_examples=60)
@given(loss_inputs(), st.lists(st.floats(-1e3, 1e3), min_size=6, max_size=6))
def test_softmax_loss_is_shift_invariant(inputs, shifts):
    W, X, y, _ = inputs
    # A bias column with a per-row shift and a bias row of ones add shifts[i] to every score of row i.
    Xb = np.hstack([X, np.array(shifts[:len(X)])[:, None]])
    Wb = np.vstack([W, np.ones((1, W.shape[1]))])
    shifted, _ = checks.softmax_loss_reference(Wb, Xb, y, 0.0)
    plain, _ = checks.softmax_loss_reference(W, X, y, 0.0)
    assert shifted == pytest.approx(plain, rel=1e-9, abs=1e-9)


@settings(deadline=None, max_examples=60)
@given(loss_inputs())
def test_losses_are_non_negative_and_at_least_the_penalty(inputs):
    W, X, y, reg = inputs
    penalty = reg * np.sum(W * W)
    for reference in (checks.svm_loss_reference, checks.softmax_loss_reference):
        loss, dW = reference(W, X, y, reg)
        assert loss >= penalty * (1 - 1e-12) >= 0
        assert dW.shape == W.shape and np.all(np.isfinite(dW))


# ------------------------------------------------------------------- broken twins of the loss


def _sign_flipped(reference):
    def loss_fn(W, X, y, reg):
        loss, dW = reference(W, X, y, reg)
        return loss, -dW
    return loss_fn


def _missing_reg_gradient(reference):
    def loss_fn(W, X, y, reg):
        loss, dW = reference(W, X, y, reg)
        return loss, dW - 2 * reg * W
    return loss_fn


def _missing_one_over_n(reference):
    def loss_fn(W, X, y, reg):
        loss, dW = reference(W, X, y, reg)
        return loss, (dW - 2 * reg * W) * X.shape[0] + 2 * reg * W
    return loss_fn


def _loss_plus_one(W, X, y, reg):
    loss, dW = checks.svm_loss_reference(W, X, y, reg)
    return loss + 1.0, dW


def _mutates_x(reference):
    def loss_fn(W, X, y, reg):
        result = reference(W, X, y, reg)
        X -= X.mean(axis=0)
        return result
    return loss_fn


def _float32_gradient(reference):
    def loss_fn(W, X, y, reg):
        loss, dW = reference(W, X, y, reg)
        return loss, dW.astype(np.float32)
    return loss_fn


def _returns(value):
    return lambda W, X, y, reg: value


def _raises(W, X, y, reg):
    raise IndexError("index 3 is out of bounds for axis 1 with size 3")


def softmax_unshifted(W, X, y, reg):
    scores = X @ W
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(len(y)), y])) + reg * np.sum(W * W)
    probs[np.arange(len(y)), y] -= 1
    return loss, X.T @ probs / len(y) + 2 * reg * W


def softmax_stable_loss_unstable_gradient(W, X, y, reg):
    loss = checks.softmax_loss_reference(W, X, y, reg)[0]
    return loss, softmax_unshifted(W, X, y, reg)[1]


SVM_BROKEN = [
    (_sign_flipped(checks.svm_loss_reference), "dW is wrong", "sign is flipped"),
    (_missing_reg_gradient(checks.svm_loss_reference), "dW is wrong", "regularisation"),
    (_missing_one_over_n(checks.svm_loss_reference), "dW is wrong", "divide by N"),
    (_loss_plus_one, "the loss is wrong", "skip the correct class"),
    (_mutates_x(checks.svm_loss_reference), "modified its input X", "hidden case 1"),
    (_float32_gradient(checks.svm_loss_reference), "dtype float32", "float64"),
    (_returns(None), "returned None", "(loss, dW)"),
    (_returns((1.0, np.zeros((3, 3)))), "wrong shape", "hidden case 1"),
    (_raises, "raised IndexError", "index 3 is out of bounds"),
]


@pytest.mark.parametrize("check", [checks.check_svm_loss_naive, checks.check_svm_loss_vectorized])
def test_svm_checks_accept_the_reference(check):
    check(checks.svm_loss_reference)
    check(svm_loss_loops)


@pytest.mark.parametrize("broken, message, detail", SVM_BROKEN)
@pytest.mark.parametrize("check", [checks.check_svm_loss_naive, checks.check_svm_loss_vectorized])
def test_svm_checks_reject_broken_twins(check, broken, message, detail):
    with pytest.raises(AssertionError) as failure:
        check(broken)
    assert message in str(failure.value) and detail in str(failure.value)


@pytest.mark.parametrize("check", [checks.check_softmax_loss_naive, checks.check_softmax_loss_vectorized])
def test_softmax_checks_accept_the_reference(check):
    check(checks.softmax_loss_reference)
    check(softmax_loss_loops)


@pytest.mark.parametrize("broken, message, detail", [
    (_sign_flipped(checks.softmax_loss_reference), "dW is wrong", "sign is flipped"),
    (_missing_one_over_n(checks.softmax_loss_reference), "dW is wrong", "divide by N"),
    (_missing_reg_gradient(checks.softmax_loss_reference), "dW is wrong", "regularisation"),
    (checks.svm_loss_reference, "the loss is wrong", "expected"),
])
@pytest.mark.parametrize("check", [checks.check_softmax_loss_naive, checks.check_softmax_loss_vectorized])
def test_softmax_checks_reject_broken_twins(check, broken, message, detail):
    with pytest.raises(AssertionError) as failure:
        check(broken)
    assert message in str(failure.value) and detail in str(failure.value)


def test_stability_check_accepts_stable_versions_and_ignores_moderate_gradient_bugs():
    checks.check_softmax_stable(checks.softmax_loss_reference)
    checks.check_softmax_stable(softmax_loss_loops)
    # A missing 1/N is caught by the value tests; at large scores it is still "stable".
    checks.check_softmax_stable(_missing_one_over_n(checks.softmax_loss_reference))


@pytest.mark.parametrize("broken, message", [
    (softmax_unshifted, "not numerically stable"),
    (softmax_stable_loss_unstable_gradient, "non-finite entries in dW"),
])
def test_stability_check_rejects_overflow(broken, message):
    with pytest.raises(AssertionError, match=message) as failure:
        checks.check_softmax_stable(broken)
    assert "subtract each row's maximum" in str(failure.value)


# ---------------------------------------------------------------------------------- no loops


def vectorised_ok(W, X, y, reg):
    scores = X @ W
    return float(scores.sum()), np.ones_like(W)


def with_for(W, X, y, reg):
    total = 0.0
    for row in X:
        total += row.sum()
    return total, W


def with_while(W, X, y, reg):
    i = 0
    while i < 3:
        i += 1
    return 0.0, W


def with_comprehension(W, X, y, reg):
    return sum([row.sum() for row in X]), W


def with_np_vectorize(W, X, y, reg):
    return 0.0, np.vectorize(lambda w: 2 * w)(W)


def _looping_helper(X):
    return [x.sum() for x in X]


def calls_looping_helper(W, X, y, reg):
    return float(np.sum(_looping_helper(X))), W


def test_no_loops_check_accepts_whole_array_code():
    checks.check_no_python_loops(vectorised_ok)
    checks.check_no_python_loops(checks.softmax_loss_reference)


@pytest.mark.parametrize("fn, message", [
    (with_for, "a for loop: `for row in X:`"),
    (with_while, "a while loop"),
    (with_comprehension, "a list comprehension"),
    (with_np_vectorize, "a call of vectorize()"),
    (calls_looping_helper, "_looping_helper (called from calls_looping_helper): a list comprehension"),
])
def test_no_loops_check_rejects_loops(fn, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        checks.check_no_python_loops(fn)


def unimplemented(W, X, y, reg):
    raise NotImplementedError()


def test_no_loops_check_gives_nothing_for_a_stub():
    with pytest.raises(AssertionError, match="unimplemented raised NotImplementedError on a small input"):
        checks.check_no_python_loops(unimplemented)


def test_no_loops_check_fails_clearly_without_source():
    namespace = {}
    exec("def hidden_source(W, X, y, reg):\n    return 0.0, W\n", namespace)  # no file, no linecache entry
    with pytest.raises(AssertionError, match="Could not read the source code of hidden_source"):
        checks.check_no_python_loops(namespace["hidden_source"])
    with pytest.raises(AssertionError, match="not a Python function"):
        checks.check_no_python_loops(np.sum)


# ------------------------------------------------------------------------------- penalties


def l2_aliasing(W, reg):
    penalty = reg * np.sum(W * W)
    dW = W
    dW *= 2 * reg
    return penalty, dW


def l1_nan_at_zero(W, reg):
    with np.errstate(invalid="ignore"):
        return reg * np.sum(np.abs(W)), reg * W / np.abs(W)


def l1_plus_reg_at_zero(W, reg):
    return reg * np.sum(np.abs(W)), reg * np.where(W >= 0, 1.0, -1.0)


def test_penalty_checks_accept_references_and_any_valid_subgradient():
    checks.check_l2_penalty(checks.l2_penalty_reference)
    checks.check_l1_penalty(checks.l1_penalty_reference)
    checks.check_l1_penalty(l1_plus_reg_at_zero)


@pytest.mark.parametrize("check, broken, message", [
    (checks.check_l2_penalty, l2_aliasing, "modified its input W in place"),
    (checks.check_l2_penalty, lambda W, reg: (reg * np.sum(W * W), reg * W), "dW is wrong"),
    (checks.check_l2_penalty, lambda W, reg: (0.5 * reg * np.sum(W * W), reg * W), "the penalty is wrong"),
    (checks.check_l1_penalty, checks.l2_penalty_reference, "the penalty is wrong"),
    (checks.check_l1_penalty, lambda W, reg: (reg * np.sum(np.abs(W)), 2 * reg * W), "dW is wrong"),
    (checks.check_l1_penalty, l1_nan_at_zero, "where W = 0"),
    (checks.check_l1_penalty, lambda W, reg: reg * np.sum(np.abs(W)), "(loss, dW)"),
])
def test_penalty_checks_reject_broken_twins(check, broken, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(broken)


# --------------------------------------------------------------------------- numeric answers


def test_answer_checks_accept_right_answers():
    checks.check_svm_loss_bounds(0, np.inf)
    checks.check_svm_loss_at_init(9, 10)
    checks.check_svm_loss_at_init(1.0, 2)
    checks.check_svm_loss_with_correct_class(1)
    checks.check_softmax_loss_bounds(0.0, float("inf"))
    checks.check_softmax_loss_at_init(np.log(10), 10)
    checks.check_softmax_loss_at_init(2.3, 10)  # rounded is fine


@pytest.mark.parametrize("call, message", [
    (lambda: checks.check_svm_loss_bounds(1.0, np.inf), "svm_loss_min = 1.0 is not right"),
    (lambda: checks.check_svm_loss_bounds(0.0, 1e300), "svm_loss_max = 1e+300 is not right"),
    (lambda: checks.check_svm_loss_at_init(10, 10), "svm_loss_at_init = 10.0 is not right"),
    (lambda: checks.check_svm_loss_with_correct_class(0), "is not right"),
    (lambda: checks.check_softmax_loss_bounds(0.0, 1.0), "softmax_loss_max = 1.0 is not right"),
    (lambda: checks.check_softmax_loss_at_init(0.1, 10), "softmax_loss_at_init = 0.1 is not right"),
    (lambda: checks.check_softmax_loss_at_init(np.log10(10), 10), "is not right"),
    (lambda: checks.check_svm_loss_bounds("0", np.inf), "must be a real number"),
    (lambda: checks.check_svm_loss_bounds(0, float("nan")), "must be a real number"),
])
def test_answer_checks_reject_wrong_answers_without_revealing_them(call, message):
    with pytest.raises(AssertionError, match=re.escape(message)) as failure:
        call()
    if "is not right" in str(failure.value):  # the hint after it must not give the answer away
        hint = str(failure.value).split("is not right")[-1]
        assert not any(answer in hint for answer in ("9", "2.30", "inf")), hint


# ------------------------------------------------------------------ the solution notebook


def _setup_namespace():
    """What the notebook's setup cell gives the solution cells."""
    return {"np": np, "num_classes": 10}


@pytest.fixture(scope="module")
def notebook():
    return read_notebook(SOURCE)


@pytest.fixture(scope="module")
def solution(notebook):
    return run_cells(solution_sources(notebook), "solution", _setup_namespace())


@pytest.mark.parametrize("case", checks.shared.LOSS_CASES, ids=str)
@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_solution_functions_agree_with_the_references(solution, name, case):
    W, X, y, reg = checks.shared.loss_case(*case)
    _assert_same(solution[name](W, X, y, reg), REFERENCE_OF[name](W, X, y, reg), rtol=1e-8)


@pytest.mark.parametrize("name", LOSS_FUNCTIONS)
def test_solution_functions_agree_on_float32_training_batches(solution, name):
    rng = np.random.default_rng(7)
    W = (1e-3 * rng.standard_normal((3073, 10))).astype(np.float32)
    X = (50 * rng.standard_normal((64, 3073))).astype(np.float32)
    X[:, -1] = 1
    y = rng.integers(0, 10, size=64)
    loss, dW = solution[name](W, X, y, 2.5e4)
    loss_ref, dW_ref = REFERENCE_OF[name](W, X, y, 2.5e4)
    assert dW.dtype == np.float32 and dW.shape == W.shape
    assert loss == pytest.approx(loss_ref, rel=1e-4)
    assert np.allclose(dW, dW_ref, rtol=1e-4, atol=1e-4 * np.abs(dW_ref).max())


@pytest.mark.parametrize("grade_id", sorted(HIDDEN_FUNCTION_TESTS))
def test_solution_passes_every_hidden_function_check(solution, grade_id):
    function, check = HIDDEN_FUNCTION_TESTS[grade_id]
    getattr(checks, check)(solution[function])


def test_naive_solutions_do_loop(solution):
    for name in ("svm_loss_naive", "softmax_loss_naive"):
        with pytest.raises(AssertionError, match="a for loop"):
            checks.check_no_python_loops(solution[name])


def test_solution_answers_pass_the_answer_checks(solution):
    checks.check_svm_loss_bounds(solution["svm_loss_min"], solution["svm_loss_max"])
    checks.check_svm_loss_at_init(solution["svm_loss_at_init"], 10)
    checks.check_svm_loss_with_correct_class(solution["svm_loss_increase_with_correct_class"])
    checks.check_softmax_loss_bounds(solution["softmax_loss_min"], solution["softmax_loss_max"])
    checks.check_softmax_loss_at_init(solution["softmax_loss_at_init"], 10)


def test_notebook_metadata_follows_the_conventions(notebook):
    assert_nbgrader_conventions(notebook)


# -------------------------------------------------------------------------- simulated class


def test_simulated_class_is_well_formed(notebook):
    assert_simulated_class_is_well_formed(notebook, simulated, "loss")
    assert {"reference", "blank"} <= {s["name"] for s in simulated.STUDENTS}


def test_blank_release_fails_every_hidden_function_test():
    namespace = run_cells(solution_sources(read_notebook(RELEASE)), "release", _setup_namespace())
    for grade_id, (function, check) in HIDDEN_FUNCTION_TESTS.items():
        with pytest.raises(AssertionError, match="NotImplementedError"):
            getattr(checks, check)(namespace[function])


@pytest.mark.parametrize("student", [s for s in simulated.STUDENTS if not s.get("release")], ids=lambda s: s["name"])
def test_simulated_students_fail_exactly_their_hidden_function_tests(notebook, student):
    namespace = run_cells(patched_sources(notebook, student), student["name"], _setup_namespace())
    failed = failing_hidden_checks(checks, HIDDEN_FUNCTION_TESTS, namespace)
    assert failed == set(student["failing"]) & set(HIDDEN_FUNCTION_TESTS)
