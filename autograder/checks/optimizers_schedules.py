"""Hidden checks of the ``optimizers`` notebook, section 4: learning-rate schedules.

Loaded through ``autograder/checks/optimizers.py`` (see there).
"""

import functools
from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module

_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _call = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.call
shared = load_course_module("autograder/checks/cases/optimizers.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the probes of ``autograder/verify/optimizers.py``."""
_close = functools.partial(_CONTRACT.close, rtol=shared.RULE_RTOL)


# ------------------------------------------------------------------------------- schedules


SCHEDULES = {
    "step_decay": (lambda t, learning_rate, factor, every: learning_rate * factor ** np.floor_divide(t, every),
                   shared.SCHEDULE_PARAMETERS["step_decay"]),
    "exponential_decay": (lambda t, learning_rate, k: learning_rate * np.exp(-k * np.asarray(t, np.float64)),
                          shared.SCHEDULE_PARAMETERS["exponential_decay"]),
    "inverse_time_decay": (lambda t, learning_rate, k: learning_rate / (1.0 + k * np.asarray(t, np.float64)),
                           shared.SCHEDULE_PARAMETERS["inverse_time_decay"]),
    "cosine_decay": (lambda t, learning_rate, num_iterations:
                     0.5 * learning_rate * (1.0 + np.cos(np.pi * np.asarray(t, np.float64) / num_iterations)),
                     shared.SCHEDULE_PARAMETERS["cosine_decay"]),
}
"""Schedule name -> (reference ``f(iteration, **parameters)``, the hidden parameters)."""


def _check_schedule_value(fn, name, t, parameters, want):
    __tracebackhide__ = True
    what = f"{name}({t}, {', '.join(f'{k}={v}' for k, v in parameters.items())})"
    hint = " It must also work on an array of iterations (use numpy functions: np.exp, np.cos, //)." if np.ndim(t) else ""
    got = _call(fn, (t,), what, kwargs=parameters, hint=hint)
    if np.shape(got) != np.shape(want) or not _close(got, want, atol=1e-12 * parameters["learning_rate"]):
        _fail(f"{what} should be {want!r}, got {got!r}.{hint}")


def check_schedule(fn, name):
    """Hidden test of a learning-rate schedule at chosen iterations, one at a time and as an array."""
    __tracebackhide__ = True
    reference, parameters = SCHEDULES[name]
    for t in shared.SCHEDULE_ITERATIONS:
        _check_schedule_value(fn, name, t, parameters, reference(t, **parameters))
    iterations = np.array(shared.SCHEDULE_ITERATIONS)
    _check_schedule_value(fn, name, iterations, parameters, reference(iterations, **parameters))
