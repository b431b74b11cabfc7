"""Hidden tests that report the out-of-process verification instead of running reference code.

A hidden test in the instructor's source notebook calls trusted checks (``autograder/checks/``) that
hold reference implementations. Run in the grading kernel, after the student's code, they would be
readable by that code, which could print them into its feedback. So the grader verifies the
submission out of process first (:mod:`cs231kit.grading.verify`), and :class:`InsertVerdicts`
replaces the hidden region of every graded test cell that a probe backs with the verdict itself:
``print("hidden tests passed ...")`` or ``raise AssertionError("<why>")``. The kernel never sees
``autograder/`` at all (:func:`cs231kit.grading.sandbox.hidden_course_paths`).

A submission that makes such a cell pass anyway (patching exceptions, say) gains nothing: the
parent caps every test whose probe failed (:func:`cs231kit.grading.outcomes.apply_verification`).
Tests no probe backs (``IN_KERNEL_ONLY``) keep their cell as it is; they must hold no hidden region
(``tests/test_verification.py``).
"""

import json
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .cells import BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS, grade_id, hidden_test_regions

PASSED_MESSAGE = "hidden tests passed (checked outside your notebook)"


def test_verdicts(report, backing):
    """``{test grade id: reason}`` for every test a probe backs; ``""`` when all its probes passed.

    Parameters
    ----------
    report : cs231kit.grading.verify.VerificationReport
    backing : dict
        ``{test grade id: [probe names]}`` (:func:`cs231kit.grading.verify.probes_by_test`).
    """
    failed = report.failed_probes()
    return {test: "; ".join(failed[p] for p in probes if p in failed) for test, probes in backing.items()}


def verdict_code(reason, indent=""):
    """The source that stands for a hidden region: a pass message, or the failure with its reason."""
    line = f"raise AssertionError({reason!r})" if reason else f"print({PASSED_MESSAGE!r})"
    return "\n".join(f"{indent}{text}" for text in (f"### {BEGIN_HIDDEN_TESTS}", line, f"### {END_HIDDEN_TESTS}"))


def with_verdict(source, reason):
    """``source`` with each hidden region replaced by :func:`verdict_code` (markers kept, so the
    feedback still leaves the region out)."""
    return hidden_test_regions(source, lambda indent: verdict_code(reason, indent))


class InsertVerdicts(NbGraderPreprocessor):
    """Put the verification's verdicts in place of the hidden regions of graded test cells.

    Configured by the grader with the path of a JSON file ``{grade id: reason}`` written for each
    submission (in a folder no kernel sees); does nothing when ``path`` is empty.
    """

    path = Unicode("", help="JSON file of {test grade id: failure reason, or '' when verified}").tag(config=True)

    def preprocess(self, nb, resources):
        """Replace the hidden regions of the cells named in the verdicts file."""
        if not self.path:
            return nb, resources
        verdicts = json.loads(Path(self.path).read_text(encoding="utf-8"))
        for cell in nb.cells:
            if cell.cell_type == "code" and grade_id(cell) in verdicts:
                cell.source = with_verdict(cell.source, verdicts[grade_id(cell)])
        return nb, resources
