"""Grade one Gradescope submission: the ``run_autograder`` step of the zip built by :mod:`.gradescope`.

Gradescope unpacks the zip into ``<root>/source``, puts the student's upload into
``<root>/submission`` and shows the student ``<root>/results/results.json`` (format:
https://gradescope-autograders.readthedocs.io/en/latest/specs/). The steps:

1. copy ``<root>/source/course`` to a scratch folder (the source is never written to);
2. find the student's notebook (:func:`find_notebook`) and put it where ``cs231kit grade`` looks;
3. grade it with :func:`~cs231kit.grading.autograde.grade_assignment`, as ``cs231kit grade`` does;
4. translate the :class:`~cs231kit.grading.outcomes.SubmissionResult` (:func:`gradescope_results`)
   and write ``results.json`` atomically.

Visibility. Each test is ``visible`` when students can read all of its source in the release, and
``after_due_date`` when it has hidden parts, so a hidden test's result does not reveal its cases
before the deadline (Gradescope then also hides the total score until the due date). The top level
is ``visible``: every test sets its own visibility, and the submission-level output (not graded
because the notebook is corrupt, renamed file graded) must reach the student while there is time
to resubmit. That output therefore never states the score. Answers graded by hand are left out of
``tests``: they are not part of the autograder score, and Gradescope grades them as manual questions.
"""

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .autograde import grade_assignment
from .cells import grade_id, hidden_tests, is_graded
from .intake import STUDENT_ID
from .outcomes import SubmissionResult
from .reports import class_table, write_atomically
from .sandbox import describe_isolation, probe_isolation
from .simulate import autograded_tests
from .status import Status

VISIBLE, AFTER_DUE_DATE = "visible", "after_due_date"
DEFAULT_STUDENT = "student"


@dataclass(frozen=True)
class SourceTests:
    """The graded cells of an assignment, as its source notebooks define them.

    Attributes
    ----------
    points : dict
        ``{grade_id: points}`` of the autograded test cells.
    hidden : frozenset of str
        Grade ids of the tests with hidden parts (``### BEGIN HIDDEN TESTS``).
    manual : int
        Number of cells graded by hand (written answers).
    """

    points: dict
    hidden: frozenset
    manual: int

    def visibility(self, name):
        """Gradescope visibility of test ``name``: ``after_due_date`` unless its source is wholly visible."""
        return VISIBLE if name in self.points and name not in self.hidden else AFTER_DUE_DATE


def read_source_tests(source_dir):
    """The :class:`SourceTests` of the notebooks in ``source_dir`` (``solutions/<assignment>``)."""
    points, hidden, manual = {}, set(), 0
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        notebook = nbformat.read(str(path), as_version=4)
        tests = autograded_tests(notebook)
        points.update(tests)
        for cell in notebook.cells:
            if grade_id(cell) in tests and hidden_tests(cell.source) is not None:
                hidden.add(grade_id(cell))
            elif is_graded(cell) and grade_id(cell) not in tests:
                manual += 1
    return SourceTests(points, frozenset(hidden), manual)


def student_id(metadata_path):
    """A folder-safe student id from Gradescope's ``submission_metadata.json`` (first user's email or id).

    ``"student"`` when the file is missing or names nobody. The id is one the intake accepts
    (:data:`~cs231kit.grading.intake.STUDENT_ID`: no leading ``-``, at most 100 characters).
    """
    path = Path(metadata_path)
    users = json.loads(path.read_text()).get("users") if path.is_file() else None
    user = users[0] if users else {}
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", str(user.get("email") or user.get("id") or "")).strip("_-")[:100]
    return safe if STUDENT_ID.fullmatch(safe) else DEFAULT_STUDENT


def find_notebook(submission_dir, released_name):
    """Choose the uploaded notebook to grade; return ``(path or None, what was done, for the student)``.

    The rule: the one notebook named ``released_name`` (anywhere in the upload); else, when exactly
    one notebook was uploaded, that one under whatever name (students rename: ``loss (1).ipynb``);
    else nothing is graded. ``.ipynb_checkpoints`` folders are ignored.
    """
    submission_dir = Path(submission_dir)
    notebooks = sorted(p for p in submission_dir.rglob("*.ipynb")
                       if p.is_file() and ".ipynb_checkpoints" not in p.relative_to(submission_dir).parts)
    named = [p for p in notebooks if p.name == released_name]
    uploaded = ", ".join(repr(str(p.relative_to(submission_dir))) for p in notebooks)
    if len(named) == 1:
        return named[0], ""
    if len(notebooks) == 1:
        return notebooks[0], (f"No file named {released_name} was uploaded, so the only notebook, {uploaded}, "
                              f"was graded as {released_name}.")
    if not notebooks:
        return None, f"no notebook was uploaded; upload your {released_name}"
    return None, (f"{len(notebooks)} notebooks were uploaded ({uploaded}) and the autograder cannot tell which "
                  f"one to grade; upload only your notebook, named {released_name}")


def grade_notebook(course, assignment, student, notebook, max_score, hidden=()):
    """Grade ``notebook`` as ``student``'s submission in the scratch ``course``; return its SubmissionResult.

    ``hidden`` lists paths student code must not see (the unpacked autograder, the upload folder).
    An error of the autograder itself becomes a ``grading error`` result (with the traceback on
    stdout, which only instructors see), so that ``results.json`` is written in every case.
    """
    target = Path(course) / "autograder" / "submitted" / student / assignment
    target.mkdir(parents=True)
    shutil.copyfile(notebook, target / f"{assignment}.ipynb")
    try:
        return grade_assignment(course, assignment, students=[student], feedback=False, progress=False, jobs=1,
                                hidden=hidden)[0]
    except Exception as error:  # the student must get an explained result, whatever broke
        traceback.print_exc(file=sys.stdout)
        return SubmissionResult(student, assignment, Status.GRADING_ERROR, None, max_score, (),
                                f"the autograder itself failed ({type(error).__name__}); your instructor "
                                "can see the details")


def gradescope_results(result, source_tests, notes=(), seconds=0.0):
    """The ``results.json`` document of one submission.

    Parameters
    ----------
    result : SubmissionResult
    source_tests : SourceTests
        Test visibilities and the number of answers graded by hand.
    notes : sequence of str
        More lines for the student (e.g. that a renamed notebook was graded).
    seconds : float
        Execution time.

    Returns
    -------
    dict
        Top-level ``score`` (the kit's score, capped at the maximum; 0 when the submission could not
        be graded), ``tests`` (one per autograded test; none when not graded), ``output`` and visibilities.
    """
    graded = result.score is not None
    tests = [_gradescope_test(t, source_tests.visibility(t.name)) for t in result.tests if t.status != Status.MANUAL]
    return {
        "score": min(max(result.score, 0.0), result.max_score) if graded else 0.0,
        "execution_time": round(seconds),
        "output": _summary(result, source_tests, notes),
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        "tests": tests if graded else [],
        "extra_data": {"status": result.status, "max_score": result.max_score},
    }


def _gradescope_test(test, visibility):
    """One entry of ``tests``: anything but ``passed`` counts as failed, with the kit's reason as output."""
    passed = test.status == Status.PASSED
    return {"name": test.name, "score": min(max(test.points or 0.0, 0.0), test.max_points),
            "max_score": test.max_points, "status": "passed" if passed else "failed",
            "output": "" if passed else test.reason or test.status, "visibility": visibility}


def _summary(result, source_tests, notes):
    """The top-level output: the submission's status and what to do; never the score (see the module doc)."""
    lines = [f"Submission status: {result.status}."]
    if result.score is None:
        lines.append(f"Not graded: {result.reason.rstrip('.')}. The autograder score is 0 until a notebook that can be "
                     "graded is submitted.")
    elif result.reason:
        lines.append(result.reason)
    lines += list(notes)
    if source_tests.hidden and result.score is not None:
        lines.append("Tests with hidden parts show their results after the due date; until then Gradescope "
                     "does not show the total score.")
    if source_tests.manual:
        lines.append(f"{source_tests.manual} written answer(s) are graded by hand; their points are not part "
                     "of this autograder score.")
    return "\n".join(lines)


def run(root, assignment):
    """Grade the submission under Gradescope root ``root``; write and return ``results.json``'s document."""
    start = time.monotonic()
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="cs231kit-gradescope-") as scratch:
        course = Path(shutil.copytree(root / "source" / "course", Path(scratch) / "course"))
        source_tests = read_source_tests(course / "solutions" / assignment)
        max_score = sum(source_tests.points.values())
        student = student_id(root / "submission_metadata.json")
        notebook, note = find_notebook(root / "submission", f"{assignment}.ipynb")
        if notebook is None:
            result = SubmissionResult(student, assignment, Status.MISSING_NOTEBOOK, None, max_score, (), note)
            notes = []
        else:
            private = [root / name for name in ("source", "submission", "results", "submission_metadata.json")]
            result = grade_notebook(course, assignment, student, notebook, max_score, hidden=private)
            notes = [note] if note else []
    results = gradescope_results(result, source_tests, notes, time.monotonic() - start)
    write_atomically(root / "results" / "results.json", json.dumps(results, indent=2))
    print(class_table([result]), describe_isolation(probe_isolation()), sep="\n")
    return results


def main(argv=None):
    """Entry point of ``python -m cs231kit.grading.gradescope_run`` (called by ``run_autograder``)."""
    parser = argparse.ArgumentParser(prog="python -m cs231kit.grading.gradescope_run", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/autograder", help="Gradescope's autograder folder")
    parser.add_argument("--assignment", required=True, help="assignment id")
    args = parser.parse_args(argv)
    run(args.root, args.assignment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
