"""Visible feedback on numeric answers: the order of magnitude and the sign, without showing the value.

A conceptual question with a numeric answer (the SVM loss at initialisation, the size of Adam's
first step) is graded by a hidden test. Its visible test should still catch an answer that is off by
an order of magnitude, but its source is read by students, so it must not contain the value. It holds
a *fingerprint* instead: salted digests of the magnitude classes (sign and power of ten, zero or
infinite) that an acceptable answer can fall into. :func:`check_magnitude` computes the class of
the student's value and looks its digest up; :func:`magnitude_fingerprint` is how the instructor
makes the fingerprint.

A fingerprint accepts every value within ``factor`` of the expected one (all the powers of ten that
window touches), so the visible check is never stricter than a hidden test whose tolerance lies
inside that window. It is feedback, not security: trying the few dozen possible classes would reveal
the power of ten, never the value.
"""

import hashlib
import math
import numbers

ZERO_BELOW = 1e-2  # the hidden tests' absolute tolerance: an answer of 0 accepts |value| up to this
DEFAULT_FACTOR = math.sqrt(10)


def magnitude_class(value, zero_below=0.0):
    """The sign and power of ten of a number, as a short string.

    Parameters
    ----------
    value : float
    zero_below : float, optional
        ``|value|`` below this counts as zero.

    Returns
    -------
    str
        ``"zero"``; ``"inf"``, ``"-inf"`` or ``"nan"``; otherwise the sign and
        ``floor(log10(|value|))``, e.g. ``"+0"`` for 2.3 and ``"--1"`` for -0.5.
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if abs(value) <= zero_below:
        return "zero"
    return f"{'+' if value > 0 else '-'}{math.floor(math.log10(abs(value)))}"


def _digest(name, magnitude):
    """A salted digest of one magnitude class of the answer called ``name``."""
    return hashlib.sha256(f"cs231kit answer|{name}|{magnitude}".encode()).hexdigest()[:16]


def _window_classes(expected, factor):
    """The magnitude classes of every value between ``expected / factor`` and ``expected * factor``."""
    if not math.isfinite(expected) or expected == 0:
        return {magnitude_class(expected)}
    low, high = abs(expected) / factor, abs(expected) * factor
    sign = "+" if expected > 0 else "-"
    return {f"{sign}{k}" for k in range(math.floor(math.log10(low)), math.floor(math.log10(high)) + 1)}


def magnitude_fingerprint(name, expected, factor=DEFAULT_FACTOR):
    """The fingerprint a visible test stores for the answer ``name`` (for the instructor).

    Parameters
    ----------
    name : str
        The answer's variable name (part of the salt: equal values of two answers look different).
    expected : float
        The right answer; 0 and infinities are their own classes.
    factor : float, optional
        Accept every value within this factor of ``expected`` (at least the hidden test's tolerance).

    Returns
    -------
    str
        Space-separated digests, sorted.
    """
    return " ".join(sorted(_digest(name, magnitude) for magnitude in _window_classes(float(expected), factor)))


def check_magnitude(name, value, fingerprint):
    """Visible test of a numeric answer: a real number of the right sign and order of magnitude.

    Parameters
    ----------
    name : str
        The answer's variable name, as given to :func:`magnitude_fingerprint`.
    value : object
        The student's answer.
    fingerprint : str
        From :func:`magnitude_fingerprint`.

    Returns
    -------
    bool
        Whether ``value`` is an answer: None (not answered yet) is said, not raised, so that an
        unanswered question never stops "Run All" (it still earns no points when graded).

    Raises
    ------
    AssertionError
        ``value`` is not a real number, or its sign or power of ten is not an acceptable one; the
        message says which, never the expected value.
    """
    __tracebackhide__ = True
    if value is None:
        print(f"{name}: not answered yet (replace None by your answer)")
        return False
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise AssertionError(f"{name} must be a number (an int, a float, or np.inf for infinity), not {value!r}")
    # An answer of 0 is right within the hidden tests' absolute tolerance: try "zero" as well.
    candidates = {magnitude_class(value), magnitude_class(value, ZERO_BELOW)}
    if not {_digest(name, magnitude) for magnitude in candidates} & set(fingerprint.split()):
        raise AssertionError(
            f"{name} = {value!r} is off by at least an order of magnitude, or has the wrong sign (or should be "
            f"0 or infinite, or should not): check your reasoning before you go on. (This visible test checks "
            f"only the sign and the power of ten; the value itself is graded by a hidden test.)")
    return True
