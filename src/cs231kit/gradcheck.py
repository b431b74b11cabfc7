"""Numerical gradients, relative errors and gradient-check reports a student can act on.

The numerical gradient is the centered difference ``(f(x + h e_i) - f(x - h e_i)) / 2h``, taken in
place on ``x`` (so a function that closes over the same array still sees the perturbation) and
undone exactly afterwards, even when ``f`` raises. The relative error of two gradients is
``|a - b| / max(|a| + |b|, REL_ERROR_FLOOR)``, with the rule of thumb of the CS231n notes:

============================  ==========================================================
``< GOOD_REL_ERROR``          good (1e-7)
``< ACCEPTABLE_REL_ERROR``    acceptable near kinks of hinge/ReLU losses (1e-4)
``< WRONG_REL_ERROR``         suspicious (1e-2)
otherwise                     wrong
============================  ==========================================================

:func:`check_gradient` differentiates every entry that fails once more with a 100 times smaller
step: where the two steps disagree, the ±h step crossed a kink (a hinge margin or ReLU input near
0) and the smaller step is kept. It returns a :class:`GradientReport` whose text names the worst
entries and, when a simple model of the error fits the checked entries convincingly, explains the
likely bug in plain words (zeros, a flipped sign, a constant factor such as a forgotten ``1/N``, a
wrong regularisation term, errors confined to one column or row, a transposed gradient); the
patterns behind these hints live in :mod:`cs231kit._gradient_hints`.
"""

import operator
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from cs231kit._gradient_hints import KINK_STEP_RATIO, Checked, diagnose, format_index

GOOD_REL_ERROR = 1e-7
ACCEPTABLE_REL_ERROR = 1e-4
WRONG_REL_ERROR = 1e-2
REL_ERROR_FLOOR = 1e-8
"""Smallest denominator of the relative error, so that two (near-)zero entries compare as equal."""


# --------------------------------------------------------------------------- numerical gradients


def _describe(value):
    """Name the type (and shape) of ``value`` for an error message."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    return f"a {type(value).__name__}"


def _scalar_output(value):
    """Return the output of a scalar-valued f as a float, or raise TypeError saying what f returned."""
    if isinstance(value, tuple):
        raise TypeError(
            f"f must return a real scalar, but it returned {_describe(value)}; to check a loss function "
            f"pass f = lambda W_: loss_fn(W_, X, y, reg)[0]"
        )
    array = np.asarray(value)
    if array.ndim != 0 or array.dtype.kind not in "iuf":
        raise TypeError(f"f must return a real scalar, but it returned {_describe(value)}")
    return float(array)


def _perturbable(x, h):
    """Check that ``x`` is a writeable floating-point array and ``h`` a positive step."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a floating-point numpy array (it is perturbed in place); got {_describe(x)}")
    if not x.flags.writeable:
        raise ValueError("x is read-only, but it must be perturbed in place; pass a writeable copy")
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"the step h must be a positive finite number; got h={h!r}")
    return x


def _partial_derivatives(evaluate, x, indices, h, difference):
    """Centered differences of ``evaluate`` along the entries ``indices`` of ``x``.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(x)`` returns a snapshot of f at the current ``x`` (a float or a fresh array).
    x : ndarray
        Perturbed in place, one entry at a time; every entry is restored bit for bit, even when
        ``evaluate`` raises.
    indices : list of tuple of int
        Entries of ``x`` to differentiate along.
    h : float
        Step. The divisor is the step actually taken in ``x``'s dtype, not ``2 * h``.
    difference : callable
        ``difference(f_plus, f_minus)`` returns the float to divide by the step.

    Returns
    -------
    partials : ndarray of float64, shape (len(indices),)
    """
    partials = np.empty(len(indices))
    for k, index in enumerate(indices):
        original = x[index]
        try:
            x[index] = original + h
            x_plus = float(x[index])
            f_plus = evaluate(x)
            x[index] = original - h
            x_minus = float(x[index])
            f_minus = evaluate(x)
        finally:
            x[index] = original
        if x_plus == x_minus:
            raise ValueError(f"h={h!r} is too small to change x at index {index} (value {float(original)!r})")
        partials[k] = difference(f_plus, f_minus) / (x_plus - x_minus)
    return partials


def _scalar_partials(f, x, indices, h):
    """Centered differences of a scalar-valued ``f`` along ``indices`` (see :func:`_partial_derivatives`)."""
    return _partial_derivatives(lambda x_: _scalar_output(f(x_)), x, indices, h, operator.sub)


def numerical_gradient(f, x, h=1e-5):
    """Centered-difference gradient of a scalar function.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a real scalar (float or 0-d array).
    x : ndarray of float, any shape
        Point of evaluation. Perturbed in place one entry at a time and restored exactly, also when
        ``f`` raises. Use float64: in float32 the difference is dominated by rounding.
    h : float, optional
        Step of the centered difference.

    Returns
    -------
    grad : ndarray of float64, same shape as x
        ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every entry ``i``.
    """
    x = _perturbable(x, h)
    return _scalar_partials(f, x, list(np.ndindex(x.shape)), h).reshape(x.shape)


def numerical_gradient_array(f, x, dout, h=1e-5):
    """Centered-difference gradient of an array-valued function, contracted with an upstream gradient.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array with the shape of ``dout``.
    x : ndarray of float, any shape
        Point of evaluation; perturbed in place and restored exactly, as in :func:`numerical_gradient`.
    dout : array_like, shape of f(x)
        Upstream gradient ``dL/df``.
    h : float, optional
        Step of the centered difference.

    Returns
    -------
    dx : ndarray of float64, same shape as x
        ``sum(dout * df/dx_i)`` for every entry ``i`` of ``x``: the backward pass of f.
    """
    x = _perturbable(x, h)
    dout = np.asarray(dout, dtype=np.float64)

    def evaluate(x_):
        out = np.array(f(x_), dtype=np.float64)
        if out.shape != dout.shape:
            raise ValueError(f"f returned an array of shape {out.shape}, but dout has shape {dout.shape}")
        return out

    partials = _partial_derivatives(
        evaluate, x, list(np.ndindex(x.shape)), h, lambda up, down: np.sum(dout * (up - down))
    )
    return partials.reshape(x.shape)


# ------------------------------------------------------------------------------ relative errors


def relative_error_map(a, b):
    """Elementwise relative error ``|a - b| / max(|a| + |b|, REL_ERROR_FLOOR)``.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    rel : ndarray of float64, shape of a
        0 where both are 0; NaN where either is not finite.

    Raises
    ------
    ValueError
        If the shapes differ (the message names both).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative error needs equal shapes, but a has shape {a.shape} and b has shape {b.shape}")
    with np.errstate(invalid="ignore"):
        rel = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), REL_ERROR_FLOOR)
    return np.where(np.isfinite(a) & np.isfinite(b), rel, np.nan)


def _max_or_zero(rel):
    """Largest entry of ``rel`` (NaN if any is NaN), 0.0 when empty."""
    return float(np.max(rel)) if rel.size else 0.0


def relative_error(a, b):
    """Largest elementwise relative error of two arrays (see :func:`relative_error_map`).

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
        0.0 for identical arrays (also both zero or empty); NaN if an entry is not finite.
    """
    return _max_or_zero(relative_error_map(a, b))


# -------------------------------------------------------------------------------- sparse checks


def _sample_indices(shape, count, seed):
    """All indices of ``shape`` in C order if there are at most ``count``, else a sorted seeded sample."""
    size = int(np.prod(shape))
    if size <= count:
        return list(np.ndindex(shape))
    flat = np.sort(np.random.default_rng(seed).choice(size, size=count, replace=False))
    return [tuple(int(i) for i in index) for index in zip(*np.unravel_index(flat, shape))]


def _entries(array, indices):
    """The float64 values of ``array`` at ``indices``, shape (len(indices),)."""
    return np.array([array[index] for index in indices], dtype=np.float64)


def _gradient_array(grad, shape, name):
    """``grad`` as a float64 array, or TypeError if it is not a real numpy array."""
    if not isinstance(grad, np.ndarray) or grad.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real numpy array with the shape of x {tuple(shape)}, but it is {_describe(grad)}"
        )
    return grad.astype(np.float64, copy=False)


@dataclass(frozen=True, eq=False)
class SparseCheck:
    """Analytic and numerical partial derivatives at a few entries.

    Attributes
    ----------
    indices : list of tuple of int
        The checked entries.
    analytic, numerical, rel_errors : ndarray of float64, shape (len(indices),)
    """

    indices: list
    analytic: np.ndarray
    numerical: np.ndarray
    rel_errors: np.ndarray

    @property
    def max_rel_error(self):
        """Largest relative error among the checked entries (0.0 if none)."""
        return _max_or_zero(self.rel_errors)


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, *, seed=0):
    """Compare an analytic gradient with centered differences at a few seeded random entries.

    Parameters
    ----------
    f : callable
        Scalar function of x.
    x : ndarray of float, any shape
        Perturbed in place and restored exactly.
    analytic_grad : ndarray, shape of x
    num_checks : int, optional
        Number of distinct entries to check (all of them if x has fewer).
    h : float, optional
        Step of the centered difference.
    seed : int, optional
        Seed of the entries drawn.

    Returns
    -------
    SparseCheck
        What was checked and the results; nothing is printed.
    """
    x = _perturbable(x, h)
    analytic = _gradient_array(analytic_grad, x.shape, "analytic_grad")
    if analytic.shape != x.shape:
        raise ValueError(_shape_message("analytic_grad", analytic.shape, x.shape, "x"))
    indices = _sample_indices(x.shape, num_checks, seed)
    numerical = _scalar_partials(f, x, indices, h)
    a = _entries(analytic, indices)
    return SparseCheck(indices, a, numerical, relative_error_map(a, numerical))


# ------------------------------------------------------------------------------------- reports


class WorstEntry(NamedTuple):
    """One checked entry: its index, both derivatives and their relative error."""

    index: tuple
    analytic: float
    numerical: float
    rel_error: float


def _verdict(max_rel_error):
    """The rule-of-thumb category of a relative error (NaN counts as wrong)."""
    if max_rel_error < GOOD_REL_ERROR:
        return "good"
    if max_rel_error < ACCEPTABLE_REL_ERROR:
        return "acceptable near kinks"
    if max_rel_error < WRONG_REL_ERROR:
        return "suspicious"
    return "wrong"


def _passes(max_rel_error, tolerance):
    return bool(np.isfinite(max_rel_error) and max_rel_error <= tolerance)


@dataclass(frozen=True, eq=False, repr=False)
class GradientReport:
    """The outcome of :func:`check_gradient`; ``str(report)`` is the text shown to a student.

    Attributes
    ----------
    name : str
        Name of the gradient, e.g. ``"dW"``.
    shape : tuple of int
        Shape of x.
    checked, total : int
        Number of entries compared, and the size of x.
    max_rel_error : float
        Largest relative error (NaN if a value is not finite, inf if the shapes differ).
    tolerance : float
        Largest max_rel_error that passes.
    worst : tuple of WorstEntry
        The entries with the largest relative errors, worst first.
    hint : str or None
        Likely cause of the error, in plain words.
    indices : tuple of tuple of int
        All checked entries, in the order of ``rel_errors``.
    rel_errors : ndarray of float64, shape (checked,)
    kinks : int
        Entries whose ±h step crossed a kink, re-checked with a smaller step.
    """

    name: str
    shape: tuple
    checked: int
    total: int
    max_rel_error: float
    tolerance: float
    worst: tuple
    hint: str | None = None
    indices: tuple = ()
    rel_errors: np.ndarray = field(default_factory=lambda: np.empty(0))
    kinks: int = 0

    @property
    def passed(self):
        """True if max_rel_error is finite and at most the tolerance."""
        return _passes(self.max_rel_error, self.tolerance)

    @property
    def verdict(self):
        """``"good"``, ``"acceptable near kinks"``, ``"suspicious"`` or ``"wrong"``."""
        return _verdict(self.max_rel_error)

    def rel_error_map(self):
        """Relative errors laid out in x's shape, NaN where an entry was not checked.

        Returns
        -------
        ndarray of float64, shape ``self.shape``
        """
        rel = np.full(self.shape, np.nan)
        for index, value in zip(self.indices, self.rel_errors):
            rel[index] = value
        return rel

    def __str__(self):
        scope = f"all {self.total}" if self.checked == self.total else f"{self.checked} of {self.total}"
        comparison = f"{'<=' if self.passed else '>'} tolerance {self.tolerance:.0e}"
        lines = [
            f"Gradient check of {self.name}: {'PASSED' if self.passed else 'FAILED'}",
            f"  checked {scope} entries of a {self.name} of shape {self.shape}",
            f"  max relative error {self.max_rel_error:.2e} {comparison}: {self.verdict}",
            f"  (rule of thumb: < {GOOD_REL_ERROR:.0e} good, < {ACCEPTABLE_REL_ERROR:.0e} acceptable near kinks,"
            f" > {WRONG_REL_ERROR:.0e} wrong)",
        ]
        if self.kinks:
            lines.append(
                f"  {self.kinks} entries were re-checked with a {KINK_STEP_RATIO}× smaller step: their ±h step\n"
                f"  crossed a kink (a hinge margin or ReLU input near 0)"
            )
        if self.worst:
            lines.append("  worst entries:")
            lines.append(f"    {'index':<12} {'analytic':>12} {'numerical':>12} {'rel. error':>11}")
            lines += [
                f"    {format_index(e.index):<12} {e.analytic:>12.4e} {e.numerical:>12.4e} {e.rel_error:>11.2e}"
                for e in self.worst
            ]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    __repr__ = __str__


def _worst_entries(c, count):
    """The ``count`` entries with the largest relative error (NaN first)."""
    order = np.argsort(np.where(np.isnan(c.rel), np.inf, c.rel), kind="stable")[::-1][:count]
    return tuple(
        WorstEntry(c.indices[i], float(c.analytic[i]), float(c.numerical[i]), float(c.rel[i])) for i in order
    )


def _variable_name(name):
    """``"dW"`` -> ``"W"``: the name of the variable a gradient belongs to."""
    return name[1:] if name.startswith("d") and len(name) > 1 else "x"


def _shape_message(name, got, expected, var):
    """Explain a gradient of the wrong shape (and say so when it is the transpose)."""
    text = f"{name} has shape {tuple(got)} but {var} has shape {tuple(expected)}; a gradient has the shape of {var}"
    if len(got) == 2 and tuple(got) == tuple(expected)[::-1]:
        text += f": {name} looks transposed"
    return text


def _shape_mismatch_report(f, x, analytic, *, name, tolerance, **options):
    """A FAILED report for a gradient of the wrong shape; checks the transpose when that fits."""
    var = _variable_name(name)
    hint = _shape_message(name, analytic.shape, x.shape, var) + "."
    if analytic.ndim == 2 and analytic.T.shape == x.shape:
        transposed = check_gradient(f, x, analytic.T, name=name, tolerance=tolerance, **options)
        if transposed.passed:
            hint += (
                f" Its transpose passes the check (max rel. error {transposed.max_rel_error:.1e}): "
                f"swap the operands of the matrix product (e.g. X.T @ dscores)."
            )
    return GradientReport(name, x.shape, 0, x.size, float("inf"), tolerance, (), hint)


def _recheck_kinks(f, x, indices, analytic, h, tolerance):
    """Numerical partials at ``indices``, re-taken with a smaller step where they fail.

    A centered difference whose ±h step crosses a kink of f (e.g. a hinge margin passing 0) is off,
    and a smaller step moves it back; an error in the analytic gradient stays. So every failing entry
    is differentiated again with step ``h / KINK_STEP_RATIO``, and where the two steps disagree by
    more than the tolerance the smaller step's value is kept.

    Returns
    -------
    numerical : ndarray of float64, shape (len(indices),)
    kinks : int
        Number of entries where the smaller step was kept.
    """
    numerical = _scalar_partials(f, x, indices, h)
    suspects = np.flatnonzero(~(relative_error_map(analytic, numerical) <= tolerance))
    if suspects.size == 0:
        return numerical, 0
    finer = _scalar_partials(f, x, [indices[i] for i in suspects], h / KINK_STEP_RATIO)
    kinked = ~(relative_error_map(numerical[suspects], finer) <= tolerance)
    numerical[suspects[kinked]] = finer[kinked]
    return numerical, int(kinked.sum())


def _float64_workspace(x):
    """``x`` itself if it is a writeable float64 array (perturbed in place), else a float64 copy."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.writeable:
        return x
    return np.array(x, dtype=np.float64)


def check_gradient(
    f,
    x,
    analytic_grad,
    *,
    name="dW",
    h=1e-5,
    tolerance=ACCEPTABLE_REL_ERROR,
    max_checks=300,
    num_worst=5,
    seed=0,
    num_examples=None,
    reg=None,
):
    """Compare an analytic gradient with the numerical gradient of f and explain the differences.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a real scalar, e.g. ``lambda W_: loss_fn(W_, X, y, reg)[0]``.
    x : array_like of float, any shape
        Point of evaluation. A float64 array is perturbed in place and restored exactly (so f may
        also close over it); anything else is copied to float64 first.
    analytic_grad : ndarray, shape of x
        The gradient to check.
    name : str, optional
        Name of the gradient in the report (its variable is the name without the leading ``d``).
    h : float, optional
        Step of the centered difference.
    tolerance : float, optional
        Largest relative error that passes.
    max_checks : int, optional
        Every entry is checked when ``x.size <= max_checks``, else a seeded sample of that many.
    num_worst : int, optional
        Number of worst entries in the report.
    seed : int, optional
        Seed of the sample.
    num_examples : int, optional
        N, the number of examples the loss averages over: lets the hint name a missing ``1/N``.
    reg : float, optional
        Strength of the penalty ``reg * sum(x**2)``: lets the hint compare with ``2 * reg * x``.

    Returns
    -------
    GradientReport
        FAILED (with a hint) also for non-finite values or a gradient of the wrong shape.

    Raises
    ------
    TypeError
        If ``analytic_grad`` is not a real numpy array (e.g. None), or f does not return a scalar.
    """
    x = _float64_workspace(x)
    analytic = _gradient_array(analytic_grad, x.shape, name)
    options = dict(h=h, max_checks=max_checks, num_worst=num_worst, seed=seed, num_examples=num_examples, reg=reg)
    if analytic.shape != x.shape:
        return _shape_mismatch_report(f, x, analytic, name=name, tolerance=tolerance, **options)
    indices = _sample_indices(x.shape, max_checks, seed)
    a = _entries(analytic, indices)
    numerical, kinks = _recheck_kinks(f, x, indices, a, h, tolerance)
    c = Checked(name, _variable_name(name), x.shape, indices, a, numerical, _entries(x, indices),
                relative_error_map(a, numerical))
    report = GradientReport(name, x.shape, len(indices), x.size, _max_or_zero(c.rel), tolerance,
                            _worst_entries(c, num_worst), None, tuple(indices), c.rel, kinks)
    return replace(report, hint=diagnose(report, c, num_examples, reg))


def assert_gradient_correct(f, x, analytic_grad, **kwargs):
    """Run :func:`check_gradient` and raise ``AssertionError(str(report))`` unless it passed.

    Parameters
    ----------
    f, x, analytic_grad, **kwargs
        As for :func:`check_gradient`.

    Returns
    -------
    GradientReport
        The passing report.
    """
    report = check_gradient(f, x, analytic_grad, **kwargs)
    if not report.passed:
        raise AssertionError(str(report))
    return report


# -------------------------------------------------------------------------------- loss functions


def _describe_result(result):
    """Describe a loss function's return value that is not a pair."""
    if isinstance(result, (tuple, list)):
        return f"{len(result)} values"
    return _describe(result)


def validate_loss_output(result, W, *, name="loss function", allow_nonfinite=False):
    """Check the contract ``loss, dW = loss_fn(W, X, y, reg)`` and return the pair.

    Parameters
    ----------
    result : object
        What the loss function returned.
    W : ndarray, shape (D, C)
        The weights it was called with.
    name : str, optional
        Name of the loss function, used in every message.
    allow_nonfinite : bool, optional
        Accept a NaN/inf loss or dW (the training loop handles divergence itself).

    Returns
    -------
    loss : float
    dW : ndarray, shape (D, C)

    Raises
    ------
    TypeError
        If result is not a pair, the loss not a real scalar, or dW not a numpy array.
    ValueError
        If dW's shape differs from W's, or (unless allowed) the loss or dW is not finite.
    """
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{name} returned {_describe_result(result)}; it must return (loss, dW)")
    loss, dW = result
    loss_array = np.asarray(loss)
    if loss_array.ndim != 0 or loss_array.dtype.kind not in "iuf":
        raise TypeError(f"{name} returned a loss that is {_describe(loss)}; the loss must be a real scalar")
    shape = np.shape(W)
    if not isinstance(dW, np.ndarray):
        raise TypeError(f"{name} returned dW that is {_describe(dW)}; dW must be a numpy array of W's shape {shape}")
    if dW.shape != shape:
        raise ValueError(f"{name} returned a dW of the wrong shape: " + _shape_message("dW", dW.shape, shape, "W"))
    loss = float(loss_array)
    if not allow_nonfinite:
        _require_finite(loss, dW, name)
    return loss, dW


def _require_finite(loss, dW, name):
    """Raise ValueError naming the function if the loss or an entry of dW is NaN/inf."""
    if not np.isfinite(loss):
        raise ValueError(
            f"{name} returned a loss of {loss}; the loss must be finite: look for an overflow in np.exp "
            f"(subtract each row's maximum score first) or a log(0)"
        )
    bad = ~np.isfinite(dW)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} returned a dW with {int(bad.sum())} non-finite entries; the first is {dW[index]} "
            f"at index {format_index(index)}"
        )


def check_loss_gradient(loss_fn, W, X, y, reg, **kwargs):
    """Validate ``loss, dW = loss_fn(W, X, y, reg)`` and check dW against the numerical gradient.

    Works on float64 copies of W and X and never mutates the caller's arrays. The L2 penalty is
    assumed to be ``reg * np.sum(W * W)``, whose gradient is ``2 * reg * W``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(W, X, y, reg)`` returns ``(loss, dW)``.
    W : ndarray, shape (D, C)
    X : ndarray, shape (N, D)
    y : ndarray of int, shape (N,)
    reg : float
    **kwargs
        Passed to :func:`check_gradient` (name, h, tolerance, max_checks, num_worst, seed);
        ``num_examples`` defaults to N and ``reg`` to reg, for the hints.

    Returns
    -------
    GradientReport

    Raises
    ------
    TypeError, ValueError
        If the output breaks the contract (see :func:`validate_loss_output`).
    """
    W = np.array(W, dtype=np.float64)
    X = np.array(X, dtype=np.float64)
    y = np.array(y)
    fn_name = getattr(loss_fn, "__name__", "loss function")
    _, dW = validate_loss_output(loss_fn(W.copy(), X, y, reg), W, name=fn_name)
    kwargs.setdefault("num_examples", X.shape[0])
    kwargs.setdefault("reg", reg)
    # each call gets its own copy of W, so a loss function that modifies W cannot corrupt the check
    return check_gradient(lambda W_: loss_fn(W_.copy(), X, y, reg)[0], W, np.array(dW, dtype=np.float64), **kwargs)
