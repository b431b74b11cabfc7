"""The hidden inputs and tolerances of the ``features`` assignment: one place for the hidden checks
(``autograder/checks/features.py``, in the kernel), the probes (``autograder/verify/features.py``, out
of process) and the grader's references (``autograder/references/features.py``), which all load it.

Inputs, seeds and tolerances only, never a reference implementation: the verification child reads
this file (``tests/test_verification.py`` checks that it holds no answer). The checks and the probes
draw on different seeds (the ``PROBE_`` tables), so a submission tuned to one set of inputs meets
others in the other.
"""

import numpy as np

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
"""Grey = 0.299 R + 0.587 G + 0.114 B (the notebook states them)."""
HOG_ATOL = 1e-6
"""HOG features against the reference (scikit-image sums cells in float32: 1e-7 differences)."""
EXACT_RTOL = 1e-9
"""Stages computed with the same float64 formula (up to summation order)."""
ANGLE_ATOL = 1e-7
"""Orientations in degrees, compared modulo 180 where the gradient is not zero."""
LOOP_SIZES, LOOP_SLACK = (2, 20), 10
"""The no-loop test's batch sizes, and the extra Python lines allowed for the larger one (a loop over
images needs 18 more)."""

# (N, H, W, colour?, dtype, seed): RGB and grey, uint8 and float, square and not, leftover pixels.
# They separate: uint8 arithmetic that wraps (uint8 cases); RGB weights applied to a grey batch
# (grey cases); rows and columns swapped (H != W); cells that include the leftover pixels beyond a
# multiple of 8 (35 x 29, 48 x 17); a batch axis dropped or squeezed (N = 1 next to N > 1).
IMAGE_CASES = ((3, 32, 32, True, "uint8", 11), (2, 24, 40, True, "float64", 12), (4, 16, 16, False, "float64", 13),
               (1, 35, 29, True, "uint8", 14), (2, 48, 17, False, "uint8", 15))
PROBE_IMAGE_CASES = ((3, 32, 32, True, "uint8", 101), (2, 24, 40, True, "float64", 102),
                     (4, 16, 16, False, "float64", 103), (1, 35, 29, True, "uint8", 104), (2, 48, 17, False, "uint8", 105))
# (N, D, k, iters, seed). They separate: another initialisation than X[rng.choice(N, k, replace=False)]
# (every case); inertia measured after the update instead of before it (iters > 1); a centroid update
# that is not the mean of its points (unequal blobs); k = N (third case), where every point is a
# centroid and the inertia after the first update is 0; and the empty-cluster case below.
KMEANS_CASES = ((60, 2, 3, 5, 21), (200, 8, 10, 8, 22), (31, 5, 31, 3, 23), (500, 16, 25, 10, 24))
PROBE_KMEANS_CASES = ((60, 2, 3, 5, 121), (200, 8, 10, 8, 122), (31, 5, 31, 3, 123), (500, 16, 25, 10, 124))
PATCH_CASES = ((5, 2, 8, 31), (40, 3, 6, 32), (1, 1, 4, 33))
PROBE_PATCH_CASES = ((5, 2, 8, 131), (40, 3, 6, 132), (1, 1, 4, 133))
"""(num_patches, batch size of 32x32 images, patch size, seed)."""
BOW_CASES = ((3, 32, 32, 8, 4, 12, 41), (2, 20, 28, 6, 2, 5, 42), (1, 16, 16, 8, 8, 3, 43))
PROBE_BOW_CASES = ((3, 32, 32, 8, 4, 12, 141), (2, 20, 28, 6, 2, 5, 142), (1, 16, 16, 8, 8, 3, 143))
"""(N, H, W, patch_size, stride, k, seed)."""

EDGE_COLOURS = ((250, 40, 90), (30, 200, 60), (255, 255, 255))
EMPTY_CLUSTER_SEED = 7
"""Seed of the rng of :func:`empty_cluster_case`, chosen so that two initial centroids coincide."""
EMPTY_CLUSTER_POINT = (-3.0, 5.0)
"""Where the twelve equal points of :func:`empty_cluster_case` lie: away from the origin, so that an
empty cluster reset to zero ends elsewhere than one that keeps its centroid."""


def edge_images(colours=EDGE_COLOURS):
    """uint8 RGB 32x32 images, each black but for one colour on one side of an edge: a diagonal (bright
    above-right, so its gradients point up and right, at -45 degrees, 135 once folded), a vertical
    (bright on the left: gradients at 180, i.e. 0) and a horizontal one (bright below), in that order."""
    rows, cols = np.mgrid[:32, :32]
    images = np.zeros((len(colours), 32, 32, 3), dtype=np.uint8)
    for image, mask, colour in zip(images, (cols > rows, cols < 13, rows >= 20), colours):
        image[mask] = colour
    return images


def kmeans_case(N, D, k, iters, seed):
    """``(X, k, iters, rng seed)``: N float64 points around three random centres, and the seed of the
    generator passed to kmeans."""
    rng = np.random.default_rng(seed)
    X = 6 * rng.standard_normal((3, D))[rng.integers(0, 3, size=N)] + rng.standard_normal((N, D))
    return X, k, iters, seed + 1000


def empty_cluster_case():
    """``(X, k, iters, rng seed)`` whose initial centroids include two identical ones: one cluster is
    empty at once.

    Separates "an empty cluster keeps its previous centroid" (right) from the usual wrong answers:
    a centroid reset to zero, or left NaN (the mean of no points). ``tests/test_features_assignment.py``
    checks that the reference really meets an empty cluster here, and that these answers end elsewhere.
    """
    X = np.vstack([np.tile(EMPTY_CLUSTER_POINT, (12, 1)), np.random.default_rng(5).normal(10, 1, size=(4, 2))])
    return X, 4, 4, EMPTY_CLUSTER_SEED
