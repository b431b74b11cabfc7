"""Out-of-process verification of the ``optimizers`` assignment (see ``cs231kit.grading.verify``).

Each probe mirrors what its test cells check, on inputs of the same kind, and runs in the sandbox
for the student's code and for the reference alike. This file is visible to the sandbox (it holds
no reference implementation); ``autograder/checks/`` is not, but for the inputs it shares with the
checks, ``autograder/checks/cases/``.

- Update rules: the notebook's own steps (visible tests), and five consecutive steps threading the
  rule's state with the hidden tests' hyperparameters, the defaults, float32 inputs and convergence
  on the ill-conditioned quadratic (hidden tests). Every call gets copies of ``w``, ``dw`` and the
  state, and the probe returns how much the call moved them (0 for a pure rule), so that a rule
  writing into the caller's state fails like it does in the notebook.
- Search strategies, schedules, Newton, L-BFGS, Polyak averaging and ensembles: visible tests state
  properties (the loss never increases, ``best_loss`` is the loss of ``best_W``...), so their probes
  return how far the student's numbers are from satisfying them (0 when they do) or whether they
  do (1.0); hidden tests compare with a reference, so their probes return the values.
- Callable arguments are the trusted functions below (the notebook's given softmax loss, two stateful
  rules to wrap that are none of the graded ones),
  never the student's, except where the test cell itself uses the student's (the visible Polyak test
  wraps the student's ``sgd``).
"""

import copy
import numbers

from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module
from cs231kit.grading.verify import InKernelOnly, Probe
from cs231kit.landscapes import ill_conditioned_quadratic, run_update_rule

shared = load_course_module("autograder/checks/cases/optimizers.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the hidden checks of ``autograder/checks/optimizers.py``."""

SEED = 0
"""The notebook's seed: the visible tests' inputs are rebuilt from it exactly."""
ISCLOSE_RTOL, ISCLOSE_ATOL = 1e-5, 1e-8
"""``np.isclose``/``np.allclose`` defaults, used by the visible tests."""

# Test cells that no probe backs, and why.
TRAINING_RUN = "the accuracy of the notebook's own training run (training is not repeated out of process)"
IN_KERNEL_ONLY = {"test_strategies_accuracy": InKernelOnly(TRAINING_RUN, ("minibatch_sgd on the notebook's problem",))}

# The course's own implementations of graded functions: a probe that reaches one fails.
COURSE_TWINS = {"sgd": ("cs231kit.training.sgd",), "minibatch_sgd": ("cs231kit.training.train_linear_classifier",)}


# ------------------------------------------------------------------ trusted callables and inputs


def softmax_loss(W, X, y, reg):
    """The loss the notebook gives (cell ``softmax_loss_given``): ``loss, dW``, stable, float64."""
    N = X.shape[0]
    scores = X @ W
    log_probs = scores - scores.max(axis=1, keepdims=True)
    log_probs = log_probs - np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    return -log_probs[np.arange(N), y].mean() + reg * np.sum(W * W), X.T @ dscores / N + 2 * reg * W


def counting_softmax_loss():
    """A fresh :func:`softmax_loss` that counts its calls and the regs it saw (``cases.CountingLoss``)."""
    return shared.CountingLoss(softmax_loss)


def running_mean_rule(w, dw, state=None):
    """A stateful rule that is none of the notebook's, for ``with_polyak_average`` to wrap: steps along
    the running mean of the gradients (buffers ``trace`` and ``t``), shrinking as 1 / sqrt(t)."""
    state = {"learning_rate": 0.02, **(state or {})}
    t = state.get("t", 0) + 1
    trace = state.get("trace", np.zeros_like(w))
    trace = trace + (dw - trace) / t
    return w - state["learning_rate"] / np.sqrt(t) * trace, {**state, "trace": trace, "t": t}


def scaled_sign_rule(w, dw, state=None):
    """Another such rule: sign steps scaled by a decaying average of |dw| (buffer ``scale``)."""
    state = {"learning_rate": 0.02, **(state or {})}
    scale = 0.5 * state.get("scale", np.ones_like(w)) + 0.5 * np.abs(dw)
    return w - state["learning_rate"] * np.sign(dw) * scale, {**state, "scale": scale}


def problem(N, D, C, seed):
    """Seeded float64 ``X`` (N, D) with a bias column last, and labels ``y`` in [0, C)."""
    rng = np.random.default_rng(seed)
    return np.hstack([rng.standard_normal((N, D - 1)), np.ones((N, 1))]), rng.integers(0, C, size=N)


TINY = dict(N=30, D=5, C=3, seed=SEED)
"""The visible tests' ``X_tiny, y_tiny`` (``problem(**TINY)`` rebuilds them exactly)."""


# ------------------------------------------------------------------ helpers


def call_on_copies(fn, *args, names=(), **kwargs):
    """``fn(*args, **kwargs)`` on copies of its array, list and dict arguments.

    Parameters
    ----------
    names : tuple of str, optional
        Names of the positional arguments in ``moved`` (by default their positions).

    Returns
    -------
    result
        What ``fn`` returned.
    moved : dict
        For each array, list or dict argument (by name), how much the call changed it: ``after -
        before`` entry by entry, and for a dict the change in its number of keys. All zeros when
        ``fn`` leaves its inputs alone; a dict entry it deleted shows as NaN.
    """
    given = [_copy(a) for a in args]
    given_kwargs = {k: _copy(v) for k, v in kwargs.items()}
    result = fn(*given, **given_kwargs)
    named = [(names[i] if i < len(names) else str(i), a, g) for i, (a, g) in enumerate(zip(args, given))]
    named += [(k, v, given_kwargs[k]) for k, v in kwargs.items()]
    return result, {name: _moved(before, after) for name, before, after in named if _inspectable(before)}


def _inspectable(value):
    return isinstance(value, (np.ndarray, list, dict))


def _copy(value):
    return copy.deepcopy(value) if _inspectable(value) else value


def _numeric(value):
    return np.asarray(value).dtype.kind in "biuf"


def _moved(before, after):
    """``after - before`` (float64), recursively through a dict's numeric entries (see :func:`call_on_copies`)."""
    if isinstance(before, dict):
        after = after if isinstance(after, dict) else {}
        return {"num_keys": len(after) - len(before),
                **{k: _moved(v, after.get(k, np.nan)) for k, v in before.items() if _numeric(v)}}
    return np.asarray(after, np.float64) - np.asarray(before, np.float64)


def entries(state, keys):
    """The entries ``keys`` of a returned state (a missing one is left out: "no value" for the grader)."""
    if not isinstance(state, dict):
        raise TypeError(f"next_state must be a dict, not {type(state).__name__}")
    return {key: state[key] for key in keys if key in state}


def beyond_isclose(a, b):
    """How far ``a`` is outside ``np.isclose(a, b)``'s tolerance around ``b`` (0 when close)."""
    return max(abs(float(a) - float(b)) - (ISCLOSE_ATOL + ISCLOSE_RTOL * abs(float(b))), 0.0)


def answers(*names):
    """The values of the notebook's answer variables, which must be real numbers (not bools)."""
    def run(definitions):
        values = {name: definitions[name] for name in names}
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a number, not {value!r}")
        return values
    return run


# ------------------------------------------------------------------ update rules

# rule -> (state, w, gradients, the state entries the test checks after the last step): the visible tests.
NOTEBOOK_STEPS = {
    "sgd": ({"learning_rate": 0.1}, [1.0, 2.0, -3.0], [[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]], ()),
    "sgd_momentum": ({"learning_rate": 0.1, "momentum": 0.9}, [1.0, 2.0], [[1.0, -2.0], [1.0, -2.0]], ("velocity",)),
    "nesterov_momentum": ({"learning_rate": 0.1, "momentum": 0.9}, [1.0, 2.0], [[1.0, -2.0], [1.0, -2.0]],
                          ("velocity",)),
    "adagrad": ({"learning_rate": 0.1}, [1.0, 2.0], [[3.0, -4.0], [4.0, 3.0]], ("cache",)),
    "rmsprop": ({"learning_rate": 0.1, "decay_rate": 0.75}, [1.0, 2.0], [[4.0, -2.0], [0.0, 2.0]], ("cache",)),
    "adam": ({"learning_rate": 0.1}, [1.0, 2.0], [[0.5, -3.0], [0.5, -3.0]], ("t", "m")),
}


def threaded_steps(rule, w, gradients, state, keys):
    """Consecutive steps from ``w`` threading the rule's own state: after each, next_w, its itemsize,
    the state entries ``keys`` and how much the call moved w, dw and the state."""
    steps = {}
    for k, dw in enumerate(gradients):
        (w, state), moved = call_on_copies(rule, w, dw, state, names=("w", "dw", "state"))
        steps[f"step{k + 1}"] = {"next_w": w, "itemsize": w.dtype.itemsize, "state": entries(state, keys),
                                 "moved": moved}
    return steps


def notebook_steps(rule_of, state, w, gradients, checked):
    """The visible tests' ``check_steps``: next_w after each step, untouched inputs, the last state's ``checked``."""
    def run(definitions):
        rule, last = rule_of(definitions), dict(state)
        steps = {}
        w_k = np.asarray(w, np.float64)
        for k, dw in enumerate(gradients):
            (w_k, last), moved = call_on_copies(rule, w_k, np.asarray(dw, np.float64), last, names=("w", "dw", "state"))
            steps[f"step{k + 1}"] = {"next_w": w_k, "moved": moved}
        return {**steps, "last_state": entries(last, checked)}
    return run


def notebook_defaults(name):
    """The visible tests' ``check_defaults``: the hyperparameters of ``rule(np.ones(3), np.ones(3))``."""
    return lambda definitions: entries(definitions[name](np.ones(3), np.ones(3))[1], shared.RULE_CASES[name]["hidden"])


def hidden_rule(name):
    """Five steps with the hidden hyperparameters (next_w, buffers, hyperparameters), the defaults with
    state None and {}, three float32 steps (dtype kept), untouched inputs, convergence on the quadratic."""
    case = shared.RULE_CASES[name]
    hyper, buffers = case["hidden"], case["buffers"]

    def run(definitions):
        rule = definitions[name]
        w, gradients = shared.rule_sequence((4, 3), seed=1401)
        outputs = {"sequence": threaded_steps(rule, w, gradients, dict(hyper), (*hyper, *buffers))}
        w, (dw, *_) = shared.rule_sequence((4, 3), seed=1402)
        for label, state in (("none", None), ("empty", {})):
            (next_w, next_state), moved = call_on_copies(rule, w, dw, state, names=("w", "dw", "state"))
            outputs[f"defaults_{label}"] = {"next_w": next_w, "state": entries(next_state, hyper), "moved": moved}
        w, gradients = shared.rule_sequence((3, 5), seed=1403)
        float32 = threaded_steps(rule, w.astype(np.float32), [g.astype(np.float32) for g in gradients[:3]], None, ())
        outputs["float32"] = {step: {k: v for k, v in out.items() if k != "next_w"} for step, out in float32.items()}
        path = run_update_rule(rule, ill_conditioned_quadratic(shared.QUADRATIC_CONDITION), num_steps=case["budget"],
                               state=dict(case["quadratic"]))
        outputs["converged"] = float(np.min(np.linalg.norm(path, axis=1)) < shared.CONVERGED_DISTANCE)
        return outputs
    return run


def _rule_probes(name):
    """The probes of one update rule: the notebook's steps and defaults (visible), the hidden checks."""
    state, w, gradients, checked = NOTEBOOK_STEPS[name]
    twins = COURSE_TWINS.get(name, ())
    return [
        # The test allows atol 1e-5 around hand values (rmsprop's rounded, 4e-6 off): 1e-5 + 1e-5 |ref| covers it.
        Probe(f"{name} on the notebook's steps", (f"test_{name}_visible",),
              notebook_steps(lambda definitions: definitions[name], state, w, gradients, checked),
              rtol=ISCLOSE_RTOL, atol=1e-5, course_twins=twins),
        Probe(f"{name}'s default hyperparameters", (f"test_{name}_visible",), notebook_defaults(name), rtol=0, atol=0,
              course_twins=twins),
        Probe(f"{name} on the hidden checks", (f"test_{name}_hidden",), hidden_rule(name), rtol=shared.RULE_RTOL,
              atol=0, course_twins=twins),
    ]


# ------------------------------------------------------------------ schedules

# (schedule, iteration, parameters) of the visible test.
NOTEBOOK_SCHEDULES = (
    ("step_decay", 25, dict(learning_rate=0.1, factor=0.5, every=10)),
    ("exponential_decay", 10, dict(learning_rate=0.1, k=0.1)),
    ("inverse_time_decay", 10, dict(learning_rate=0.1, k=0.1)),
    ("cosine_decay", 50, dict(learning_rate=0.1, num_iterations=100)),
    ("cosine_decay", np.array([0, 50, 100]), dict(learning_rate=0.1, num_iterations=100)),
    ("step_decay", np.array([0, 9, 10]), dict(learning_rate=0.1, factor=0.5, every=10)),
)


def notebook_schedules(definitions):
    """The values of the visible test's six calls."""
    return tuple(definitions[name](np.copy(t), **parameters) for name, t, parameters in NOTEBOOK_SCHEDULES)


def hidden_schedule(name):
    """The schedule at each hidden iteration, one at a time, then at all of them as one array."""
    def run(definitions):
        fn, parameters = definitions[name], shared.SCHEDULE_PARAMETERS[name]
        return {"one_at_a_time": tuple(fn(t, **parameters) for t in shared.SCHEDULE_ITERATIONS),
                "array": fn(np.array(shared.SCHEDULE_ITERATIONS), **parameters)}
    return run


# ------------------------------------------------------------------ search strategies


STRATEGY_ARGUMENTS = ("loss_fn", "X", "y", "W0")
"""The first positional arguments of random_local_search, gradient_descent and minibatch_sgd."""


def notebook_random_search(definitions):
    """Visible test: 20 tries on the tiny problem; best_W's shape, best_loss, and best_loss vs loss(best_W)."""
    X, y = problem(**TINY)
    best_W, best_loss = definitions["random_search"](softmax_loss, X, y, 3, num_tries=20, weight_scale=1.0,
                                                     rng=np.random.default_rng(SEED))
    return {"shape": np.shape(best_W), "best_loss": best_loss,
            "beyond_own_loss": beyond_isclose(best_loss, softmax_loss(best_W, X, y, 0.0)[0])}


def notebook_random_local_search(definitions):
    """Visible test: 50 steps; W0 untouched, one loss per step from loss(W0), never increasing, a lower loss."""
    X, y = problem(**TINY)
    W0 = np.random.default_rng(SEED).standard_normal((5, 3))
    (W, history), moved = call_on_copies(definitions["random_local_search"], softmax_loss, X, y, W0,
                                         names=STRATEGY_ARGUMENTS, num_steps=50, step_size=0.2,
                                         rng=np.random.default_rng(SEED))
    history = np.asarray(history, np.float64)
    return {"moved_W0": moved["W0"], "num_losses": len(history),
            "beyond_first_loss": beyond_isclose(history[0], softmax_loss(W0, X, y, 0.0)[0]),
            "largest_increase": max(np.max(np.diff(history), initial=0.0), 0.0),
            "lowered": float(softmax_loss(W, X, y, 0.0)[0] < history[0])}


def notebook_gradient_descent(definitions):
    """Visible test: one step from 0 (W and the loss log C), then 30 steps: W0 untouched, 30 losses, lower."""
    X, y = problem(**TINY)
    fn = definitions["gradient_descent"]
    W, history = fn(softmax_loss, X, y, np.zeros((5, 3)), learning_rate=0.5, num_steps=1, reg=0.1)
    (_, long_history), moved = call_on_copies(fn, softmax_loss, X, y, np.zeros((5, 3)), names=STRATEGY_ARGUMENTS,
                                              learning_rate=0.5, num_steps=30, reg=0.1)
    return {"one_step_W": W, "first_loss": history[0], "moved_W0": moved["W0"], "num_losses": len(long_history),
            "lowered": float(long_history[-1] < long_history[0])}


def notebook_minibatch_sgd(definitions):
    """Visible test: 20 steps from 0 (the reference agrees with the kit's training loop), W0 untouched."""
    X, y = problem(**TINY)
    (W, history), moved = call_on_copies(definitions["minibatch_sgd"], softmax_loss, X, y, np.zeros((5, 3)),
                                         names=STRATEGY_ARGUMENTS, learning_rate=0.5, num_steps=20, batch_size=8,
                                         rng=np.random.default_rng(SEED), reg=0.1)
    return {"W": W, "history": history, "moved_W0": moved["W0"]}


def hidden_strategy(name, cases):
    """Each case ``(kwargs, loss factory)``: the returned W and loss (random_search) or loss history, and how
    much the call moved X, y, W0; with a counting loss, its number of calls and the regs it saw too."""
    def run(definitions):
        outputs = {}
        for i, (kwargs, make_loss) in enumerate(cases()):
            loss_fn = make_loss()
            (W, loss), moved = call_on_copies(definitions[name], loss_fn, **kwargs)
            outputs[f"case{i}"] = {"W": W, "loss": loss, "moved": moved}
            if isinstance(loss_fn, shared.CountingLoss):
                outputs[f"case{i}"].update(calls=loss_fn.calls, regs=np.array(sorted(loss_fn.regs)))
        return outputs
    return run


def random_search_cases():
    """1, 25 and 60 tries with scales 0.5, 1 and 0.01 (N=40, D=6, C=4), a counting loss."""
    X, y = problem(40, 6, 4, seed=1501)
    return [(dict(X=X, y=y, num_classes=4, num_tries=tries, weight_scale=scale, rng=np.random.default_rng(seed)),
             counting_softmax_loss) for tries, scale, seed in ((1, 0.5, 1511), (25, 1.0, 1512), (60, 0.01, 1513))]


def random_local_search_cases():
    """1 and 40 steps of sizes 0.5 and 0.3 from random W0."""
    X, y = problem(40, 6, 4, seed=1502)
    W0 = np.random.default_rng(1521).standard_normal((6, 4))
    return [(dict(X=X, y=y, W0=W0, num_steps=steps, step_size=size, rng=np.random.default_rng(seed)),
             counting_softmax_loss)
            for steps, size, seed in ((1, 0.5, 1522), (40, 0.3, 1523))]


def gradient_descent_cases():
    """1 step without and 15 steps with regularisation, from small random W0."""
    X, y = problem(40, 6, 4, seed=1503)
    W0 = 0.1 * np.random.default_rng(1531).standard_normal((6, 4))
    return [(dict(X=X, y=y, W0=W0, learning_rate=lr, num_steps=steps, reg=reg), lambda: softmax_loss)
            for lr, steps, reg in ((0.5, 1, 0.0), (0.2, 15, 0.05))]


def minibatch_sgd_cases():
    """1 step of 5 examples without, 20 steps of 16 with regularisation (N=60)."""
    X, y = problem(60, 6, 4, seed=1504)
    W0 = 0.1 * np.random.default_rng(1541).standard_normal((6, 4))
    return [(dict(X=X, y=y, W0=W0, learning_rate=lr, num_steps=steps, batch_size=batch, reg=reg,
                  rng=np.random.default_rng(seed)), lambda: softmax_loss)
            for lr, steps, batch, reg, seed in ((0.5, 1, 5, 0.0, 1542), (0.2, 20, 16, 0.05, 1543))]


# ------------------------------------------------------------------ second order


NEWTON_ARGUMENTS = ("w", "gradient", "hessian")


def notebook_newton_step(definitions):
    """Visible test: one step from the quadratic's start reaches (0, 0); w untouched."""
    quadratic = ill_conditioned_quadratic()
    w = np.array(quadratic.start)
    next_w, moved = call_on_copies(definitions["newton_step"], w, quadratic(w)[1], quadratic.hessian(*w),
                                   names=NEWTON_ARGUMENTS)
    return {"next_w": next_w, "moved_w": moved["w"]}


def hidden_newton_step(definitions):
    """One step on random quadratics in 1, 2 and 7 dimensions (condition number 100); inputs untouched."""
    outputs = {}
    for n, seed in ((1, 1601), (2, 1602), (7, 1603)):
        rng = np.random.default_rng(seed)
        Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
        A = Q @ np.diag(np.geomspace(1.0, 100.0, n)) @ Q.T
        A, b, w = (A + A.T) / 2, rng.standard_normal(n), rng.standard_normal(n)
        next_w, moved = call_on_copies(definitions["newton_step"], w, A @ w - b, A, names=NEWTON_ARGUMENTS)
        outputs[f"n{n}"] = {"next_w": next_w, "moved": moved}
    return outputs


def notebook_train_lbfgs(definitions):
    """Visible test: 20 iterations from 0 on the tiny problem (reg 0.1): W's shape, W0 untouched, the first
    loss log 3, and the returned W lower than the start and (np.isclose) the lowest loss seen."""
    X, y = problem(**TINY)
    (W, history), moved = call_on_copies(definitions["train_lbfgs"], softmax_loss, X, y, 0.1, np.zeros((5, 3)),
                                         names=("loss_fn", "X", "y", "reg", "W0"), max_iterations=20)
    final = softmax_loss(W, X, y, 0.1)[0]
    return {"shape": np.shape(W), "moved_W0": moved["W0"], "first_loss": history[0],
            "lowered": float(final < history[0]), "beyond_lowest": beyond_isclose(final, min(history))}


def hidden_train_lbfgs(definitions):
    """3 and 100 iterations (N=50, D=6, C=4, reg 0.01): the loss of the returned W, the number of evaluations
    recorded, how far the lowest of them is from that loss (beyond 1e-9 relative), inputs untouched."""
    X, y = problem(50, 6, 4, seed=1505)
    W0 = 0.01 * np.random.default_rng(1551).standard_normal((6, 4))
    outputs = {}
    for max_iterations in (3, 100):
        (W, history), moved = call_on_copies(definitions["train_lbfgs"], softmax_loss, X=X, y=y, reg=0.01, W0=W0,
                                             max_iterations=max_iterations)
        loss = softmax_loss(np.asarray(W), X, y, 0.01)[0]
        gap = abs(min(history) - loss) - (1e-9 * abs(loss) + 1e-12)
        outputs[f"iterations{max_iterations}"] = {"shape": np.shape(W), "loss": loss, "evaluations": len(history),
                                                  "beyond_lowest": max(gap, 0.0), "moved": moved}
    return outputs


# ------------------------------------------------------------------ averaging and ensembles


def hidden_polyak(definitions):
    """Five steps of two trusted stateful rules (decay 0.9 and 0.5), wrapped: next_w, the average, the
    wrapped rule's buffers, untouched inputs. The hidden test wraps momentum and Adam; the rules here
    are none of the notebook's graded ones (this file holds no answer) and catch the same bugs: an
    average of the wrong weights or decay, and a wrapped rule whose state is lost or not threaded."""
    outputs = {}
    for rule, buffers, decay in ((running_mean_rule, ("trace", "t"), 0.9), (scaled_sign_rule, ("scale",), 0.5)):
        w, gradients = shared.rule_sequence((4, 3), seed=1701)
        averaged = definitions["with_polyak_average"](rule, decay)
        outputs[rule.__name__] = threaded_steps(averaged, w, gradients, {"learning_rate": 0.1}, ("average", *buffers))
    return outputs


def logit(p):
    """Two classes, one feature of 1: the scores (logit p, 0) give class 0 the probability p."""
    return np.array([[np.log(p / (1 - p)), 0.0]])


def notebook_ensembles(definitions):
    """Visible test: the two hand cases (mean probability vs mean score, vs majority vote), one model."""
    fn, (X, _) = definitions["ensemble_predict"], problem(**TINY)
    return (fn([logit(p) for p in (0.999, 0.2, 0.2)], np.ones((1, 1))),
            fn([logit(p) for p in (0.999, 0.4, 0.4)], np.ones((1, 1))),
            fn([np.random.default_rng(SEED).standard_normal((5, 3))], X))


def hidden_ensembles(definitions):
    """The hand cases, random ensembles of 1, 3 and 5 models on 40 examples, and scores around 1000."""
    fn, outputs = definitions["ensemble_predict"], {}
    for i, probabilities in enumerate(((0.999, 0.2, 0.2), (0.999, 0.4, 0.4))):
        outputs[f"hand{i}"] = fn([logit(p) for p in probabilities], np.ones((1, 1)))
    for K, seed in ((1, 1801), (3, 1802), (5, 1803)):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((40, 6))
        outputs[f"models{K}"] = fn([2 * rng.standard_normal((6, 5)) for _ in range(K)], X)
    rng = np.random.default_rng(1804)
    X = np.hstack([rng.standard_normal((20, 5)), np.ones((20, 1))])
    bias_of_1000 = np.vstack([np.zeros((5, 4)), np.full((1, 4), 1000.0)])
    outputs["large_scores"] = fn([rng.standard_normal((6, 4)) + bias_of_1000 for _ in range(3)], X)
    return outputs


PROBES = (
    Probe("random_search on the notebook's problem", ("test_random_search_visible",), notebook_random_search,
          rtol=ISCLOSE_RTOL, atol=ISCLOSE_ATOL),
    Probe("random_search against the reference", ("test_random_search_hidden",),
          hidden_strategy("random_search", random_search_cases), rtol=shared.STRATEGY_RTOL, atol=0),
    Probe("random_local_search on the notebook's problem", ("test_random_local_search_visible",),
          notebook_random_local_search, rtol=0, atol=0),
    Probe("random_local_search against the reference", ("test_random_local_search_hidden",),
          hidden_strategy("random_local_search", random_local_search_cases), rtol=shared.STRATEGY_RTOL, atol=0),
    Probe("gradient_descent on the notebook's problem", ("test_gradient_descent_visible",),
          notebook_gradient_descent, rtol=ISCLOSE_RTOL, atol=ISCLOSE_ATOL),
    Probe("gradient_descent against the reference", ("test_gradient_descent_hidden",),
          hidden_strategy("gradient_descent", gradient_descent_cases), rtol=shared.STRATEGY_RTOL, atol=0),
    Probe("minibatch_sgd on the notebook's problem", ("test_minibatch_sgd_visible",), notebook_minibatch_sgd,
          rtol=ISCLOSE_RTOL, atol=ISCLOSE_ATOL, course_twins=COURSE_TWINS["minibatch_sgd"]),
    Probe("minibatch_sgd against the reference", ("test_minibatch_sgd_hidden",),
          hidden_strategy("minibatch_sgd", minibatch_sgd_cases), rtol=shared.STRATEGY_RTOL, atol=0,
          course_twins=COURSE_TWINS["minibatch_sgd"]),
    *[probe for name in shared.RULE_CASES for probe in _rule_probes(name)],
    Probe("adagrad_step_ratio", ("test_adagrad_q",), answers("adagrad_step_ratio"), rtol=0, atol=1e-2),
    Probe("adam_first_step answers", ("test_adam_q",),
          answers("adam_first_step_without_correction", "adam_first_step_with_correction"), rtol=0, atol=1e-2),
    Probe("the schedules on the notebook's values", ("test_schedules_visible",), notebook_schedules,
          rtol=1e-12, atol=2e-15),
    *[Probe(f"{name} at the hidden iterations", (f"test_{name}_hidden",), hidden_schedule(name), rtol=1e-9,
            atol=1e-12 * shared.SCHEDULE_PARAMETERS[name]["learning_rate"]) for name in shared.SCHEDULE_PARAMETERS],
    Probe("newton_step on the notebook's quadratic", ("test_newton_step_visible",), notebook_newton_step,
          rtol=0, atol=1e-12),
    Probe("newton_step on random quadratics", ("test_newton_step_hidden",), hidden_newton_step, rtol=1e-8, atol=1e-10),
    Probe("train_lbfgs on the notebook's problem", ("test_train_lbfgs_visible",), notebook_train_lbfgs,
          rtol=ISCLOSE_RTOL, atol=ISCLOSE_ATOL),
    Probe("train_lbfgs against scipy's loss", ("test_train_lbfgs_hidden",), hidden_train_lbfgs, rtol=1e-6, atol=0,
          reference_keys=("shape", "loss", "beyond_lowest", "X", "y", "W0")),
    # Up to twice scipy's number of evaluations (a loss called again for the gradient): |a - r| <= r.
    Probe("train_lbfgs's number of evaluations", ("test_train_lbfgs_hidden",), hidden_train_lbfgs, rtol=1.0, atol=0,
          reference_keys=("evaluations",)),
    Probe("with_polyak_average of sgd on the notebook's steps", ("test_polyak_visible",),
          notebook_steps(lambda definitions: definitions["with_polyak_average"](definitions["sgd"], decay=0.5),
                         {"learning_rate": 0.1}, [1.0], [[1.0], [1.0]], ("average",)),
          rtol=ISCLOSE_RTOL, atol=1e-5),
    Probe("with_polyak_average of two stateful rules", ("test_polyak_hidden",), hidden_polyak,
          rtol=shared.STRATEGY_RTOL, atol=0),
    Probe("ensemble_predict on the notebook's cases", ("test_ensemble_visible",), notebook_ensembles, rtol=0, atol=0),
    Probe("ensemble_predict on the hidden cases", ("test_ensemble_hidden",), hidden_ensembles, rtol=0, atol=0),
)
