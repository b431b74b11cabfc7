"""Explained outcomes: what happened to each submission and to each of its tests.

nbgrader records scores, not reasons, and its CSV shows a submission that failed to grade as 0.0.
Here every submission ends with a status and every test with a status and a reason a student can
act on; a failure to grade is never a score.
"""

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import nbformat

from .cells import grade_id
from .status import Status

MAX_NAMES_SHOWN = 10

# (text in nbgrader's error log, submission status, what the student should do)
_GRADING_FAILURES = (
    ("NotJSONError", Status.INVALID_NOTEBOOK, "the notebook file is not valid JSON (corrupt, truncated or empty); "
     "open it in JupyterLab, save it and submit again"),
    ("No notebooks found", Status.MISSING_NOTEBOOK, "no notebook with the released name was found; "
     "submit the released file under its original name"),
    ("Inconsistent checksums", Status.EDITED_TEST_CELLS, "the metadata of a read-only test cell was changed; "
     "start from a fresh copy of the release and paste your solutions in"),
    ("DeadKernelError", Status.KERNEL_DIED, "the Python kernel died while running the notebook "
     "(os._exit, a crash or too much memory); run it top to bottom in a fresh kernel"),
    ("Kernel died", Status.KERNEL_DIED, "the Python kernel died while running the notebook; "
     "run it top to bottom in a fresh kernel"),
    ("CellTimeoutError", Status.TIMEOUT, "a cell ran longer than the time limit and could not be interrupted; "
     "look for an infinite loop"),
)


@dataclass(frozen=True)
class TestResult:
    """The outcome of one graded cell of one submission."""

    name: str
    status: Status
    points: float | None
    max_points: float
    reason: str = ""


@dataclass(frozen=True)
class SubmissionResult:
    """The outcome of one submission: a status, the autograded score and the per-test results.

    ``unverified`` names the tests whose out-of-process verification failed (whatever the kernel
    said about them; see :func:`apply_verification`).
    """

    student: str
    assignment: str
    status: Status
    score: float | None
    max_score: float
    tests: tuple = field(default_factory=tuple)
    reason: str = ""
    unverified: tuple = ()

    @property
    def failed_tests(self):
        """Names of the autograded tests that did not get full points."""
        return [t.name for t in self.tests if t.status not in (Status.PASSED, Status.MANUAL)]

    @property
    def manual_pending(self):
        """Number of answers graded by hand that still wait for a grader (a blank answer is a graded 0)."""
        return sum(t.status == Status.MANUAL and t.points is None for t in self.tests)

    @property
    def written_score(self):
        """Points of the answers graded by hand; ``None`` while one of them waits for a grader."""
        return None if self.manual_pending else sum(t.points for t in self.tests if t.status == Status.MANUAL)

    @property
    def written_max(self):
        """Points of all the answers graded by hand."""
        return sum(t.max_points for t in self.tests if t.status == Status.MANUAL)

    @property
    def total(self):
        """Autograded plus hand-graded points, once nothing is pending; ``None`` before (or when not graded)."""
        return None if self.score is None or self.written_score is None else self.score + self.written_score

    @property
    def total_max(self):
        """The maximum of :attr:`total`: every graded cell of the assignment."""
        return self.max_score + self.written_max

    def to_dict(self):
        """A JSON-ready dictionary (tests as a list of dictionaries)."""
        return {**asdict(self), "failed_tests": self.failed_tests, "manual_pending": self.manual_pending,
                "written_score": self.written_score, "written_max": self.written_max, "total": self.total,
                "total_max": self.total_max}


def explain_grading_failure(error_text):
    """Map nbgrader's error log of a failed autograde to ``(status, reason)``.

    Parameters
    ----------
    error_text : str
        The traceback and log that ``NbGraderAPI.autograde`` returned.

    Returns
    -------
    tuple of str
    """
    for needle, status, reason in _GRADING_FAILURES:
        if needle in (error_text or ""):
            return status, reason
    last_line = (error_text or "no error text").strip().splitlines()[-1]
    return Status.GRADING_ERROR, f"nbgrader could not grade the submission: {last_line}"


def cell_errors(notebook_path):
    """Return ``{grade_id: error summary}`` for the graded cells of an executed notebook that raised.

    The summary is ``"ename: evalue"`` of the last error output; a timeout is reported as such.
    """
    notebook = nbformat.read(str(notebook_path), as_version=4)
    errors = {}
    for cell in notebook.cells:
        raised = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id(cell) and raised:
            errors[grade_id(cell)] = _summarise_error(raised)
    return errors


def _summarise_error(error_outputs):
    """One readable line (or a few) from a cell's error outputs."""
    names = {o.get("ename") for o in error_outputs}
    if "CellTimeoutError" in names or "TimeoutError" in names:
        return f"{Status.TIMEOUT}: the cell ran longer than the time limit"
    if "MemoryError" in names or "MemoryError" in str(error_outputs[-1].get("evalue")):
        return f"{Status.MEMORY_LIMIT}: the code asked for more memory than the sandbox allows (MemoryError)"
    last = error_outputs[-1]
    return f"{last.get('ename')}: {last.get('evalue')}".strip()


def collect_graded_submission(gradebook, assignment, student, autograded_dir=None):
    """Build the :class:`SubmissionResult` of a submission that nbgrader autograded.

    Parameters
    ----------
    gradebook : nbgrader.api.Gradebook
    assignment, student : str
    autograded_dir : Path, optional
        ``autograder/autograded/<student>/<assignment>``, holding the executed notebooks (their errors
        explain failed tests); without it the results hold the scores only.
    """
    tests = []
    for notebook in gradebook.find_assignment(assignment).notebooks:
        path = None if autograded_dir is None else Path(autograded_dir) / f"{notebook.name}.ipynb"
        tests += notebook_test_results(gradebook, notebook, student, path)
    return _summarise_submission(student, assignment, tests)


def notebook_test_results(gradebook, notebook, student, autograded_path):
    """The :class:`TestResult` of each grade cell of one notebook of a student, from the gradebook.

    A cell's points are nbgrader's ``Grade.score`` (a grader's manual score wins over the autograded
    one); an answer graded by hand has ``points=None`` while it waits for a grader.

    Parameters
    ----------
    gradebook : nbgrader.api.Gradebook
    notebook : nbgrader.api.Notebook
        The assignment's notebook (its cells and their maximum scores).
    student : str
    autograded_path : Path or None
        The executed notebook (its error outputs explain failed tests); may be missing.
    """
    solution_names = {c.name for c in notebook.solution_cells}
    errors = cell_errors(autograded_path) if autograded_path and Path(autograded_path).exists() else {}
    graded = gradebook.find_submission_notebook(notebook.name, notebook.assignment.name, student)
    grades = {g.name: g for g in graded.grades}
    return [_test_result(cell, grades.get(cell.name), cell.cell_type == "code" and cell.name not in solution_names,
                         errors.get(cell.name, "")) for cell in notebook.grade_cells]


def _test_result(cell, grade, is_test, error):
    """The :class:`TestResult` of one grade cell."""
    scored = grade is not None and (grade.auto_score is not None or grade.manual_score is not None)
    points = grade.score if scored else None
    if not is_test:
        return TestResult(cell.name, Status.MANUAL, points, cell.max_score,
                          "graded by hand" if scored else "waiting for a grader")
    if points is None:
        return TestResult(cell.name, Status.NOT_GRADED, None, cell.max_score,
                          "this test cell was missing from the submission and was not graded")
    if points >= cell.max_score:
        return TestResult(cell.name, Status.PASSED, points, cell.max_score)
    status = next((limit for limit in (Status.TIMEOUT, Status.MEMORY_LIMIT) if error.startswith(limit)), Status.FAILED)
    return TestResult(cell.name, status, points, cell.max_score, error or "the test did not pass")


def _summarise_submission(student, assignment, tests):
    """Total the autograded tests of one graded submission."""
    auto_tests = [t for t in tests if t.status != Status.MANUAL]
    score = sum(t.points or 0.0 for t in auto_tests)
    max_score = sum(t.max_points for t in auto_tests)
    return SubmissionResult(student, assignment, Status.GRADED, score, max_score, tuple(tests))


def apply_verification(result, report, backing, needs=None):
    """Cap a graded submission by its out-of-process verification (see :mod:`cs231kit.grading.verify`).

    A test whose backing probe failed gets no points. If it had passed in the kernel, it becomes
    ``failed verification`` and the submission ``tamper suspected`` ("tests patched?"), as it does
    when the sandbox saw the solution cells replace trusted functions. A test that no probe backs but
    whose points need some probes (an accuracy after training with the graded functions, read from the
    notebook) gets no points when one of them failed, without suspicion: an honest notebook with a
    wrong loss can still train well.

    Parameters
    ----------
    result : SubmissionResult
        A graded submission.
    report : cs231kit.grading.verify.VerificationReport
    backing : dict
        ``{test name: [probe names]}``.
    needs : dict, optional
        ``{test name: [probe names]}`` of the tests no probe backs (``IN_KERNEL_ONLY``).
    """
    failed = report.failed_probes()
    tests, capped, unverified = [], [], []
    for test in result.tests:
        reasons = [failed[p] for p in backing.get(test.name, ()) if p in failed]
        unmet = [failed[p] for p in (needs or {}).get(test.name, ()) if p in failed]
        unverified += [test.name] if reasons else []
        if reasons and test.status == Status.PASSED:
            capped.append(test.name)
            test = TestResult(test.name, Status.FAILED_VERIFICATION, 0.0, test.max_points,
                              f"passed in the notebook but failed the out-of-process verification: {reasons[0]}")
        elif unmet and test.status == Status.PASSED:
            test = TestResult(test.name, Status.FAILED_VERIFICATION, 0.0, test.max_points,
                              f"its points need the functions it measures to pass the out-of-process "
                              f"verification: {unmet[0]}")
        tests.append(test)
    if tests == list(result.tests) and not report.tampering:
        return replace(result, unverified=tuple(unverified))
    summary = _summarise_submission(result.student, result.assignment, tests)
    reasons = ([f"tests patched? {len(capped)} passed in the notebook but failed the out-of-process "
                f"verification: {', '.join(capped)}"] if capped else [])
    reasons += [f"the solution cells replaced trusted code: {'; '.join(report.tampering)}"] if report.tampering else []
    return replace(result, status=Status.TAMPER_SUSPECTED if reasons else result.status, score=summary.score,
                   max_score=summary.max_score, tests=summary.tests,
                   reason="; ".join(reasons) if reasons else result.reason, unverified=tuple(unverified))


def with_intake_notes(result, notes, ignored=()):
    """A graded result with the intake's notes on restored cells (status ``test cells restored``
    unless something graver was found) and the names of the files it did not take (``ignored``,
    status unchanged); ``result`` itself when there are neither."""
    if not (notes or ignored):
        return result
    status = Status.TEST_CELLS_RESTORED if notes and result.status == Status.GRADED else result.status
    shown = ", ".join(ignored[:MAX_NAMES_SHOWN]) + (f" and {len(ignored) - MAX_NAMES_SHOWN} more"
                                                    if len(ignored) > MAX_NAMES_SHOWN else "")
    remark = f"only the notebook was graded; ignored: {shown}" if ignored else ""
    return replace(result, status=status, reason="; ".join(filter(None, [result.reason, *notes, remark])))


# Why the sandbox ended a kernel (see cs231kit.grading.sandbox_kernel) -> submission status.
_SANDBOX_ENDINGS = {"wall clock": Status.TIMEOUT, "SIGXCPU": Status.CPU_LIMIT, "SIGXFSZ": Status.FILE_SIZE_LIMIT,
                    "SIGKILL": Status.KERNEL_KILLED, "sandbox error": Status.GRADING_ERROR}


def failed_submission(student, assignment, max_score, error_text, sandbox_endings=()):
    """The :class:`SubmissionResult` of a submission that could not be graded (never a zero).

    Parameters
    ----------
    student, assignment : str
    max_score : float
    error_text : str
        nbgrader's error and log.
    sandbox_endings : sequence of dict, optional
        ``{"kind", "reason"}`` records of kernels the sandbox ended; they explain the failure first.
    """
    if sandbox_endings:
        ending = sandbox_endings[-1]
        status = _SANDBOX_ENDINGS.get(ending["kind"], Status.KERNEL_KILLED)
        reason = f"{ending['reason']}; the sandbox stopped it, so no test could be graded"
    else:
        status, reason = explain_grading_failure(error_text)
    return SubmissionResult(student, assignment, status, None, max_score, (), reason)
