"""Trusted probe inputs of the ``features`` assignment that take a reference to compute (grader only).

No sandboxed process reads this folder (the kernel sees ``autograder/checks/``, the verification
child ``autograder/verify/`` and ``autograder/checks/cases/``): the grader computes the arrays here
and sends them to the child, which passes them to the student's functions (see
``cs231kit.grading.verify.trusted_inputs``).

The input of each HOG stage is the reference's output of the stage before, so that a bug in one
stage fails only the tests of that stage and of ``hog_features``.
"""

from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module

shared = load_course_module("autograder/checks/cases/features.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances of the assignment (its luma weights)."""


def stage_inputs(images):
    """The input of every HOG stage after the first for ``images``, as the hidden tests compute it.

    Parameters
    ----------
    images : ndarray, shape (N, H, W, 3) or (N, H, W)

    Returns
    -------
    dict
        ``{"gray": (gray,), "gradients": (g_row, g_col), "polar": (magnitude, orientation),
        "cells": (cell histograms,)}``: argument tuples of float64 arrays.
    """
    gray = images.astype(np.float64)
    gray = gray if gray.ndim == 3 else gray @ shared.LUMA_WEIGHTS
    g_row, g_col = np.zeros_like(gray), np.zeros_like(gray)
    g_row[:, 1:-1, :] = gray[:, 2:, :] - gray[:, :-2, :]
    g_col[:, :, 1:-1] = gray[:, :, 2:] - gray[:, :, :-2]
    magnitude, orientation = np.hypot(g_row, g_col), np.degrees(np.arctan2(g_row, g_col)) % 180.0
    N, H, W = gray.shape
    R, C = H // 8, W // 8
    crop = (slice(None), slice(0, 8 * R), slice(0, 8 * C), None)
    votes = (orientation[crop] // 20 == np.arange(9)) * magnitude[crop]
    cells = votes.reshape(N, R, 8, C, 8, 9).mean(axis=(2, 4))
    return {"gray": (gray,), "gradients": (g_row, g_col), "polar": (magnitude, orientation), "cells": (cells,)}


def probe_inputs(probes):
    """``{key: array}`` for the probes module ``probes`` (``autograder/verify/features.py``): every
    stage input of every hidden image batch, under ``probes.stage_key(case, stage, index)``."""
    inputs = {}
    for case, images in enumerate(probes.image_cases()):
        for stage, arrays in stage_inputs(images).items():
            inputs.update({probes.stage_key(case, stage, i): array for i, array in enumerate(arrays)})
    return inputs
