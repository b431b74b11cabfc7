"""Out-of-process verification: its pure steps, and its agreement with the notebooks' own tests.

The agreement of verification with the notebooks' tests on every simulated student is checked
where the demo grades them (``tests/test_course.py``), from the verification the grading ran.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from cs231kit.course import load_course_module
from cs231kit.grading import outcomes, probing, verdicts, verify
from cs231kit.grading.session import list_assignments
from cs231kit.grading.status import Status
from notebook_cells import REPO, autograded_tests, hidden_tests, nbgrader, read_notebook, solution_sources

ASSIGNMENTS = list_assignments(REPO)
VERIFIED = [a for a in ASSIGNMENTS if (REPO / "autograder" / "verify" / f"{a}.py").is_file()]
IN_KERNEL_ONLY_SHARE = 0.125
"""At most this share of an assignment's autograded points may rest on in-kernel tests alone (the
loss assignment's two accuracy tests, 4 of 32 points: retraining takes minutes, too long for the
verification)."""


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
    names = {probe.name for probe in module.PROBES}
    for entry in module.IN_KERNEL_ONLY.values():  # why, and the probes its points need (none: forgeable)
        assert entry.reason.strip() and entry.needs and set(entry.needs) <= names


@pytest.mark.parametrize("assignment", VERIFIED)
def test_only_backed_tests_have_hidden_regions_so_the_kernel_needs_no_checks(assignment):
    # In grading every hidden region becomes its verdict, and the kernel cannot read autograder/ at all:
    # a hidden region that no probe backs would fail for everyone.
    module = load_course_module(f"autograder/verify/{assignment}.py", root=REPO)
    hidden = set(hidden_tests(read_notebook(REPO / "solutions" / assignment / f"{assignment}.ipynb")))
    assert hidden - set(verify.probes_by_test(module.PROBES)) == set()


TEST_CELL = ("print('visible')\n"
             "if True:  # a hidden region may be indented\n"
             "    ### BEGIN HIDDEN TESTS\n"
             "    checks = load_course_module('autograder/checks/a.py')\n"
             "    checks.check_x(x)\n"
             "    ### END HIDDEN TESTS\n"
             "print('done')")


def _printed(source):
    """What executing ``source`` printed."""
    printed = []
    exec(source, {"print": printed.append})
    return printed


def test_a_verdict_replaces_the_hidden_region_and_keeps_the_rest_of_the_cell():
    passed, failed = verdicts.with_verdict(TEST_CELL, ""), verdicts.with_verdict(TEST_CELL, "x: 'dW' differs 'here'")
    for source in (passed, failed):
        assert "checks" not in source and source.startswith("print('visible')\nif True:") and source.endswith("print('done')")
        assert source.count("    ### BEGIN HIDDEN TESTS\n") == 1  # the feedback still leaves the region out
    assert _printed(passed) == ["visible", verdicts.PASSED_MESSAGE, "done"]
    with pytest.raises(AssertionError, match="^x: 'dW' differs 'here'$"):
        _printed(failed)


def test_verdicts_name_every_failing_probe_of_a_test():
    report = verify.VerificationReport((verify.Verdict("f", False, "f: wrong"), verify.Verdict("g", True),
                                        verify.Verdict("h", False, "h: also wrong")))
    backing = {"t_f": ["f"], "t_g": ["g"], "t_fgh": ["f", "g", "h"]}
    assert verdicts.test_verdicts(report, backing) == {"t_f": "f: wrong", "t_g": "", "t_fgh": "f: wrong; h: also wrong"}


def test_the_grading_kernel_gets_verdicts_in_place_of_every_hidden_test(tmp_path):
    import nbformat

    cells = [nbformat.v4.new_code_cell(TEST_CELL, metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1}}),
             nbformat.v4.new_code_cell(TEST_CELL, metadata={"nbgrader": {"grade": True, "grade_id": "u", "points": 1}})]
    (tmp_path / "verdicts.json").write_text(json.dumps({"t": "t: wrong"}))
    # Called as nbgrader calls it (an nbconvert preprocessor that is off by default does nothing).
    notebook, _ = verdicts.InsertVerdicts(path=str(tmp_path / "verdicts.json"))(nbformat.v4.new_notebook(cells=cells), {})
    assert notebook.cells[0].source == verdicts.with_verdict(TEST_CELL, "t: wrong")
    assert notebook.cells[1].source == TEST_CELL  # a test no probe backs is left as it is


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
    setup = {"cell": "setup", "source": "import numpy as np", "student": False}
    assert verify.program_cells(source, student) == [setup, {"cell": "f", "source": "def f():\n    return 2", "student": True}]
    assert verify.program_cells(source)[1] == {"cell": "f", "source": "def f():\n    return 1\n", "student": True}
    assert verify.program_cells(source, {"cells": "not a list"}) == [setup]


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
    right = probing.gradient_samples(quadratic, W, (2.0,), np.random.default_rng(1))
    wrong = probing.gradient_samples(quadratic, W, (1.0,), np.random.default_rng(1))
    assert verify.check_gradient_samples({f"c/{k}": np.asarray(v) for k, v in right.items()}) == ""
    assert "numerical gradient of your own loss" in verify.check_gradient_samples(
        {f"c/{k}": np.asarray(v) for k, v in wrong.items()})


def test_a_probe_that_failed_caps_only_the_tests_it_backs_and_flags_patched_tests():
    tests = (outcomes.TestResult("t_value", Status.PASSED, 2.0, 2.0), outcomes.TestResult("t_other", Status.PASSED, 1.0, 1.0),
             outcomes.TestResult("t_failed", Status.FAILED, 0.0, 1.0, "AssertionError"))
    result = outcomes.SubmissionResult("eve", "toy", Status.GRADED, 3.0, 4.0, tests)
    report = verify.VerificationReport((verify.Verdict("f", False, "f: differs"), verify.Verdict("g", True)))
    capped = outcomes.apply_verification(result, report, {"t_value": ["f"], "t_failed": ["f"], "t_other": ["g"]})
    assert (capped.status, capped.score) == (Status.TAMPER_SUSPECTED, 1.0)
    assert [t.status for t in capped.tests] == [Status.FAILED_VERIFICATION, Status.PASSED, Status.FAILED]
    assert "tests patched?" in capped.reason and "t_value" in capped.reason
    assert capped.unverified == ("t_value", "t_failed")
    clean = verify.VerificationReport((verify.Verdict("f", True), verify.Verdict("g", True)))
    assert outcomes.apply_verification(result, clean, {"t_value": ["f"]}) == result


def test_an_in_kernel_only_test_needs_its_probes_without_suspicion():
    result = outcomes.SubmissionResult("s", "a", "graded", 3.0, 3.0, (
        outcomes.TestResult("t_accuracy", "passed", 2.0, 2.0), outcomes.TestResult("t_value", "passed", 1.0, 1.0)))
    report = verify.VerificationReport((verify.Verdict("f", False, "f: wrong"), verify.Verdict("g", True)))
    gated = outcomes.apply_verification(result, report, {"t_value": ["g"]}, {"t_accuracy": ["f"]})
    assert (gated.status, gated.score, gated.unverified) == ("graded", 1.0, ())
    assert gated.tests[0].status == "failed verification" and "f: wrong" in gated.tests[0].reason
    assert outcomes.apply_verification(result, report, {"t_value": ["g"]}, {"t_accuracy": ["g"]}) == result


def test_a_loop_probe_fails_when_the_larger_input_runs_more_lines():
    probe = verify.Probe("f", ("t",), run=None, loop_slack=2)
    assert verify.check_line_counts(probe, {"lines": np.array([30, 32])}) == ""
    assert "Python lines" in verify.check_line_counts(probe, {"lines": np.array([30, 33])})
    assert "could not be counted" in verify.check_line_counts(probe, {})
    assert verify.check_line_counts(verify.Probe("g", ("t",), run=None), {"lines": np.array([1, 99])}) == ""
    same = {"lines": np.array([30, 30]), "traced/0": np.ones(2), "untraced/0": np.ones(2)}
    assert verify.check_line_counts(probe, same) == ""
    assert "while its lines are counted" in verify.check_line_counts(probe, {**same, "traced/0": np.zeros(2)})
    assert not probe.compared("lines") and probe.compared("outputs/0")


def test_a_probe_that_reached_the_course_implementation_fails_and_says_so():
    probe = verify.Probe("numerical_gradient", ("t",), run=None, course_twins=("cs231kit.gradcheck",))
    outputs = {"numerical_gradient/grad": np.ones(3)}
    report = verify.verify_outputs([probe], outputs, outputs, {"delegations": {"numerical_gradient": ["cs231kit.gradcheck"]}})
    (verdict,) = report.verdicts
    assert not verdict.passed and "calls the course's implementation" in verdict.reason
    assert "cs231kit.gradcheck" in verdict.reason
    assert verify.verify_outputs([probe], outputs, outputs, {"delegations": {}}).verdicts[0].passed


@pytest.mark.parametrize("assignment", VERIFIED)
def test_in_kernel_only_tests_are_worth_a_small_share_of_the_points(assignment):
    notebook = read_notebook(REPO / "solutions" / assignment / f"{assignment}.ipynb")
    points = {nbgrader(c)["grade_id"]: nbgrader(c)["points"] for c in notebook["cells"]
              if nbgrader(c).get("grade_id") in autograded_tests(notebook)}
    unverified = load_course_module(f"autograder/verify/{assignment}.py", root=REPO).IN_KERNEL_ONLY
    assert sum(points[t] for t in unverified) <= IN_KERNEL_ONLY_SHARE * sum(points.values())


@pytest.mark.parametrize("folder", ["verify", "checks/cases"])
@pytest.mark.parametrize("assignment", VERIFIED)
def test_the_verify_modules_the_sandbox_sees_hold_no_graded_function(assignment, folder):
    """What the verification child can read holds no answer: no solution line, no function of a graded name."""
    module_path = REPO / "autograder" / folder / f"{assignment}.py"
    if not module_path.is_file():
        pytest.skip(f"{assignment} has no autograder/{folder} module")
    text, module = module_path.read_text(), load_course_module(f"autograder/{folder}/{assignment}.py", root=REPO)
    for cell, source in solution_sources(read_notebook(REPO / "solutions" / assignment / f"{assignment}.ipynb")).items():
        for name in re.findall(r"^def (\w+)\(", source, re.M):
            assert not callable(getattr(module, name, None)), f"{module_path.name} defines {name}"
        for line in _solution_lines(source):
            assert line not in text, f"{module_path.name} holds a line of the solution of {cell}: {line!r}"


def _solution_lines(source):
    """The lines of a solution that are specific enough to identify it (long code lines, no docstring text)."""
    body = re.sub(r'"""(.*?)"""', "", source, flags=re.S)
    return {line.strip() for line in body.splitlines()
            if len(line.strip()) >= 40 and not line.strip().startswith(("#", "def ", "return ", "raise "))}


# ---------------------------------------------------------------- the guard of the verification child


def _child_report(tmp_path, assignment, replacements):
    """Run the verification child (without the sandbox) on the solution program with some cells replaced."""
    program = [dict(c, source=replacements.get(c["cell"], c["source"]))
               for c in verify.assignment_program(REPO, assignment, [assignment])]
    return _run_child(tmp_path, assignment, program)


def _run_child(tmp_path, assignment, program):
    """Run the verification child (without the sandbox) on ``program``; its report."""
    arguments = verify.child_arguments(tmp_path, REPO, assignment, program, call_seconds=60)
    subprocess.run([sys.executable, "-m", verify.CHILD_MODULE, *map(str, arguments)], cwd=tmp_path, check=True,
                   capture_output=True)
    return json.loads((tmp_path / "report.json").read_text())


FRESH_COPY = """
import importlib.util
import cs231kit.gradcheck as course

def numerical_gradient(f, x, h=1e-5):
    spec = importlib.util.spec_from_file_location("fresh_copy", course.__file__)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    return fresh.numerical_gradient(f, x, h)
"""
ATTACKS = {
    "numerical_gradient_forward": "from cs231kit.gradcheck import numerical_gradient as numerical_gradient_forward",
    "relative_error": "def relative_error(a, b):\n    return len(open(%r).read())" % str(REPO / "autograder" / "checks" / "gradcheck.py"),
    "grad_check_sparse": "def grad_check_sparse(*args):\n    import sys\n    sys.settrace(None)",
    "binary_gates": "import ctypes\nctypes.pythonapi.PyEval_SetTrace(None, None)",
    "unary_gates": "import sys\nframe = sys._getframe()",
    # Frames handed out by the standard library: the way to the guard's objects, refused the same way.
    "add_mul_graph": "import traceback\nframes = list(traceback.walk_stack(None))",
    "sigmoid_neuron": "import logging\nframe = logging.currentframe()",
}


def test_the_child_refuses_student_code_the_course_and_its_measurements(tmp_path):
    report = _child_report(tmp_path, "gradcheck", {"numerical_gradient": FRESH_COPY, **ATTACKS})
    delegated = report["delegations"]
    assert {p for p in delegated if p.startswith("numerical_gradient ")} == {
        "numerical_gradient on sum(x**3)", "numerical_gradient on sum(exp(x))",
        "numerical_gradient on unseen functions", "numerical_gradient restores x"}
    assert {p for p in delegated if p.startswith("numerical_gradient_forward")} == {
        "numerical_gradient_forward on sum(exp(x))", "numerical_gradient_forward on unseen functions"}
    refused = "\n".join(report["refusals"])
    for event in ("open: a file of the course", "sys.settrace", "ctypes.", "sys._getframe"):
        assert event in refused
    assert "PermissionError" in report["probe_errors"]["relative_error on the visible cases"]
    for cell in ("binary_gates", "add_mul_graph", "sigmoid_neuron"):
        assert "PermissionError" in report["cell_errors"][cell], cell
    assert not any(p.startswith(("affine", "relu", "two_layer")) for p in {**delegated, **report["probe_errors"]})


def test_replacing_a_lazily_loaded_trusted_module_function_is_seen_though_the_notebook_never_loaded_it(tmp_path):
    """numpy loads numpy.testing on first use: the child loads it (and every watched module) before the student's
    code, so a replacement from a solution cell is seen whether or not anything had loaded it before, cold or warm."""
    program = [dict(cell="svm_q4_answer", source="import numpy as np\nnp.testing.assert_allclose = print")]
    tampering = _run_child(tmp_path, "loss", program)["tampering"]
    assert tampering == ["numpy.testing.assert_allclose was replaced (in cell svm_q4_answer)"]
