"""Tests of cs231kit.gradcheck: numerical gradients against closed forms, reports and their hints.

The loss functions are small test fixtures (softmax and multiclass hinge, with the kit's penalty
``reg * sum(W * W)``, in loss_fixtures.py); each hint is provoked by a deliberately broken gradient.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from loss_fixtures import hinge_loss, softmax_loss  # tests/ is on sys.path under pytest

from cs231kit.gradcheck import (
    ACCEPTABLE_REL_ERROR,
    GOOD_REL_ERROR,
    WRONG_REL_ERROR,
    GradientReport,
    SparseCheck,
    assert_gradient_correct,
    check_gradient,
    check_loss_gradient,
    grad_check_sparse,
    numerical_gradient,
    numerical_gradient_array,
    relative_error,
    relative_error_map,
    validate_loss_output,
)

SETTINGS = settings(deadline=None, max_examples=40)
EXACT = 1e-10  # a linear function's centered difference is exact up to rounding
SMOOTH = 1e-7  # relative tolerance of a centered difference on a smooth function (h = 1e-5)

small_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
unit_floats = st.floats(-1, 1, allow_nan=False, allow_subnormal=False)


# ------------------------------------------------------------------------------------ fixtures


def make_problem(N=40, D=5, C=4, seed=0):
    """Blobs with a bias column: X (N, D) with X[:, -1] = 1, y (N,), W (D, C)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    X[:, -1] = 1.0
    return 0.1 * rng.standard_normal((D, C)), X, rng.integers(0, C, N)


def buggy(bug):
    """The softmax fixture with one bug, named like a student's function."""

    def softmax_loss_vectorized(W, X, y, reg):
        return softmax_loss(W, X, y, reg, bug)

    return softmax_loss_vectorized


# -------------------------------------------------------------------------- numerical gradients


@SETTINGS
@given(data=st.data(), shape=small_shapes)
def test_numerical_gradient_of_linear_function_is_exact(data, shape):
    c = data.draw(hnp.arrays(np.float64, shape, elements=unit_floats))
    x = data.draw(hnp.arrays(np.float64, shape, elements=unit_floats))
    before = x.tobytes()
    grad = numerical_gradient(lambda x_: np.sum(c * x_), x, h=1e-3)
    np.testing.assert_allclose(grad, c, rtol=0, atol=EXACT)
    assert x.tobytes() == before


def test_numerical_gradient_of_quadratic_and_sinusoid():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    np.testing.assert_allclose(numerical_gradient(lambda v: v @ A @ v, x), (A + A.T) @ x, rtol=SMOOTH, atol=1e-9)
    X = rng.standard_normal((3, 2))
    expected = np.cos(X) * X**2 + 2 * X * np.sin(X)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v) * v**2), X), expected,
                               rtol=SMOOTH, atol=1e-9)


def test_numerical_gradient_restores_x_bit_for_bit_and_works_with_closures():
    x = np.array([0.1, 1e8 + 0.3, -7.7e-3, np.pi])  # entries for which x + h - h != x
    before = x.tobytes()
    grad_arg = numerical_gradient(lambda v: np.sum(v**2), x)
    grad_closure = numerical_gradient(lambda _: np.sum(x**2), x)  # ignores its argument, reads x
    assert x.tobytes() == before
    np.testing.assert_array_equal(grad_arg, grad_closure)
    assert grad_arg.dtype == np.float64 and grad_arg.shape == x.shape


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.linspace(-1, 1, 6).reshape(2, 3) + 0.1
    before = x.tobytes()
    calls = []

    def explode_on_third_call(v):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(np.sum(v))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(explode_on_third_call, x)
    assert x.tobytes() == before


def test_numerical_gradient_rejects_what_it_cannot_perturb():
    with pytest.raises(TypeError, match="floating-point"):
        numerical_gradient(np.sum, np.arange(3))
    with pytest.raises(TypeError, match=r"tuple.*\[0\]"):
        numerical_gradient(lambda v: (np.sum(v), v), np.ones(2))
    with pytest.raises(ValueError, match="h="):
        numerical_gradient(np.sum, np.ones(2), h=0.0)


def test_numerical_gradient_array_matches_jacobians():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3))
    dout = rng.standard_normal((2, 3))
    # elementwise cube: the Jacobian is diagonal with 3 x^2
    np.testing.assert_allclose(numerical_gradient_array(lambda v: v**3, x, dout), dout * 3 * x**2,
                               rtol=SMOOTH, atol=1e-9)
    # matrix product: d(x @ M) / dx contracted with dout is dout @ M.T
    M = rng.standard_normal((3, 4))
    dout = rng.standard_normal((2, 4))
    np.testing.assert_allclose(numerical_gradient_array(lambda v: v @ M, x, dout), dout @ M.T, rtol=SMOOTH, atol=1e-9)
    # f returning (a view of) its own input must not be corrupted by the in-place perturbation
    np.testing.assert_allclose(numerical_gradient_array(lambda v: v, x, dout[:, :3]), dout[:, :3], atol=EXACT)


def test_numerical_gradient_array_names_a_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        numerical_gradient_array(lambda v: v, np.ones(3), np.ones(2))


# ------------------------------------------------------------------------------ relative error


@SETTINGS
@given(data=st.data(), shape=small_shapes)
def test_relative_error_is_symmetric_bounded_and_zero_on_identical(data, shape):
    a = data.draw(hnp.arrays(np.float64, shape, elements=unit_floats))
    b = data.draw(hnp.arrays(np.float64, shape, elements=unit_floats))
    assert relative_error(a, a) == 0.0
    assert relative_error(a, b) == relative_error(b, a)
    assert 0.0 <= relative_error(a, b) <= 1.0


def test_relative_error_known_values():
    assert relative_error(np.zeros((2, 3)), np.zeros((2, 3))) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([3.0, 2.0])) == pytest.approx(0.5)  # |1-3| / (1+3)
    np.testing.assert_allclose(relative_error_map([1.0, -1.0], [1.0, 1.0]), [0.0, 1.0])
    assert np.isnan(relative_error([np.nan], [1.0]))
    assert np.isnan(relative_error([np.inf], [np.inf]))


def test_relative_error_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        relative_error(np.zeros((2, 3)), np.zeros((3, 2)))


# ------------------------------------------------------------------------------- sparse checks


def test_grad_check_sparse_is_seeded_and_returns_what_it_checked():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5))
    grad = 2 * x
    first = grad_check_sparse(lambda v: np.sum(v**2), x, grad, num_checks=7, seed=4)
    again = grad_check_sparse(lambda v: np.sum(v**2), x, grad, num_checks=7, seed=4)
    other = grad_check_sparse(lambda v: np.sum(v**2), x, grad, num_checks=7, seed=5)
    assert isinstance(first, SparseCheck)
    assert first.indices == again.indices != other.indices
    assert len(set(first.indices)) == 7
    np.testing.assert_array_equal(first.analytic, [grad[i] for i in first.indices])
    np.testing.assert_allclose(first.numerical, first.analytic, rtol=SMOOTH)
    assert first.max_rel_error < GOOD_REL_ERROR
    assert len(grad_check_sparse(lambda v: np.sum(v**2), x, grad, num_checks=100).indices) == x.size


# ------------------------------------------------------------------------ reports: passing


@pytest.mark.parametrize("loss_fn", [softmax_loss, hinge_loss])
def test_check_loss_gradient_passes_correct_losses(loss_fn):
    W, X, y = make_problem()
    report = check_loss_gradient(loss_fn, W, X, y, 0.1)
    assert report.passed, str(report)
    assert report.checked == report.total == W.size
    assert report.max_rel_error < ACCEPTABLE_REL_ERROR
    assert "PASSED" in str(report) and "all 20 entries" in str(report)


def test_check_loss_gradient_never_mutates_the_callers_arrays():
    W, X, y = make_problem()
    W, X = W.astype(np.float32), X.astype(np.float32)
    copies = [a.copy() for a in (W, X, y)]
    check_loss_gradient(softmax_loss, W, X, y, 0.1)
    for original, copy in zip((W, X, y), copies):
        np.testing.assert_array_equal(original, copy)
        assert original.dtype == copy.dtype


def test_a_loss_function_that_modifies_W_cannot_corrupt_the_check():
    def zeroing_softmax_loss(W, X, y, reg):
        loss, dW = softmax_loss(W, X, y, reg)
        W[...] = 0.0
        return loss, dW

    W, X, y = make_problem()
    original = W.copy()
    assert check_loss_gradient(zeroing_softmax_loss, W, X, y, 0.1).passed
    np.testing.assert_array_equal(W, original)


def test_large_gradients_are_sampled_with_a_seed():
    W = np.random.default_rng(0).standard_normal((3073, 10))
    report = check_gradient(lambda W_: np.sum(W_**2), W, 2 * W, max_checks=300)
    assert report.passed and report.checked == 300 and report.total == 30730
    assert "checked 300 of 30730 entries" in str(report)
    assert report.indices == check_gradient(lambda W_: np.sum(W_**2), W, 2 * W).indices


def test_verdicts_follow_the_rule_of_thumb():
    def report(error, tolerance=ACCEPTABLE_REL_ERROR):
        return GradientReport("dW", (2,), 2, 2, error, tolerance, ())

    assert [report(e).verdict for e in (1e-9, 1e-6, 1e-3, 0.5, np.nan)] == [
        "good", "acceptable near kinks", "suspicious", "wrong", "wrong"]
    assert report(1e-6).passed and not report(1e-3).passed and not report(np.nan, np.inf).passed
    assert WRONG_REL_ERROR > ACCEPTABLE_REL_ERROR > GOOD_REL_ERROR


def test_acceptable_error_mentions_a_kink():
    x = np.linspace(1, 2, 5)
    report = check_gradient(lambda v: np.sum(v**2), x, 2 * x * (1 + 1e-5), name="dx")
    assert report.passed and report.verdict == "acceptable near kinks"
    assert "kink" in report.hint


# ------------------------------------------------------------------------ reports: hints


@pytest.mark.parametrize(
    ("bug", "expected"),
    [
        ("sign", ["-1 ×", "sign is flipped", "gradient ascent"]),
        ("times_n", ["40 × numerical", "forget to divide by N (=40)"]),
        ("no_mean", ["40 × numerical", "forget to divide by N (=40)"]),
        ("mean_twice", ["1/40 × numerical", "divide by N (=40) twice"]),
        ("no_reg", ["regularisation", "2·reg·W", "no regularisation term"]),
        ("reg_once", ["regularisation", "2·reg = 0.2", "1·reg·W"]),
        ("zeros", ["all zeros"]),
        ("column", ["column 2 (class 2)", "other columns are right"]),
        ("bias_row", ["row 4", "bias"]),
    ],
)
def test_each_broken_gradient_fails_with_its_hint(bug, expected):
    W, X, y = make_problem()
    report = check_loss_gradient(buggy(bug), W, X, y, 0.1)
    assert not report.passed
    assert "FAILED" in str(report)
    for phrase in expected:
        assert phrase in report.hint, f"{bug}: {phrase!r} not in hint {report.hint!r}"


def test_dividing_by_a_large_n_twice_is_not_mistaken_for_a_zero_gradient():
    W, X, y = make_problem(N=2000)  # 1/2000 lies within the tolerance around 0 of the factor fit
    report = check_loss_gradient(buggy("mean_twice"), W, X, y, 0.0)
    assert "divide by N (=2000) twice" in report.hint, report.hint


def test_gradient_of_another_function_of_W_is_named():
    W = np.random.default_rng(6).standard_normal((5, 3))
    report = check_gradient(lambda W_: 0.7 * np.sum(np.abs(W_)), W, 2 * 0.7 * W)  # L1 penalty, L2 gradient
    assert not report.passed and "1.4·W: your gradient is a multiple of W itself" in report.hint
    report = check_gradient(lambda W_: 0.7 * np.sum(W_**2), W, 0.7 * W)  # the 2 of d(w²)/dw forgotten
    assert "1/2 × numerical" in report.hint and "factor of 2 missing" in report.hint


def test_transposed_gradient_fails_and_says_its_transpose_is_right():
    W, X, y = make_problem()
    _, dW = softmax_loss(W, X, y, 0.1)
    report = check_gradient(lambda W_: softmax_loss(W_, X, y, 0.1)[0], W, dW.T)
    assert not report.passed and report.checked == 0
    assert "(4, 5)" in report.hint and "(5, 4)" in report.hint
    assert "transposed" in report.hint and "transpose passes" in report.hint


def test_a_kink_within_h_is_rechecked_with_a_smaller_step():
    x = np.array([1.0, -2.0, 3.0, 1e-6, -0.5, 2.0])  # |x| has a kink within h = 1e-5 of x[3], not within h/100
    report = check_gradient(lambda v: np.sum(np.abs(v)), x, np.sign(x), name="dx")
    assert report.passed and report.kinks == 1
    assert "1 entries were re-checked with a 100× smaller step" in str(report)


def test_a_single_bad_entry_is_blamed_on_a_kink():
    x = np.array([1.0, -2.0, 3.0, 1e-9, -0.5, 2.0])  # the kink is within h/100 of x[3] too
    report = check_gradient(lambda v: np.sum(np.abs(v)), x, np.sign(x), name="dx")
    assert not report.passed
    assert report.worst[0].index == (3,)
    assert "only 1 of 6" in report.hint and "kink" in report.hint


def test_hinge_loss_with_many_kinks_passes_and_a_bug_in_it_is_still_found():
    W, X, y = make_problem(N=200, D=30, C=10, seed=5)
    X *= 30  # large inputs and score differences of order 1: a ±h step moves many margins across 0
    W *= 0.04
    report = check_loss_gradient(hinge_loss, W, X, y, 0.1)
    assert report.passed and report.kinks > 0, str(report)

    def hinge_loss_no_reg(W, X, y, reg):
        loss, dW = hinge_loss(W, X, y, reg)
        return loss, dW - 2 * reg * W

    report = check_loss_gradient(hinge_loss_no_reg, W, X, y, 0.1)
    assert not report.passed and "no regularisation term" in report.hint


def test_nonfinite_values_fail_and_say_where():
    x = np.linspace(1, 2, 4)
    grad = 2 * x
    grad[2] = np.nan
    report = check_gradient(lambda v: np.sum(v**2), x, grad, name="dx")
    assert not report.passed and report.verdict == "wrong"
    assert "nan at index (2)" in report.hint
    with np.errstate(over="ignore"):
        report = check_gradient(lambda v: np.sum(np.exp(1000 * v)), x, 2 * x, name="dx")
    assert not report.passed and "numerical gradient is" in report.hint


def test_function_ignoring_its_argument_is_explained():
    W, X, y = make_problem()
    frozen = W.copy()
    _, dW = softmax_loss(W, X, y, 0.1)
    report = check_gradient(lambda W_: softmax_loss(frozen, X, y, 0.1)[0], W, dW)
    assert "does not change" in report.hint and "lambda W_" in report.hint


def test_report_text_shows_the_worst_index_and_both_values():
    W, X, y = make_problem()
    report = check_loss_gradient(buggy("column"), W, X, y, 0.1)
    worst = report.worst[0]
    text = str(report)
    assert worst.index[1] == 2
    assert f"({worst.index[0]}, 2)" in text
    assert f"{worst.analytic:.4e}" in text and f"{worst.numerical:.4e}" in text
    assert "1e-07" in text and "1e-02" in text and "hint:" in text
    assert repr(report) == text
    assert np.isnan(report.rel_error_map()).sum() == 0 and report.rel_error_map().shape == W.shape


def test_assert_gradient_correct_raises_with_the_report():
    x = np.linspace(-1, 1, 5)
    assert assert_gradient_correct(lambda v: np.sum(v**2), x, 2 * x, name="dx").passed
    with pytest.raises(AssertionError, match="(?s)FAILED.*sign is flipped"):
        assert_gradient_correct(lambda v: np.sum(v**2), x, -2 * x, name="dx")


def test_a_missing_analytic_gradient_is_a_clear_error():
    with pytest.raises(TypeError, match="dW must be a real numpy array.*None"):
        check_gradient(np.sum, np.ones((2, 2)), None)


# ------------------------------------------------------------------------ loss output contract


@pytest.mark.parametrize(
    ("result", "error", "pattern"),
    [
        (None, TypeError, r"^svm_loss_vectorized returned None; it must return \(loss, dW\)$"),
        ((1.0, np.zeros((3, 2)), 0), TypeError, r"svm_loss_vectorized returned 3 values; it must return \(loss, dW\)"),
        (1.5, TypeError, r"returned a float; it must return \(loss, dW\)"),
        ((np.ones(1), np.zeros((3, 2))), TypeError, r"loss that is an array of shape \(1,\).*real scalar"),
        ((1.0, [[0.0]]), TypeError, r"dW that is a list"),
        ((1.0, np.zeros((2, 3))), ValueError, r"dW has shape \(2, 3\) but W has shape \(3, 2\).*transposed"),
        ((1.0, np.zeros((3, 3))), ValueError, r"dW has shape \(3, 3\) but W has shape \(3, 2\)"),
        ((np.nan, np.zeros((3, 2))), ValueError, r"svm_loss_vectorized returned a loss of nan; .*finite"),
        ((1.0, np.array([[0, 0], [0, np.inf], [0, 0]])), ValueError, r"1 non-finite entries.*inf at index \(1, 1\)"),
    ],
)
def test_validate_loss_output_names_the_function_and_the_problem(result, error, pattern):
    with pytest.raises(error, match=pattern):
        validate_loss_output(result, np.zeros((3, 2)), name="svm_loss_vectorized")


def test_validate_loss_output_accepts_the_contract():
    dW = np.ones((3, 2))
    loss, returned = validate_loss_output((np.float64(2.5), dW), np.zeros((3, 2)))
    assert loss == 2.5 and isinstance(loss, float) and returned is dW
    assert validate_loss_output((np.array(1.0), dW), np.zeros((3, 2)))[0] == 1.0
    assert np.isnan(validate_loss_output((np.nan, dW), np.zeros((3, 2)), allow_nonfinite=True)[0])


def test_check_loss_gradient_validates_before_checking():
    W, X, y = make_problem()

    def svm_loss_vectorized(W, X, y, reg):
        return None

    with pytest.raises(TypeError, match="svm_loss_vectorized returned None"):
        check_loss_gradient(svm_loss_vectorized, W, X, y, 0.1)
