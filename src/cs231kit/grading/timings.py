"""Cheap timers of the grading steps, for ``benchmarks/grading_throughput.py``; off unless asked for.

When ``$CS231KIT_TIMINGS`` names a file, every timed step of the grader appends one JSON line to it:
``{"pid", "step", "seconds", "end"}`` for a step (nested steps are joined by ``/``: ``grade/intake``)
and ``{"pid", "event", "t", ...}`` for an instant. ``end`` and ``t`` are ``time.perf_counter()``, which on
Linux reads the system-wide monotonic clock, so the records of several processes line up. The
grader's worker processes append to the same file (one short line per ``write``); sandboxed code
cannot reach it (it lies outside everything they see), and nothing is recorded when the variable is unset.
"""

import contextlib
import contextvars
import json
import os
import time
from collections import defaultdict

TIMINGS_ENV = "CS231KIT_TIMINGS"
_open_steps = contextvars.ContextVar("open_steps", default=())
"""The steps open around the running code: per thread (and task), which starts with its creator's when it
runs in a copy of the creator's context (``contextvars.copy_context().run``)."""


@contextlib.contextmanager
def timed(step):
    """Record how long the block (or, used as a decorator, each call) takes, as ``step``.

    Parameters
    ----------
    step : str
        Its name; a step timed inside another one is recorded as ``outer/step``.
    """
    steps = (*_open_steps.get(), step)
    token = _open_steps.set(steps)
    start = time.perf_counter()
    try:
        yield
    finally:
        end = time.perf_counter()
        record({"step": "/".join(steps), "seconds": end - start, "end": end})
        _open_steps.reset(token)


def record_seconds(step, seconds):
    """Record a duration measured elsewhere (e.g. reported by a child process) as a step inside the open ones."""
    record({"step": "/".join([*_open_steps.get(), step]), "seconds": float(seconds)})


def mark(event, **details):
    """Record an instant (``time.perf_counter()`` now) named ``event``, with JSON-able ``details``."""
    record({"event": event, "t": time.perf_counter(), **details})


def record(entry):
    """Append ``entry`` and this process's id as one JSON line to ``$CS231KIT_TIMINGS`` (no-op when unset)."""
    path = os.environ.get(TIMINGS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"pid": os.getpid(), **entry}) + "\n")


def read_timings(path):
    """The records of a timings file: ``(steps, events)``.

    Returns
    -------
    steps : dict
        ``{step: [seconds, ...]}``.
    events : dict
        ``{pid: [record, ...]}`` of the instants, in the order each process recorded them.
    """
    steps, events = defaultdict(list), defaultdict(list)
    with open(path, encoding="utf-8") as log:
        for entry in map(json.loads, log):
            if "step" in entry:
                steps[entry["step"]].append(entry["seconds"])
            else:
                events[entry["pid"]].append(entry)
    return dict(steps), dict(events)


def step_spans(path, step):
    """``[(pid, start, end), ...]`` of every time ``step`` was timed (by :func:`timed`), in a timings file."""
    with open(path, encoding="utf-8") as log:
        return [(entry["pid"], entry["end"] - entry["seconds"], entry["end"])
                for entry in map(json.loads, log) if entry.get("step") == step and "end" in entry]


def execution_marks(manager="jupyter_client.manager.AsyncKernelManager"):
    """``Execute`` settings that mark the kernel's launch, its readiness, each cell sent and the end.

    For nbgrader's ``Execute`` preprocessor (an nbclient ``NotebookClient``): a kernel manager that
    extends ``manager`` (a class or its import path) and marks ``"kernel launch"``, ``"kernel shutdown"``
    and ``"kernel gone"``, and the hooks ``on_notebook_start`` (kernel ready: ``"notebook start"``),
    ``on_cell_execute`` (``"cell"``, with its grade id) and ``on_notebook_complete``.
    """
    from traitlets.utils.importstring import import_item

    class MarkedKernelManager(import_item(manager) if isinstance(manager, str) else manager):
        async def start_kernel(self, **kwargs):
            mark("kernel launch")
            return await super().start_kernel(**kwargs)

        async def shutdown_kernel(self, *args, **kwargs):
            mark("kernel shutdown")
            try:
                return await super().shutdown_kernel(*args, **kwargs)
            finally:
                mark("kernel gone")

    def mark_cell(cell, **_):
        mark("cell", grade_id=cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"))

    return {"kernel_manager_class": MarkedKernelManager, "on_cell_execute": mark_cell,
            "on_notebook_start": lambda **_: mark("notebook start"),
            "on_notebook_complete": lambda **_: mark("notebook complete")}
