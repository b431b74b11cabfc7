"""A wall-clock limit on a block of code, so that a student's endless loop fails one test, not a notebook.

nbgrader's only limit is per cell (``Execute.timeout``): a loop that never ends costs the whole
timeout and takes every other check of that cell with it. Tests that call a student's function
wrap the call in :func:`time_limit` instead; the loop is interrupted after a few seconds with
:class:`TimeLimitExceeded`, whose message names what was running.

The limit uses ``SIGALRM`` (``signal.setitimer``), so it works in the main thread of a POSIX
process, which is where Jupyter kernels and pytest run test code. Elsewhere (another thread,
Windows) the block runs without a limit. Limits do not nest: an inner block's timer replaces the
outer one and the outer block then runs unlimited.
"""

import contextlib
import signal
import threading


class TimeLimitExceeded(BaseException):
    """Raised inside a block that ran past its :func:`time_limit`.

    A ``BaseException`` (like ``KeyboardInterrupt``), so that a student's ``except Exception``
    inside the loop cannot swallow it and loop on.
    """


def limits_available():
    """True if :func:`time_limit` can interrupt code here (the main thread of a POSIX process)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds, what="this code"):
    """Interrupt the block with :class:`TimeLimitExceeded` if it runs longer than ``seconds``.

    Parameters
    ----------
    seconds : float
        Wall-clock limit, > 0.
    what : str, optional
        What runs in the block, for the message (e.g. ``"numerical_gradient on a (2, 3) array"``).

    Raises
    ------
    TimeLimitExceeded
        From inside the block, when the limit is reached; the message names ``what`` and the limit.
    ValueError
        If ``seconds`` is not a positive number.
    """
    if not seconds > 0:
        raise ValueError(f"the time limit must be a positive number of seconds; got {seconds!r}")
    if not limits_available():
        yield
        return

    def expire(signum, frame):
        raise TimeLimitExceeded(
            f"{what} did not finish within {seconds:g} s, so it was stopped: look for a loop that never "
            f"ends (a while loop whose condition never changes, an index that is never advanced)"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
