"""The main job: release every assignment, grade a simulated class, check every expected score.

It works on a copy of the course in a scratch folder, so the real gradebook, submissions and
release are never touched.
"""

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .autograde import grade_assignments
from .release import release_all
from .reports import class_table, write_reports
from .sandbox import describe_isolation, probe_isolation
from .session import list_assignments
from .simulate import load_simulated_class, write_simulated_class

# What a scratch copy of the course leaves out: grading state, releases and local clutter.
_NOT_COPIED = ("notebooks", "submitted", "autograded", "feedback", "reports", "gradebook.db",
               ".git", ".venv", "__pycache__", ".ipynb_checkpoints", ".pytest_cache")


@dataclass(frozen=True)
class AssignmentDemo:
    """The graded simulated class of one assignment."""

    assignment: str
    results: list
    expected: dict

    @property
    def mismatches(self):
        """Students whose score differs from the expected one."""
        return [r.student for r in self.results if r.score != self.expected.get(r.student)]


def copy_course(root, destination):
    """Copy the course's sources and grading material (not its grading state) to ``destination``."""
    shutil.copytree(root, destination, ignore=shutil.ignore_patterns(*_NOT_COPIED))
    return Path(destination)


def demo_assignments(root, assignments, *, progress=True):
    """Write the simulated classes of ``assignments`` into course ``root``, grade them in one batch (one pool
    of workers for every submission), write each assignment's reports; return one AssignmentDemo each."""
    expected = {a: write_simulated_class(root, a, load_simulated_class(root, a)) for a in assignments}
    # Only each assignment's class: the other assignments' students would be listed as 'not submitted'.
    batches = grade_assignments(root, {a: list(expected[a]) for a in assignments}, progress=progress)
    for assignment, results in batches.items():
        write_reports(root, assignment, results)
    return [AssignmentDemo(a, batches[a], expected[a]) for a in assignments]


def run_demo(root, *, workdir=None, assignments=None, progress=True, echo=print):
    """Run the whole course pipeline on a copy of the course at ``root``.

    Parameters
    ----------
    root : str or Path
        The course root to copy.
    workdir : str or Path, optional
        Where to put the copy (kept afterwards); a temporary folder that is removed by default.
    assignments : list of str, optional
        Default: every assignment that has a simulated class.
    progress : bool
        Show progress bars.
    echo : callable
        Receives each line of the printed report.

    Returns
    -------
    list of AssignmentDemo
    """
    with tempfile.TemporaryDirectory(prefix="cs231kit-demo-") as scratch:
        course = copy_course(root, Path(workdir or scratch) / "course")
        echo(f"Course copy: {course}")
        chosen = assignments or [a for a in list_assignments(course) if load_simulated_class(course, a)]
        start = time.perf_counter()
        release_all(course, chosen)
        echo(f"Released {', '.join(chosen)} in {time.perf_counter() - start:.1f} s")
        echo(describe_isolation(probe_isolation()))
        start = time.perf_counter()
        demos = demo_assignments(course, chosen, progress=progress)
        echo(f"Graded {sum(len(d.results) for d in demos)} simulated students of {len(demos)} assignments "
             f"in one batch in {time.perf_counter() - start:.1f} s")
        for demo in demos:
            echo(f"\n== {demo.assignment}: {len(demo.results)} simulated students")
            echo(class_table(demo.results, demo.expected))
        echo(_verdict(demos))
    return demos


def _verdict(demos):
    """The closing line: how many simulated students got exactly their expected score."""
    total = sum(len(d.results) for d in demos)
    wrong = [f"{d.assignment}/{s}" for d in demos for s in d.mismatches]
    if not wrong:
        return f"\nAll {total} simulated students got exactly their expected score."
    return f"\n{len(wrong)} of {total} simulated students did NOT get their expected score: {', '.join(wrong)}"
