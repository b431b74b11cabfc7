"""The sandboxed side of out-of-process verification (run by :mod:`cs231kit.grading.verify`).

``python -m cs231kit.grading.verify_child request.json outputs.npz report.json``

Executes the program of the request (trusted locked cells and the student's solution cells) in
one namespace, then calls every probe of ``autograder/verify/<assignment>.py`` on it and writes:

- ``outputs.npz``: ``{"<probe>/<key>": numeric array}``, the only thing the grader compares;
- ``report.json``: cells and probes that raised, and trusted functions the student's cells
  replaced (``numpy.allclose``, ``numpy.testing`` asserts, builtins, ``cs231kit`` helpers,
  modules in ``sys.modules``). The grader uses it to explain, never to score.

Everything here runs next to student code and is treated by the grader as untrusted output.
"""

import json
import sys
import types
from pathlib import Path

import numpy as np

from ..course import load_course_module
from ..timelimit import time_limit
from .verify import KEY_SEPARATOR

WATCHED_MODULES = ("numpy", "numpy.testing", "math", "builtins", "scipy", "scipy.optimize")
WATCHED_ATTRIBUTES = {
    "numpy": ("allclose", "isclose", "array_equal", "array_equiv", "all", "any", "abs", "max", "isfinite"),
    "numpy.testing": ("assert_allclose", "assert_array_equal", "assert_array_almost_equal",
                      "assert_almost_equal", "assert_equal"),
    "builtins": ("isinstance", "len", "abs", "max", "min", "sum", "all", "any", "print", "round", "float",
                 "__import__"),
    "math": ("isclose",),
}


def main(argv=None):
    """Entry point; returns the exit code (0 when the report and outputs were written)."""
    request_path, outputs_path, report_path = (sys.argv[1:] if argv is None else argv)[:3]
    request = json.loads(Path(request_path).read_text())
    save, dump = np.savez, json.dumps  # kept before any student code runs
    namespace = {"__name__": "__main__", "get_ipython": _NoIPython}  # get_ipython() -> a do-nothing shell
    cell_errors, tampering = run_program(request["program"], namespace, request["call_seconds"])
    outputs, probe_errors, before = {}, {}, snapshot_trusted()
    for probe in load_course_module(f"autograder/verify/{request['assignment']}.py", root=request["root"]).PROBES:
        try:
            with time_limit(request["call_seconds"], f"the check of {probe.name}"):
                flatten(probe.run(Definitions(namespace)), probe.name, outputs)
        except BaseException as error:  # noqa: BLE001 (student code may raise anything, SystemExit included)
            probe_errors[probe.name] = _summary(error)
    tampering += [f"{what} (while its functions were called)" for what in replaced_since(before)]
    save(outputs_path, **outputs)
    report = {"finished": True, "cell_errors": cell_errors, "probe_errors": probe_errors, "tampering": tampering}
    Path(report_path).write_text(dump(report))
    return 0


def run_program(program, namespace, cell_seconds):
    """Execute the program's cells in ``namespace``; return ``(cell errors, tampering found)``."""
    from IPython.core.inputtransformer2 import TransformerManager

    to_python = TransformerManager().transform_cell
    cell_errors, tampering = {}, []
    for cell in program:
        before = snapshot_trusted()
        try:
            code = compile(to_python(cell["source"]), f"<cell {cell['cell']}>", "exec")
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
    """What probes see of the program's globals: ``definitions[name]``, a NameError that says so if missing."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getitem__(self, name):
        if name not in self._namespace:
            raise NameError(f"{name!r} is not defined after running your solution cells")
        return self._namespace[name]


class _NoIPython:
    """``get_ipython()`` here: magics (``%matplotlib inline``) and shell commands do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


if __name__ == "__main__":
    sys.exit(main())
