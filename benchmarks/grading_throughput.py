"""Grading throughput: `cs231kit grade` against plain sequential `nbgrader autograde`, in one run.

Builds a scratch copy of the course with ``--copies`` submissions of each simulated student of the
assignment, then grades the same submissions three ways and prints seconds per submission and
the ratios (the reference is measured in the same run, on the same machine, so the ratios travel):

1. ``nbgrader autograde <a>``: nbgrader's command, sequential, plain ``python3`` kernel, no sandbox;
2. ``cs231kit grade <a> --jobs 1``: sandboxed kernels, one at a time;
3. ``cs231kit grade <a> --jobs N``: sandboxed kernels, N at a time.

Also reported: the time to execute the notebook alone (nbclient, no grading), so that the overhead
per submission beyond executing the notebook is visible.

Usage: ``python benchmarks/grading_throughput.py [--assignment loss] [--copies 2] [--jobs N]``
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from cs231kit.grading.demo import copy_course
from cs231kit.grading.release import release_all
from cs231kit.grading.session import grading_environment
from cs231kit.grading.simulate import load_simulated_class, write_simulated_class

REPO = Path(__file__).resolve().parents[1]


def prepare_course(scratch, assignment, copies):
    """A course copy whose ``autograder/submitted`` holds ``copies`` of every simulated student."""
    course = copy_course(REPO, Path(scratch) / "course")
    release_all(course, [assignment])
    write_simulated_class(course, assignment, load_simulated_class(course, assignment))
    submitted = course / "autograder" / "submitted"
    for student in [p.name for p in submitted.iterdir()]:
        for copy in range(1, copies):
            shutil.copytree(submitted / student, submitted / f"{student}-{copy}")
    return course, len(list(submitted.iterdir()))


def reset_grading_state(course, assignment):
    """Remove grades and graded copies, keeping the submissions (each run starts equal)."""
    for name in ("autograded", "feedback", "reports"):
        shutil.rmtree(course / "autograder" / name, ignore_errors=True)
    (course / "autograder" / "gradebook.db").unlink(missing_ok=True)
    release_all(course, [assignment])


def timed(command, course, assignment):
    """Run ``command`` in ``course`` with the grading environment; return the seconds it took."""
    reset_grading_state(course, assignment)
    start = time.perf_counter()
    with grading_environment():
        subprocess.run(command, cwd=course, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def notebook_execution_seconds(course, assignment, repeats=2):
    """Mean time to execute the reference submission's notebook alone (no grading)."""
    path = next((course / "autograder" / "submitted" / "reference" / assignment).glob("*.ipynb"))
    times = []
    for _ in range(repeats):
        notebook = nbformat.read(str(path), as_version=4)
        start = time.perf_counter()
        with grading_environment():
            NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        times.append(time.perf_counter() - start)
    return sum(times) / len(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="loss")
    parser.add_argument("--copies", type=int, default=1, help="copies of each simulated student")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)
    tools = Path(sys.executable).parent
    grade = [str(tools / "cs231kit"), "grade", args.assignment, "--no-feedback", "--jobs"]
    runs = {"nbgrader autograde (sequential, no sandbox)": ([str(tools / "nbgrader"), "autograde", args.assignment], 1),
            "cs231kit grade --jobs 1": (grade + ["1"], 1),
            f"cs231kit grade --jobs {args.jobs}": (grade + [str(args.jobs)], args.jobs)}
    with tempfile.TemporaryDirectory(prefix="cs231kit-bench-") as scratch:
        course, count = prepare_course(scratch, args.assignment, args.copies)
        execute = notebook_execution_seconds(course, args.assignment)
        seconds = {name: timed(command, course, args.assignment) for name, (command, _) in runs.items()}
    reference = seconds["nbgrader autograde (sequential, no sandbox)"]
    print(f"{count} submissions of '{args.assignment}' on {os.cpu_count()} cores; "
          f"executing the notebook alone takes {execute:.1f} s")
    print(f"{'run':<45} {'s/submission':>12} {'overhead':>9} {'speed-up':>9}")
    for name, total in seconds.items():
        per_worker = total * runs[name][1] / count  # time one worker spends on one submission
        print(f"{name:<45} {total / count:>12.1f} {per_worker - execute:>8.1f}s {reference / total:>8.2f}x")
    print("overhead: per worker and submission, beyond executing the notebook; speed-up: against nbgrader")


if __name__ == "__main__":
    main()
