"""Out-of-process verification: its pure steps, and its agreement with the notebooks' own tests.

The agreement of verification with the notebooks' tests on every simulated student is checked
where the demo grades them (``tests/test_course.py``), from the verification the grading ran.
"""

import numpy as np
import pytest

from cs231kit.course import load_course_module
from cs231kit.grading import outcomes, verify
from cs231kit.grading.session import list_assignments
from notebook_cells import REPO, autograded_tests, read_notebook

ASSIGNMENTS = list_assignments(REPO)
VERIFIED = [a for a in ASSIGNMENTS if (REPO / "autograder" / "verify" / f"{a}.py").is_file()]


def test_every_assignment_is_verified_out_of_process():
    assert VERIFIED == ASSIGNMENTS


@pytest.mark.parametrize("assignment", VERIFIED)
def test_every_autograded_test_is_backed_by_a_probe_or_says_why_not(assignment):
    module = load_course_module(f"autograder/verify/{assignment}.py", root=REPO)
    backed, unbacked = set(verify.probes_by_test(module.PROBES)), set(module.IN_KERNEL_ONLY)
    tests = set(autograded_tests(read_notebook(REPO / "solutions" / assignment / f"{assignment}.ipynb")))
    assert backed - tests == set(), "probes name test cells that do not exist"
    assert backed & unbacked == set()
    assert tests - backed - unbacked == set(), "autograded tests that no probe backs and IN_KERNEL_ONLY does not explain"
    assert all(reason.strip() for reason in module.IN_KERNEL_ONLY.values())


# ---------------------------------------------------------------- pure steps


def _source(*cells):
    return {"cells": [{"cell_type": "code", "source": src, "metadata": {"nbgrader": meta}} for src, meta in cells]}


def test_program_takes_locked_cells_from_the_source_and_solution_cells_from_the_student():
    source = _source(("import numpy as np", {"grade_id": "setup", "locked": True}),
                     ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", {"grade_id": "f", "solution": True}),
                     ("assert f() == 1", {"grade_id": "test_f", "grade": True, "locked": True}))
    student = _source(("import os; os.system('evil')", {"grade_id": "setup", "locked": True}),
                      ("def f():\n    return 2", {"grade_id": "f", "solution": True}),
                      ("pass", {"grade_id": "test_f", "grade": True, "locked": True}))
    assert verify.program_cells(source, student) == [{"cell": "setup", "source": "import numpy as np"},
                                                     {"cell": "f", "source": "def f():\n    return 2"}]
    assert verify.program_cells(source)[1] == {"cell": "f", "source": "def f():\n    return 1\n"}
    assert verify.program_cells(source, {"cells": "not a list"}) == [{"cell": "setup", "source": "import numpy as np"}]


def test_values_are_compared_by_shape_finiteness_and_tolerance():
    assert verify.compare_values("x", np.ones(3), np.ones(3) + 1e-9, 1e-6, 0) == ""
    assert "shape (2,)" in verify.compare_values("x", np.ones(3), np.ones(2), 1e-6, 0)
    assert "NaN" in verify.compare_values("x", np.ones(3), np.array([1, np.nan, 1]), 1e-6, 0)
    assert "index (1,)" in verify.compare_values("x", np.ones(3), np.array([1, 2, 1]), 1e-6, 0)
    assert verify.compare_values("x", np.inf, np.inf, 1e-6, 0) == ""
    assert "infinite" in verify.compare_values("x", np.inf, -np.inf, 1e-6, 0)
    assert "no value" in verify.compare_values("x", np.ones(3), None, 1e-6, 0)


def test_gradient_samples_catch_a_gradient_that_disagrees_with_its_own_loss():
    def quadratic(W, scale):
        return float(np.sum(W ** 2)), scale * W

    W = np.random.default_rng(0).standard_normal((4, 3))
    right = verify.gradient_samples(quadratic, W, (2.0,), np.random.default_rng(1))
    wrong = verify.gradient_samples(quadratic, W, (1.0,), np.random.default_rng(1))
    assert verify.check_gradient_samples({f"c/{k}": np.asarray(v) for k, v in right.items()}) == ""
    assert "numerical gradient of your own loss" in verify.check_gradient_samples(
        {f"c/{k}": np.asarray(v) for k, v in wrong.items()})


def test_a_probe_that_failed_caps_only_the_tests_it_backs_and_flags_patched_tests():
    tests = (outcomes.TestResult("t_value", outcomes.PASSED, 2.0, 2.0), outcomes.TestResult("t_other", outcomes.PASSED, 1.0, 1.0),
             outcomes.TestResult("t_failed", outcomes.FAILED, 0.0, 1.0, "AssertionError"))
    result = outcomes.SubmissionResult("eve", "toy", outcomes.GRADED, 3.0, 4.0, tests)
    report = verify.VerificationReport((verify.Verdict("f", False, "f: differs"), verify.Verdict("g", True)))
    capped = outcomes.apply_verification(result, report, {"t_value": ["f"], "t_failed": ["f"], "t_other": ["g"]})
    assert (capped.status, capped.score) == (outcomes.TAMPER_SUSPECTED, 1.0)
    assert [t.status for t in capped.tests] == [outcomes.FAILED_VERIFICATION, outcomes.PASSED, outcomes.FAILED]
    assert "tests patched?" in capped.reason and "t_value" in capped.reason
    assert capped.unverified == ("t_value", "t_failed")
    clean = verify.VerificationReport((verify.Verdict("f", True), verify.Verdict("g", True)))
    assert outcomes.apply_verification(result, clean, {"t_value": ["f"]}) == result
