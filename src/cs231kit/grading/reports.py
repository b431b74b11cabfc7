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
    """Plain text for the instructor: submissions by status, score statistics, the tests failed most often."""
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
    failed = most_failed_tests(results)[:top]
    lines.append("tests failed most often:" if failed else "no test failed")
    lines += [f"  {count:>4} / {len(graded)}  {name}" for name, count in failed]
    return "\n".join(lines) + "\n"


def plot_class_summary(results, top=10):
    """A figure: histogram of autograded scores, and the tests failed most often."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    scores_ax, tests_ax = figure.subplots(1, 2)
    graded = [r.score for r in results if r.score is not None]
    max_score = results[0].max_score if results else 1.0
    # One bar per point for the usual small totals, 20 bars beyond.
    bins = np.arange(-0.5, max_score + 1) if max_score <= 40 else np.linspace(0, max_score, 21)
    scores_ax.hist(graded, bins=bins, color="tab:blue")
    scores_ax.set(xlabel="autograded score", ylabel="submissions",
                  title=f"Scores ({len(graded)} graded, {len(results) - len(graded)} not)")
    failed = most_failed_tests(results)[:top][::-1]
    tests_ax.barh([name for name, _ in failed], [count for _, count in failed], color="tab:red")
    tests_ax.set(xlabel="graded submissions that failed the test", title="Tests failed most often")
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
