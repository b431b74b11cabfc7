"""The offline dataset's split: no pixel shared with training, and validation drawn like test.

A split into horizontal bands (train at the top of every photograph, val in the middle, test at the
bottom) made the test accuracy of a trained classifier fall well below its validation accuracy
(0.444 -> 0.395): the two splits sampled different parts of the photographs. These tests state what
the interleaved split guarantees instead.
"""

import numpy as np
import pytest

from cs231kit import _offline
from cs231kit.data import load_offline_dataset, make_splits, preprocess_linear
from cs231kit.training import accuracy, train_linear_classifier
from loss_fixtures import hinge_loss, softmax_loss

Z_99 = 2.576  # two-sided 99 % quantile of the standard normal


@pytest.fixture(scope="module")
def offline_build():
    return _offline.build()


@pytest.fixture(scope="module")
def linear_data():
    return preprocess_linear(make_splits(load_offline_dataset(), seed=0))


def _share_a_pixel(origin_a, origin_b):
    """(len(a), len(b)) bool: patches of the same photograph whose 32x32 squares overlap."""
    same = origin_a[:, None, 0] == origin_b[None, :, 0]
    near = np.abs(origin_a[:, None, 1:] - origin_b[None, :, 1:]).max(axis=2) < _offline.PATCH
    return same & near


def test_no_two_splits_share_a_pixel(offline_build):
    origins = {split: origin for split, (_, _, origin) in offline_build.items()}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not _share_a_pixel(origins[a], origins[b]).any(), (a, b)


def test_regions_alternate_val_and_test_in_every_stripe_and_cover_the_width():
    for width in (256, 294, 385):
        regions = _offline._regions(width)
        for start, stop in _offline.EVAL_STRIPES:
            stripe = [(split, c0, c1) for split, r0, r1, c0, c1 in regions if (r0, r1) == (start, stop)]
            assert [split for split, _, _ in stripe][:2] in (["val", "test"], ["test", "val"])
            assert all(a[0] != b[0] for a, b in zip(stripe, stripe[1:])), stripe
            assert stripe[0][1] == 0 and stripe[-1][2] > width - _offline.PATCH, "no room for another block"
            assert all(a[2] == b[1] for a, b in zip(stripe, stripe[1:])), "blocks must tile the stripe"


def test_val_and_test_sample_the_same_rows_of_every_photograph(offline_build):
    for label in range(len(_offline.CLASS_NAMES)):
        rows = {split: offline_build[split][2][offline_build[split][1] == label, 1] for split in ("val", "test")}
        for start, stop in _offline.EVAL_STRIPES:
            counts = [np.count_nonzero((r >= start) & (r < stop)) for r in rows.values()]
            assert min(counts) > 0.25 * _offline.EVAL_PER_CLASS, (label, start, counts)


RUNS = [(loss_fn, learning_rate, reg) for loss_fn in (softmax_loss, hinge_loss)
        for learning_rate, reg in ((3e-7, 1e4), (1e-6, 1e3))]


def test_validation_and_test_accuracy_agree_within_binomial_noise(linear_data):
    """Each run within 2.576 binomial sigmas; their mean difference (no systematic gap) within one.

    The runs share the val and test images, so their differences are not independent: the mean is
    held to one sigma of a single comparison, not to sigma / sqrt(runs). The band split failed both
    (its differences were 0.05 to 0.08, all of the same sign).
    """
    d = linear_data
    differences, sigmas = [], []
    for loss_fn, learning_rate, reg in RUNS:
        W = train_linear_classifier(loss_fn, d.X_train, d.y_train, learning_rate=learning_rate, reg=reg,
                                    num_iters=500, seed=0).W
        val, test = accuracy(W, d.X_val, d.y_val), accuracy(W, d.X_test, d.y_test)
        assert val > 0.3, f"{loss_fn.__name__} did not learn (val accuracy {val:.3f})"
        # Standard deviation of the difference of two independent binomial proportions.
        sigma = np.sqrt(val * (1 - val) / len(d.y_val) + test * (1 - test) / len(d.y_test))
        assert abs(val - test) <= Z_99 * sigma, (
            f"{loss_fn.__name__} (lr {learning_rate:g}, reg {reg:g}): val accuracy {val:.3f} and test accuracy "
            f"{test:.3f} differ by {abs(val - test):.3f} > {Z_99} * {sigma:.4f}")
        differences.append(val - test)
        sigmas.append(sigma)
    assert abs(np.mean(differences)) <= np.mean(sigmas), (
        f"val - test accuracy is {np.round(differences, 3)}: a systematic gap of {np.mean(differences):.3f}")
