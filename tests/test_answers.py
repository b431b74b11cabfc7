"""Tests of cs231kit.answers: magnitude checks accept the window around the answer, reject the rest."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cs231kit.answers import ZERO_BELOW, check_magnitude, magnitude_class, magnitude_fingerprint

expected_values = st.floats(min_value=0.05, max_value=1e8) | st.floats(min_value=-1e8, max_value=-0.05)


@pytest.mark.parametrize("value, magnitude", [(2.3, "+0"), (-0.5, "--1"), (9.0, "+0"), (10.0, "+1"),
                                              (0.0, "zero"), (np.inf, "inf"), (-np.inf, "-inf"),
                                              (np.nan, "nan"), (1e-5, "+-5"), (3e4, "+4")])
def test_magnitude_class_known_values(value, magnitude):
    assert magnitude_class(value) == magnitude
    assert magnitude_class(value, zero_below=ZERO_BELOW) == ("zero" if abs(value) <= ZERO_BELOW else magnitude)


@given(expected_values, st.floats(min_value=-0.999, max_value=0.999))
def test_every_value_within_the_factor_passes(expected, exponent):
    factor = math.sqrt(10)
    fingerprint = magnitude_fingerprint("answer", expected, factor)
    check_magnitude("answer", expected * factor ** exponent, fingerprint)


@given(expected_values, st.floats(min_value=2.0, max_value=4.0), st.sampled_from([-1, 1]))
def test_values_off_by_a_hundred_or_of_the_other_sign_fail(expected, exponent, direction):
    fingerprint = magnitude_fingerprint("answer", expected)
    with pytest.raises(AssertionError, match="order of magnitude"):
        check_magnitude("answer", expected * 10.0 ** (direction * exponent), fingerprint)
    with pytest.raises(AssertionError, match="wrong sign"):
        check_magnitude("answer", -expected, fingerprint)


def test_zero_and_infinity_are_their_own_classes():
    zero, infinity = magnitude_fingerprint("low", 0.0), magnitude_fingerprint("high", np.inf)
    check_magnitude("low", 0, zero)
    check_magnitude("low", 0.004, zero)  # within the hidden tests' absolute tolerance
    check_magnitude("high", np.inf, infinity)
    for value in (1.0, 1e300, -np.inf):
        with pytest.raises(AssertionError):
            check_magnitude("high", value, infinity)
    with pytest.raises(AssertionError):
        check_magnitude("low", 0.5, zero)


def test_a_wider_factor_accepts_every_power_of_ten_it_touches():
    fingerprint = magnitude_fingerprint("best_h", 5.6e-6, factor=30)
    for value in (1.9e-7, 1e-6, 1e-5, 1.6e-4):
        check_magnitude("best_h", value, fingerprint)
    for value in (1e-8, 1e-3):
        with pytest.raises(AssertionError):
            check_magnitude("best_h", value, fingerprint)


def test_the_fingerprint_depends_on_the_name_and_hides_the_value():
    assert magnitude_fingerprint("a", 9.0) != magnitude_fingerprint("b", 9.0)
    fingerprint = magnitude_fingerprint("svm_loss_at_init", 9.0)
    assert all(len(d) == 16 and set(d) <= set("0123456789abcdef") for d in fingerprint.split())
    assert len(fingerprint.split()) == 2  # 9 / sqrt(10) to 9 * sqrt(10) touches the powers 10^0 and 10^1
    with pytest.raises(AssertionError) as error:
        check_magnitude("svm_loss_at_init", 0.1, fingerprint)
    assert "9" not in str(error.value).replace("0.1", "")


@pytest.mark.parametrize("value", ["9", True, [9.0], 9 + 0j])
def test_non_numbers_are_rejected_by_type(value):
    with pytest.raises(AssertionError, match="must be a number"):
        check_magnitude("x", value, magnitude_fingerprint("x", 9.0))


def test_an_unanswered_question_is_said_not_raised_and_is_not_an_answer(capsys):
    fingerprint = magnitude_fingerprint("answer", 2.5)
    assert check_magnitude("answer", None, fingerprint) is False
    assert "answer: not answered yet" in capsys.readouterr().out
    assert check_magnitude("answer", 2.5, fingerprint) is True
