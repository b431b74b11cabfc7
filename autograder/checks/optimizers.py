"""Trusted grading code of the ``optimizers`` assignment: reference implementations and hidden checks.

Never released to students. Hidden test cells of ``solutions/optimizers/optimizers.ipynb`` load this
file with ``cs231kit.course.load_course_module("autograder/checks/optimizers.py")`` and call one
``check_*`` function per test cell. Every check raises ``AssertionError`` with a message a student
can act on (which function, which input, which step and index, expected vs got, the likely cause)
and returns None when it passes.

The update rules are described by one table, :data:`RULES`: each entry holds the rule's one-step
formula (float64, written on explicit buffers rather than on the state dict), its CS231n default
hyperparameters, its buffers, the hidden hyperparameters and the step budget on the ill-conditioned
quadratic. :func:`reference_rule` turns an entry into a pure rule with the kit's convention, and
:func:`check_update_rule` runs the same generic checks for every rule (contract, defaults, several
consecutive steps with their state, float32, purity, convergence) plus the bug twins that name a
likely cause. ``tests/test_optimizers_assignment.py`` checks the references against closed forms
(constant gradients), loop twins and scipy.

Every failure is raised by ``_fail``; the other functions set ``__tracebackhide__`` (see the loss
checks for why).
"""

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.optimize
from scipy.special import log_softmax

from cs231kit.course import load_course_module
from cs231kit.landscapes import ill_conditioned_quadratic, run_update_rule
from cs231kit.training import train_linear_classifier

_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _call = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.call
shared = load_course_module("autograder/checks/cases/optimizers.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the probes of ``autograder/verify/optimizers.py``."""
_LOSS_CHECKS = load_course_module("autograder/checks/loss.py", root=Path(__file__).resolve().parents[2])
softmax_loss_reference = _LOSS_CHECKS.softmax_loss_reference
"""The trusted softmax loss of the loss assignment: ``loss, dW = softmax_loss_reference(W, X, y, reg)``."""

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


# ----------------------------------------------------------------- lecture 3's search strategies


def search_problem(N=40, D=6, C=4, seed=501):
    """A small float64 softmax problem ``X, y`` with a bias column."""
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((N, D - 1)), np.ones((N, 1))])
    return X, rng.integers(0, C, size=N)


class _CountingLoss:
    """A reference softmax loss that counts its calls and remembers the reg it was given."""

    __name__ = "the reference softmax loss"

    def __init__(self):
        self.calls, self.regs = 0, set()

    def __call__(self, W, X, y, reg):
        self.calls += 1
        self.regs.add(reg)
        return softmax_loss_reference(W, X, y, reg)


def random_search_reference(loss_fn, X, y, num_classes, num_tries, weight_scale, rng):
    """Best of ``num_tries`` matrices ``weight_scale * rng.standard_normal((D, C))`` by data loss (reg 0)."""
    candidates = [weight_scale * rng.standard_normal((X.shape[1], num_classes)) for _ in range(num_tries)]
    losses = [loss_fn(W, X, y, 0.0)[0] for W in candidates]
    best = int(np.argmin(losses))  # the first of equal losses, like a strict "<" while scanning
    return candidates[best], float(losses[best])


def random_local_search_reference(loss_fn, X, y, W0, num_steps, step_size, rng):
    """Try ``W + step_size * rng.standard_normal(W.shape)`` every step; keep it only if the loss drops."""
    W, loss, history = np.array(W0, dtype=np.float64), loss_fn(W0, X, y, 0.0)[0], []
    for _ in range(num_steps):
        history.append(loss)
        candidate = W + step_size * rng.standard_normal(W.shape)
        candidate_loss = loss_fn(candidate, X, y, 0.0)[0]
        if candidate_loss < loss:
            W, loss = candidate, candidate_loss
    return W, history


def gradient_descent_reference(loss_fn, X, y, W0, learning_rate, num_steps, reg):
    """Full-batch gradient descent: the trusted training loop with one batch of all N examples, in order."""
    W, history = np.array(W0, dtype=np.float64), []
    for _ in range(num_steps):
        loss, dW = loss_fn(W, X, y, reg)
        history.append(loss)
        W = W - learning_rate * dW
    return W, history


def minibatch_sgd_reference(loss_fn, X, y, W0, learning_rate, num_steps, batch_size, seed, reg):
    """Minibatch SGD from a seed: the kit's ``train_linear_classifier`` (same draws, same steps)."""
    run = train_linear_classifier(loss_fn, X, y, learning_rate=learning_rate, reg=reg, num_iters=num_steps,
                                  batch_size=batch_size, W0=W0, seed=seed, num_classes=np.shape(W0)[1])
    return run.W, run.loss_history


def _call_strategy(fn, args, kwargs, what):
    """Call a strategy on copies of its array arguments; fail if it raises, mutates one or returns no pair."""
    __tracebackhide__ = True
    result = _call(fn, args, what, kwargs=kwargs, advice="Work on new arrays (W = W - ...).")
    if not (isinstance(result, tuple) and len(result) == 2):
        _fail(f"{_name(fn)} must return a pair; on {what} it returned {type(result).__name__}.")
    return result


def _compare_weights(fn, got, want, what, hint=""):
    __tracebackhide__ = True
    if not isinstance(got, np.ndarray) or got.shape != want.shape:
        _fail(f"{_name(fn)}: the weights must be an array of shape {want.shape} on {what}; got "
              f"{type(got).__name__} of shape {np.shape(got)}.")
    if not _close(got, want, rtol=1e-7):
        index, expected, value = _worst(got, want)
        _fail(f"{_name(fn)}: the weights are wrong on {what}, at W{index}: expected {expected:.8g}, got {value:.8g}."
              + hint)


def _compare_history(fn, history, want, what):
    __tracebackhide__ = True
    if np.shape(history) != (len(want),):
        _fail(f"{_name(fn)}: loss_history must hold {len(want)} losses on {what} (the loss of the current W at the "
              f"start of every step); got {np.shape(history)}.")
    if not _close(history, want, rtol=1e-7):
        k = int(np.argmax(np.abs(np.asarray(history, np.float64) - want)))
        _fail(f"{_name(fn)}: loss_history[{k}] is wrong on {what}: expected {want[k]:.10g}, got {history[k]:.10g}.")


def check_random_search(fn):
    """Hidden test of ``random_search``: the same draws, the same best W and loss as the reference."""
    __tracebackhide__ = True
    X, y = search_problem()
    for num_tries, weight_scale, seed in ((1, 0.5, 11), (25, 1.0, 12), (60, 0.01, 13)):
        what = f"a hidden problem (N={X.shape[0]}, D={X.shape[1]}, C=4) with num_tries={num_tries}, " \
               f"weight_scale={weight_scale} and rng=np.random.default_rng({seed})"
        loss_fn = _CountingLoss()
        kwargs = dict(X=X, y=y, num_classes=4, num_tries=num_tries, weight_scale=weight_scale,
                      rng=np.random.default_rng(seed))
        W, loss = _call_strategy(fn, (loss_fn,), kwargs, what)
        want_W, want_loss = random_search_reference(softmax_loss_reference, X, y, 4, num_tries, weight_scale,
                                                    np.random.default_rng(seed))
        if loss_fn.calls != num_tries:
            _fail(f"{_name(fn)} called the loss function {loss_fn.calls} times on {what}; expected once per try.")
        if loss_fn.regs != {0.0}:
            _fail(f"{_name(fn)} called the loss with reg = {sorted(loss_fn.regs)}; the search compares data losses (reg=0).")
        _compare_weights(fn, W, want_W, what, " Draw every candidate as weight_scale * rng.standard_normal((D, "
                                              "num_classes)), in order, and keep the first with the lowest loss.")
        if not _close(loss, want_loss):
            _fail(f"{_name(fn)}: best_loss should be {want_loss:.10g} (the loss of the best W), got {loss!r}, on {what}.")


def check_random_local_search(fn):
    """Hidden test of ``random_local_search``: same draws, same accepted steps, same loss history."""
    __tracebackhide__ = True
    X, y = search_problem(seed=502)
    W0 = np.random.default_rng(21).standard_normal((X.shape[1], 4))
    for num_steps, step_size, seed in ((1, 0.5, 22), (40, 0.3, 23)):
        what = f"a hidden problem with num_steps={num_steps}, step_size={step_size}, rng=np.random.default_rng({seed})"
        kwargs = dict(X=X, y=y, W0=W0, num_steps=num_steps, step_size=step_size, rng=np.random.default_rng(seed))
        W, history = _call_strategy(fn, (_CountingLoss(),), kwargs, what)
        want_W, want_history = random_local_search_reference(softmax_loss_reference, X, y, W0, num_steps, step_size,
                                                             np.random.default_rng(seed))
        _compare_history(fn, history, want_history, what)
        _compare_weights(fn, W, want_W, what, " Every step draws step_size * rng.standard_normal(W.shape) once "
                                              "and moves only if the loss gets strictly lower.")


def check_gradient_descent(fn):
    """Hidden test of ``gradient_descent``: full-batch steps and losses against the reference."""
    __tracebackhide__ = True
    X, y = search_problem(seed=503)
    W0 = 0.1 * np.random.default_rng(31).standard_normal((X.shape[1], 4))
    for learning_rate, num_steps, reg in ((0.5, 1, 0.0), (0.2, 15, 0.05)):
        what = f"a hidden problem with learning_rate={learning_rate}, num_steps={num_steps}, reg={reg}"
        kwargs = dict(X=X, y=y, W0=W0, learning_rate=learning_rate, num_steps=num_steps, reg=reg)
        W, history = _call_strategy(fn, (softmax_loss_reference,), kwargs, what)
        want_W, want_history = gradient_descent_reference(softmax_loss_reference, X, y, W0, learning_rate,
                                                          num_steps, reg)
        _compare_history(fn, history, want_history, what)
        _compare_weights(fn, W, want_W, what)


def check_minibatch_sgd(fn):
    """Hidden test of ``minibatch_sgd``: the same minibatches and steps as the kit's training loop."""
    __tracebackhide__ = True
    X, y = search_problem(N=60, seed=504)
    W0 = 0.1 * np.random.default_rng(41).standard_normal((X.shape[1], 4))
    for learning_rate, num_steps, batch_size, reg, seed in ((0.5, 1, 5, 0.0, 42), (0.2, 20, 16, 0.05, 43)):
        what = (f"a hidden problem (N={X.shape[0]}) with learning_rate={learning_rate}, num_steps={num_steps}, "
                f"batch_size={batch_size}, reg={reg}, rng=np.random.default_rng({seed})")
        kwargs = dict(X=X, y=y, W0=W0, learning_rate=learning_rate, num_steps=num_steps, batch_size=batch_size,
                      rng=np.random.default_rng(seed), reg=reg)
        W, history = _call_strategy(fn, (softmax_loss_reference,), kwargs, what)
        want_W, want_history = minibatch_sgd_reference(softmax_loss_reference, X, y, W0, learning_rate, num_steps,
                                                       batch_size, seed, reg)
        _compare_history(fn, history, want_history, what)
        _compare_weights(fn, W, want_W, what, " Draw each minibatch as rng.integers(0, N, size=batch_size).")


# --------------------------------------------------------------------------- second order


def quadratic_problem(n, seed):
    """A random positive definite ``A`` (n, n) and ``b`` (n,): f(w) = w.A.w / 2 - b.w, minimum A^-1 b."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    A = Q @ np.diag(np.geomspace(1.0, 100.0, n)) @ Q.T
    return (A + A.T) / 2, rng.standard_normal(n)


def check_newton_step(fn):
    """Hidden test of ``newton_step``: one step lands on the minimum of random quadratics, inputs untouched."""
    __tracebackhide__ = True
    for n, seed in ((1, 601), (2, 602), (7, 603)):
        A, b = quadratic_problem(n, seed)
        w = np.random.default_rng(seed + 50).standard_normal(n)
        gradient = A @ w - b
        what = f"a hidden quadratic f(w) = w.A.w/2 - b.w in {n} dimensions (condition number 100)"
        next_w = _call(fn, (w, gradient, A), what, ("w", "gradient", "hessian"))
        minimum = np.linalg.solve(A, b)
        if np.shape(next_w) != (n,) or not np.allclose(next_w, minimum, rtol=1e-8, atol=1e-10):
            _fail(f"{_name(fn)}: on {what}, one Newton step from w should land exactly on the minimum "
                  f"{np.round(minimum, 6)}, but got {np.round(next_w, 6) if np.ndim(next_w) else next_w}. "
                  f"next_w = w - H^-1 gradient (np.linalg.solve(hessian, gradient)).")


def lbfgs_reference(loss_fn, X, y, reg, W0, max_iterations):
    """scipy's L-BFGS-B on the flattened weights; returns W and the loss of every evaluation."""
    losses = []

    def objective(flat):
        loss, dW = loss_fn(flat.reshape(W0.shape), X, y, reg)
        losses.append(loss)
        return loss, dW.ravel()

    result = scipy.optimize.minimize(objective, np.ravel(W0).astype(np.float64), jac=True, method="L-BFGS-B",
                                     options={"maxiter": max_iterations})
    return result.x.reshape(W0.shape), losses


def check_train_lbfgs(fn):
    """Hidden test of ``train_lbfgs``: the final loss of a few and of many iterations, the history, W0 untouched."""
    __tracebackhide__ = True
    X, y = search_problem(N=50, seed=505)
    W0 = 0.01 * np.random.default_rng(51).standard_normal((X.shape[1], 4))
    for max_iterations in (3, 100):
        what = f"a hidden problem (N=50, D=6, C=4, reg=0.01) with max_iterations={max_iterations}"
        kwargs = dict(X=X, y=y, reg=0.01, W0=W0, max_iterations=max_iterations)
        W, history = _call_strategy(fn, (softmax_loss_reference,), kwargs, what)
        want_W, want_history = lbfgs_reference(softmax_loss_reference, X, y, 0.01, W0, max_iterations)
        want_loss = softmax_loss_reference(want_W, X, y, 0.01)[0]
        if not isinstance(W, np.ndarray) or W.shape != W0.shape:
            _fail(f"{_name(fn)} must return W of shape {W0.shape} (reshape the result's x), got {np.shape(W)}, on {what}.")
        loss = softmax_loss_reference(W, X, y, 0.01)[0]
        if not abs(loss - want_loss) <= 1e-6 * abs(want_loss):
            _fail(f"{_name(fn)}: on {what} the returned W has loss {loss:.10g}; scipy's L-BFGS-B reaches "
                  f"{want_loss:.10g}. Pass jac=True, method='L-BFGS-B' and options={{'maxiter': max_iterations}}, "
                  f"and return (loss, dW.ravel()) from the objective.")
        if not (0 < len(history) <= 2 * len(want_history) and abs(min(history) - loss) <= 1e-9 * abs(loss) + 1e-12):
            _fail(f"{_name(fn)}: loss_history should hold the loss of every evaluation ({len(want_history)} for "
                  f"scipy here), the lowest being the loss of the returned W ({loss:.10g}); got {len(history)} values.")


# ------------------------------------------------------------------- averaging and ensembles


def polyak_reference(name, decay):
    """A reference rule wrapped to keep ``"average"``: starts at w, then ``decay * average + (1 - decay) * next_w``."""
    inner = reference_rule(name)

    def averaged(w, dw, state=None):
        state = dict(state or {})
        average = state.pop("average", w)
        next_w, next_state = inner(w, dw, state)
        return next_w, {**next_state, "average": decay * average + (1.0 - decay) * next_w}

    return averaged


def check_polyak_average(fn):
    """Hidden test of ``with_polyak_average(rule, decay)``: weights, inner buffers and the average over 5 steps."""
    __tracebackhide__ = True
    for name, decay in (("sgd_momentum", 0.9), ("adam", 0.5)):
        what = f"with_polyak_average(a correct {name}, decay={decay})"
        rule = _call(fn, (reference_rule(name), decay), what)
        expected_rule = polyak_reference(name, decay)
        w0, gradients = shared.rule_sequence(seed=701)
        w, state, want_w, want_state = w0, {"learning_rate": 0.1}, w0, {"learning_rate": 0.1}
        for k, dw in enumerate(gradients):
            step = f"step {k + 1} of {what}"
            w, state = _call_rule(rule, w, dw, state, step)
            want_w, want_state = expected_rule(want_w, dw, want_state)
            _compare_weights(fn, w, want_w, step, " The wrapped rule must compute next_w as the rule alone does.")
            if "average" not in state:
                _fail(f"{_name(fn)}: the state has no 'average' after {step}.")
            _compare_weights(fn, state["average"], want_state["average"], step + " (the 'average' in the state)",
                             " The average starts at w (the weights before the first step), then becomes "
                             "decay * average + (1 - decay) * next_w after every step.")
            for key in RULES[name].buffers:
                if key not in state or not _close(state[key], want_state[key]):
                    _fail(f"{_name(fn)}: the wrapped rule's buffer {key!r} is wrong after {step}: pass the state "
                          f"through to the rule and keep what it returns.")


def ensemble_reference(weights, X):
    """Mean softmax probability over the models (log-sum-exp stable), then the most probable class."""
    probabilities = sum(np.exp(log_softmax(np.asarray(X, np.float64) @ W, axis=1)) for W in weights)
    return np.argmax(probabilities, axis=1)


def ensemble_cases():
    """(weights, X, description): hand cases where the mean probability disagrees with the mean score and
    with a majority vote, seeded random ensembles, and scores around 1000."""
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731  (two classes: scores (logit p, 0))
    for probabilities in ((0.999, 0.2, 0.2), (0.999, 0.4, 0.4)):
        yield ([np.array([[logit(p), 0.0]]) for p in probabilities], np.ones((1, 1)),
               f"three models that give class 0 the probabilities {probabilities}")
    for K, seed in ((1, 801), (3, 802), (5, 803)):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((40, 6))
        yield [2 * rng.standard_normal((6, 5)) for _ in range(K)], X, f"{K} random models on 40 examples"
    rng = np.random.default_rng(804)
    X = np.hstack([rng.standard_normal((20, 5)), np.ones((20, 1))])
    weights = []
    for _ in range(3):
        W = rng.standard_normal((6, 4))
        W[-1] += 1000.0
        weights.append(W)
    yield weights, X, "3 models whose scores are all around 1000"


def check_ensemble_predict(fn):
    """Hidden test of ``ensemble_predict``: the class of the highest mean probability, stable for large scores."""
    __tracebackhide__ = True
    for weights, X, description in ensemble_cases():
        what = f"an ensemble of {description}"
        predictions = _call(fn, (list(weights), X), what, ("weights", "X"))
        expected = ensemble_reference(weights, X)
        if np.shape(predictions) != expected.shape or not np.array_equal(predictions, expected):
            _fail(f"{_name(fn)}: wrong predictions on {what}: expected {expected[:10].tolist()}..., got "
                  f"{np.asarray(predictions).ravel()[:10].tolist()}... Average the softmax probabilities of the models "
                  f"(not their votes, not their scores) and compute them stably (subtract each row's maximum).")


# ----------------------------------------------------------------------------- numeric answers


def check_adagrad_step_ratio(value):
    """Hidden test: with a constant gradient g, AdaGrad's step 100 is lr g / sqrt(100 g^2) = step 1 / 10."""
    __tracebackhide__ = True
    _LOSS_CHECKS._check_answer(value, "adagrad_step_ratio", 0.1,
                  "After t steps of the same gradient g, what is the cache, and so the size of step t?")


def check_adam_first_steps(without_correction, with_correction):
    """Hidden test: Adam's first step over the learning rate, (1 - b1)/sqrt(1 - b2) ≈ 3.16 without, 1 with correction."""
    __tracebackhide__ = True
    _LOSS_CHECKS._check_answer(without_correction, "adam_first_step_without_correction", 0.1 / np.sqrt(0.001),
                  "Write m and v after one step from zero buffers; the step is learning_rate * m / sqrt(v).")
    _LOSS_CHECKS._check_answer(with_correction, "adam_first_step_with_correction", 1.0,
                  "What are m / (1 - beta1) and v / (1 - beta2) after one step from zero buffers?")
