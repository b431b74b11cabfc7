"""Out-of-process verification: graded functions checked where student code cannot fake the check.

In-kernel tests run after the student's code, in the same interpreter, so a submission can patch
``np.allclose``, plant modules in ``sys.modules`` or redefine a grading helper and pass them. So
every graded function is also run again, out of process:

1. the parent builds a *program*: the release's locked cells (trusted source) and the student's
   solution cells, in notebook order;
2. :mod:`cs231kit.grading.verify_child` runs it in the sandbox (limits, no network, the whole course
   tree hidden but ``autograder/verify/``), then calls each :class:`Probe` of
   ``autograder/verify/<assignment>.py`` on seeded inputs. Only plain numeric arrays come back,
   in an ``.npz`` file read with ``allow_pickle=False``: no objects, no ``__eq__`` to hijack;
3. the same program built from the instructor's solution gives the reference outputs (once per
   grader), and trusted code here compares: value by value against the reference, and analytic
   gradients against centred differences computed here from the loss values the student's code
   returned.

A test cell backed by a probe that fails gets no points, whatever the kernel said; a test that
passed in the kernel but whose probe fails is the signature of patched tests.

No process that runs student code reads an answer: the child sees ``autograder/verify/`` (probes:
inputs and calls, no reference implementation; ``tests/test_verification.py`` checks that no
solution line and no function of a graded name is in it) and gets the reference's *outputs* only in
the parent, which compares. What the child must not do is enforced by its guard (an audit hook and a
trace function installed before any student code runs, see :mod:`cs231kit.grading.verify_child`).

How an assignment declares its probes (``autograder/verify/<assignment>.py``)
----------------------------------------------------------------------------
- ``PROBES``: a tuple of :class:`Probe`. Each names the test cells it backs; every autograded test
  is backed by a probe or listed in ``IN_KERNEL_ONLY = {grade id: InKernelOnly(reason, needs)}``
  (worth a small share of the points, see ``tests/test_verification.py``; ``needs`` names the probes
  its points need all the same, so that a forged notebook variable earns nothing for a blank submission).
- Course twins: ``Probe(..., course_twins=("cs231kit.gradcheck",))`` names the course's own
  implementations of what the probe checks (a function ``"pkg.module.function"`` or a whole module).
  If the student's code reaches one while the probe runs, the probe fails with "calls the course's
  implementation of it". Declare them per probe (a module-level table such as
  ``COURSE_TWINS = {"sgd": ("cs231kit.training.sgd",)}`` keeps them in one place), and only for
  probes of the function the twin implements: a helper the notebook lets students use is no twin.
- Loop probes ("no Python loops"): ``Probe(..., run=lambda d: line_counts(d, "fn", [args_small,
  args_large]), loop_slack=N, reference_keys=())``. The child's trusted trace function counts the
  Python lines each call runs; the parent fails the probe when the larger input runs more than ``N``
  more lines, or when the function returns other values traced than untraced.
- Inputs only a reference can compute (the input of a pipeline stage is the reference's output of
  the stage before): ``autograder/references/<assignment>.py`` defines ``probe_inputs(probes_module)
  -> {key: ndarray}``. The grader computes them (:func:`trusted_inputs`) and sends the arrays; a
  probe reads them with ``definitions.input(key)``. No sandboxed process reads ``autograder/references/``.
- Graded facts are computed by trusted code from the student's functions, never read from notebook
  variables. Where that is too slow for the child (an accuracy after minutes of training), the test
  stays in ``IN_KERNEL_ONLY`` with that reason and few points.
"""

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..course import load_course_module
from .cells import cell_text, grade_id, is_graded, is_locked, is_solution, solution_text
from .probing import LINES_KEY
from .timings import record_seconds, timed

CHILD_MODULE = "cs231kit.grading.verify_child"
KEY_SEPARATOR = "/"
# Relative error above which an analytic gradient entry disagrees with the centred difference
# of the same loss (float64, h = 1e-6; the lecture's "acceptable" bound near kinks is 1e-4).
GRADIENT_RELATIVE_ERROR = 1e-4


@dataclass(frozen=True)
class Probe:
    """One out-of-process check of a graded function (or answer).

    Attributes
    ----------
    name : str
        What is checked, e.g. the function's name; used in reasons.
    tests : tuple of str
        Grade ids of the test cells whose points this probe backs.
    run : callable
        ``run(namespace) -> outputs``: calls the code in ``namespace`` (the executed program) on
        seeded inputs and returns numbers, arrays, and tuples, lists or dicts of them. It runs in
        the sandbox, for the student and for the reference alike.
    rtol, atol : float
        Tolerances of the comparison with the reference (``|a - r| <= atol + rtol * |r|``).
    reference_keys : tuple of str or None
        Which outputs are compared with the reference, by the last part of their key (``None``:
        all; ``()``: none, for probes that only check a gradient against the student's own loss).
        A probe should check what its tests check, no more: a stricter probe would take points
        from an honest student.
    laws : callable, optional
        ``laws(outputs) -> reason``: run here, in the trusted parent, on the student's outputs
        (``{key: array}``, the probe's prefix removed); ``""`` when they obey the laws it checks.
        For random functions, whose values no reference can match (a dropout mask, a random crop).
    course_twins : tuple of str
        The course's own implementations of what the probe checks (dotted names of functions, or of
        modules: all their functions), e.g. ``("cs231kit.gradcheck",)`` for the student's numerical
        gradient. A call of one while the probe runs fails it: "calls the course's implementation".
    loop_slack : int or None
        For a loop probe (its ``run`` returns :func:`.probing.line_counts`, with ``reference_keys=()``): how
        many more Python lines the larger input may run than the smaller one. ``None``: not a loop probe.
    """

    name: str
    tests: tuple
    run: Callable
    rtol: float = 1e-6
    atol: float = 1e-9
    reference_keys: tuple | None = None
    laws: Callable | None = None
    course_twins: tuple = ()
    loop_slack: int | None = None

    def compared(self, key):
        """Whether output ``key`` is compared with the reference."""
        last = key.rsplit(KEY_SEPARATOR, 1)[-1]
        return last != LINES_KEY and (self.reference_keys is None or last in self.reference_keys)


@dataclass(frozen=True)
class InKernelOnly:
    """A test cell that no probe backs: why not, and the probes its points need all the same.

    Attributes
    ----------
    reason : str
        Why the test is not repeated out of process (e.g. an accuracy after minutes of training).
    needs : tuple of str
        Names of the probes of the functions the test measures (the loss it trains with, say): the
        test gets no points unless they pass, whatever the notebook's variables say.
    """

    reason: str
    needs: tuple


@dataclass(frozen=True)
class Verdict:
    """The outcome of one probe: passed or not, and why not."""

    probe: str
    passed: bool
    reason: str = ""


@dataclass(frozen=True)
class VerificationReport:
    """What verification found for one submission.

    Attributes
    ----------
    verdicts : tuple of Verdict
    tampering : tuple of str
        Trusted functions or modules the student's code replaced (from the sandbox's own scan).
    cell_errors : dict
        ``{cell: "ename: evalue"}`` of program cells that raised in the sandbox.
    """

    verdicts: tuple = ()
    tampering: tuple = ()
    cell_errors: dict = field(default_factory=dict)

    def failed_probes(self):
        """``{probe name: reason}`` of the probes that failed."""
        return {v.probe: v.reason for v in self.verdicts if not v.passed}


@dataclass(frozen=True)
class AssignmentProbes:
    """What ``autograder/verify/<assignment>.py`` declares: its probes, and the tests no probe backs.

    Attributes
    ----------
    probes : tuple of Probe
        Empty if the assignment has no verification.
    in_kernel_only : dict
        ``IN_KERNEL_ONLY``: ``{grade id: InKernelOnly}``.
    """

    probes: tuple = ()
    in_kernel_only: dict = field(default_factory=dict)

    def needs(self):
        """``{grade id: probe names}``: the probes whose failure costs each in-kernel-only test its points."""
        return {test: entry.needs for test, entry in self.in_kernel_only.items()}


def load_probes(root, assignment):
    """The :class:`AssignmentProbes` of ``autograder/verify/<assignment>.py`` (empty if there is no such file)."""
    if not (Path(root) / "autograder" / "verify" / f"{assignment}.py").is_file():
        return AssignmentProbes()
    module = load_course_module(f"autograder/verify/{assignment}.py", root=root)
    if not hasattr(module, "PROBES"):
        raise ValueError(f"autograder/verify/{assignment}.py defines no PROBES (a tuple of cs231kit.grading.verify.Probe)")
    return AssignmentProbes(tuple(module.PROBES), dict(getattr(module, "IN_KERNEL_ONLY", {})))


def probes_by_test(probes):
    """``{test grade id: [probe names]}``: which probes back each test cell."""
    backing = {}
    for probe in probes:
        for test in probe.tests:
            backing.setdefault(test, []).append(probe.name)
    return backing


# ------------------------------------------------------------------ programs


def program_cells(source, submitted=None):
    """The cells the sandbox executes before the probes, in the order of the source notebook.

    Locked code cells that are not tests (setup, helpers, given functions) come from the trusted
    ``source``; solution code cells come from ``submitted`` (matched by grade id; a missing one is
    left out) or, for the reference, from ``source`` without its solution markers.

    Parameters
    ----------
    source : dict
        The instructor's source notebook (nbformat JSON).
    submitted : dict, optional
        The student's notebook; ``None`` builds the reference program.

    Returns
    -------
    list of dict
        ``{"cell": grade id, "source": code}``.
    """
    students = {}
    for cell in (submitted or {}).get("cells", []):
        if isinstance(cell, dict) and is_solution(cell) and cell.get("cell_type") == "code":
            students.setdefault(grade_id(cell), cell_text(cell.get("source", "")))
    program = []
    for cell in source["cells"]:
        name = grade_id(cell)
        if cell.get("cell_type") != "code" or not name:
            continue
        if is_solution(cell):
            code = solution_text(cell_text(cell["source"])) if submitted is None else students.get(name)
        elif is_locked(cell) and not is_graded(cell):
            code = cell_text(cell["source"])
        else:
            continue
        if code is not None:
            program.append({"cell": name, "source": code, "student": is_solution(cell)})
    return program


def assignment_program(root, assignment, notebook_names, submitted_dir=None):
    """The program of a whole assignment: :func:`program_cells` of each notebook, in order.

    Parameters
    ----------
    root : str or Path
        Course root (the sources are ``solutions/<assignment>/<notebook>.ipynb``).
    notebook_names : sequence of str
    submitted_dir : str or Path, optional
        The student's folder; ``None`` builds the reference program. A notebook that is missing
        or not JSON contributes its locked cells only.
    """
    program = []
    for name in notebook_names:
        source = json.loads((Path(root) / "solutions" / assignment / f"{name}.ipynb").read_text(encoding="utf-8"))
        submitted = None if submitted_dir is None else _read_notebook_json(Path(submitted_dir) / f"{name}.ipynb")
        program += program_cells(source, submitted)
    return program


def _read_notebook_json(path):
    """A notebook's JSON as a dict, or ``{}`` (no cells) when it is missing or not a JSON object."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return notebook if isinstance(notebook, dict) and isinstance(notebook.get("cells"), list) else {}


# ------------------------------------------------------------------ running in the sandbox


def run_in_sandbox(sandbox, root, assignment, program, call_seconds=30.0):
    """Execute ``program`` and the assignment's probes in the sandbox; return what came back.

    Returns
    -------
    outputs : dict
        ``{"<probe>/<key>": ndarray}``, read without pickle; empty if the child produced nothing.
    report : dict
        The child's JSON report (``probe_errors``, ``cell_errors``, ``tampering``), plus
        ``"failure"`` (why the child produced no result) when it did not finish.
    """
    with tempfile.TemporaryDirectory(prefix="verify-", dir=sandbox.scratch) as work, timed("verification"):
        work = Path(work)
        code, endings, stderr = sandbox.run_module(CHILD_MODULE, child_arguments(work, root, assignment, program,
                                                                                 call_seconds), cwd=work)
        report = _read_report(work / "report.json")
        _record_child_seconds(report)
        outputs = _read_outputs(work / "outputs.npz") if code == 0 else {}
        if code != 0 or not report.get("finished"):
            report["failure"] = (endings[-1]["reason"] if endings else
                                 f"the verification process ended with exit code {code}: "
                                 f"{stderr.strip().splitlines()[-1] if stderr.strip() else 'no message'}")
        return outputs, report


def _record_child_seconds(report):
    """Record the child's own timings (``report["seconds"]``: program, probes), when they are numbers."""
    seconds = report.get("seconds")
    for part, value in (seconds.items() if isinstance(seconds, dict) else ()):
        if part in ("program", "probes") and isinstance(value, (int, float)):
            record_seconds(part, value)


def child_arguments(work, root, assignment, program, call_seconds=30.0):
    """Write the child's request (and its trusted inputs) into the folder ``work``; return the
    arguments of :mod:`cs231kit.grading.verify_child`: request, outputs and report paths."""
    work = Path(work)
    np.savez(work / "inputs.npz", **trusted_inputs(root, assignment))
    request = {"root": str(Path(root).resolve()), "assignment": assignment, "program": program,
               "call_seconds": call_seconds, "inputs": str(work / "inputs.npz")}
    (work / "request.json").write_text(json.dumps(request))
    return [work / "request.json", work / "outputs.npz", work / "report.json"]


def trusted_inputs(root, assignment):
    """``{key: ndarray}``: probe inputs that only a reference can compute, computed here, in the parent.

    They come from ``probe_inputs(probes_module)`` of ``autograder/references/<assignment>.py``, which
    no sandboxed process can read; the child gets the arrays alone (``definitions.input(key)``).
    ``{}`` when the assignment has no such module.
    """
    if not (Path(root) / "autograder" / "references" / f"{assignment}.py").is_file():
        return {}
    references = load_course_module(f"autograder/references/{assignment}.py", root=root)
    probes = load_course_module(f"autograder/verify/{assignment}.py", root=root)
    return {key: np.asarray(value) for key, value in references.probe_inputs(probes).items()}


def _read_report(path):
    """The child's JSON report, or an empty one when it is missing or unreadable."""
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


def _read_outputs(path):
    """Numeric arrays of the child's ``.npz`` file (never unpickled; non-numeric entries dropped)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError):
        return {}
    return {key: value for key, value in arrays.items() if value.dtype.kind in "biuf"}


# ------------------------------------------------------------------ comparing in the parent


def verify_outputs(probes, reference, student, report):
    """Compare the student's outputs with the reference, probe by probe.

    Parameters
    ----------
    probes : sequence of Probe
    reference, student : dict
        ``{"<probe>/<key>": ndarray}`` from :func:`run_in_sandbox`.
    report : dict
        The student's child report.

    Returns
    -------
    VerificationReport
    """
    failure = report.get("failure")
    errors = report.get("probe_errors", {}) if isinstance(report.get("probe_errors"), dict) else {}
    delegations = report.get("delegations", {}) if isinstance(report.get("delegations"), dict) else {}
    verdicts = []
    for probe in probes:
        if failure:
            reason = f"the verification of your code did not finish: {failure}"
        elif delegations.get(probe.name):
            reason = (f"calls the course's implementation of it ({', '.join(map(str, delegations[probe.name]))}), "
                      f"which is not yours to use: write your own")
        elif probe.name in errors:
            reason = f"calling it out of process raised {errors[probe.name]}"
        else:
            reason = compare_probe(probe, _outputs_of(reference, probe.name), _outputs_of(student, probe.name))
        verdicts.append(Verdict(probe.name, not reason, reason and f"{probe.name}: {reason}"))
    tampering = report.get("tampering", [])
    cell_errors = report.get("cell_errors", {})
    return VerificationReport(tuple(verdicts), tuple(map(str, tampering if isinstance(tampering, list) else [])),
                              cell_errors if isinstance(cell_errors, dict) else {})


def _outputs_of(outputs, probe_name):
    """``{key: array}`` of one probe (its prefix removed)."""
    prefix = probe_name + KEY_SEPARATOR
    return {k[len(prefix):]: v for k, v in outputs.items() if k.startswith(prefix)}


def compare_probe(probe, reference, student):
    """Why the student's outputs of one probe are wrong, or ``""`` when they match the reference.

    Gradient samples (see :func:`.probing.gradient_samples`) are checked against centred differences of the
    student's own loss values first, since that tells a student more than "differs from the reference".
    """
    if not reference:
        return "the reference produced no output for this check (an error in the course, not yours)"
    missing = sorted(set(reference) - set(student))
    if missing:
        return f"no value for '{missing[0]}' (the function returned something of another structure, or nothing)"
    reason = check_gradient_samples(student) or check_line_counts(probe, student)
    for key in (k for k in reference if probe.compared(k)):  # in the order the probe returned them
        if reason:
            break
        reason = compare_values(key, reference[key], student.get(key), probe.rtol, probe.atol)
    if not reason and probe.laws is not None:
        try:
            reason = probe.laws(student)
        except Exception as error:  # noqa: BLE001 (outputs of any structure may come back)
            reason = f"its outputs could not be checked ({type(error).__name__}: {error})"
    return reason


def compare_values(key, expected, got, rtol, atol):
    """Why ``got`` differs from ``expected`` (shape, non-finite entries, values), or ``""``."""
    if got is None:
        return f"no value for '{key}' (the function returned something of another structure)"
    expected, got = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape and not (got.size == expected.size == 1):
        return f"'{key}' has shape {got.shape}, expected {expected.shape}"
    got = got.reshape(expected.shape)
    finite = np.isfinite(expected)
    if not (np.array_equal(np.isfinite(got), finite) and np.array_equal(got[~finite], expected[~finite], equal_nan=True)):
        return f"'{key}' has NaN or infinite entries where the reference has none, or other ones"
    difference = np.abs(np.where(finite, got, 0.0) - np.where(finite, expected, 0.0))
    allowed = atol + rtol * np.abs(np.where(finite, expected, 0.0))
    if np.all(difference <= allowed):
        return ""
    worst = np.unravel_index(np.argmax(difference - allowed), expected.shape) if expected.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
    return (f"'{key}' differs from the reference{where}: yours {got[worst]:.6g}, expected "
            f"{expected[worst]:.6g} (tolerance {allowed[worst]:.2g})")


def check_gradient_samples(outputs):
    """Why an analytic gradient disagrees with centred differences of the same loss, or ``""``.

    Looks for the keys written by :func:`.probing.gradient_samples` (under any prefix) and computes the
    differences here, in trusted code, from the numbers the student's code returned.
    """
    for key in sorted(k for k in outputs if k.endswith("loss_plus")):
        prefix = key[: -len("loss_plus")]
        try:
            plus, minus = (np.asarray(outputs[prefix + n], dtype=np.float64).ravel() for n in ("loss_plus", "loss_minus"))
            index = np.asarray(outputs[prefix + "sample_index"]).astype(np.int64).ravel()
            h = float(outputs[prefix + "h"])
            analytic = np.asarray(outputs[prefix + "dW"], dtype=np.float64).ravel()[index]
        except (KeyError, IndexError, ValueError, TypeError):
            return f"'{prefix}dW' could not be checked against numerical gradients (wrong shape or missing)"
        numerical = (plus - minus) / (2 * h)
        error = np.abs(analytic - numerical) / np.maximum(np.abs(analytic) + np.abs(numerical), 1e-12)
        if not np.all(np.isfinite(error)) or error.max() > GRADIENT_RELATIVE_ERROR:
            worst = int(np.nanargmax(np.where(np.isfinite(error), error, np.inf)))
            return (f"'{prefix}dW' disagrees with the numerical gradient of your own loss at flat index "
                    f"{int(index[worst])}: analytic {analytic[worst]:.6g}, numerical {numerical[worst]:.6g}")
    return ""


def check_line_counts(probe, outputs):
    """Why a loop probe's line counts show a Python loop over the input (or its traced and untraced
    outputs differ), or ``""``."""
    if probe.loop_slack is None:
        return ""
    counts = np.asarray(outputs.get(LINES_KEY, []), dtype=np.float64).ravel()
    if counts.size < 2:
        return "the Python lines it runs could not be counted"
    for key in (k for k in outputs if k.startswith("traced" + KEY_SEPARATOR)):
        untraced = outputs.get("untraced" + key[len("traced"):])
        if untraced is None or compare_values(key, untraced, outputs[key], 1e-12, 1e-12):
            return "it returns other values while its lines are counted than otherwise"
    if np.all(counts[1:] <= counts[0] + probe.loop_slack):
        return ""
    return (f"it runs {int(counts[-1])} Python lines on the larger input but {int(counts[0])} on the smaller "
            f"one: it loops in Python over the data (use whole-array operations)")
