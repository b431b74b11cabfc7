"""The grader's step timers (``cs231kit.grading.timings``), which ``benchmarks/grading_throughput.py`` reads:
nested steps, their spans, and spans of several processes on one clock."""

import contextvars
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cs231kit.grading.timings import TIMINGS_ENV, read_timings, step_spans, timed

TIME_A_STEP_IN_A_CHILD = """
from cs231kit.grading.timings import timed
with timed("child step"):
    pass
"""


def test_a_nested_step_is_named_after_its_parent_and_its_span_lies_inside_the_parents(tmp_path, monkeypatch):
    path = tmp_path / "timings.jsonl"
    monkeypatch.setenv(TIMINGS_ENV, str(path))
    before = time.perf_counter()
    with timed("grade"):
        with timed("intake"):
            time.sleep(0.02)
    after = time.perf_counter()

    (pid, start, end), = step_spans(path, "grade")
    (inner_pid, inner_start, inner_end), = step_spans(path, "grade/intake")
    assert pid == inner_pid == os.getpid()
    assert before <= start <= inner_start < inner_end <= end <= after
    assert inner_end - inner_start >= 0.02
    steps, _ = read_timings(path)
    assert steps == {"grade/intake": [pytest.approx(inner_end - inner_start)], "grade": [pytest.approx(end - start)]}


def test_steps_timed_in_threads_at_once_each_nest_in_their_creators_step_only(tmp_path, monkeypatch):
    """The batch setup runs the references of several assignments in threads at once: each thread's step is
    named after the step open where the thread was given its work, never after another thread's step."""
    path = tmp_path / "timings.jsonl"
    monkeypatch.setenv(TIMINGS_ENV, str(path))
    both_open = threading.Barrier(2)

    def reference(name):
        with timed(f"reference {name}"):
            both_open.wait(timeout=10)  # both steps open at once
            with timed("verification"):
                pass

    with timed("batch setup"), ThreadPoolExecutor(2) as threads:
        runs = [threads.submit(contextvars.copy_context().run, reference, name) for name in "ab"]
        [run.result() for run in runs]
    with timed("after"):
        pass
    steps, _ = read_timings(path)
    assert set(steps) == {"batch setup", "batch setup/reference a", "batch setup/reference b", "after",
                          "batch setup/reference a/verification", "batch setup/reference b/verification"}


def test_the_spans_of_a_child_process_lie_on_the_parents_clock(tmp_path):
    """The benchmark lines up the steps of the grader's worker processes with its own clock: a step timed in a
    child process lies between the parent's readings before and after the child ran."""
    path = tmp_path / "timings.jsonl"
    before = time.perf_counter()
    subprocess.run([sys.executable, "-c", TIME_A_STEP_IN_A_CHILD], check=True, env={**os.environ, TIMINGS_ENV: str(path)})
    after = time.perf_counter()
    (pid, start, end), = step_spans(path, "child step")
    assert pid != os.getpid()
    assert before < start <= end < after
