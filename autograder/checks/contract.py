"""The contract every hidden check holds a student's function to: how it is called, what it must return,
and how a failure reads.

Never released to students. Each ``autograder/checks/<assignment>.py`` loads this file with
``cs231kit.course.load_course_module("autograder/checks/contract.py")`` and uses :func:`fail`,
:func:`call` and :func:`array`, so that every assignment's checks fail the same way: an
``AssertionError`` naming the function, the input (``what``) and what to do, chained to the
student's own exception when there is one.
"""

import contextlib
import functools
from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module
from cs231kit.timelimit import TimeLimitExceeded, time_limit

WORK_ON_NEW_ARRAYS = "Work on new arrays; never assign into an input."
"""What to do instead of modifying an input in place (a check may say it more precisely)."""


def on_first_use(path):
    """A function that returns the course module at ``path`` (``"autograder/checks/loss.py"``), loaded at
    its first call only.

    For checks that need another module in a few places: every hidden test cell loads its checks
    afresh, and loading (compiling) that other module at each load would cost more than the checks.
    """
    root = Path(__file__).resolve().parents[2]
    return functools.cache(lambda: load_course_module(path, root=root))


def fail(message, cause=None):
    """Raise the AssertionError a student sees (the only frame of the checks a traceback shows)."""
    raise AssertionError(message) from cause


def name_of(fn):
    """The name a failure message gives ``fn``."""
    return getattr(fn, "__name__", "your function")


def call(fn, args, what, names=(), *, kwargs=None, advice=WORK_ON_NEW_ARRAYS, seconds=None, hint="",
         on_copies=True):
    """``fn(*args, **kwargs)`` on copies of its array inputs; a readable failure if it goes wrong.

    It fails when ``fn`` raises (the message ends with ``hint``; the student's exception is chained),
    runs longer than ``seconds``, or modifies an input in place (arrays, and dicts of them, are
    copied before the call and compared after it).

    Parameters
    ----------
    fn : callable
    args : tuple
    what : str
        The input, as the message names it ("hidden case 2 of 5 (N=3, D=4, C=2)").
    names : sequence of str, optional
        Names of the first positional arguments, in order (keyword arguments are named by their keys);
        a modified input without one is "one of its inputs".
    kwargs : dict, optional
    advice : str, optional
        What the message about a modified input tells the student to do instead.
    seconds : float, optional
        Time limit of the call (none by default).
    hint : str, optional
        Appended to the message about an exception.
    on_copies : bool, optional
        False: pass the inputs themselves (the caller checks what became of them).
    """
    __tracebackhide__ = True
    kwargs = kwargs or {}
    labels = [f"its input {n}" for n in names] + ["one of its inputs"] * (len(args) - len(names))
    labels += [f"its input {key}" for key in kwargs]
    originals = [*args, *kwargs.values()]
    passed = [_copy(value) for value in originals] if on_copies else originals
    try:
        with time_limit(seconds, f"{name_of(fn)} on {what}") if seconds else contextlib.nullcontext():
            result = fn(*passed[:len(args)], **dict(zip(kwargs, passed[len(args):])))
    except TimeLimitExceeded as error:
        fail(str(error))
    except Exception as error:  # chained, so the student's own traceback stays available
        fail(f"{name_of(fn)} raised {type(error).__name__} on {what}: {error}{hint}", cause=error)
    for label, original, after in zip(labels, originals, passed):
        if not _same(original, after):
            fail(f"{name_of(fn)} modified {label} in place on {what}. {advice}")
    return result


def _copy(value):
    """A copy of the arrays of ``value`` (in dicts too); any other object itself."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return np.copy(value) if isinstance(value, np.ndarray) else value


def _same(original, passed):
    """Whether ``passed`` (a :func:`_copy` of ``original``, after the call) still equals ``original``."""
    if original is passed:
        return True
    if isinstance(original, dict):
        return isinstance(passed, dict) and original.keys() == passed.keys() and all(
            _same(original[k], passed[k]) for k in original)
    if isinstance(original, np.ndarray):
        return isinstance(passed, np.ndarray) and original.shape == passed.shape and np.array_equal(
            original, passed, equal_nan=True)
    return original == passed or (original != original and passed != passed)  # NaN equals NaN


def array(fn, value, shape, what, label="the result"):
    """``value`` as a float64 array of ``shape``; fail naming ``fn`` unless it is an array of real numbers
    of that shape (a Python or numpy number where ``shape`` is ``()``) with finite entries."""
    __tracebackhide__ = True
    shape = tuple(shape)
    try:
        kind = np.asarray(value).dtype.kind if value is not None else "O"
    except (TypeError, ValueError):
        kind = "O"
    if kind not in "iuf":
        fail(f"{name_of(fn)} returned {label} as {type(value).__name__} on {what}; it must be a real numpy array "
             f"of shape {shape}.")
    got = np.asarray(value, dtype=np.float64)
    if got.shape != shape:
        fail(f"{name_of(fn)} returned {label} of shape {got.shape} on {what}, but it must have shape {shape}"
             + (" (reshape it back to the shape of the input)" if got.size == np.prod(shape) else "") + ".")
    if not np.all(np.isfinite(got)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        fail(f"{name_of(fn)} returned {label} with non-finite entries on {what}: {got[index]} at index {list(index)} "
             f"({int(np.sum(~np.isfinite(got)))} non-finite entries)")
    return got


def close(got, expected, rtol, atol=0.0):
    """Whether ``|got - expected| <= rtol * |expected| + atol`` everywhere, with equal shapes."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    return got.shape == expected.shape and bool(np.all(np.abs(got - expected) <= rtol * np.abs(expected) + atol))


def worst_entry(got, expected):
    """``(index as "[i, j]", expected value, got value)`` where ``got`` differs most from ``expected``."""
    diff = np.abs(np.nan_to_num(np.asarray(got, np.float64) - expected, nan=np.inf))
    index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    return "[" + ", ".join(map(str, index)) + "]", expected[index], np.asarray(got)[index]
