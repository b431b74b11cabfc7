"""Hidden checks of the ``optimizers`` notebook, section 5: second-order methods.

Loaded through ``autograder/checks/optimizers.py`` (see there).
"""

from pathlib import Path

import numpy as np
import scipy.optimize

from cs231kit.course import load_course_module

_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _call = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.call
_STRATEGIES = load_course_module("autograder/checks/optimizers_strategies.py", root=Path(__file__).resolve().parents[2])
softmax_loss_reference, search_problem = _STRATEGIES.softmax_loss_reference, _STRATEGIES.search_problem
_call_strategy, _compare_weights = _STRATEGIES._call_strategy, _STRATEGIES._compare_weights


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
