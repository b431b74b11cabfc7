"""Hidden checks of the ``regularization`` assignment: laws only, no reference implementation.

Never released to students. Hidden test cells of ``solutions/regularization/regularization.ipynb``
load this file with ``cs231kit.course.load_course_module("autograder/checks/regularization.py")`` and
call one ``check_*`` function per test cell; each raises ``AssertionError`` with a message a student
can act on and returns None when the functions pass.

Dropout, DropConnect and augmentation are random: two correct implementations draw different masks
and crops, so nothing here compares values with an instructor's implementation. Every check states
laws (``cs231kit.laws``: test-time dropout is the identity, kept units are scaled by 1/p, the mean
survives within binomial bounds, a crop is a window of the zero-padded image, a frozen parameter stays
bit-identical...) and measures them on seeded inputs. The same laws are measured out of process by
``autograder/verify/regularization.py``, where the student's code cannot reach the measurement.
"""

import itertools
import numbers
from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module
from cs231kit.laws import assert_laws

shared = load_course_module("autograder/checks/cases/regularization.py", root=Path(__file__).resolve().parents[2])
"""The tolerances, shared with the probes of ``autograder/verify/regularization.py``."""


def check_dropout_forward(dropout_forward):
    """Every law of dropout's forward pass (identity at test time and with p = 1, 0 or x / p, kept
    fraction and mean on 10^6 entries, the same mask for the same seed, the input untouched)."""
    __tracebackhide__ = True
    assert_laws("dropout_forward", dropout_forward)


def check_dropout_backward(dropout_forward, dropout_backward):
    """dx = dout * mask / p with the forward pass's mask; dout in test mode and with p = 1; dout untouched."""
    __tracebackhide__ = True
    assert_laws("dropout_backward", dropout_forward, dropout_backward)


def check_expected_output_factor(value):
    """The lecture's question: E[a] / (w1 x + w2 y) with inputs kept with probability 1/2 and no scaling."""
    __tracebackhide__ = True
    assert isinstance(value, numbers.Real) and not isinstance(value, bool), "expected_output_factor must be a number"
    value = float(value)  # a plain float: a subclass could redefine its comparisons
    assert abs(value - _expected_output_factor()) <= shared.ANSWER_ATOL, (
        f"expected_output_factor = {value} is not right: average a = w1 x + w2 y over the four masks (x kept or "
        f"not, y kept or not), each of probability 1/4, and compare with w1 x + w2 y")


def _expected_output_factor(p=0.5, seed=2302):
    """E[a] / (w1 x + w2 y) for ``a = w1 x + w2 y`` with each input kept with probability ``p`` and no
    scaling, by enumerating the four masks for random w1, x, w2, y (the lecture's question)."""
    w1, x, w2, y = np.random.default_rng(seed).standard_normal(4)
    expectation = sum(p ** (m1 + m2) * (1 - p) ** (2 - m1 - m2) * (m1 * w1 * x + m2 * w2 * y)
                      for m1, m2 in itertools.product((0, 1), repeat=2))
    return float(expectation / (w1 * x + w2 * y))


def check_dropconnect(dropconnect_forward, dropconnect_backward):
    """The affine layer at test time, masked weights 0 or W / p in the right fraction, one mask per batch and
    per seed, gradients against centred differences with the mask fixed, inputs untouched."""
    __tracebackhide__ = True
    assert_laws("dropconnect", dropconnect_forward, dropconnect_backward)


def check_two_layer_net_loss(two_layer_net_loss):
    """Scores of affine - relu - affine, test mode = p = 1, the L2 penalty, dead ReLUs, gradients of every
    parameter with a fixed dropout mask; and the network memorises 50 random examples."""
    __tracebackhide__ = True
    assert_laws("two_layer_net", two_layer_net_loss)
    assert_laws("overfit", two_layer_net_loss)


def check_random_horizontal_flip(random_horizontal_flip):
    """Each image kept or mirrored left-right, about half flipped, twice with one seed = identity, dtype kept."""
    __tracebackhide__ = True
    assert_laws("random_horizontal_flip", random_horizontal_flip)


def check_random_crop(random_crop):
    """Every crop a window of the zero-padded image, every window position possible, dtype kept, input untouched."""
    __tracebackhide__ = True
    assert_laws("random_crop", random_crop)


def check_color_jitter(color_jitter):
    """Valid range, identity at zero strength, one brightness and one contrast factor per image, mean kept."""
    __tracebackhide__ = True
    assert_laws("color_jitter", color_jitter)


def check_predict_tta(predict_tta):
    """predict_scores itself without augmentation; the mean over n copies augmented with the given rng."""
    __tracebackhide__ = True
    assert_laws("predict_tta", predict_tta)


def check_freeze_fine_tune(freeze, fine_tune):
    """Multipliers 0 / 1 from freeze; frozen parameters bit-identical; the SGD step at lr * lr_mult; pure."""
    __tracebackhide__ = True
    assert_laws("fine_tune", freeze, fine_tune)
