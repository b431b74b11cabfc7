"""Hidden checks of the ``optimizers`` notebook, section 6: averaging weights, averaging models.

Loaded through ``autograder/checks/optimizers.py`` (see there).
"""

import functools
from pathlib import Path

import numpy as np
from scipy.special import log_softmax

from cs231kit.course import load_course_module

_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _call = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.call
shared = load_course_module("autograder/checks/cases/optimizers.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the probes of ``autograder/verify/optimizers.py``."""
_close = functools.partial(_CONTRACT.close, rtol=shared.RULE_RTOL)
_RULES = load_course_module("autograder/checks/optimizers_rules.py", root=Path(__file__).resolve().parents[2])
RULES, reference_rule, _call_rule = _RULES.RULES, _RULES.reference_rule, _RULES._call_rule
_STRATEGIES = load_course_module("autograder/checks/optimizers_strategies.py", root=Path(__file__).resolve().parents[2])
_compare_weights = _STRATEGIES._compare_weights


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
