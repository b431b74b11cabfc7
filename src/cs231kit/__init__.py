"""cs231kit: trusted helpers for the CS231n linear-classifier assignments.

Conventions used by every module of the kit
-------------------------------------------
Shapes
    ``X`` is (N, D), ``W`` is (D, C), ``y`` is (N,) of integer class labels in ``[0, C)``;
    scores ``X @ W`` are (N, C). The bias trick appends a column of ones to ``X`` (so D includes it).
Loss functions
    ``loss, dW = loss_fn(W, X, y, reg)``. The L2 penalty is ``reg * np.sum(W * W)`` and its
    gradient ``2 * reg * W``.
Networks
    Parameters are a dict of named arrays (``W1``, ``b1``, ``W2``, ``b2``); a network's loss returns
    ``loss, grads`` with ``grads`` a dict of the same keys (``cs231kit.training.train_network``).
Update rules
    ``next_w, next_state = rule(w, dw, state=None)``; ``state`` is a dict of hyperparameters and
    running buffers. Rules never mutate ``w``, ``dw`` or the caller's ``state``.
Randomness
    Explicit ``seed=`` or ``rng=`` (a ``numpy.random.Generator``) arguments; never the global state.
Precision
    Gradient checks run in float64; datasets are kept in uint8 or float32.

The package holds no reference solutions: those live with the instructor material (``solutions/``
and ``autograder/``). ``cs231kit.laws`` states what correct random functions (dropout, augmentation)
must satisfy, without implementing them.
"""

__version__ = "0.1.0"
