"""Hidden checks of the ``optimizers`` notebook, section 1: lecture 3's search strategies.

Loaded through ``autograder/checks/optimizers.py`` (see there).
"""

import functools
from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module
from cs231kit.training import train_linear_classifier

_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _call = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.call
shared = load_course_module("autograder/checks/cases/optimizers.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the probes of ``autograder/verify/optimizers.py``."""
_close, _worst = functools.partial(_CONTRACT.close, rtol=shared.RULE_RTOL), _CONTRACT.worst_entry


_loss_checks = _CONTRACT.on_first_use("autograder/checks/loss.py")
"""The loss assignment's checks, loaded when a check first needs them."""


def softmax_loss_reference(W, X, y, reg):
    """The trusted softmax loss of the loss assignment: ``loss, dW = softmax_loss_reference(W, X, y, reg)``."""
    return _loss_checks().softmax_loss_reference(W, X, y, reg)


# ----------------------------------------------------------------- lecture 3's search strategies


def search_problem(N=40, D=6, C=4, seed=501):
    """A small float64 softmax problem ``X, y`` with a bias column."""
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((N, D - 1)), np.ones((N, 1))])
    return X, rng.integers(0, C, size=N)


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
        loss_fn = shared.CountingLoss(softmax_loss_reference)
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
        W, history = _call_strategy(fn, (shared.CountingLoss(softmax_loss_reference),), kwargs, what)
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
