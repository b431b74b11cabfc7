"""``nbgrader export`` with the kit's scores: autograded, written (pending until graded) and total.

nbgrader's own CSV export adds every graded cell into one ``score`` out of the whole assignment, so an
answer still waiting for a grader counts as 0 and the autograded score is nowhere. This plugin
(``c.ExportApp.plugin_class`` in ``nbgrader_config.py``) reads the same gradebook through the same
function as ``cs231kit grade`` (:func:`~cs231kit.grading.outcomes.collect_graded_submission`), so
its numbers are those of the kit's CSV, report and feedback.
"""

import csv
from dataclasses import replace

from nbgrader.api import MissingEntry
from nbgrader.plugins.export import ExportPlugin

from .autograde import autograded_max
from .outcomes import collect_graded_submission
from .reports import format_score
from .status import Status

EXPORT_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email", "status",
                  "score", "max_score", "manual_pending", "written_score", "written_max", "total", "total_max",
                  "late_submission_penalty")


def gradebook_result(gradebook, assignment, student):
    """The :class:`~cs231kit.grading.outcomes.SubmissionResult` of a submission, from the gradebook alone.

    A submission none of whose tests has a score could not be graded: its score is ``None``, as in the
    kit's reports.
    """
    result = collect_graded_submission(gradebook, assignment, student)
    if any(t.points is not None for t in result.tests if t.status != Status.MANUAL):
        return result
    return replace(result, status=Status.NOT_GRADED, score=None, reason="no test was graded (see `cs231kit grade`)")


def export_rows(gradebook, assignments=(), students=()):
    """One dictionary of :data:`EXPORT_COLUMNS` per (assignment, student) of the gradebook.

    Parameters
    ----------
    gradebook : nbgrader.api.Gradebook
    assignments, students : sequence of str, optional
        Only these (default: all).
    """
    rows = []
    for assignment in gradebook.assignments:
        if assignments and assignment.name not in assignments:
            continue
        for student in gradebook.students:
            if students and student.id not in students:
                continue
            rows.append(_export_row(gradebook, assignment, student))
    return rows


def _export_row(gradebook, assignment, student):
    """The export row of one student and one assignment (``not submitted`` without a submission)."""
    row = {"assignment": assignment.name, "duedate": assignment.duedate or "", "student_id": student.id,
           "last_name": student.last_name or "", "first_name": student.first_name or "",
           "email": student.email or ""}
    try:
        submission = gradebook.find_submission(assignment.name, student.id)
    except MissingEntry:
        return {**row, "timestamp": "", "status": Status.NOT_SUBMITTED,
                "max_score": format_score(autograded_max(assignment))}
    result = gradebook_result(gradebook, assignment.name, student.id)
    return {**row, "timestamp": submission.timestamp or "", "status": result.status,
            "score": format_score(result.score), "max_score": format_score(result.max_score),
            "manual_pending": result.manual_pending, "written_score": format_score(result.written_score),
            "written_max": format_score(result.written_max), "total": format_score(result.total),
            "total_max": format_score(result.total_max),
            "late_submission_penalty": format_score(submission.late_submission_penalty)}


class ScoresExportPlugin(ExportPlugin):
    """``nbgrader export`` writing the rows of :func:`export_rows` to ``--to`` (default ``grades.csv``)."""

    def export(self, gradebook):
        """Write the CSV file."""
        destination = self.to or "grades.csv"
        self.log.info("Exporting the kit's scores to %s", destination)
        rows = export_rows(gradebook, [str(a) for a in self.assignment], [str(s) for s in self.student])
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS, restval="", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
