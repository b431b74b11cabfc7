"""What the kit writes into nbgrader's gradebook after nbgrader's autograde, never over a grader's work.

nbgrader's autograde stores each test cell's kernel result in ``Grade.auto_score``; ``manual_score``
belongs to the graders (Formgrader), and wins over the autograded score in every nbgrader view.
So the kit keeps to three steps of its own:

- verification: a test that passed in the kernel but whose out-of-process verification failed gets
  ``auto_score = 0`` (it is the autograded result, once verified), and its cell in the autograded
  notebook gets an error output saying why, which graders see in Formgrader and students in their
  feedback (nbgrader keeps comments for answer cells only);
- a grader's review: nbgrader flags every cell with a manual score as "needs manual grade" again
  when it autogrades; the kit puts the grader's flag back when the submission is the one they graded;
- names: students nbgrader creates have no name, which Formgrader shows as "None, None"; a student
  with neither name gets the id as last name (names set by an instructor are left alone).
"""

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .cells import grade_id

VERIFICATION_ERROR = "VerificationFailed"


@dataclass(frozen=True)
class GraderReview:
    """The grader's "needs manual grade" flags of the cells they scored, and the submission they saw.

    ``flags`` is ``{(notebook, cell): needs_manual_grade}`` of the grades with a manual score.
    """

    timestamp: object = None
    flags: dict = field(default_factory=dict)


def read_grader_review(gradebook, assignment, student):
    """The :class:`GraderReview` of a submission before it is autograded again (empty if it is new)."""
    from nbgrader.api import MissingEntry

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return GraderReview()
    flags = {(notebook.name, grade.name): grade.needs_manual_grade
             for notebook in submission.notebooks for grade in notebook.grades if grade.manual_score is not None}
    return GraderReview(submission.timestamp, flags)


def restore_grader_review(gradebook, assignment, student, review):
    """Put the grader's flags of ``review`` back, unless the student submitted again since (then the
    cells stay flagged for review, as nbgrader leaves them). Manual scores are never changed."""
    if not review.flags:
        return
    submission = gradebook.find_submission(assignment, student)
    if submission.timestamp != review.timestamp:
        return
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            flag = review.flags.get((notebook.name, grade.name))
            if flag is not None and grade.manual_score is not None:
                grade.needs_manual_grade = flag
    gradebook.db.commit()


def record_verification(gradebook, assignment, student, capped, autograded_dir):
    """Record the tests that failed their out-of-process verification as autograded zeros.

    Parameters
    ----------
    gradebook : nbgrader.api.Gradebook
    assignment, student : str
    capped : dict
        ``{test grade id: reason}`` of the tests that passed in the kernel but failed verification.
    autograded_dir : str or Path
        ``autograder/autograded/<student>/<assignment>``: each capped cell of its notebooks gets an
        error output ``VerificationFailed: <reason>``.
    """
    if not capped:
        return
    for notebook in gradebook.find_submission(assignment, student).notebooks:
        names = [g.name for g in notebook.grades if g.name in capped]
        for grade in notebook.grades:
            if grade.name in capped:
                grade.auto_score = 0.0
        if names:
            _add_error_outputs(Path(autograded_dir) / f"{notebook.name}.ipynb", {n: capped[n] for n in names})
    gradebook.db.commit()


def _add_error_outputs(path, reasons):
    """Append an error output ``VerificationFailed: reason`` to the cells of ``reasons`` (by grade id)."""
    if not path.is_file():
        return
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        reason = reasons.get(grade_id(cell))
        if reason and cell.cell_type == "code":
            cell.outputs.append(nbformat.v4.new_output("error", ename=VERIFICATION_ERROR, evalue=reason,
                                                       traceback=[f"{VERIFICATION_ERROR}: {reason}"]))
    _write_notebook_like(path, notebook)


def _write_notebook_like(path, notebook):
    """Replace the notebook at ``path`` (nbgrader makes it read-only) through a rename, same permissions."""
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            nbformat.write(notebook, handle)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def name_unnamed_student(gradebook, student):
    """Give a student with neither first nor last name the id as last name (an empty first name)."""
    record = gradebook.find_student(student)
    if record.first_name is None and record.last_name is None:
        record.last_name, record.first_name = student, ""
        gradebook.db.commit()
