"""Grades CSV, JSON report, class summary (text and figure) and the class table, written atomically.

The CSV keeps a failure to grade apart from a real zero: its ``score`` is empty and its ``status``
says what happened.
"""

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .sandbox import describe_isolation, probe_isolation
from .status import Status

CSV_COLUMNS = ("assignment", "student", "status", "score", "max_score", "manual_pending", "written_score", "written_max",
               "total", "total_max", "failed_tests", "reason")


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
            "score": format_score(r.score), "max_score": format_score(r.max_score), "manual_pending": r.manual_pending,
            "written_score": format_score(r.written_score), "written_max": format_score(r.written_max),
            "total": format_score(r.total), "total_max": format_score(r.total_max),
            "failed_tests": " ".join(r.failed_tests), "reason": r.reason,
        })
    return buffer.getvalue()


def format_score(value):
    """A score as CSV text: ``""`` for None (not graded, or pending), else the shortest form."""
    return "" if value is None else f"{value:g}"


def score_parts(result):
    """The three score columns every view shows: ``(autograded, written, total)`` texts.

    The autograded score is out of the autograded tests; answers graded by hand are ``pending`` until
    a grader scores them (a blank answer is a graded 0); the total, out of every graded cell, exists
    once nothing is pending.

    Returns
    -------
    tuple of str
        e.g. ``("29 / 32", "pending (4 points)", "-")`` or ``("29 / 32", "3 / 4", "32 / 36")``.
    """
    if result.score is None:
        return "-", "-", "-"
    if not result.written_max:
        written = "-"
    elif result.written_score is None:
        waiting = sum(t.max_points for t in result.tests if t.status == Status.MANUAL and t.points is None)
        written = f"pending ({waiting:g} point{'s' if waiting != 1 else ''})"
    else:
        written = f"{result.written_score:g} / {result.written_max:g}"
    total = "-" if result.total is None else f"{result.total:g} / {result.total_max:g}"
    return f"{result.score:g} / {result.max_score:g}", written, total


def json_report(results):
    """Render results as an indented JSON document with a per-status count."""
    statuses = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    document = {"submissions": [r.to_dict() for r in results], "statuses": statuses,
                "sandbox": describe_isolation(probe_isolation()), "protections": probe_isolation(),
                "world_changes": getattr(results, "world_changes", [])}
    return json.dumps(document, indent=2, sort_keys=True)


def write_reports(root, assignment, results):
    """Write ``grades.csv``, ``report.json``, ``summary.txt`` and ``summary.png`` into
    ``autograder/reports/<assignment>/``; return their paths."""
    folder = Path(root) / "autograder" / "reports" / assignment
    paths = folder / "grades.csv", folder / "report.json", folder / "summary.txt", folder / "summary.png"
    write_atomically(paths[0], grades_csv(results))
    write_atomically(paths[1], json_report(results))
    write_atomically(paths[2], class_summary(results))
    _save_figure_atomically(plot_class_summary(results), paths[3])
    return paths


def most_failed_tests(results):
    """``[(test name, number of graded submissions that failed it)]``, most failed first."""
    counts = {}
    for r in results:
        for name in r.failed_tests if r.score is not None else ():
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def class_summary(results, top=10):
    """Plain text for the instructor: submissions by status, score statistics, written answers still to
    grade, the tests failed most often."""
    graded = [r.score for r in results if r.score is not None]
    statuses = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    lines = [f"{len(results)} students: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))]
    if graded:
        full = results[0].max_score
        lines.append(f"autograded score (out of {full:g}): mean {sum(graded) / len(graded):.1f}, "
                     f"median {sorted(graded)[len(graded) // 2]:g}, min {min(graded):g}, max {max(graded):g}, "
                     f"full marks {sum(score == full for score in graded)}")
    written = [r for r in results if r.score is not None and r.written_max]
    if written:
        waiting = sum(r.manual_pending > 0 for r in written)
        lines.append(f"written answers: {waiting} submission(s) waiting for a grader, {len(written) - waiting} graded")
    failed = most_failed_tests(results)[:top]
    lines.append("tests failed most often:" if failed else "no test failed")
    lines += [f"  {count:>4} / {len(graded)}  {name}" for name, count in failed]
    return "\n".join(lines) + "\n"


def plot_class_summary(results, top=10):
    """A figure: histogram of autograded scores, and the tests failed most often."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(11, 4), layout="constrained")
    scores_ax, tests_ax = figure.subplots(1, 2)
    graded = [r.score for r in results if r.score is not None]
    max_score = results[0].max_score if results else 1.0
    # One bar per point for the usual small totals, 20 bars beyond.
    bins = np.arange(-0.5, max_score + 1) if max_score <= 40 else np.linspace(0, max_score, 21)
    scores_ax.hist(graded, bins=bins, color="tab:blue")
    scores_ax.set(xlabel="autograded score", ylabel="submissions",
                  title=f"Scores ({len(graded)} graded, {len(results) - len(graded)} not)")
    scores_ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of submissions
    failed = most_failed_tests(results)[:top][::-1]
    tests_ax.barh([name for name, _ in failed], [count for _, count in failed], color="tab:red")
    tests_ax.set(xlabel="graded submissions that failed the test", title="Tests failed most often")
    tests_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def _save_figure_atomically(figure, path):
    """Save a matplotlib figure as PNG through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=Path(path).parent, prefix=f".{Path(path).name}.", suffix=".png")
    os.close(fd)
    try:
        figure.savefig(tmp, dpi=100)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def class_table(results, expected=None):
    """A plain-text table: student, the scores of :func:`score_parts`, status, failed tests (and expected score).

    Parameters
    ----------
    results : list of SubmissionResult
    expected : dict, optional
        ``{student: expected score}``; adds an "expected" column and marks mismatches with ``!!``.
    """
    header = ["student", "autograded", "written", "total", "status"] + (["expected"] if expected else []) + ["failed tests"]
    rows = [header]
    for r in results:
        row = [r.student, *score_parts(r), r.status]
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
    if failed and len(failed) == sum(t.status != Status.MANUAL for t in result.tests):
        return f"all {len(failed)} tests"
    return ", ".join(failed) or "-"
