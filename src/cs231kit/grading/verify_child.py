"""The sandboxed side of out-of-process verification (run by :mod:`cs231kit.grading.verify`).

``python -m cs231kit.grading.verify_child request.json outputs.npz report.json``

Executes the program of the request (trusted locked cells and the student's solution cells) in
one namespace, then calls every probe of ``autograder/verify/<assignment>.py`` on it and writes:

- ``outputs.npz``: ``{"<probe>/<key>": numeric array}``, the only thing the grader compares;
- ``report.json``: cells and probes that raised, trusted functions the student's cells replaced
  (``numpy.allclose``, ``numpy.testing`` asserts, builtins, ``cs231kit`` helpers, modules in
  ``sys.modules``), the course's implementations a probe's calls reached (``delegations``) and
  what the student's code was refused (``refusals``).

Before any student code runs, :class:`Guard` installs an audit hook (PEP 578: it cannot be removed)
and a trace function. Code compiled from the student's cells carries the file name
``<student cell ID>``; while such a frame is on the stack the hook refuses what would let it read
an answer or defeat a measurement: reading the course tree or the grading package, importing
grading modules, ``sys.settrace``/``sys.setprofile``, ``ctypes``, ``gc``'s object walks, starting
threads, frames taken with ``sys._getframe``/``inspect`` or from tracebacks. The trace function
(installed by trusted code, which the student cannot switch off) records every call, during a probe,
of the course's own implementation of the graded function (its code compared by content, so a copy
reloaded or re-executed from the course's source is recognised too), and counts the Python lines a
loop probe's calls execute.

Everything here runs next to student code and is treated by the grader as untrusted output.
"""

import importlib
import inspect
import json
import os
import sys
import time
import types
from pathlib import Path

import numpy as np

from ..course import load_course_module
from ..timelimit import time_limit
from .verify import KEY_SEPARATOR, _read_outputs

WATCHED_MODULES = ("numpy", "numpy.testing", "math", "builtins", "scipy", "scipy.optimize")
WATCHED_ATTRIBUTES = {
    "numpy": ("allclose", "isclose", "array_equal", "array_equiv", "all", "any", "abs", "max", "isfinite"),
    "numpy.testing": ("assert_allclose", "assert_array_equal", "assert_array_almost_equal",
                      "assert_almost_equal", "assert_equal"),
    "builtins": ("isinstance", "len", "abs", "max", "min", "sum", "all", "any", "print", "round", "float",
                 "__import__"),
    "math": ("isclose",),
}
COURSE_HELPERS = ("cs231kit.answers", "cs231kit.course", "cs231kit.data", "cs231kit.features", "cs231kit.gradcheck",
                  "cs231kit.landscapes", "cs231kit.laws", "cs231kit.runtime", "cs231kit.timelimit",
                  "cs231kit.training", "cs231kit.vis", "cs231kit.widgets")
"""The helper modules the notebooks import; replacing their public functions is tampering."""
# Imported with this module, before any student code: a replacement is then seen whether or not the
# notebook imported the module before it replaced something in it (numpy.testing is loaded lazily), and
# whether this process started cold or forked from a warm server that had imported them.
for _name in (*WATCHED_MODULES, *COURSE_HELPERS):
    importlib.import_module(_name)


def main(argv=None):
    """Entry point; returns the exit code (0 when the report and outputs were written)."""
    request_path, outputs_path, report_path = (sys.argv[1:] if argv is None else argv)[:3]
    request = json.loads(Path(request_path).read_text())
    save, dump, write, clock = np.savez, json.dumps, Path.write_text, time.perf_counter  # kept before student code
    probes = load_course_module(f"autograder/verify/{request['assignment']}.py", root=request["root"]).PROBES
    inputs = _read_outputs(Path(request["inputs"])) if request.get("inputs") else {}
    guard = Guard(request["root"], probes)
    namespace = {"__name__": "__main__", "get_ipython": _NoIPython}  # get_ipython() -> a do-nothing shell
    started = clock()
    cell_errors, tampering = run_program(request["program"], namespace, request["call_seconds"])
    program_seconds = clock() - started
    outputs, probe_errors, before = {}, {}, snapshot_trusted()
    for probe in probes:
        try:
            with time_limit(request["call_seconds"], f"the check of {probe.name}"), guard.probing(probe):
                flatten(probe.run(Definitions(namespace, guard, inputs)), probe.name, outputs)
        except BaseException as error:  # noqa: BLE001 (student code may raise anything, SystemExit included)
            probe_errors[probe.name] = _summary(error)
    tampering += [f"{what} (while its functions were called)" for what in replaced_since(before)]
    save(outputs_path, **outputs)
    report = {"finished": True, "cell_errors": cell_errors, "probe_errors": probe_errors, "tampering": tampering,
              "delegations": guard.delegations, "refusals": guard.refusals[:MAX_REFUSALS],
              "seconds": {"program": program_seconds, "probes": clock() - started - program_seconds}}
    write(Path(report_path), dump(report))
    return 0


def run_program(program, namespace, cell_seconds):
    """Execute the program's cells in ``namespace``; return ``(cell errors, tampering found)``."""
    from IPython.core.inputtransformer2 import TransformerManager

    to_python = TransformerManager().transform_cell
    cell_errors, tampering = {}, []
    for cell in program:
        before = snapshot_trusted()
        try:
            kind = STUDENT_CELL if cell.get("student", True) else COURSE_CELL
            code = compile(to_python(cell["source"]), f"<{kind} {cell['cell']}>", "exec")
            with time_limit(cell_seconds, f"cell {cell['cell']}"):
                exec(code, namespace)
        except BaseException as error:  # noqa: BLE001
            cell_errors[cell["cell"]] = _summary(error)
        tampering += [f"{what} (in cell {cell['cell']})" for what in replaced_since(before)]
    return cell_errors, tampering


def snapshot_trusted():
    """``{(module, attribute or None): object}`` of what the student's code must not replace."""
    snapshot = {}
    for name, module in list(sys.modules.items()):
        if name in WATCHED_MODULES or name == "cs231kit" or name.startswith("cs231kit."):
            snapshot[(name, None)] = module
            for attribute in WATCHED_ATTRIBUTES.get(name) or _public_functions(module):
                snapshot[(name, attribute)] = getattr(module, attribute, None)
    return snapshot


def _public_functions(module):
    """Names of the public functions and classes a ``cs231kit`` module defines itself."""
    if not isinstance(module, types.ModuleType) or not module.__name__.startswith("cs231kit"):
        return ()
    return tuple(name for name, value in vars(module).items() if not name.startswith("_")
                 and callable(value) and getattr(value, "__module__", None) == module.__name__)


def replaced_since(before):
    """What of a :func:`snapshot_trusted` is now another object: a module in ``sys.modules``, or an
    attribute of the original module."""
    replaced = []
    for (module_name, attribute), original in before.items():
        if attribute is None:
            if sys.modules.get(module_name) is not original:
                replaced.append(f"sys.modules[{module_name!r}] was replaced")
        elif getattr(before[(module_name, None)], attribute, None) is not original:
            replaced.append(f"{module_name}.{attribute} was replaced")
    return replaced


def flatten(value, prefix, outputs):
    """Store ``value`` as numeric arrays under ``prefix``: dicts and tuples by key and index.

    Raises
    ------
    TypeError
        If a leaf is not numeric (an object, a string, None...).
    """
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}{KEY_SEPARATOR}{key}", outputs)
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}{KEY_SEPARATOR}{index}", outputs)
    else:
        array = np.array(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"a {type(value).__name__} came back where numbers were expected ({prefix})")
        outputs[prefix] = array


def _summary(error):
    """``"ename: evalue"`` of an exception, shortened."""
    text = f"{type(error).__name__}: {error}".strip()
    return text if len(text) <= 300 else text[:297] + "..."


class Definitions:
    """What probes see of the program's globals: ``definitions[name]``, a NameError that says so if missing;
    ``definitions.input(key)``, a copy of an input the grader computed (see ``verify.trusted_inputs``);
    and ``definitions.count_lines(fn, *args)`` for loop probes."""

    def __init__(self, namespace, guard, inputs):
        self._namespace, self._guard, self._inputs = namespace, guard, inputs

    def input(self, key):
        """A copy of the trusted input ``key``."""
        if key not in self._inputs:
            raise KeyError(f"the grader sent no input {key!r} (an error in the course, not yours)")
        return self._inputs[key].copy()

    def __getitem__(self, name):
        if name not in self._namespace:
            raise NameError(f"{name!r} is not defined after running your solution cells")
        return self._namespace[name]

    def count_lines(self, fn, *args):
        """``(fn(*args), number of Python lines it executed)``, counted by the trusted trace function."""
        return self._guard.count_lines(fn, args)


# ------------------------------------------------------------------ the guard

STUDENT_CELL, COURSE_CELL = "student cell", "course cell"
"""File names of compiled cells: ``<student cell ID>`` (the student's solution cells) or ``<course cell ID>``."""
REFUSED_EVENTS = ("sys.settrace", "sys.setprofile", "sys._current_frames", "_thread.start_new_thread",
                  "gc.get_objects", "gc.get_referrers", "gc.get_referents", "code.__new__")
"""Audit events refused whenever a student frame is on the stack (and every ``ctypes.*`` event)."""
FRAME_ATTRIBUTES = ("tb_frame", "gi_frame", "cr_frame", "ag_frame", "__code__")
"""Attributes (audited as ``object.__getattr__``) that student code may not read: frames and code objects."""
FRAME_HANDING_MODULES = (f"{os.sep}inspect.py", f"{os.sep}traceback.py", os.path.join("logging", "__init__.py"))
"""Standard modules that hand frames to their caller (``inspect.stack``, ``traceback.walk_stack``,
``logging.currentframe``): called straight from student code, they are refused as the student would be."""
GRADING_MODULES = ("cs231kit.grading", "cs231kit_course_", "autograder")
"""Module names student code may not import (the grading code and the course's own files)."""
LINE_LIMIT = 2_000_000
"""Lines counted at most per call of a loop probe (a function beyond it is stopped)."""
MAX_REFUSALS = 20


class LineLimitExceeded(Exception):
    """Raised into a loop probe's call when it runs more than LINE_LIMIT Python lines."""


class Guard:
    """The audit hook and trace function that watch student code in this process (see the module docstring).

    Parameters
    ----------
    root : str
        The course root: student code may read nothing under it but the package source (``src/``),
        and nothing of the grading package wherever it is installed.
    probes : sequence of Probe
        Their ``course_twins`` (dotted names of functions or modules) are resolved here, before any
        student code runs.
    """

    def __init__(self, root, probes):
        import cs231kit.grading

        root = os.path.realpath(root)
        self._grading = os.path.join(os.path.realpath(os.path.dirname(cs231kit.grading.__file__)), "")
        self._course, self._package = os.path.join(root, ""), os.path.join(root, "src", "")
        self._twins = {name: twin_codes(name) for probe in probes for name in probe.course_twins}
        self.delegations, self.refusals = {}, []
        self._probe, self._forbidden, self._lines, self._busy = None, {}, None, False
        sys.addaudithook(self._audit)

    # -- the audit hook: refuse while a student frame is on the stack

    def _audit(self, event, args):
        if self._busy or not (event in REFUSED_EVENTS or event.startswith("ctypes.")
                              or event in ("open", "import", "sys._getframe", "object.__getattr__")):
            return
        self._busy = True  # the hook's own calls (sys._getframe, realpath) are not audited again
        try:
            refused = self._refused(event, args, sys._getframe(1))  # _audit <- (audited C function) <- caller
        finally:
            self._busy = False
        if refused:
            self.refusals.append(f"{event}: {refused}")
            raise PermissionError(f"the grader does not allow this in your code ({event}: {refused})")

    def _refused(self, event, args, caller):
        """Why ``event``, raised by a call in ``caller``, is refused (``""``: allowed)."""
        if event == "sys._getframe" or event == "object.__getattr__":
            if event == "object.__getattr__" and args[1] not in FRAME_ATTRIBUTES:
                return ""
            near = (caller, caller.f_back if caller.f_code.co_filename.endswith(FRAME_HANDING_MODULES) else None)
            return "frames and code objects" if any(f is not None and _is_student(f) for f in near) else ""
        if not _student_on_stack(caller):
            return ""
        if event == "open":
            return "a file of the course or of the grader" if self._closed(args[0]) else ""
        if event == "import":
            return f"the module {args[0]}" if str(args[0]).startswith(GRADING_MODULES) else ""
        return "not while your code runs"

    def _closed(self, path):
        """Whether ``path`` (an ``open`` argument) is a file of the grading package or of the course tree
        outside the package source."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            return False
        path = os.path.realpath(os.fsdecode(path))
        return path.startswith(self._grading) or path.startswith(self._course) and not path.startswith(self._package)

    # -- the trace function: course twins and line counts

    def _trace(self, frame, event, arg):
        twin = self._forbidden.get(frame.f_code) if event == "call" else None
        if twin is not None and twin not in self.delegations.setdefault(self._probe, []):
            self.delegations[self._probe].append(twin)
        return self._count if self._lines is not None else None

    def _count(self, frame, event, arg):
        if event == "line":
            self._lines += 1
            if self._lines > LINE_LIMIT:
                raise LineLimitExceeded(f"more than {LINE_LIMIT} Python lines")
        return self._count

    def probing(self, probe):
        """Context manager: while ``probe`` runs, the trace function records calls of its course twins."""
        return _Probing(self, probe)

    def count_lines(self, fn, args):
        """``(fn(*args), lines executed)``: every Python line of every frame the call runs."""
        self._lines = 0
        try:
            result = fn(*args)
        finally:
            lines, self._lines = self._lines, None
        return result, lines


class _Probing:
    """:meth:`Guard.probing`: the trace function is installed for one probe, by trusted code."""

    def __init__(self, guard, probe):
        self._guard, self._probe = guard, probe

    def __enter__(self):
        guard = self._guard
        guard._probe = self._probe.name
        guard._forbidden = {code: name for name in self._probe.course_twins for code in guard._twins[name]}
        sys.settrace(guard._trace)

    def __exit__(self, *exc):
        sys.settrace(None)
        self._guard._probe, self._guard._forbidden, self._guard._lines = None, {}, None


def _is_student(frame):
    """Whether ``frame`` runs code compiled from one of the student's cells."""
    return frame.f_code.co_filename.startswith(f"<{STUDENT_CELL} ")


def _student_on_stack(frame):
    """Whether ``frame`` or any frame below it runs the student's code."""
    while frame is not None:
        if _is_student(frame):
            return True
        frame = frame.f_back
    return False


def twin_codes(dotted_name):
    """The code objects of a course function (``"package.module.function"``) or of every function a
    module defines (``"package.module"``), nested functions included."""
    module_name, _, attribute = dotted_name.rpartition(".")
    try:
        target = importlib.import_module(dotted_name)
    except ImportError:
        target = getattr(importlib.import_module(module_name), attribute)
    functions = [inspect.unwrap(target)] if not isinstance(target, types.ModuleType) else [
        value for value in vars(target).values()
        if isinstance(value, types.FunctionType) and value.__module__ == target.__name__]
    pending, codes = [f.__code__ for f in functions], set()
    while pending:
        code = pending.pop()
        codes.add(code)
        pending += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return codes


class _NoIPython:
    """``get_ipython()`` here: magics (``%matplotlib inline``) and shell commands do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


if __name__ == "__main__":
    sys.exit(main())
