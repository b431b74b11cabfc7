"""The hint of a gradient-check report: the likely bug behind a wrong gradient, in plain words.

A wrong analytic gradient is rarely wrong at random: the usual bugs leave a pattern in the checked
entries, and a student who is told the pattern finds the bug. :func:`diagnose` tries these
patterns in order and names the first that fits:

1. NaN or inf in the analytic or the numerical gradient (an overflow in ``np.exp``, a ``log(0)``);
2. an analytic gradient of zeros (never filled in), or a function that ignores its argument;
3. a least-squares fit ``analytic ≈ k·numerical + coef·x``: a constant factor ``k`` (a forgotten
   or doubled ``1/N``, a missing 2 of ``d(w²)/dw``, a flipped sign), a wrong L2-penalty gradient
   (``k ≈ 1``, ``coef ≠ 0``), or the gradient of another function of x (``k ≈ 0``);
4. wrong entries confined to a few columns (classes) or rows (such as the bias row) of a 2-D
   gradient;
5. one or two wrong entries among many: a kink so close that even the re-check step crosses it.

A pattern is named only when it explains the error convincingly (the fit leaves at most
``_FIT_RESIDUAL`` of it unexplained, a factor is within ``_FACTOR_RTOL`` of a telling value), since a
wrong hint misleads more than none; otherwise the hint says that no simple pattern fits. A check
that passes only in the 'acceptable near kinks' range gets a note on kinks instead.

:mod:`cs231kit.gradcheck` computes the gradients and hands the checked entries over as a
:class:`Checked`; this module only reads them.
"""

from typing import NamedTuple

import numpy as np

KINK_STEP_RATIO = 100
"""Failing entries are differentiated again with a step this many times smaller (gradcheck's re-check)."""
_FIT_RESIDUAL = 1e-2
"""A fitted model of the error must leave at most this fraction of it (in norm) unexplained."""
_FACTOR_RTOL = 1e-3
"""How close a fitted factor must be to a telling value (N, 1/N, -1, 2, ...) to be named."""
_MAX_OUTLIERS = 2
"""At most this many bad entries among many good ones are blamed on a kink."""


class Checked(NamedTuple):
    """The checked entries, flattened: what every hint looks at.

    Attributes
    ----------
    name : str
        Name of the gradient, e.g. ``"dW"``.
    var : str
        Name of its variable, e.g. ``"W"``.
    shape : tuple of int
        Shape of the variable.
    indices : list of tuple of int
        The checked entries, in the order of the arrays below.
    analytic, numerical, values, rel : ndarray of float64, shape (len(indices),)
        Analytic and numerical partial derivatives, the variable itself and the relative errors
        at the checked entries.
    """

    name: str
    var: str
    shape: tuple
    indices: list
    analytic: np.ndarray
    numerical: np.ndarray
    values: np.ndarray
    rel: np.ndarray


def format_index(index):
    """``(2, 3)`` for an index tuple, and ``(2)`` for a 1-tuple."""
    return "(" + ", ".join(str(i) for i in index) + ")"


# ------------------------------------------------------------------------------------- diagnose


_KINK_NOTE = (
    "the error is in the 'acceptable near kinks' range: with a hinge (max(0, ·)) or ReLU, a step of ±h "
    "that crosses a kink puts the numerical gradient slightly off. For a smooth function, errors of this "
    "size come from rounding when the worst entries are tiny gradients; otherwise look closer."
)

_NO_PATTERN = (
    "no simple pattern (zeros, sign, constant factor, regularisation, one column or row) explains the error: "
    "derive the gradient again on a tiny example, e.g. N=2, D=3, C=2, and compare entry by entry."
)


def diagnose(report, c, num_examples, reg):
    """The hint of a report: the first explanation that fits, or None when nothing needs explaining.

    Parameters
    ----------
    report : GradientReport
        The report the hint is for; its ``passed``, ``verdict`` and ``tolerance`` are used.
    c : Checked
        The entries the report was computed from.
    num_examples : int or None
        N, the number of examples the loss averages over (names a missing or doubled ``1/N``).
    reg : float or None
        Strength of the penalty ``reg * sum(x**2)`` (compares a wrong penalty with ``2 * reg * x``).

    Returns
    -------
    str or None
    """
    near_kink = report.verdict == "acceptable near kinks"
    if report.passed:
        return _KINK_NOTE if near_kink else None
    wrong = ~(c.rel <= report.tolerance)  # NaN counts as wrong
    return (
        _nonfinite_hint(c)
        or _zero_hint(c)
        or _fit_hint(c, num_examples, reg)
        or _confined_hint(c, wrong)
        or _outlier_hint(c, wrong)
        or (_KINK_NOTE if near_kink else _NO_PATTERN)
    )


# ------------------------------------------------------------------------------ zeros, NaN, inf


def _nonfinite_hint(c):
    """Say where the analytic or numerical gradient is NaN/inf."""
    sources = (
        (c.analytic, f"your gradient {c.name}", "look for an overflow in np.exp (subtract each row's "
         "maximum score first), a log(0) or a division by zero"),
        (c.numerical, "the numerical gradient", "the function itself is not finite near this point: "
         "subtract each row's maximum score before np.exp"),
    )
    for values, label, advice in sources:
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(np.argmax(bad))
            more = f" and {int(bad.sum()) - 1} more entries" if bad.sum() > 1 else ""
            return f"{label} is {values[first]} at index {format_index(c.indices[first])}{more}: {advice}."
    return None


def _zero_hint(c):
    """Explain an all-zero analytic gradient, or a function that ignores its argument."""
    if not np.any(c.analytic):
        return (
            f"your gradient {c.name} is all zeros on the {len(c.indices)} checked entries: did you forget to "
            f"fill it in, or return the zero-initialised array instead of the one you accumulated into?"
        )
    if not np.any(c.numerical):
        return (
            f"the numerical gradient is all zeros: the function does not change when {c.var} changes. "
            f"Make it use its argument, e.g. f = lambda {c.var}_: loss_fn({c.var}_, X, y, reg)[0]."
        )
    return None


# ------------------------------------------------------------- factor and regularisation (a fit)


def _fit_hint(c, num_examples, reg):
    """Fit ``analytic ≈ k·numerical (+ coef·x)``; explain k or coef if the fit is convincing.

    The ``coef·x`` term catches a wrong L2-penalty gradient (k ≈ 1), the gradient of another
    function of x (k ≈ 0), and keeps a penalty gradient that is right from spoiling the factor of a
    scaled data gradient (k ≈ N with coef ≈ (1 - N)·2·reg).
    """
    error_norm = np.linalg.norm(c.analytic - c.numerical)
    if _independent(c.numerical, c.values):
        (k, coef), residual = _least_squares([c.numerical, c.values], c.analytic)
    else:
        (k,), residual = _least_squares([c.numerical], c.analytic)
        coef = 0.0
    if residual > _FIT_RESIDUAL * error_norm:
        return None
    if _close(k, 1):
        return _regularisation_hint(coef, reg, c.var)
    divided_twice = bool(num_examples) and _close(k, 1 / num_examples)
    if coef == 0 or not _close(k, 0) or divided_twice:
        return _factor_hint(k, num_examples)
    return (
        f"analytic ≈ {coef:.3g}·{c.var}: your gradient is a multiple of {c.var} itself and does not follow the "
        f"numerical gradient at all. Did you differentiate another function (e.g. 2·reg·{c.var} is the "
        f"gradient of the L2 penalty reg·Σ{c.var}²)?"
    )


def _independent(u, v):
    """True if neither vector is zero and they are far from parallel."""
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    return bool(nu > 0 and nv > 0 and abs(u @ v) < 0.99 * nu * nv)


def _least_squares(columns, target):
    """Coefficients of the least-squares fit ``target ≈ sum(coef_j * columns[j])`` and its residual norm."""
    design = np.column_stack(columns)
    scale = np.linalg.norm(design, axis=0)
    coef, *_ = np.linalg.lstsq(design / scale, target, rcond=None)
    coef = coef / scale
    return coef, float(np.linalg.norm(target - design @ coef))


def _regularisation_hint(coef, reg, var):
    """Explain ``analytic - numerical ≈ coef · x`` (a wrong L2-penalty gradient)."""
    text = (
        f"only the regularisation part looks wrong: analytic − numerical ≈ {coef:.3g}·{var}. "
        f"The gradient of reg·Σ{var}² is 2·reg·{var}"
    )
    if reg is None:
        return text + "."
    if reg == 0:
        return text + f", and reg = 0 here, so your gradient must not contain a {var} term at all."
    yours = 2 + coef / reg
    text += f" (2·reg = {2 * reg:g})"
    if _close(yours, 0):
        return text + f", but your gradient has no regularisation term: add 2·reg·{var}."
    return text + f", but yours behaves like {_format_factor(yours)}·reg·{var}."


def _factor_hint(k, num_examples):
    """Plain-words explanation of ``analytic ≈ k × numerical``."""
    divided_twice = bool(num_examples) and _close(abs(k), 1 / num_examples)
    if _close(k, 0) and not divided_twice:  # for N ≳ 1000, 1/N is itself within the zero tolerance
        return "analytic ≈ 0 × numerical: your gradient is (almost) zero everywhere."
    causes = []
    if k < 0:
        causes.append("the sign is flipped: are you doing gradient ascent, or did you subtract in the wrong order?")
    magnitude = _magnitude_cause(abs(k), num_examples)
    if magnitude:
        causes.append(magnitude)
    return f"analytic ≈ {_format_factor(k)} × numerical: " + " Also, ".join(causes)


def _magnitude_cause(m, num_examples):
    """Explain a positive factor m between analytic and numerical gradient, or None for m ≈ 1."""
    if _close(m, 1):
        return None
    if num_examples and num_examples > 1 and _close(m, num_examples):
        return f"did you forget to divide by N (={num_examples})?"
    if num_examples and num_examples > 1 and _close(m, 1 / num_examples):
        return f"did you divide by N (={num_examples}) twice?"
    if _close(m, 2):
        return "is a term counted twice?"
    if _close(m, 0.5):
        return "is a factor of 2 missing (the derivative of w² is 2·w)?"
    if m > 1 and _close(m, round(m)):
        return f"an extra factor of {round(m)}: did you forget to divide by a count (N, the number of classes)?"
    if m < 1 and _close(1 / m, round(1 / m)):
        return f"a factor of {round(1 / m)} is missing: did you divide by a count you should not divide by?"
    return "the whole gradient is off by a constant factor."


def _format_factor(k):
    """``k`` as a readable factor: an integer, ``1/m`` or 4 significant digits."""
    if round(k) != 0 and _close(k, round(k)):
        return str(int(round(k)))
    if 0 < abs(k) < 1 and _close(1 / k, round(1 / k)):
        return f"{'-' if k < 0 else ''}1/{abs(int(round(1 / k)))}"
    return f"{k:.4g}"


def _close(value, target):
    """True if ``value`` is within a relative ``_FACTOR_RTOL`` of ``target`` (absolute for 0)."""
    return abs(value - target) <= _FACTOR_RTOL * (abs(target) if target else 1.0)


# ------------------------------------------------------------------- where the wrong entries are


def _confined_hint(c, wrong):
    """Detect errors confined to a few columns (classes) or rows of a 2-D gradient, two or more per line."""
    if len(c.shape) != 2 or wrong.sum() < 2 or wrong.all():
        return None
    coords = np.array(c.indices)
    for axis, noun in ((1, "column"), (0, "row")):
        lines, wrong_per_line = np.unique(coords[wrong, axis], return_counts=True)
        inside = np.isin(coords[:, axis], lines)
        few = len(lines) <= max(1, len(np.unique(coords[:, axis])) // 4)
        if few and wrong_per_line.min() >= 2 and not inside.all() and wrong[inside].mean() >= 0.5:
            return _lines_text(noun, lines, c.shape)
    return None


def _lines_text(noun, lines, shape):
    """Name the rows or columns that hold every wrong entry."""
    listed = ", ".join(str(int(i)) for i in lines)
    plural = "s" if len(lines) > 1 else ""
    if noun == "column":
        return (
            f"all wrong entries are in column{plural} {listed} (class{'es' if plural else ''} {listed}); "
            f"the other columns are right: what does your code do differently for "
            f"{'these classes' if plural else 'this class'} (e.g. the correct class y[i] vs the others)?"
        )
    bias = " (the last row: with the bias trick, the bias)" if lines[-1] == shape[0] - 1 else ""
    return f"all wrong entries are in row{plural} {listed}{bias}; the other rows are right."


def _outlier_hint(c, wrong):
    """Blame a kink when only one or two entries out of many are wrong."""
    count = int(np.sum(wrong))
    if count > _MAX_OUTLIERS or 2 * count >= len(c.rel):
        return None
    return (
        f"only {count} of {len(c.rel)} checked entries exceed the tolerance: possibly a kink so close (a hinge "
        f"margin or ReLU input within ±h/{KINK_STEP_RATIO} of 0) that even the smaller re-check step crosses it. "
        f"Check again with another seed; if the same entries fail, look at them."
    )
