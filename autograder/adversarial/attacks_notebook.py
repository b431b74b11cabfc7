"""Adversarial cases: cheats inside the notebook, for any assignment.

``cases(assignment, target)`` returns the classes that ``loss.py`` tests on the loss assignment,
built from another assignment's ``TARGET`` (its wrong answer, the tests that answer fails, a free
cell): the checks loader replaced, comparisons patched from a solution cell, ``sys.exit`` and
``os._exit``, an endless loop, a memory bomb, and every way of editing the failing test cells.
No case may score more than the honest twin; cheats that fool the in-kernel tests are flagged by
the out-of-process verification (``tamper suspected``). The hidden tests the kernel runs are the
verification's verdicts, so a replaced checks loader fools nothing (``graded``).

Each case runs a notebook, so each assignment gets the common core plus a share of the rest
(:data:`SHARES`). The loss assignment has these classes in ``loss.py`` and gets none from here.
"""

# Replaces the course's checks loader, which the source's hidden tests load (in grading they are the
# verification's verdicts and load nothing).
FAKE_CHECKS = """
import cs231kit.course

class _PassEverything:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None

cs231kit.course.load_course_module = lambda *args, **kwargs: _PassEverything()
"""
PATCH_COMPARISONS = ("np.allclose = np.isclose = lambda *a, **k: True",
                     "np.testing.assert_allclose = np.testing.assert_array_equal = lambda *a, **k: None")


def _insert(after, source):
    return dict(cell=after, action="insert", source=source)


def _in_solution(patch, lines):
    """``patch`` with ``lines`` run just before the patched line, at its indentation."""
    indent = patch["new"][: len(patch["new"]) - len(patch["new"].lstrip())]
    return dict(patch, new="".join(f"{indent}{line}\n" for line in lines) + patch["new"])


def _core(target):
    """{name: case}: the classes every assignment runs."""
    wrong, failing, free = list(target["wrong"]), list(target["honest_failures"]), target["free_cell"]
    first_failing = failing[0]
    honest = dict(status="graded", failing=failing)
    restored = dict(status="test cells restored", failing=failing)
    return {
        "fake_checks_loader": dict(description="replaces cs231kit.course.load_course_module in a free cell "
                                   "(the kernel's hidden tests are verdicts: they load nothing)",
                                   patches=wrong, cell_edits=[_insert(free, FAKE_CHECKS)], **honest),
        "comparisons_patched_in_solution": dict(
            description="np.allclose, np.isclose and numpy.testing patched from the graded solution cell",
            patches=[_in_solution(wrong[0], PATCH_COMPARISONS), *wrong[1:]], status="tamper suspected",
            failing=failing),
        "sys_exit_in_free_cell": dict(description="sys.exit() in a free cell", patches=wrong,
                                      cell_edits=[_insert(free, "import sys\nsys.exit(0)")], **honest),
        "os_exit_in_free_cell": dict(description="os._exit(1) in a free cell: the kernel dies", patches=wrong,
                                     cell_edits=[_insert(free, "import os\nos._exit(1)")], status="kernel died",
                                     failing=None),
        "failing_tests_deleted": dict(description="deletes the tests the wrong answer fails", patches=wrong,
                                      cell_edits=[dict(cell=t, action="delete") for t in failing], **restored),
        "failing_test_edited": dict(description="replaces a failing test by a print", patches=wrong,
                                    cell_edits=[dict(cell=first_failing, action="edit",
                                                     source="print('visible tests passed')")], **restored),
    }


def _shares(target):
    """{name: case}: the classes spread over the assignments."""
    wrong, failing, free = list(target["wrong"]), list(target["honest_failures"]), target["free_cell"]
    honest = dict(status="graded", failing=failing)
    restored = dict(status="test cells restored", failing=failing)
    return {
        "failing_test_ungraded": dict(description="marks a failing test as an ordinary, editable, ungraded cell",
                                      patches=wrong, cell_edits=[dict(cell=failing[-1], action="metadata",
                                                                      values={"grade": False, "locked": False})],
                                      **restored),
        "failing_test_duplicated": dict(description="duplicates a failing test and empties the copy", patches=wrong,
                                        cell_edits=[dict(cell=failing[-1], action="duplicate",
                                                         source="print('hidden tests passed')")], **restored),
        "failing_test_retyped": dict(description="turns a failing test into a markdown cell", patches=wrong,
                                     cell_edits=[dict(cell=failing[0], action="retype")], **restored),
        "endless_loop": dict(description="an interruptible endless loop in a free cell (stopped by the cell "
                             "time limit; the notebook goes on)", patches=wrong,
                             cell_edits=[_insert(free, "while True:\n    pass")], **honest),
        "memory_bomb_in_free_cell": dict(description="a free cell asks for 32 GiB", patches=wrong,
                                         cell_edits=[_insert(free, "import numpy as np\ntry:\n"
                                                             "    hog = np.ones((2**16, 2**16))\n"
                                                             "except MemoryError as error:\n"
                                                             "    print('refused:', error)")], **honest),
        "checks_loader_only_under_nbgrader": dict(
            description="replaces the checks loader only when NBGRADER_EXECUTION is set", patches=wrong,
            cell_edits=[_insert(free, "import os\nif os.environ.get('NBGRADER_EXECUTION'):\n" + "\n".join(
                "    " + line for line in FAKE_CHECKS.strip().splitlines()))], **honest),
    }


SHARES = {
    "gradcheck": ["failing_test_ungraded", "endless_loop"],
    "optimizers": ["failing_test_duplicated", "checks_loader_only_under_nbgrader"],
    "features": ["failing_test_retyped", "memory_bomb_in_free_cell"],
}
COVERED_ELSEWHERE = {"loss"}  # loss.py has its own cases of every class here


def cases(assignment, target):
    """The notebook-cheat cases of ``assignment`` (see the module docstring).

    Parameters
    ----------
    assignment : str
    target : dict
        The assignment's ``TARGET``: ``wrong`` patches, their ``honest_failures``, a ``free_cell``.

    Returns
    -------
    list of dict
    """
    if assignment in COVERED_ELSEWHERE:
        return []
    shares = _shares(target)
    chosen = {**_core(target), **{name: shares[name] for name in SHARES.get(assignment, list(shares)[:2])}}
    return [dict(name=name, **case) for name, case in chosen.items()]
