"""Trusted grading code of the ``loss`` assignment: reference implementations and hidden checks.

Never released to students. Hidden test cells of ``solutions/loss/loss.ipynb`` load this file with
``cs231kit.course.load_course_module("autograder/checks/loss.py")`` and call one ``check_*``
function per test cell. Every check raises ``AssertionError`` with a message a student can act on
(which case, which index, expected vs got, the likely cause) and returns None when it passes.

The references are written independently of the notebook's solution: the SVM through one-hot
masks and the softmax through ``scipy.special.logsumexp``; ``tests/test_loss_assignment.py``
checks them against loop twins, hand-computed lecture values and numerical gradients. Student
gradients are compared with the reference gradient and with the numerical gradient of the
*reference* loss (never of the student's own loss, which may be wrong in the same way).

Every failure is raised by ``_fail``; the other functions set ``__tracebackhide__``, which IPython
honours for every frame but the last, so a student's traceback shows their own code, the test
line and the message, not the grading code or the hidden inputs.

Conventions: ``W`` (D, C), ``X`` (N, D), ``y`` (N,) int; ``loss, dW = loss_fn(W, X, y, reg)``;
the L2 penalty is ``reg * np.sum(W * W)`` with gradient ``2 * reg * W``.
"""

import ast
import functools
import inspect
import numbers
import textwrap
import types
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

from cs231kit import gradcheck
from cs231kit.course import load_course_module

_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _call = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.call
shared = load_course_module("autograder/checks/cases/loss.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the probes of ``autograder/verify/loss.py``."""

STABLE_OFFSETS = (1000.0, -1000.0, "mixed")
"""Score offsets of the stability cases: every row near +1000, every row near -1000, or half and half."""
LOOP_NODES = {
    ast.For: "a for loop",
    ast.AsyncFor: "an async for loop",
    ast.While: "a while loop",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
}
LOOP_CALLS = {"vectorize", "apply_along_axis", "frompyfunc", "map"}
"""Calls that hide a Python-level loop over the elements."""
NEW_ARRAYS = "Work on new arrays (e.g. scores = X @ W, W2 = W * W), never assign into an input."


# ----------------------------------------------------------------------------------- references


def _one_hot(y, C):
    """(N, C) float64 matrix with a 1 at (i, y[i])."""
    return (np.asarray(y)[:, None] == np.arange(C)[None, :]).astype(np.float64)


def svm_loss_reference(W, X, y, reg):
    """Multiclass SVM loss (margin 1) plus ``reg * np.sum(W * W)``, and its gradient.

    Written with a one-hot mask: margins of the correct class are multiplied away, and the
    gradient of the scores is ``active - Y * (number of active margins)``.

    Parameters
    ----------
    W : ndarray, shape (D, C)
    X : ndarray, shape (N, D)
    y : ndarray of int, shape (N,)
    reg : float

    Returns
    -------
    loss : float
    dW : ndarray of float64, shape (D, C)
    """
    W, X = np.asarray(W, dtype=np.float64), np.asarray(X, dtype=np.float64)
    N, C = X.shape[0], W.shape[1]
    Y = _one_hot(y, C)
    S = X @ W
    correct = np.sum(S * Y, axis=1, keepdims=True)
    margins = np.maximum(0.0, S - correct + 1.0) * (1.0 - Y)
    active = (margins > 0).astype(np.float64)
    dS = active - Y * np.sum(active, axis=1, keepdims=True)
    loss = np.sum(margins) / N + reg * np.sum(W * W)
    return float(loss), X.T @ dS / N + 2 * reg * W


def softmax_loss_reference(W, X, y, reg):
    """Softmax cross-entropy loss plus ``reg * np.sum(W * W)``, and its gradient.

    Uses ``scipy.special.logsumexp``, so it is exact for scores of any magnitude.

    Parameters
    ----------
    W : ndarray, shape (D, C)
    X : ndarray, shape (N, D)
    y : ndarray of int, shape (N,)
    reg : float

    Returns
    -------
    loss : float
    dW : ndarray of float64, shape (D, C)
    """
    W, X = np.asarray(W, dtype=np.float64), np.asarray(X, dtype=np.float64)
    N, C = X.shape[0], W.shape[1]
    Y = _one_hot(y, C)
    S = X @ W
    log_P = S - logsumexp(S, axis=1, keepdims=True)
    loss = -np.sum(Y * log_P) / N + reg * np.sum(W * W)
    return float(loss), X.T @ (np.exp(log_P) - Y) / N + 2 * reg * W


def l2_penalty_reference(W, reg):
    """``reg * sum(W**2)`` and its gradient ``2 * reg * W`` (float64)."""
    W = np.asarray(W, dtype=np.float64)
    return float(reg * np.sum(np.square(W))), 2.0 * reg * W


def l1_penalty_reference(W, reg):
    """``reg * sum(|W|)`` and the subgradient ``reg * sign(W)`` (0 where W is 0), float64."""
    W = np.asarray(W, dtype=np.float64)
    return float(reg * np.sum(np.abs(W))), reg * np.sign(W)


# ---------------------------------------------------------------------------------------- cases


def stable_case(offset, seed=301, N=12, D=6, C=5):
    """Inputs whose scores are ``offset`` (±1000) plus terms of order 1; the last column of X is the bias.

    ``offset="mixed"`` puts half of the rows near +1000 and the other half near -1000.
    """
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((D, C)) / np.sqrt(D)
    X = rng.standard_normal((N, D))
    sign = np.where(np.arange(N) % 2 == 0, 1.0, -1.0) if offset == "mixed" else np.sign(offset)
    X[:, -1] = sign
    W[-1, :] = 1000.0 + rng.standard_normal(C)
    y = rng.integers(0, C, size=N)
    return W, X, y, 0.0


def _describe_case(index, total, W, X, reg):
    return f"hidden case {index + 1} of {total} (N={X.shape[0]}, D={X.shape[1]}, C={W.shape[1]}, reg={reg:g})"


# ------------------------------------------------------------------------------------- contract


def _call_loss(fn, args, what):
    """``fn(W, X, y, reg)`` or ``fn(W, reg)`` under the checks' contract (naming W, X and y if it modifies one)."""
    __tracebackhide__ = True
    return _call(fn, args, what, ("W", "X", "y")[:len(args) - 1], advice=NEW_ARRAYS)


def _pair(fn, result, W, what):
    """Validate the ``(value, dW)`` contract with the kit's messages; return (float, float64 array)."""
    __tracebackhide__ = True
    try:
        value, dW = gradcheck.validate_loss_output(result, W, name=_name(fn), allow_nonfinite=True)
    except (TypeError, ValueError) as error:
        _fail(f"{error} (on {what})")
    if dW.dtype.kind != "f":
        _fail(
            f"{_name(fn)} returned dW of dtype {dW.dtype} on {what}; it must be floating point "
            f"(start from np.zeros_like(W) or np.zeros(W.shape))."
        )
    if W.dtype == np.float64 and dW.dtype != np.float64:
        _fail(
            f"{_name(fn)} returned dW of dtype {dW.dtype} for float64 inputs on {what}: keep float64 "
            f"(gradient checks need its precision)."
        )
    return value, dW.astype(np.float64)


def _worst_entry(got, expected):
    """Index, expected and got value of the entry with the largest absolute difference."""
    diff = np.abs(np.nan_to_num(got - expected, nan=np.inf))
    index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    return index, expected[index], got[index]


def _format_index(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


def _allclose(got, expected, rtol=shared.LOSS_RTOL):
    """``|got - expected| <= rtol * (|expected| + scale)`` elementwise, scale = max |expected| (at least 1)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    return bool(np.all(np.abs(got - expected) <= rtol * (np.abs(expected) + scale)))


# ----------------------------------------------------------------------------------- loss hints


def _loss_hint(kind, got, expected, W, X, reg):
    """Likely cause of a wrong loss value, or '' when no simple pattern fits."""
    N = X.shape[0]
    penalty = reg * np.sum(W * W)
    data = expected - penalty
    if not np.isfinite(got):
        return " Your loss is not finite: look for an overflow in np.exp or a log(0)."
    candidates = [
        (data, "the regularisation term reg * np.sum(W * W) is missing from the loss"),
        (data + 2 * penalty, "the regularisation term is counted twice"),
        (N * data + penalty, f"the data loss is summed but not divided by N (={N})"),
        (data / N + penalty, f"the data loss is divided by N (={N}) twice"),
        (data + 0.5 * penalty, "the regularisation term is halved: the convention is reg * np.sum(W * W)"),
    ]
    if kind == "svm":
        candidates.append((expected + 1, "every example adds 1: the sum over j must skip the correct class j = y_i "
                                         "(whose margin s_yi - s_yi + 1 is always 1)"))
        candidates.append((expected - 1, "the loss is 1 too small: is the margin (delta = 1) missing somewhere?"))
    for value, cause in candidates:
        distinct = not np.isclose(value, expected, rtol=1e-9, atol=1e-12)
        if distinct and np.isclose(got, value, rtol=1e-6, atol=1e-9):
            return f" Likely cause: {cause}."
    return ""


def _compare_loss(fn, kind, loss, expected, W, X, reg, what):
    __tracebackhide__ = True
    if not (np.isfinite(loss) and _allclose(loss, expected)):
        _fail(
            f"{_name(fn)}: the loss is wrong on {what}: expected {expected:.10g}, got {loss:.10g}."
            + _loss_hint(kind, loss, expected, W, X, reg)
        )


@functools.lru_cache(maxsize=None)
def _numerical_reference_gradient(reference, case):
    """Centered differences of the reference loss at a hidden case (the same for every submission)."""
    W, X, y, reg = shared.loss_case(*case)
    return gradcheck.numerical_gradient(lambda W_: reference(W_, X, y, reg)[0], W.copy())


def _compare_gradient(fn, reference, dW, case, what):
    """dW must match the reference gradient and the numerical gradient of the reference loss.

    On a mismatch the message includes a :func:`cs231kit.gradcheck.check_gradient` report of dW
    against the reference loss, whose hint names the likely bug (sign, 1/N, regularisation, ...).
    """
    __tracebackhide__ = True
    W, X, y, reg = shared.loss_case(*case)
    expected = reference(W, X, y, reg)[1]
    numerical = _numerical_reference_gradient(reference, case)
    if (np.all(np.isfinite(dW)) and _allclose(dW, expected)
            and gradcheck.relative_error(dW, numerical) <= gradcheck.ACCEPTABLE_REL_ERROR):
        return
    report = gradcheck.check_gradient(
        lambda W_: reference(W_, X, y, reg)[0], W, dW, name="dW",
        tolerance=gradcheck.ACCEPTABLE_REL_ERROR, max_checks=200, num_examples=X.shape[0], reg=reg,
    )
    index, want, got = _worst_entry(dW, expected)
    _fail(
        f"{_name(fn)}: dW is wrong on {what}. Largest difference at dW{_format_index(index)}: "
        f"expected {want:.6g}, got {got:.6g}.\n"
        f"Your dW against the numerical gradient of a correct loss on the same inputs:\n{report}"
    )


def _check_loss_function(fn, kind, reference, cases):
    """Contract, loss value and gradient of ``fn`` on every case, against ``reference``."""
    __tracebackhide__ = True
    for k, case in enumerate(cases):
        W, X, y, reg = shared.loss_case(*case)
        what = _describe_case(k, len(cases), W, X, reg)
        loss, dW = _pair(fn, _call_loss(fn, (W, X, y, reg), what), W, what)
        _compare_loss(fn, kind, loss, reference(W, X, y, reg)[0], W, X, reg, what)
        _compare_gradient(fn, reference, dW, case, what)


# ------------------------------------------------------------------------------- public checks


def check_svm_loss_naive(fn):
    """Hidden test of ``svm_loss_naive``: contract, loss and dW on small random cases."""
    __tracebackhide__ = True
    _check_loss_function(fn, "svm", svm_loss_reference, shared.LOSS_CASES)


def check_svm_loss_vectorized(fn):
    """Hidden test of ``svm_loss_vectorized``: contract, loss and dW, including a larger case."""
    __tracebackhide__ = True
    _check_loss_function(fn, "svm", svm_loss_reference, shared.LOSS_CASES + (shared.LARGE_CASE,))


def check_softmax_loss_naive(fn):
    """Hidden test of ``softmax_loss_naive``: contract, loss and dW on small random cases."""
    __tracebackhide__ = True
    _check_loss_function(fn, "softmax", softmax_loss_reference, shared.LOSS_CASES)


def check_softmax_loss_vectorized(fn):
    """Hidden test of ``softmax_loss_vectorized``: contract, loss and dW, including a larger case."""
    __tracebackhide__ = True
    _check_loss_function(fn, "softmax", softmax_loss_reference, shared.LOSS_CASES + (shared.LARGE_CASE,))


def _without_offset(W, X):
    """The weights of a stability case with the ±1000 taken out of the bias row: same probabilities."""
    W = W.copy()
    W[-1, :] -= 1000.0
    return W


def check_softmax_stable(fn):
    """Hidden test: scores near +1000, near -1000 and mixed give a finite, correct loss, and a finite dW.

    The loss is compared with the reference. dW is compared with ``fn``'s own dW for the same data
    without the offset (with reg = 0, shifting every score of a row by a constant changes neither the
    probabilities nor dW), so a gradient bug that also shows at moderate scores is left to the other
    tests and fails this one only if it breaks down at large scores.
    """
    __tracebackhide__ = True
    for offset in STABLE_OFFSETS:
        W, X, y, reg = stable_case(offset)
        what = f"scores near {offset:+g}" if offset != "mixed" else "scores near +1000 in some rows, -1000 in others"
        loss, dW = _pair(fn, _call_loss(fn, (W, X, y, reg), what), W, what)
        expected_loss = softmax_loss_reference(W, X, y, reg)[0]
        if not (np.isfinite(loss) and np.all(np.isfinite(dW))):
            _fail(
                f"{_name(fn)} is not numerically stable: with {what} it returned loss={loss} and "
                f"{int(np.sum(~np.isfinite(dW)))} non-finite entries in dW (expected loss {expected_loss:.6g}). "
                f"np.exp overflows above ~709 and underflows to 0 below ~-745: subtract each row's maximum "
                f"score before exponentiating (the probabilities do not change)."
            )
        if not _allclose(loss, expected_loss):
            _fail(
                f"{_name(fn)}: with {what} the loss is finite but wrong: expected {expected_loss:.10g}, got "
                f"{loss:.10g}. Shifting all scores of a row by a constant must not change the loss."
            )
        moderate = _pair(fn, _call_loss(fn, (_without_offset(W, X), X, y, reg), what + " minus the offset"), W, what)[1]
        if not _allclose(dW, moderate):
            index, want, got = _worst_entry(dW, moderate)
            _fail(
                f"{_name(fn)}: with {what} dW differs from your dW for the same inputs without the offset, "
                f"at dW{_format_index(index)}: {got:.6g} instead of {want:.6g}. Shifting all scores of a row by "
                f"a constant does not change the probabilities, so it must not change dW (here reg = 0)."
            )


def _loops_in(fn):
    """(description, line number, source line) of every loop in fn's own source."""
    __tracebackhide__ = True
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as error:
        _fail(
            f"Could not read the source code of {_name(fn)} ({type(error).__name__}: {error}), so the "
            f"no-loops check cannot run. Define {_name(fn)} with `def` in a notebook cell and run that cell."
        )
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        label = LOOP_NODES.get(type(node))
        if label is None and isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            label = f"a call of {callee}() (a loop in disguise)" if callee in LOOP_CALLS else None
        if label:
            found.append((label, node.lineno, lines[node.lineno - 1].strip()))
    return found, source


def _helpers(fn, source):
    """Functions defined next to ``fn`` (same module, e.g. the notebook) that ``fn`` refers to by name."""
    names = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    found = []
    for name in sorted(names):
        obj = getattr(fn, "__globals__", {}).get(name)
        if isinstance(obj, types.FunctionType) and obj is not fn and obj.__module__ == fn.__module__:
            found.append(obj)
    return found


def check_no_python_loops(fn):
    """Hidden test: the loss function ``fn`` runs, and it (and the notebook functions it calls) has no Python loop.

    Looks for ``for``/``while`` statements, comprehensions, generator expressions and calls of
    ``np.vectorize``, ``np.apply_along_axis``, ``np.frompyfunc`` and ``map``. Then calls ``fn`` once
    on a small input and checks only that it returns ``(loss, dW)`` of the right shape, so that an
    unimplemented stub (``raise NotImplementedError()``) earns nothing here; its values are the
    business of the other tests.
    """
    __tracebackhide__ = True
    if not callable(fn) or not hasattr(fn, "__code__"):
        _fail(f"{fn!r} is not a Python function defined with `def`; the no-loops check needs one.")
    seen, pending, problems = set(), [(fn, None)], []
    while pending:
        current, caller = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        loops, source = _loops_in(current)
        where = _name(current) if caller is None else f"{_name(current)} (called from {caller})"
        problems += [f"  line {line} of {where}: {label}: `{text}`" for label, line, text in loops]
        pending += [(helper, _name(current)) for helper in _helpers(current, source)]
    if problems:
        _fail(
            f"{_name(fn)} must not use Python loops, but it has:\n" + "\n".join(problems)
            + "\nReplace them by whole-array numpy operations (broadcasting, fancy indexing such as "
            "scores[np.arange(N), y], matrix products)."
        )
    W, X, y, reg = shared.loss_case(*shared.LOOP_CASES[0])
    what = "a small input (the no-loops test needs a function that runs)"
    _pair(fn, _call_loss(fn, (W, X, y, reg), what), W, what)


def _check_penalty(fn, reference, cases, *, zero_subgradient_ok=False):
    """Value and gradient of a penalty ``fn(W, reg) -> (penalty, dW)`` against ``reference``."""
    __tracebackhide__ = True
    for k, (shape, reg, seed) in enumerate(cases):
        rng = np.random.default_rng(seed)
        W = rng.standard_normal(shape)
        W[rng.random(shape) < 0.2] = 0.0  # exact zeros: where |w| has its kink
        what = f"hidden case {k + 1} of {len(cases)} (W of shape {shape}, reg={reg:g})"
        value, dW = _pair(fn, _call_loss(fn, (W, reg), what), W, what)
        expected_value, expected_dW = reference(W, reg)
        if not (np.isfinite(value) and _allclose(value, expected_value)):
            _fail(f"{_name(fn)}: the penalty is wrong on {what}: expected {expected_value:.10g}, "
                                 f"got {value:.10g}.")
        ok = np.abs(dW - expected_dW) <= shared.LOSS_RTOL * (np.abs(expected_dW) + 1.0)
        if zero_subgradient_ok:  # any subgradient in [-reg, reg] is right where w = 0
            ok |= (W == 0) & (np.abs(dW) <= reg * (1 + shared.LOSS_RTOL))
        if not ok.all():
            index = tuple(int(i) for i in np.argwhere(~ok)[0])
            extra = " (there W is 0: any value in [-reg, reg] is a valid subgradient)" if W[index] == 0 else ""
            _fail(
                f"{_name(fn)}: dW is wrong on {what} at dW{_format_index(index)} where W = {W[index]:.6g}: "
                f"expected {expected_dW[index]:.6g}{extra}, got {dW[index]:.6g} "
                f"({int((~ok).sum())} wrong entries of {ok.size})."
            )


def check_l2_penalty(fn):
    """Hidden test of ``l2_penalty(W, reg) -> (reg * sum(W**2), 2 * reg * W)``."""
    __tracebackhide__ = True
    _check_penalty(fn, l2_penalty_reference, shared.PENALTY_CASES)


def check_l1_penalty(fn):
    """Hidden test of ``l1_penalty(W, reg) -> (reg * sum(|W|), a subgradient)``, with exact zeros in W."""
    __tracebackhide__ = True
    _check_penalty(fn, l1_penalty_reference, shared.PENALTY_CASES, zero_subgradient_ok=True)


# ----------------------------------------------------------------------------- numeric answers


def _number(value, name):
    __tracebackhide__ = True
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or np.isnan(value):
        _fail(f"{name} must be a real number (int, float or np.inf); it is {value!r}.")
    return float(value)


def _check_answer(value, name, correct, hint):
    __tracebackhide__ = True
    value = _number(value, name)
    right = value == correct if np.isinf(correct) else (np.isfinite(value) and abs(value - correct) <= shared.ANSWER_ATOL)
    if not right:
        _fail(f"{name} = {value!r} is not right. {hint}")


def check_svm_loss_bounds(svm_loss_min, svm_loss_max):
    """Hidden test: the SVM loss ranges over [0, inf)."""
    __tracebackhide__ = True
    _check_answer(svm_loss_min, "svm_loss_min", 0.0, "Each term max(0, ·) is never negative: can all be 0 at once?")
    _check_answer(svm_loss_max, "svm_loss_max", np.inf, "Is there an upper limit to s_j - s_yi + 1?")


def check_svm_loss_at_init(value, num_classes):
    """Hidden test: all scores ≈ 0 give margins of 1 for each of the C - 1 wrong classes."""
    __tracebackhide__ = True
    _check_answer(value, "svm_loss_at_init", num_classes - 1.0,
                  "With all scores 0, what is each term max(0, 0 - 0 + 1), and how many terms are there?")


def check_svm_loss_with_correct_class(value):
    """Hidden test: including j = y_i adds max(0, 1) = 1 to every L_i, so the mean grows by 1."""
    __tracebackhide__ = True
    _check_answer(value, "svm_loss_increase_with_correct_class", 1.0,
                  "What is the extra term max(0, s_yi - s_yi + 1) for every example?")


def check_softmax_loss_bounds(softmax_loss_min, softmax_loss_max):
    """Hidden test: the softmax loss -log p ranges over [0, inf) (approached, never reached)."""
    __tracebackhide__ = True
    _check_answer(softmax_loss_min, "softmax_loss_min", 0.0, "What is -log(p) when p tends to 1?")
    _check_answer(softmax_loss_max, "softmax_loss_max", np.inf, "What is -log(p) when p tends to 0?")


def check_softmax_loss_at_init(value, num_classes):
    """Hidden test: all scores ≈ 0 give p = 1/C for every class, so L = log C."""
    __tracebackhide__ = True
    _check_answer(value, "softmax_loss_at_init", float(np.log(num_classes)),
                  "With equal scores, what probability does the softmax give each class? (natural log)")
