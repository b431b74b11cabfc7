"""Small loss functions shared by the test modules (not tests themselves).

Softmax and multiclass hinge with the kit's conventions: ``X`` (N, D), ``W`` (D, C), ``y`` (N,),
penalty ``reg * sum(W * W)`` with gradient ``2 * reg * W``, and a return value ``(loss, dW)``.
"""

import numpy as np


def softmax_loss(W, X, y, reg, bug=None):
    """Softmax loss + reg * sum(W**2); ``bug`` breaks the gradient in one named way."""
    N = X.shape[0]
    scores = X @ W
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean() + reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    data_scale = {"no_mean": 1.0, "mean_twice": 1.0 / N**2}.get(bug, 1.0 / N)
    reg_scale = {"no_reg": 0.0, "reg_once": 1.0}.get(bug, 2.0)
    dW = data_scale * X.T @ dscores + reg_scale * reg * W
    return loss, _break(dW, bug, N)


def _break(dW, bug, N):
    """Apply the bugs that act on the whole gradient."""
    if bug == "sign":
        return -dW
    if bug == "times_n":
        return dW * N
    if bug == "zeros":
        return np.zeros_like(dW)
    if bug == "column":
        dW[:, 2] *= -1
    if bug == "bias_row":
        dW[-1] = 0
    return dW


def hinge_loss(W, X, y, reg):
    """Multiclass hinge loss (margin 1) + reg * sum(W**2), vectorised."""
    N = X.shape[0]
    scores = X @ W
    margins = np.maximum(0, scores - scores[np.arange(N), y][:, None] + 1)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N + reg * np.sum(W * W)
    active = (margins > 0).astype(float)
    active[np.arange(N), y] = -active.sum(axis=1)
    return loss, X.T @ active / N + 2 * reg * W
