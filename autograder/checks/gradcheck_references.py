"""Reference implementations and hidden inputs of the ``gradcheck`` assignment (never released).

:mod:`autograder/checks/gradcheck.py` judges student code against these; ``tests/test_gradcheck_assignment.py``
tests them against loops, the lecture's numbers, closed forms and numerical gradients. They are written
differently from the notebook's solution where possible: einsum for the affine layer, one-hot masks for
the losses, ``np.logaddexp.reduce`` for the softmax normaliser, ``tanh`` for the sigmoid.

Conventions: every layer maps float64 arrays to float64 arrays; gradients have the shape of their
variable; scores are (N, C) and labels (N,); the two-layer net's penalty is
``reg * (sum W1**2 + sum W2**2)``.
"""

from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module

shared = load_course_module("autograder/checks/cases/gradcheck.py", root=Path(__file__).resolve().parents[2])
"""The tolerances and the step sweep of the assignment."""


# ----------------------------------------------------------------------------------- references


def forward_difference_reference(f, x, h=1e-5):
    """Forward differences ``(f(x + h e_i) - f(x)) / h`` over the entries of a float64 copy of x.

    Parameters
    ----------
    f : callable
        Scalar function of an array of x's shape.
    x : ndarray, any shape
        Not modified.
    h : float, optional

    Returns
    -------
    ndarray of float64, shape of x
    """
    work = np.array(x, dtype=np.float64)
    flat = work.reshape(-1)  # a view: writing into it perturbs ``work``
    f_x = float(f(work))
    grad = np.empty(work.size)
    for i in range(work.size):
        saved = flat[i]
        flat[i] = saved + h
        grad[i] = (float(f(work)) - f_x) / h
        flat[i] = saved
    return grad.reshape(work.shape)


def affine_reference(x, w, b):
    """``x`` flattened to (N, D) times ``w`` (D, M) plus ``b`` (M,), with einsum; out is (N, M)."""
    return np.einsum("nd,dm->nm", np.reshape(x, (len(x), -1)), w) + b


def affine_gradients_reference(x, w, dout):
    """dx (shape of x), dw (D, M), db (M,) of :func:`affine_reference` for an upstream ``dout`` (N, M)."""
    rows = np.reshape(x, (len(x), -1))
    return np.einsum("nm,dm->nd", dout, w).reshape(np.shape(x)), np.einsum("nd,nm->dm", rows, dout), dout.sum(axis=0)


def relu_reference(x):
    """``max(0, x)`` elementwise."""
    return np.where(x > 0, x, 0.0)


def relu_gradient_reference(x, dout):
    """``dout`` where x > 0, 0 elsewhere (the Heaviside step, 0 at the kink)."""
    return np.heaviside(x, 0.0) * dout


def sigmoid_reference(x):
    """``1 / (1 + exp(-x))`` elementwise, as ``(1 + tanh(x / 2)) / 2``: no overflow for any x."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def sigmoid_gradient_reference(x, dout):
    """``dout * s * (1 - s)`` with ``s = sigmoid(x)``."""
    s = sigmoid_reference(x)
    return dout * s * (1.0 - s)


def _one_hot(y, C):
    return (np.asarray(y)[:, None] == np.arange(C)[None, :]).astype(np.float64)


def softmax_loss_reference(scores, y):
    """Mean cross-entropy of (N, C) scores, and its gradient (N, C).

    The log of the normaliser is ``np.logaddexp.reduce`` over each row: exact for scores of any
    magnitude without a shift (and 40 times faster than ``scipy.special.logsumexp`` on small arrays).
    """
    N, C = scores.shape
    log_p = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
    Y = _one_hot(y, C)
    return float(-np.sum(Y * log_p) / N), (np.exp(log_p) - Y) / N


def svm_loss_reference(scores, y):
    """Mean multiclass hinge loss (margin 1) of (N, C) scores with a one-hot mask, and its gradient."""
    N, C = scores.shape
    Y = _one_hot(y, C)
    correct = np.sum(scores * Y, axis=1, keepdims=True)
    margins = np.maximum(0.0, scores - correct + 1.0) * (1.0 - Y)
    active = (margins > 0).astype(np.float64)
    return float(np.sum(margins) / N), (active - Y * active.sum(axis=1, keepdims=True)) / N


def two_layer_net_reference(params, X, y, reg):
    """Affine - ReLU - affine - softmax, plus ``reg * (sum W1**2 + sum W2**2)``; loss and gradients.

    Parameters
    ----------
    params : dict
        ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).
    X : ndarray, shape (N, D)
    y : ndarray of int, shape (N,)
    reg : float

    Returns
    -------
    loss : float
    grads : dict of ndarray, the keys and shapes of params
    """
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    pre = affine_reference(X, W1, b1)
    hidden = relu_reference(pre)
    data_loss, dscores = softmax_loss_reference(affine_reference(hidden, W2, b2), y)
    dhidden, dW2, db2 = affine_gradients_reference(hidden, W2, dscores)
    _, dW1, db1 = affine_gradients_reference(X, W1, relu_gradient_reference(pre, dhidden))
    loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return float(loss), {"W1": dW1 + 2 * reg * W1, "b1": db1, "W2": dW2 + 2 * reg * W2, "b2": db2}


def two_layer_pre_activations(params, X):
    """The hidden layer's input ``X W1 + b1`` (N, H): where it is near 0, ReLU has a kink."""
    return affine_reference(X, params["W1"], params["b1"])


def add_mul_reference(x, y, z):
    """``(x + y) * z``: the lecture's first graph."""
    return (x + y) * z


def add_mul_gradients_reference(x, y, z):
    """The gradients of :func:`add_mul_reference`: ``{"x": z, "y": z, "z": x + y}``."""
    return {"x": z, "y": z, "z": x + y}


def sigmoid_neuron_reference(w, x):
    """``sigmoid(w0 x0 + w1 x1 + w2)`` for w (3,) and x (2,), a float."""
    return float(sigmoid_reference(w[0] * x[0] + w[1] * x[1] + w[2]))


def sigmoid_neuron_gradients_reference(w, x):
    """The gradients of :func:`sigmoid_neuron_reference`: ``{"w": (3,), "x": (2,)}``, through s (1 - s)."""
    s = sigmoid_neuron_reference(w, x)
    local = s * (1.0 - s)
    return {"w": local * np.array([x[0], x[1], 1.0]), "x": local * np.array([w[0], w[1]])}


def centered_error_curve(dtype):
    """Relative error of the centered difference of sin at ``SWEEP_X0`` in ``dtype``, for each step of ``SWEEP_STEPS``.

    Returns
    -------
    ndarray of float64, shape (len(SWEEP_STEPS),)
    """
    x0, steps = dtype(shared.SWEEP_X0), shared.SWEEP_STEPS.astype(dtype)
    estimate = (np.sin(x0 + steps) - np.sin(x0 - steps)) / (dtype(2) * steps)
    exact = np.cos(shared.SWEEP_X0)
    return np.abs(estimate.astype(np.float64) - exact) / abs(exact)


# ---------------------------------------------------------------------------------------- cases


def _away_from_zero(rng, shape, gap=0.05, scale=1.0):
    """Seeded normal values pushed at least ``gap`` away from 0 (no kink of ReLU within the step h)."""
    z = scale * rng.standard_normal(shape)
    return np.sign(z) * (gap + np.abs(z)) + (z == 0) * gap


def smooth_in_every_entry(x):
    return np.sum(np.sin(x) * x ** 2 + np.exp(x / 3.0))


def smooth_in_every_entry_gradient(x):
    return np.cos(x) * x ** 2 + 2.0 * x * np.sin(x) + np.exp(x / 3.0) / 3.0


def couples_every_entry(x):
    return np.log1p(np.sum(x ** 2)) * np.sum(np.cos(x))


def steep_exponential(x):
    return np.sum(np.exp(1.5 * x))


# (description, f, shape of x, h or None for the default, seed). The student has not seen these.
NUMERICAL_CASES = (
    ("f(x) = sum(sin(x) * x**2 + exp(x / 3)), non-linear in every entry, on a 3-D x", smooth_in_every_entry,
     (2, 3, 4), None, 401),
    ("f(x) = log(1 + sum(x**2)) * sum(cos(x)), which couples all entries", couples_every_entry, (3, 5), None, 402),
    ("f(x) = sum(exp(1.5 x)) with the step h = 1e-2 passed explicitly", steep_exponential, (4,), 1e-2, 403),
)
SPARSE_SHAPE, SPARSE_CHECKS, SPARSE_SEEDS = (3, 4, 2), 7, (11, 12, 13)
"""grad_check_sparse is tried on x of this shape, with this many checks and rngs of these seeds."""
SCALAR_CASES = ((0.7, -1.3, 2.0), (-2.5, 0.4, -0.6), (1.9, 3.1, 1.0))
"""(a, b, dout) of the scalar gate tests: no ties (max) and no zero (1/x)."""
AFFINE_CASES = (((3, 4), 5, 501), ((2, 3, 4), 6, 502), ((1, 2, 2, 3), 2, 503), ((5, 6), 1, 504))
"""(shape of x, M, seed): x is (N, d1, ...), w is (d1 * ..., M), b is (M,)."""
ELEMENTWISE_CASES = (((4, 5), 601), ((2, 3, 4), 602), ((7,), 603), ((1, 1), 604))
LOSS_CASES = ((1, 3, 701), (5, 2, 702), (8, 10, 703), (20, 4, 704))
"""(N, C, seed) of the softmax and SVM loss tests; no hinge margin lies within 1e-3 of 0."""
NET_CASES = ((4, 5, 6, 3, 0.0, 801), (1, 3, 4, 2, 0.1, 802), (6, 8, 10, 5, 0.05, 803))
"""(N, D, H, C, reg, seed) of the two-layer net tests; no hidden pre-activation within 1e-3 of 0."""


def affine_case(x_shape, M, seed):
    """Seeded float64 ``x, w, b, dout`` for the affine layer."""
    rng = np.random.default_rng(seed)
    D = int(np.prod(x_shape[1:]))
    x = rng.standard_normal(x_shape)
    w, b = rng.standard_normal((D, M)) / np.sqrt(D), rng.standard_normal(M)
    return x, w, b, rng.standard_normal((x_shape[0], M))


def elementwise_case(shape, seed):
    """Seeded float64 ``x`` (values in about [-6, 6], at least 0.05 away from 0) and ``dout``."""
    rng = np.random.default_rng(seed)
    return _away_from_zero(rng, shape, scale=2.0), rng.standard_normal(shape)


def loss_case(N, C, seed):
    """Seeded float64 ``scores`` (N, C) of order 3 and labels ``y`` (N,)."""
    rng = np.random.default_rng(seed)
    return 3.0 * rng.standard_normal((N, C)), rng.integers(0, C, size=N)


def net_case(N, D, H, C, reg, seed):
    """Seeded ``params`` (W1, b1, W2, b2), ``X`` (N, D), ``y`` (N,) and ``reg`` for the two-layer net."""
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((D, H)) / np.sqrt(D), "b1": 0.1 * rng.standard_normal(H),
              "W2": rng.standard_normal((H, C)) / np.sqrt(H), "b2": 0.1 * rng.standard_normal(C)}
    return params, rng.standard_normal((N, D)), rng.integers(0, C, size=N), reg


def sparse_point(seed):
    """The x (SPARSE_SHAPE) of a sparse-check case and the exact gradient of smooth_in_every_entry there."""
    x = np.random.default_rng(seed + 100).standard_normal(SPARSE_SHAPE)
    return x, smooth_in_every_entry_gradient(x)


def relative_error_cases():
    """(description, a, b): random arrays, a 3-D pair with shared zeros, all zeros, zero vs not, tiny values."""
    rng = np.random.default_rng(901)
    a = rng.standard_normal((3, 4))
    cube = rng.standard_normal((2, 3, 2))
    cube[0] = 0.0
    return (
        ("a = b + small noise, shape (3, 4)", a, a + 1e-3 * rng.standard_normal((3, 4))),
        ("two different 3-D arrays that are both 0 in their first slice", cube, 2 * cube + 1.0 * (cube != 0)),
        ("a = b = zeros((2, 3))", np.zeros((2, 3)), np.zeros((2, 3))),
        ("a = [0, 0], b = [0, 2]", np.zeros(2), np.array([0.0, 2.0])),
        ("a = [1e-12], b = [3e-12] (tiny values: the 1e-8 floor)", np.array([1e-12]), np.array([3e-12])),
        ("a = [1, 5], b = [3, 5]", np.array([1.0, 5.0]), np.array([3.0, 5.0])),
    )
