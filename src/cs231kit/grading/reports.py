"""Grades CSV, JSON report and the class table, written atomically.

The CSV keeps a failure to grade apart from a real zero: its ``score`` is empty and its ``status``
says what happened.
"""

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from .outcomes import MANUAL
from .sandbox import describe_isolation, probe_isolation

CSV_COLUMNS = ("assignment", "student", "status", "score", "max_score", "manual_pending", "failed_tests", "reason")


def write_atomically(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def grades_csv(results):
    """Render results as CSV text, one row per submission (see :data:`CSV_COLUMNS`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        writer.writerow({
            "assignment": r.assignment, "student": r.student, "status": r.status,
            "score": "" if r.score is None else f"{r.score:g}", "max_score": f"{r.max_score:g}",
            "manual_pending": r.manual_pending, "failed_tests": " ".join(r.failed_tests), "reason": r.reason,
        })
    return buffer.getvalue()


def json_report(results):
    """Render results as an indented JSON document with a per-status count."""
    statuses = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    document = {"submissions": [r.to_dict() for r in results], "statuses": statuses,
                "sandbox": describe_isolation(probe_isolation())}
    return json.dumps(document, indent=2, sort_keys=True)


def write_reports(root, assignment, results):
    """Write ``autograder/reports/<assignment>/grades.csv`` and ``report.json``; return their paths."""
    folder = Path(root) / "autograder" / "reports" / assignment
    paths = folder / "grades.csv", folder / "report.json"
    write_atomically(paths[0], grades_csv(results))
    write_atomically(paths[1], json_report(results))
    return paths


def class_table(results, expected=None):
    """A plain-text table: student, score / max, status, failed tests (and expected score if given).

    Parameters
    ----------
    results : list of SubmissionResult
    expected : dict, optional
        ``{student: expected score}``; adds an "expected" column and marks mismatches with ``!!``.
    """
    header = ["student", "score", "status"] + (["expected"] if expected else []) + ["failed tests"]
    rows = [header]
    for r in results:
        score = "-" if r.score is None else f"{r.score:g} / {r.max_score:g}"
        row = [r.student, score, r.status]
        if expected:
            want = expected.get(r.student)
            row.append("" if want is None else f"{want:g}" + ("" if r.score == want else "  !!"))
        row.append(_failed_summary(r))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths)) + "  " + row[-1] for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _failed_summary(result):
    """The failed tests of one submission, ``"all N tests"`` when none passed, or why it was not graded."""
    if result.score is None:
        return result.reason
    failed = result.failed_tests
    if failed and len(failed) == sum(t.status != MANUAL for t in result.tests):
        return f"all {len(failed)} tests"
    return ", ".join(failed) or "-"
