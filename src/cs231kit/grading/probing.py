"""What a probe calls in the verification sandbox: helpers that run the student's functions and
return only their numbers (see :mod:`cs231kit.grading.verify`, whose parent side checks them).

They run in the sandboxed child, beside student code, and hold no answer: :func:`gradient_samples`
returns the student's own loss at perturbed weights (the parent computes the centred differences),
:func:`line_counts` the Python lines the child's trusted trace function counted.
"""

import numpy as np

LINES_KEY = "lines"
"""The output of a loop probe: Python lines executed for each input size, smallest first."""


def gradient_samples(loss_fn, W, args, rng, count=8, h=1e-6):
    """Loss, gradient and centred-difference samples of ``loss_fn(W, *args) -> (loss, dW)``.

    Called by probes in the sandbox: it returns only the student's numbers (the loss at ``W`` and
    at ``W +/- h e_i`` for ``count`` sampled entries); the parent computes the centred differences
    (:func:`cs231kit.grading.verify.check_gradient_samples`). Each call gets a fresh copy of every input.

    Returns
    -------
    dict
        ``loss``, ``dW``, ``W_after`` (``W`` after the call, to catch mutation), ``sample_index``,
        ``loss_plus``, ``loss_minus``, ``h``.
    """
    W = np.array(W, dtype=np.float64)

    def call(weights):
        return loss_fn(weights, *(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))

    given = W.copy()
    loss, dW = call(given)
    index = rng.choice(W.size, size=min(count, W.size), replace=False)
    plus, minus = [], []
    for i in index:
        for sign, values in ((1, plus), (-1, minus)):
            shifted = W.copy()
            shifted.flat[i] += sign * h
            values.append(call(shifted)[0])
    return {"loss": loss, "dW": dW, "W_after": given, "sample_index": index,
            "loss_plus": plus, "loss_minus": minus, "h": h}


def line_counts(definitions, name, inputs):
    """Loop probe outputs of ``name(*args)`` for each ``args`` of ``inputs``, smallest first.

    Called by probes in the sandbox with the probe's ``definitions``: ``"lines"`` are counted by the
    child's trace function (installed by trusted code, which student code cannot switch off). Each
    call is made again untraced, and the parent requires the same outputs (``"traced"`` and
    ``"untraced"``): a function that behaves otherwise when it is watched fails. Values are not
    compared with the reference: a "no loops" test checks loops, not values.
    """
    counted = [definitions.count_lines(definitions[name], *args) for args in inputs]
    return {LINES_KEY: [lines for _, lines in counted], "traced": tuple(result for result, _ in counted),
            "untraced": tuple(definitions[name](*args) for args in inputs)}
