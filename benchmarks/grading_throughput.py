"""Grading throughput: `cs231kit grade` against plain sequential `nbgrader autograde`, in one run.

Builds a scratch copy of the course with ``--copies`` submissions of each simulated student of the
assignment, then grades the same submissions three ways and prints seconds per submission and
the ratios (the reference is measured in the same run, on the same machine, so the ratios travel):

1. ``nbgrader autograde <a>``: nbgrader's command, sequential, plain ``python3`` kernel, no sandbox;
2. ``cs231kit grade <a> --jobs 1``: sandboxed kernels, one at a time;
3. ``cs231kit grade <a> --jobs N``: sandboxed kernels, N at a time.

Also reported: the time to execute the notebook alone (nbclient, no grading), so that the overhead
per submission beyond executing the notebook is visible, and the part of it that draws the figures
(the same notebook executed again without any image format: graded kernels draw every figure, which
the feedback and the hand grading of written answers show); and where a ``cs231kit grade`` run spends
its time per submission (from the grader's own timers, :mod:`cs231kit.grading.timings`):

- start: the sandboxed kernel's launch until it answers, and the verification child's start;
- data: the notebook's cell that loads the dataset (with its imports);
- execution: the notebook's other cells;
- verification: the child's start, the program (locked and solution cells) and the probes;
- bookkeeping: intake, nbgrader's own work and the gradebook, feedback;
- per batch: the command's start until the batch's setup, the setup (shared dataset, reference
  outputs), the workers' start, the workers' idle time while the last submissions finish, and the
  command's end (the grader's steps carry monotonic time stamps, so these line up across processes).

``--rounds R`` repeats the three runs R times, one after another, and reports the medians and each round's
speed-ups: each is taken within its round, so that the machine's drift over a long run is seen and partly
cancels (on the 2-core machine here, nbgrader took 9.0 s per submission of the same class at one time and
11.4 s an hour later; over three rounds of one run the speed-up of ``--jobs 2`` went from 2.12x to 1.82x).

Usage: ``python benchmarks/grading_throughput.py [--assignment loss] [--copies 2] [--jobs N] [--rounds 3]``
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from cs231kit import data
from cs231kit.grading.demo import copy_course
from cs231kit.grading.release import release_all
from cs231kit.grading.session import grading_environment
from cs231kit.grading.simulate import load_simulated_class, write_simulated_class
from cs231kit.grading.timings import TIMINGS_ENV, read_timings, step_spans

REPO = Path(__file__).resolve().parents[1]
NBGRADER = "nbgrader autograde (sequential, no sandbox)"


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


def timed(command, course, assignment, timings=None):
    """Run ``command`` in ``course`` with the grading environment; return its ``(start, end)``
    (``time.perf_counter()``, the clock of the grader's timings).

    ``timings``: a file where the grader records its steps (``$CS231KIT_TIMINGS``).
    """
    reset_grading_state(course, assignment)
    start = time.perf_counter()
    with grading_environment({TIMINGS_ENV: str(timings)} if timings else {}):
        subprocess.run(command, cwd=course, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return start, time.perf_counter()


def dataset_cells(course, assignment):
    """Grade ids of the released notebooks' cells that load the dataset."""
    cells = [cell for path in (course / "notebooks" / assignment).glob("*.ipynb")
             for cell in json.loads(path.read_text())["cells"]]
    return {cell["metadata"].get("nbgrader", {}).get("grade_id") for cell in cells
            if cell["cell_type"] == "code" and "load_dataset(" in "".join(cell["source"])}


def kernel_seconds(events, loading_cells):
    """``{"start", "data", "execution", "shutdown"}``: seconds summed over the kernels marked in ``events``.

    ``events``: ``{pid: [mark, ...]}`` (see :func:`cs231kit.grading.timings.read_timings`); a cell
    lasts from its mark to the next cell's, the last one until the notebook completes.
    """
    total = dict.fromkeys(("start", "data", "execution", "shutdown"), 0.0)
    for marks in events.values():
        launched = None
        for mark, following in zip(marks, marks[1:]):
            if mark["event"] == "kernel launch":
                launched = mark["t"]
            elif mark["event"] == "notebook start" and launched is not None:
                total["start"] += mark["t"] - launched
            elif mark["event"] == "kernel shutdown":
                total["shutdown"] += following["t"] - mark["t"]
            elif mark["event"] == "cell":
                part = "data" if mark.get("grade_id") in loading_cells else "execution"
                total[part] += following["t"] - mark["t"]
    return total


def batch_timeline(timings, run):
    """Rows ``(what, seconds)`` of a ``cs231kit grade`` run outside its submissions: from the command's
    start to the batch setup, the setup, until the first submission, the workers' idle time at the end
    and after the last submission.

    ``run``: ``(start, end)`` of the command, on the clock of the timings (:func:`timed`).
    """
    (_, setup_start, setup_end), = step_spans(timings, "batch setup")
    grades = step_spans(timings, "grade")
    last_end = {pid: max(end for p, _, end in grades if p == pid) for pid, _, _ in grades}
    finished = max(last_end.values())
    return [("per batch: command start to setup (imports, gradebook, world fingerprint)", setup_start - run[0]),
            ("per batch: setup (shared dataset, references)", setup_end - setup_start),
            ("per batch: setup to the first submission (workers' start)", min(s for _, s, _ in grades) - setup_end),
            ("per batch: workers idle while the last submissions finish (sum)",
             sum(finished - end for end in last_end.values())),
            ("per batch: last submission to the command's end (workers' exit, world fingerprint, reports)", run[1] - finished)]


def breakdown(timings, loading_cells, count, run):
    """Rows ``(what, seconds per submission)`` of one ``cs231kit grade`` run, from its timings file, then the
    rows of its :func:`batch_timeline` (seconds per batch); ``run``: the command's ``(start, end)``."""
    steps, events = read_timings(timings)
    total = {step: sum(values) for step, values in steps.items()}
    kernel = kernel_seconds(events, loading_cells)
    verification = total.get("grade/verification", 0.0)
    program, probes = total.get("grade/verification/program", 0.0), total.get("grade/verification/probes", 0.0)
    in_kernel = sum(kernel.values())
    rows = [("start: kernel launch until it answers", kernel["start"]),
            ("start: verification child", verification - program - probes),
            ("data: the cell that loads the dataset", kernel["data"]),
            ("execution: the notebook's other cells", kernel["execution"]),
            ("kernel shutdown", kernel["shutdown"]),
            ("verification: program (cells)", program),
            ("verification: probes", probes),
            ("bookkeeping: intake", total.get("grade/intake", 0.0)),
            ("bookkeeping: nbgrader and gradebook", total.get("grade/autograde", 0.0) - in_kernel),
            ("bookkeeping: feedback", total.get("grade/feedback", 0.0)),
            ("bookkeeping: other", total.get("grade", 0.0) - sum(total.get(f"grade/{s}", 0.0) for s in
                                                                  ("intake", "autograde", "verification", "feedback"))),
            ("total per submission (one worker)", total.get("grade", 0.0))]
    rows = [(what, seconds / count) for what, seconds in rows]
    return rows + batch_timeline(timings, run)


def dataset_seconds():
    """Seconds to build the offline dataset, and to read a saved copy of it (as a kernel does in a batch)."""
    start = time.perf_counter()
    dataset = data.build_offline_dataset()
    built = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        data.save_dataset(dataset, Path(folder) / "offline.npz")
        start = time.perf_counter()
        data.read_saved_dataset(Path(folder) / "offline.npz")
        return built, time.perf_counter() - start


def notebook_execution_seconds(course, assignment, repeats=2, figures=True):
    """Mean time to execute the reference submission's notebook alone (no grading).

    ``figures=False``: the kernel's inline backend has no image format, so that no figure is drawn
    (each shows as its text summary); the difference is what drawing the figures costs.
    """
    path = next((course / "autograder" / "submitted" / "reference" / assignment).glob("*.ipynb"))
    times = []
    for _ in range(repeats):
        notebook = nbformat.read(str(path), as_version=4)
        start = time.perf_counter()
        with grading_environment():
            NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                           extra_arguments=[] if figures else ["--InlineBackend.figure_formats=set()"],
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        times.append(time.perf_counter() - start)
    return sum(times) / len(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="loss")
    parser.add_argument("--copies", type=int, default=1, help="copies of each simulated student")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of the three runs, one after another; each speed-up is taken within its round")
    args = parser.parse_args(argv)
    tools = Path(sys.executable).parent
    grade = [str(tools / "cs231kit"), "grade", args.assignment, "--no-feedback", "--jobs"]
    runs = {NBGRADER: ([str(tools / "nbgrader"), "autograde", args.assignment], 1),
            "cs231kit grade --jobs 1": (grade + ["1"], 1),
            f"cs231kit grade --jobs {args.jobs}": (grade + [str(args.jobs)], args.jobs)}
    with tempfile.TemporaryDirectory(prefix="cs231kit-bench-") as scratch:
        course, count = prepare_course(scratch, args.assignment, args.copies)
        execute = notebook_execution_seconds(course, args.assignment)
        drawing = execute - notebook_execution_seconds(course, args.assignment, figures=False)
        loading_cells = dataset_cells(course, args.assignment)
        seconds, breakdowns = {name: [] for name in runs}, {name: [] for name in runs if name != NBGRADER}
        for round_number in range(args.rounds):
            for index, (name, (command, _)) in enumerate(runs.items()):
                timings = Path(scratch) / f"timings-{round_number}-{index}.jsonl" if name in breakdowns else None
                run = timed(command, course, args.assignment, timings)
                seconds[name].append(run[1] - run[0])
                if timings and timings.exists():
                    breakdowns[name].append(breakdown(timings, loading_cells, count, run))
    print(f"{count} submissions of '{args.assignment}' on {os.cpu_count()} cores; "
          f"executing the notebook alone takes {execute:.1f} s, of which drawing its figures {drawing:.1f} s "
          f"({drawing / execute:.0%})")
    print(f"{'run':<45} {'s/submission':>12} {'overhead':>9} {'speed-up':>9}")
    speed_ups = {name: [reference / total for reference, total in zip(seconds[NBGRADER], totals)]
                 for name, totals in seconds.items()}
    for name, totals in seconds.items():
        total = statistics.median(totals)
        per_worker = total * runs[name][1] / count  # time one worker spends on one submission
        print(f"{name:<45} {total / count:>12.1f} {per_worker - execute:>8.1f}s "
              f"{statistics.median(speed_ups[name]):>8.2f}x")
    print("overhead: per worker and submission, beyond executing the notebook; speed-up: against nbgrader")
    if args.rounds > 1:
        print(f"medians of {args.rounds} rounds; speed-up in each round: " + "; ".join(
            f"{name[len('cs231kit grade '):]} " + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
            for name, ratios in speed_ups.items() if name != NBGRADER))
    print_breakdowns({name: mean_rows(rounds) for name, rounds in breakdowns.items() if rounds})
    built, read = dataset_seconds()
    print(f"offline dataset: built in {built:.2f} s, read from a saved copy in {read:.2f} s")


def mean_rows(rounds):
    """The rows ``(what, seconds)`` of several rounds' breakdowns, each the mean of its rounds."""
    return [(rows[0][0], statistics.mean(seconds for _, seconds in rows)) for rows in zip(*rounds)]


def print_breakdowns(breakdowns):
    """Print the breakdown of each ``cs231kit grade`` run side by side (seconds per submission)."""
    names = list(breakdowns)
    rows = next(iter(breakdowns.values()), [])
    width = max([len(what) for what, _ in rows] + [40]) + 2
    print(f"\n{'where a worker spends its time (s)':<{width}}" + "".join(f"{n[len('cs231kit grade '):]:>10}" for n in names))
    for index, (what, _) in enumerate(rows):
        print(f"{what:<{width}}" + "".join(f"{breakdowns[n][index][1]:>10.2f}" for n in names))


if __name__ == "__main__":
    main()
