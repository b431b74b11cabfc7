"""Minibatch training of linear classifiers and small networks with a pluggable loss function and update rule.

The loop knows nothing about the loss: any ``loss, dW = loss_fn(W, X, y, reg)`` plugs in (the
L2 penalty ``reg * np.sum(W * W)`` is the loss function's business). Update rules follow the kit's
convention ``next_w, next_state = rule(w, dw, state)`` and are pure, so momentum or Adam slot in
where :func:`sgd` is the default. Training stops on the first non-finite loss or gradient, either
raising :class:`TrainingDiverged` or returning a result flagged ``diverged``.

Networks have a dict of named parameters: :func:`train_network` trains them epoch by epoch with
any ``step(params, grads, state)``, for example :func:`per_parameter` of an update rule.
"""

import itertools
from dataclasses import dataclass, field

import numpy as np

from cs231kit.gradcheck import validate_loss_output
from cs231kit.runtime import progress_bar


def sgd(w, dw, state=None):
    """Plain stochastic gradient descent: ``next_w = w - learning_rate * dw``.

    Parameters
    ----------
    w : ndarray, any shape
        Current parameters.
    dw : ndarray, shape of w
        Gradient of the loss with respect to w.
    state : dict, optional
        ``{"learning_rate": float}`` (default 1e-3). Not mutated.

    Returns
    -------
    next_w : ndarray, shape and dtype of w
        A new array; ``w`` and ``dw`` are left alone.
    next_state : dict
        A new dict with the hyperparameters used.
    """
    next_state = {"learning_rate": 1e-3, **(state or {})}
    next_w = np.asarray(w - next_state["learning_rate"] * dw, dtype=w.dtype)
    return next_w, next_state


@dataclass
class TrainingResult:
    """The outcome of :func:`train_linear_classifier`.

    Attributes
    ----------
    W : ndarray, shape (D, C)
        Final weights; if training diverged, the weights of the last finite loss.
    loss_history : list of float
        The minibatch loss of every completed iteration, all finite.
    diverged : bool
        True if training stopped on a non-finite loss or gradient.
    state : dict
        The update rule's last state: its hyperparameters and running buffers (a momentum velocity,
        Adam's moments, a running average of the weights kept by a wrapping rule).
    """

    W: np.ndarray
    loss_history: list = field(default_factory=list)
    diverged: bool = False
    state: dict = field(default_factory=dict)


class TrainingDiverged(FloatingPointError):
    """Raised when the loss or its gradient stops being finite during training.

    Attributes
    ----------
    iteration : int
        0-based iteration whose loss or gradient was NaN/inf (``len(loss_history)``).
    loss_history : list of float
        The finite losses before it.
    """

    def __init__(self, iteration, loss_history, *, learning_rate, reg, loss):
        self.iteration = iteration
        self.loss_history = list(loss_history)
        self.learning_rate = learning_rate
        self.reg = reg
        self.loss = loss
        super().__init__(
            f"training diverged: non-finite loss or gradient (loss = {loss}) at iteration {iteration} "
            f"with learning_rate={learning_rate:g}, reg={reg:g}; try a smaller learning rate "
            f"(e.g. {learning_rate / 10:g})"
        )

    def __reduce__(self):
        keywords = dict(learning_rate=self.learning_rate, reg=self.reg, loss=self.loss)
        return _rebuild_diverged, (self.iteration, self.loss_history, keywords)


def _rebuild_diverged(iteration, loss_history, keywords):
    """Unpickle a :class:`TrainingDiverged` (exceptions with keyword-only arguments need help)."""
    return TrainingDiverged(iteration, loss_history, **keywords)


def _initial_weights(W0, D, C, dtype, rng):
    """A copy of W0 in X's dtype, or ``0.001 * standard_normal((D, C))`` drawn from rng."""
    if W0 is None:
        return (0.001 * rng.standard_normal((D, C))).astype(dtype)
    W = np.array(W0, dtype=dtype)
    if W.shape != (D, C):
        raise ValueError(
            f"W0 has shape {W.shape}, but X has D={D} columns and there are C={C} classes: expected {(D, C)}"
        )
    return W


def _check_data(X, y):
    """Return y as an array; raise if X is not a floating-point (N, D) array or y not N integer labels."""
    if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind == "f"):
        raise TypeError(
            f"X must be a floating-point array of shape (N, D); got {getattr(X, 'dtype', type(X))} "
            f"of shape {np.shape(X)} (convert images with X.astype(np.float32) and subtract the mean first)"
        )
    y = np.asarray(y)
    if y.shape != (X.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError(
            f"y must hold N={X.shape[0]} integer labels, shape ({X.shape[0]},); got {y.dtype} of shape {y.shape}"
        )
    return y


def train_linear_classifier(
    loss_fn,
    X,
    y,
    *,
    learning_rate=1e-3,
    reg=1e-5,
    num_iters=100,
    batch_size=200,
    num_classes=None,
    W0=None,
    seed=0,
    update_rule=None,
    lr_schedule=None,
    progress=None,
    on_divergence="raise",
):
    """Train the weights of a linear classifier by minibatch gradient descent.

    Parameters
    ----------
    loss_fn : callable
        ``loss, dW = loss_fn(W, X_batch, y_batch, reg)``, e.g. a student's vectorised SVM loss.
    X : ndarray of float, shape (N, D)
        Training data (bias column included if the bias trick is used); its dtype is kept.
    y : ndarray of int, shape (N,)
        Labels in ``[0, C)``.
    learning_rate : float, optional
        Put in the update rule's state as ``"learning_rate"``.
    reg : float, optional
        Passed to loss_fn.
    num_iters : int, optional
        Number of updates.
    batch_size : int, optional
        Examples per minibatch, drawn with replacement.
    num_classes : int, optional
        C; defaults to W0's number of columns, else ``y.max() + 1``.
    W0 : ndarray, shape (D, C), optional
        Initial weights (copied); defaults to ``0.001 * standard_normal((D, C))``.
    seed : int, optional
        Seeds ``np.random.default_rng``, which draws W0 and then every minibatch.
    update_rule : callable, optional
        ``next_w, next_state = update_rule(w, dw, state)``; defaults to :func:`sgd`. The first state
        is ``{"learning_rate": learning_rate}``; the rule adds its own defaults and buffers.
    lr_schedule : callable, optional
        ``learning_rate = lr_schedule(iteration)`` for iterations 0, 1, ...: stored in the state as
        ``"learning_rate"`` before every update (the ``learning_rate`` argument is then unused).
    progress : bool or None, optional
        Show a tqdm progress bar (removed when the run ends); None (default): in notebooks, for
        runs longer than a second, but not under grading (:func:`cs231kit.runtime.show_progress`).
    on_divergence : {"raise", "stop"}, optional
        On a NaN/inf loss or gradient, raise :class:`TrainingDiverged`, or stop and return the
        result with ``diverged=True``.

    Returns
    -------
    TrainingResult

    Raises
    ------
    TrainingDiverged
        If the loss or gradient stops being finite and ``on_divergence == "raise"``.
    TypeError, ValueError
        If loss_fn breaks the ``(loss, dW)`` contract, or the data have the wrong type or shape.
    """
    if on_divergence not in ("raise", "stop"):
        raise ValueError(f'on_divergence must be "raise" or "stop"; got {on_divergence!r}')
    y = _check_data(X, y)
    rng = np.random.default_rng(seed)
    C = num_classes or (np.shape(W0)[-1] if W0 is not None else int(np.max(y)) + 1)
    W = _initial_weights(W0, X.shape[1], C, X.dtype, rng)
    rule = sgd if update_rule is None else update_rule
    state = {"learning_rate": learning_rate}
    name = getattr(loss_fn, "__name__", "loss function")
    history, last_finite_W = [], W
    for iteration in progress_bar(range(num_iters), progress=progress, desc="training", leave=False):
        batch = rng.integers(0, X.shape[0], size=batch_size)
        loss, dW = validate_loss_output(loss_fn(W, X[batch], y[batch], reg), W, name=name, allow_nonfinite=True)
        if lr_schedule is not None:
            state = {**state, "learning_rate": float(lr_schedule(iteration))}
        if not (np.isfinite(loss) and np.all(np.isfinite(dW))):
            if on_divergence == "raise":
                raise TrainingDiverged(iteration, history, learning_rate=state.get("learning_rate", learning_rate),
                                       reg=reg, loss=loss)
            return TrainingResult(last_finite_W, history, diverged=True, state=state)
        history.append(loss)
        last_finite_W = W
        W, state = rule(W, dW, state)
    return TrainingResult(W, history, state=state)


def predict(W, X):
    """Predicted class of every example: the column of the highest score ``X @ W``.

    Parameters
    ----------
    W : ndarray, shape (D, C)
    X : ndarray, shape (N, D)

    Returns
    -------
    y_pred : ndarray of int, shape (N,)
    """
    return np.argmax(X @ W, axis=1)


def accuracy(W, X, y):
    """Fraction of examples whose predicted class equals the label.

    Parameters
    ----------
    W : ndarray, shape (D, C)
    X : ndarray, shape (N, D)
    y : ndarray of int, shape (N,)

    Returns
    -------
    float
    """
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y has shape {y.shape}, but X has N={X.shape[0]} rows: expected ({X.shape[0]},)")
    return float(np.mean(predict(W, X) == y))


@dataclass
class TuningResult:
    """The outcome of :func:`tune_hyperparameters`.

    Attributes
    ----------
    results : dict
        ``(learning_rate, reg) -> (train_accuracy, val_accuracy)``; NaN accuracies for runs that diverged.
    best_params : tuple of float or None
        ``(learning_rate, reg)`` of the best validation accuracy (None if every run diverged).
    best_val_accuracy : float
        NaN if every run diverged.
    best_W : ndarray, shape (D, C), or None
    loss_histories : dict
        ``(learning_rate, reg) -> list of float``.
    """

    results: dict
    best_params: tuple | None
    best_val_accuracy: float
    best_W: np.ndarray | None
    loss_histories: dict = field(default_factory=dict)


def tune_hyperparameters(
    loss_fn,
    X_train,
    y_train,
    X_val,
    y_val,
    *,
    learning_rates,
    regs,
    num_iters=500,
    batch_size=200,
    seed=0,
    progress=None,
):
    """Grid search over learning rates and regularisation strengths by validation accuracy.

    Every run uses the same seed, so runs differ only in their hyperparameters. A run that diverges
    is recorded with NaN accuracies and never chosen.

    Parameters
    ----------
    loss_fn : callable
        ``loss, dW = loss_fn(W, X, y, reg)``.
    X_train : ndarray of float, shape (N, D)
    y_train : ndarray of int, shape (N,)
    X_val : ndarray of float, shape (N_val, D)
    y_val : ndarray of int, shape (N_val,)
    learning_rates, regs : iterable of float
    num_iters, batch_size, seed : int, optional
        As for :func:`train_linear_classifier`.
    progress : bool or None, optional
        Show a tqdm progress bar over the grid (one step per run), and one for the run in progress;
        None (default): as for :func:`train_linear_classifier`.

    Returns
    -------
    TuningResult
    """
    num_classes = int(max(np.max(y_train), np.max(y_val))) + 1
    grid = list(itertools.product(learning_rates, regs))
    results, histories = {}, {}
    best_val, best_params, best_W = float("nan"), None, None
    for learning_rate, reg in progress_bar(grid, progress=progress, desc="tuning", unit="run"):
        run = train_linear_classifier(
            loss_fn, X_train, y_train, learning_rate=learning_rate, reg=reg, num_iters=num_iters,
            batch_size=batch_size, num_classes=num_classes, seed=seed, on_divergence="stop", progress=progress,
        )
        histories[learning_rate, reg] = run.loss_history
        if run.diverged:
            results[learning_rate, reg] = (float("nan"), float("nan"))
            continue
        val = accuracy(run.W, X_val, y_val)
        results[learning_rate, reg] = (accuracy(run.W, X_train, y_train), val)
        if best_params is None or val > best_val:
            best_val, best_params, best_W = val, (learning_rate, reg), run.W
    return TuningResult(results, best_params, best_val, best_W, histories)


def per_parameter(rule, **hyperparameters):
    """Turn an update rule for one array into an update step for a dict of named parameters.

    Parameters
    ----------
    rule : callable
        ``next_w, next_state = rule(w, dw, state)`` (e.g. :func:`sgd`).
    **hyperparameters
        The first state of every parameter, e.g. ``learning_rate=1e-3``.

    Returns
    -------
    step : callable
        ``next_params, next_states = step(params, grads, states=None)``: ``rule`` applied to every
        parameter with its own state (``states[name]``); pure if ``rule`` is.
    """
    def step(params, grads, states=None):
        states = states or {}
        next_params, next_states = {}, {}
        for name, w in params.items():
            next_params[name], next_states[name] = rule(w, grads[name], states.get(name, dict(hyperparameters)))
        return next_params, next_states

    return step


@dataclass
class NetworkTrainingResult:
    """The outcome of :func:`train_network`.

    Attributes
    ----------
    params : dict
        The parameters after training (name -> ndarray).
    loss_history : list of float
        The minibatch loss of every iteration.
    evaluations : list of dict
        What ``evaluate(params)`` returned after every ``evaluate_every``-th epoch (empty without ``evaluate``).
    state : object
        The step's last state (e.g. the update rules' buffers of every parameter).
    """

    params: dict
    loss_history: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    state: object = None


def train_network(loss_fn, params, X, y, *, step, num_epochs, batch_size=100, seed=0, augment=None,
                  evaluate=None, evaluate_every=1, progress=None):
    """Train the parameters of a network by minibatch gradient descent, epoch by epoch.

    Every epoch visits the training examples once, in an order shuffled by the generator seeded with
    ``seed``; the same generator is handed to ``augment`` and ``loss_fn`` (dropout masks), so a run
    is reproducible from its seed.

    Parameters
    ----------
    loss_fn : callable
        ``loss, grads = loss_fn(params, X_batch, y_batch, rng)``; ``grads`` has the keys of ``params``.
    params : dict
        Initial parameters (name -> ndarray); not modified (as long as ``step`` is pure).
    X : ndarray, shape (N, ...)
        Training examples (rows of features, or images when ``augment`` works on images).
    y : ndarray of int, shape (N,)
    step : callable
        ``next_params, state = step(params, grads, state)``, first called with ``state=None``
        (e.g. :func:`per_parameter` of an update rule).
    num_epochs : int
    batch_size : int, optional
        The last minibatch of an epoch may be smaller.
    seed : int, optional
    augment : callable, optional
        ``X_batch = augment(X_batch, rng)``, applied to every minibatch before ``loss_fn``.
    evaluate : callable, optional
        ``evaluate(params) -> dict`` after every ``evaluate_every``-th epoch (e.g. training and
        validation accuracy).
    evaluate_every : int, optional
        Evaluate after epochs ``evaluate_every``, ``2 * evaluate_every``, ... (default: every epoch).
    progress : bool or None, optional
        Show a progress bar over the epochs; None (default): in notebooks, not under grading
        (:func:`cs231kit.runtime.show_progress`).

    Returns
    -------
    NetworkTrainingResult

    Raises
    ------
    TrainingDiverged
        On the first non-finite loss.
    """
    rng = np.random.default_rng(seed)
    result = NetworkTrainingResult(dict(params))
    for epoch in progress_bar(range(1, num_epochs + 1), progress=progress, desc="training", leave=False):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            X_batch = X[batch] if augment is None else augment(X[batch], rng)
            loss, grads = loss_fn(result.params, X_batch, y[batch], rng)
            if not np.isfinite(loss):
                raise TrainingDiverged(len(result.loss_history), result.loss_history,
                                       learning_rate=float("nan"), reg=float("nan"), loss=loss)
            result.loss_history.append(float(loss))
            result.params, result.state = step(result.params, grads, result.state)
        if evaluate is not None and epoch % evaluate_every == 0:
            result.evaluations.append(evaluate(result.params))
    return result
