"""Autograde every submission of an assignment and explain each outcome.

One nbgrader autograde run per student, in order; a submission that nbgrader cannot grade is
recorded with its reason and the batch goes on.
"""

import tempfile
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from .outcomes import SubmissionResult, collect_graded_submission, failed_submission
from .release import generate_release
from .session import grading_environment, make_api

NOT_SUBMITTED = "not submitted"


def submitted_students(root, assignment):
    """Return ``(submitted, missing)``: students with a folder for ``assignment`` and those without.

    Students are the folders of ``autograder/submitted/``.
    """
    submitted_dir = Path(root) / "autograder" / "submitted"
    students = sorted(p.name for p in submitted_dir.iterdir() if p.is_dir()) if submitted_dir.is_dir() else []
    submitted = [s for s in students if (submitted_dir / s / assignment).is_dir()]
    return submitted, [s for s in students if s not in submitted]


def ensure_registered(root, api, assignment):
    """Make sure the gradebook knows ``assignment`` (a fresh clone has no gradebook).

    Registration writes its release into a scratch folder, so ``notebooks/`` is never touched here.
    """
    gradebook = api.gradebook
    try:
        known = assignment in {a.name for a in gradebook.assignments if a.notebooks}
    finally:
        gradebook.close()
    if not known:
        with tempfile.TemporaryDirectory() as scratch:
            generate_release(root, assignment, scratch)


def autograded_max_score(api, assignment):
    """Total points of the assignment's autograded test cells, from the gradebook."""
    gradebook = api.gradebook
    try:
        total = 0.0
        for notebook in gradebook.find_assignment(assignment).notebooks:
            solution_names = {c.name for c in notebook.solution_cells}
            total += sum(c.max_score for c in notebook.grade_cells
                         if c.cell_type == "code" and c.name not in solution_names)
        return total
    finally:
        gradebook.close()


def grade_submission(api, assignment, student, max_score):
    """Autograde one submission and return its :class:`SubmissionResult`."""
    outcome = api.autograde(assignment, student, force=True, create=True)
    if not outcome["success"]:
        return failed_submission(student, assignment, max_score, f"{outcome.get('error')}\n{outcome.get('log')}")
    autograded_dir = Path(api.coursedir.format_path(api.coursedir.autograded_directory, student, assignment))
    gradebook = api.gradebook
    try:
        return collect_graded_submission(gradebook, assignment, student, autograded_dir)
    finally:
        gradebook.close()


def generate_feedback(api, assignment, results):
    """Write feedback HTML for every graded submission; return ``{student: error}`` for failures."""
    errors = {}
    for result in results:
        if result.score is not None:
            outcome = api.generate_feedback(assignment, result.student, force=True)
            if not outcome["success"]:
                errors[result.student] = outcome.get("error") or outcome.get("log")
    return errors


def grade_assignment(root, assignment, *, students=None, feedback=True, progress=True):
    """Autograde the submissions of ``assignment`` under ``autograder/submitted/``.

    Parameters
    ----------
    root : str or Path
        Course root.
    assignment : str
        Assignment id.
    students : list of str, optional
        Only these students (default: every folder of ``autograder/submitted/``).
    feedback : bool
        Also write feedback HTML (hidden tests removed) under ``autograder/feedback/``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of SubmissionResult
        One per student, sorted by student id, including students who did not submit.
    """
    api = make_api(root)
    ensure_registered(root, api, assignment)
    max_score = autograded_max_score(api, assignment)
    submitted, missing = submitted_students(root, assignment)
    if students is not None:
        submitted = [s for s in submitted if s in students]
        missing = [s for s in missing if s in students]
    with grading_environment():
        results = [grade_submission(api, assignment, s, max_score)
                   for s in tqdm(submitted, desc=f"grading {assignment}", unit="submission", disable=not progress)]
        failures = generate_feedback(api, assignment, results) if feedback else {}
    for student, error in failures.items():
        warnings.warn(f"no feedback HTML for {student}: {(error or 'unknown error').strip().splitlines()[-1]}", stacklevel=2)
    results += [SubmissionResult(s, assignment, NOT_SUBMITTED, None, max_score, (), "no submission") for s in missing]
    return sorted(results, key=lambda r: r.student)
