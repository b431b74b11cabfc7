"""The contract of the hidden checks (autograder/checks/contract.py): calls on copies, readable failures."""

import re
import time

import numpy as np
import pytest
from notebook_cells import REPO

from cs231kit.course import load_course_module

contract = load_course_module("autograder/checks/contract.py", root=REPO)


def scale_in_place(x, k=None):
    x *= 2
    return x


def test_a_call_runs_on_copies_and_names_the_input_it_modified():
    x = np.ones(3)
    with pytest.raises(AssertionError, match=r"scale_in_place modified its input x in place on three ones\. Work"):
        contract.call(scale_in_place, (x,), "three ones", ("x",))
    assert np.array_equal(x, np.ones(3))
    with pytest.raises(AssertionError, match="modified one of its inputs in place"):
        contract.call(scale_in_place, (x,), "three ones")


def test_keyword_arguments_and_arrays_in_dicts_are_checked_too():
    def pop_buffer(w, state):
        state["velocity"] += 1
        return w

    with pytest.raises(AssertionError, match="modified its input state in place on step 1. Be pure."):
        contract.call(pop_buffer, (np.zeros(2),), "step 1", kwargs={"state": {"velocity": np.zeros(2)}},
                      advice="Be pure.")


def test_an_exception_is_chained_and_a_slow_call_is_stopped():
    with pytest.raises(AssertionError, match=r"raised ZeroDivisionError on a zero: division by zero Hint") as raised:
        contract.call(lambda v: 1 / v, (0,), "a zero", hint=" Hint")
    assert isinstance(raised.value.__cause__, ZeroDivisionError)
    with pytest.raises(AssertionError, match="did not finish within 0.2 s"):
        contract.call(time.sleep, (5,), "five seconds", seconds=0.2)


def test_a_call_on_the_inputs_themselves_leaves_the_check_to_the_caller():
    x = np.ones(3)
    assert contract.call(scale_in_place, (x,), "three ones", on_copies=False) is x and x[0] == 2


@pytest.mark.parametrize("value, message", [
    (None, "returned the result as NoneType on a case; it must be a real numpy array of shape (2,)"),
    (np.array(["a", "b"]), "as ndarray"),
    (np.array([1 + 1j, 2]), "as ndarray"),
    (np.zeros((1, 2)), "of shape (1, 2) on a case, but it must have shape (2,) (reshape it back"),
    (np.array([1.0, np.nan]), "non-finite entries on a case: nan at index [1] (1 non-finite entries)"),
])
def test_array_refuses_what_is_not_a_finite_real_array_of_the_shape(value, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        contract.array(scale_in_place, value, (2,), "a case")


def test_array_takes_numbers_and_lists_of_numbers_as_float64():
    assert contract.array(len, [1, 2], (2,), "a case").dtype == np.float64
    assert contract.array(len, 3, (), "a case") == 3.0
