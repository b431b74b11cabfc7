"""Hidden checks of the ``optimizers`` notebook, section 2 (update rules) and its numeric questions.

Loaded through ``autograder/checks/optimizers.py`` (see there). The update rules are described by one
table, :data:`RULES`: each entry holds the rule's one-step formula (float64, written on explicit
buffers rather than on the state dict), its CS231n default hyperparameters, its bug twins, and the
hidden hyperparameters, buffers and step budget on the ill-conditioned quadratic of
``autograder/checks/cases/optimizers.py``. :func:`reference_rule` turns an entry into a pure rule with
the kit's convention, and :func:`check_update_rule` runs the same generic checks for every rule
(contract, defaults, several consecutive steps with their state, float32, purity, convergence) plus
the bug twins that name a likely cause.
"""

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module
from cs231kit.landscapes import ill_conditioned_quadratic, run_update_rule

_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _call = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.call
shared = load_course_module("autograder/checks/cases/optimizers.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the probes of ``autograder/verify/optimizers.py``."""
_close, _worst = functools.partial(_CONTRACT.close, rtol=shared.RULE_RTOL), _CONTRACT.worst_entry


_loss_checks = _CONTRACT.on_first_use("autograder/checks/loss.py")
"""The loss assignment's checks, loaded when a check first needs them."""


QUADRATIC = ill_conditioned_quadratic(shared.QUADRATIC_CONDITION)
"""Where every rule must converge within its step budget (start (-4, 1), minimum (0, 0))."""
PURE_RULES = ("Update rules are pure: build new arrays (v = momentum * v - ...) and a new dict (next_state = "
              "{**state, ...}); never use +=, -= or item assignment on the inputs.")


# ---------------------------------------------------------------------------- update-rule table


def _sgd_step(w, dw, h, b):
    return w - h["learning_rate"] * dw, {}


def _momentum_step(w, dw, h, b):
    velocity = h["momentum"] * b["velocity"] - h["learning_rate"] * dw
    return w + velocity, {"velocity": velocity}


def _nesterov_step(w, dw, h, b):
    """Nesterov momentum in the look-ahead variable (CS231n notes): w + v + momentum * (v - v_prev)."""
    velocity = h["momentum"] * b["velocity"] - h["learning_rate"] * dw
    return w + velocity + h["momentum"] * (velocity - b["velocity"]), {"velocity": velocity}


def _adagrad_step(w, dw, h, b):
    cache = b["cache"] + np.square(dw)
    return w - h["learning_rate"] * dw / (np.sqrt(cache) + h["epsilon"]), {"cache": cache}


def _rmsprop_step(w, dw, h, b):
    rho = h["decay_rate"]
    cache = rho * b["cache"] + (1.0 - rho) * np.square(dw)
    return w - h["learning_rate"] * dw / (np.sqrt(cache) + h["epsilon"]), {"cache": cache}


def _adam_step(w, dw, h, b):
    t = b["t"] + 1
    m = h["beta1"] * b["m"] + (1.0 - h["beta1"]) * dw
    v = h["beta2"] * b["v"] + (1.0 - h["beta2"]) * np.square(dw)
    m_hat, v_hat = m / (1.0 - h["beta1"] ** t), v / (1.0 - h["beta2"] ** t)
    return w - h["learning_rate"] * m_hat / (np.sqrt(v_hat) + h["epsilon"]), {"m": m, "v": v, "t": t}


# Bug twins: the same formulas with one typical mistake, used only to name the likely cause.
def _momentum_uphill_step(w, dw, h, b):
    velocity = h["momentum"] * b["velocity"] + h["learning_rate"] * dw
    return w + velocity, {"velocity": velocity}


def _momentum_negated_velocity_step(w, dw, h, b):
    velocity = h["momentum"] * b["velocity"] + h["learning_rate"] * dw
    return w - velocity, {"velocity": velocity}


def _adagrad_epsilon_inside_step(w, dw, h, b):
    cache = b["cache"] + np.square(dw)
    return w - h["learning_rate"] * dw / np.sqrt(cache + h["epsilon"]), {"cache": cache}


def _adagrad_forgetful_step(w, dw, h, b):
    cache = np.square(dw)
    return w - h["learning_rate"] * dw / (np.sqrt(cache) + h["epsilon"]), {"cache": cache}


def _rmsprop_epsilon_inside_step(w, dw, h, b):
    rho = h["decay_rate"]
    cache = rho * b["cache"] + (1.0 - rho) * np.square(dw)
    return w - h["learning_rate"] * dw / np.sqrt(cache + h["epsilon"]), {"cache": cache}


def _rmsprop_swapped_decay_step(w, dw, h, b):
    rho = h["decay_rate"]
    cache = (1.0 - rho) * b["cache"] + rho * np.square(dw)
    return w - h["learning_rate"] * dw / (np.sqrt(cache) + h["epsilon"]), {"cache": cache}


def _adam_uncorrected_step(w, dw, h, b):
    m = h["beta1"] * b["m"] + (1.0 - h["beta1"]) * dw
    v = h["beta2"] * b["v"] + (1.0 - h["beta2"]) * np.square(dw)
    return w - h["learning_rate"] * m / (np.sqrt(v) + h["epsilon"]), {"m": m, "v": v, "t": b["t"] + 1}


def _adam_late_t_step(w, dw, h, b):
    """Adam whose bias correction uses t + 1 where t is already the step number (t counted twice)."""
    t = b["t"] + 1
    m = h["beta1"] * b["m"] + (1.0 - h["beta1"]) * dw
    v = h["beta2"] * b["v"] + (1.0 - h["beta2"]) * np.square(dw)
    m_hat, v_hat = m / (1.0 - h["beta1"] ** (t + 1)), v / (1.0 - h["beta2"] ** (t + 1))
    return w - h["learning_rate"] * m_hat / (np.sqrt(v_hat) + h["epsilon"]), {"m": m, "v": v, "t": t}


def _uphill(step):
    """The twin of a rule that adds its step instead of subtracting it."""
    def twin(w, dw, h, b):
        next_w, buffers = step(w, dw, h, b)
        return 2 * w - next_w, buffers
    return twin


EPSILON_INSIDE = ("epsilon is inside the square root: divide by (np.sqrt(cache) + epsilon), "
                  "not np.sqrt(cache + epsilon)")


@dataclass(frozen=True)
class RuleSpec:
    """One row of the update-rule table.

    Attributes
    ----------
    step : callable
        ``next_w, next_buffers = step(w, dw, hyperparameters, buffers)``, float64.
    defaults : dict
        The CS231n default hyperparameters.
    buffers : tuple of str
        State keys of the running buffers: arrays of zeros like w at first, except ``"t"`` (0).
    hidden : dict
        Non-default hyperparameters of the hidden sequence (epsilon large enough that its place matters).
    quadratic : dict
        Hyperparameters that converge on :data:`QUADRATIC` within ``budget`` steps.
    budget : int
        Steps allowed to come within ``CONVERGED_DISTANCE`` of the minimum (at least once: with a
        constant learning rate RMSProp and Adam then hover around it).
    twins : tuple of (callable, str)
        Steps with a typical bug and the hint given when a student's values match them.
    """

    step: callable
    defaults: dict
    buffers: tuple
    hidden: dict
    quadratic: dict
    budget: int
    twins: tuple = field(default=())


RULES = {
    "sgd": RuleSpec(
        _sgd_step, {"learning_rate": 1e-2}, **shared.RULE_CASES["sgd"],
        twins=((_uphill(_sgd_step), "the step goes uphill: subtract learning_rate * dw"),)),
    "sgd_momentum": RuleSpec(
        _momentum_step, {"learning_rate": 1e-2, "momentum": 0.9}, **shared.RULE_CASES["sgd_momentum"],
        twins=((_momentum_uphill_step, "the velocity accumulates +learning_rate * dw and is added to w, so every "
                                       "step goes uphill: v = momentum * v - learning_rate * dw, then w + v"),
               (_momentum_negated_velocity_step, "w is right but the velocity has the opposite sign: the "
                                                 "convention is v = momentum * v - learning_rate * dw and "
                                                 "next_w = w + v"))),
    "nesterov_momentum": RuleSpec(
        _nesterov_step, {"learning_rate": 1e-2, "momentum": 0.9}, **shared.RULE_CASES["nesterov_momentum"],
        twins=((_momentum_step, "this is plain momentum (w + v): Nesterov adds the look-ahead correction "
                                "momentum * (v - v_prev)"),
               (_uphill(_nesterov_step), "the steps go uphill: check the sign of learning_rate * dw"))),
    "adagrad": RuleSpec(
        _adagrad_step, {"learning_rate": 1e-2, "epsilon": 1e-8}, **shared.RULE_CASES["adagrad"],
        twins=((_adagrad_epsilon_inside_step, EPSILON_INSIDE),
               (_adagrad_forgetful_step, "the cache holds only the latest squared gradient: AdaGrad adds up every "
                                         "squared gradient, cache + dw**2"))),
    "rmsprop": RuleSpec(
        _rmsprop_step, {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}, **shared.RULE_CASES["rmsprop"],
        twins=((_rmsprop_epsilon_inside_step, EPSILON_INSIDE),
               (_rmsprop_swapped_decay_step, "decay_rate and 1 - decay_rate are swapped: the old cache keeps the "
                                             "fraction decay_rate"))),
    "adam": RuleSpec(
        _adam_step, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, **shared.RULE_CASES["adam"],
        twins=((_adam_uncorrected_step, "the bias correction is missing: divide m by (1 - beta1**t) and v by "
                                        "(1 - beta2**t) before the step"),
               (_adam_late_t_step, "t is off by one in the bias correction: increment t first, then use it "
                                   "(the first step has t = 1)"))),
}
"""The update rules of the assignment, in the order of the notebook."""


def initial_buffers(spec, w):
    """The buffers of a first step: zeros like w (float64), and t = 0."""
    return {name: 0 if name == "t" else np.zeros(np.shape(w)) for name in spec.buffers}


def reference_rule(name, step=None):
    """A pure update rule ``next_w, next_state = rule(w, dw, state=None)`` built from a table entry.

    Parameters
    ----------
    name : str
        A key of :data:`RULES`.
    step : callable, optional
        Replaces the entry's step (to build a bug twin with the same contract).

    Returns
    -------
    callable
        Computes in float64 and returns next_w in w's dtype; never mutates its inputs.
    """
    spec = RULES[name]
    step = step or spec.step

    def rule(w, dw, state=None):
        state = {**spec.defaults, **(state or {})}
        hyper = {key: state[key] for key in spec.defaults}
        buffers = {key: state.get(key, initial) for key, initial in initial_buffers(spec, w).items()}
        next_w, next_buffers = step(np.asarray(w, np.float64), np.asarray(dw, np.float64), hyper, buffers)
        return next_w.astype(np.asarray(w).dtype), {**state, **next_buffers}

    rule.__name__ = name
    return rule


# --------------------------------------------------------------------------- rule checks


def _call_rule(rule, w, dw, state, what):
    """``rule(w, dw, state)`` with its contract and purity checked; returns (next_w, next_state)."""
    __tracebackhide__ = True
    result = _call(rule, (w, dw, state), what, ("w", "dw", "state"), advice=PURE_RULES)
    if not (isinstance(result, tuple) and len(result) == 2):
        _fail(f"{_name(rule)} must return a pair (next_w, next_state); on {what} it returned {type(result).__name__}.")
    next_w, next_state = result
    if not isinstance(next_w, np.ndarray) or next_w.shape != np.shape(w):
        _fail(f"{_name(rule)}: next_w must be an array of the shape of w {np.shape(w)}; on {what} it is "
              f"{type(next_w).__name__} of shape {np.shape(next_w)}.")
    if next_w.dtype != w.dtype:
        _fail(f"{_name(rule)}: next_w has dtype {next_w.dtype} but w has {w.dtype} on {what}. Keep w's dtype "
              f"(start buffers with np.zeros_like(w)); float32 training must not become float64.")
    if not isinstance(next_state, dict):
        _fail(f"{_name(rule)}: next_state must be a dict, got {type(next_state).__name__} on {what}.")
    return next_w, next_state


def _worst(got, expected):
    diff = np.abs(np.nan_to_num(np.asarray(got, np.float64) - expected, nan=np.inf))
    index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    return "[" + ", ".join(map(str, index)) + "]", expected[index], np.asarray(got)[index]


def _close(got, expected, rtol=shared.RULE_RTOL, atol=0.0):
    """``|got - expected| <= rtol * |expected| + atol`` everywhere, with equal shapes."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    return got.shape == expected.shape and bool(np.all(np.abs(got - expected) <= rtol * np.abs(expected) + atol))


def reference_sequence(step, hyper, w, gradients, buffers):
    """The (next_w, buffers) after each of the steps of ``step`` from w."""
    out = []
    for dw in gradients:
        w, buffers = step(w, dw, hyper, buffers)
        out.append((w, buffers))
    return out


def _likely_cause(spec, hyper, w0, gradients, k, got_w, got_state):
    """The hint of the first bug twin whose next_w and buffers after step k match the student's."""
    for twin, hint in spec.twins:
        twin_w, twin_buffers = reference_sequence(twin, hyper, w0, gradients, initial_buffers(spec, w0))[k]
        if _close(got_w, twin_w, rtol=1e-7) and all(
                key in got_state and _close(got_state[key], value, rtol=1e-7) for key, value in twin_buffers.items()):
            return f" Likely cause: {hint}."
    return ""


def _check_defaults(rule, name, spec):
    __tracebackhide__ = True
    w, (dw, *_) = shared.rule_sequence(seed=402)
    for state in (None, {}):
        what = f"a first step with state={state}"
        next_w, next_state = _call_rule(rule, w, dw, state, what)
        for key, value in spec.defaults.items():
            if next_state.get(key) != value:
                _fail(f"{name}: with state={state}, next_state[{key!r}] should be the default {value!r}, but it is "
                      f"{next_state.get(key, 'missing')!r}. Fill in the defaults: state = {{**defaults, **(state or {{}})}}.")
        expected = spec.step(w, dw, spec.defaults, initial_buffers(spec, w))[0]
        if not _close(next_w, expected):
            index, want, got = _worst(next_w, expected)
            _fail(f"{name}: the first step with the default hyperparameters {spec.defaults} is wrong at "
                  f"next_w{index}: expected {want:.10g}, got {got:.10g}.")


def _check_buffers(name, spec, next_state, buffers, what, likely_cause):
    __tracebackhide__ = True
    for key in spec.buffers:
        if key not in next_state:
            _fail(f"{name}: next_state has no {key!r} after {what}: keep the running buffer under that key.")
        if key == "t":
            if next_state["t"] != buffers["t"]:
                _fail(f"{name}: next_state['t'] is {next_state['t']!r} after {what}, expected {buffers['t']}: "
                      f"t counts the steps taken, from 0 before the first step (which uses t = 1).")
        elif not _close(next_state[key], buffers[key]):
            index, want, got = _worst(next_state[key], buffers[key])
            _fail(f"{name}: next_state[{key!r}] is wrong after {what} at {index}: expected {want:.10g}, got {got:.10g}."
                  + likely_cause())


def _check_hidden_sequence(rule, name, spec):
    """``NUM_STEPS`` consecutive steps with non-default hyperparameters: next_w and every buffer after each."""
    __tracebackhide__ = True
    w0, gradients = shared.rule_sequence()
    hyper = {**spec.defaults, **spec.hidden}
    expected = reference_sequence(spec.step, hyper, w0, gradients, initial_buffers(spec, w0))
    w, state = w0, dict(hyper)
    for k, (dw, (want_w, want_buffers)) in enumerate(zip(gradients, expected)):
        what = f"step {k + 1} of {shared.NUM_STEPS} of the hidden sequence (w of shape {w0.shape}, state {hyper})"
        w, state = _call_rule(rule, w, dw, state, what)
        if not _close(w, want_w):
            index, want, got = _worst(w, want_w)
            _fail(f"{name}: next_w is wrong at {what}, at next_w{index}: expected {want:.10g}, got {got:.10g}."
                  + _likely_cause(spec, hyper, w0, gradients, k, w, state))
        _check_buffers(name, spec, state, want_buffers, what,
                       functools.partial(_likely_cause, spec, hyper, w0, gradients, k, w, state))
        for key, value in hyper.items():
            if state.get(key) != value:
                _fail(f"{name}: next_state[{key!r}] should stay {value!r} (the caller's hyperparameter), but it is "
                      f"{state.get(key, 'missing')!r} after {what}.")


def _check_float32(rule, name):
    __tracebackhide__ = True
    w, gradients = shared.rule_sequence((3, 5), seed=403)
    w, state = w.astype(np.float32), None
    for k, dw in enumerate(gradients[:3]):
        w, state = _call_rule(rule, w, dw.astype(np.float32), state, f"step {k + 1} with float32 w and dw")


def _check_converges(rule, name, spec):
    __tracebackhide__ = True
    path = run_update_rule(rule, QUADRATIC, num_steps=spec.budget, state=dict(spec.quadratic))
    distance = float(np.min(np.linalg.norm(path, axis=1)))
    if not distance < shared.CONVERGED_DISTANCE:
        ending = ("its iterates stopped being finite" if len(path) <= spec.budget
                  else f"it came no closer than {distance:.3g} to the minimum (0, 0)")
        _fail(f"{name} does not converge on the quadratic f = (x^2 + 20 y^2) / 2 from {QUADRATIC.start} with state "
              f"{spec.quadratic}: after {len(path) - 1} steps {ending}, while a correct {name} gets within "
              f"{shared.CONVERGED_DISTANCE} in fewer than {spec.budget} steps.")


def check_update_rule(rule, name):
    """Hidden test of one update rule: contract, defaults, several steps with state, float32, purity, convergence.

    Parameters
    ----------
    rule : callable
        The student's ``next_w, next_state = rule(w, dw, state=None)``.
    name : str
        Its key in :data:`RULES` (``"sgd"``, ``"sgd_momentum"``, ...).
    """
    __tracebackhide__ = True
    spec = RULES[name]
    _check_hidden_sequence(rule, name, spec)
    _check_defaults(rule, name, spec)
    _check_float32(rule, name)
    _check_converges(rule, name, spec)


# ----------------------------------------------------------------------------- numeric answers


def check_adagrad_step_ratio(value):
    """Hidden test: with a constant gradient g, AdaGrad's step 100 is lr g / sqrt(100 g^2) = step 1 / 10."""
    __tracebackhide__ = True
    _loss_checks()._check_answer(value, "adagrad_step_ratio", 0.1,
                  "After t steps of the same gradient g, what is the cache, and so the size of step t?")


def check_adam_first_steps(without_correction, with_correction):
    """Hidden test: Adam's first step over the learning rate, (1 - b1)/sqrt(1 - b2) ≈ 3.16 without, 1 with correction."""
    __tracebackhide__ = True
    _loss_checks()._check_answer(without_correction, "adam_first_step_without_correction", 0.1 / np.sqrt(0.001),
                  "Write m and v after one step from zero buffers; the step is learning_rate * m / sqrt(v).")
    _loss_checks()._check_answer(with_correction, "adam_first_step_with_correction", 1.0,
                  "What are m / (1 - beta1) and v / (1 - beta2) after one step from zero buffers?")
