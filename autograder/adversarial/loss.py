"""The adversarial corpus: bad submissions of the ``loss`` assignment, each with its expected outcome.

Plain data, built like the simulated students (``cs231kit.grading.simulate.student_files``) and
graded in one batch by ``tests/test_adversarial.py`` (in CI, two at a time). For every case:

- ``status``: the status the submission must end with;
- ``failing``: the autograded tests that must get no points (the score is the total minus
  theirs); ``None`` when the submission cannot be graded and must have no score at all.

The expected score of every cheat is the score of the same wrong answer submitted honestly: no case
may gain a point. Most cheats carry the same wrong answer (``WRONG_NAIVE_GRADIENT``: the naive SVM
forgets ``2 * reg * W`` in dW, which fails the two tests below when submitted honestly).
"""

ASSIGNMENT = "loss"

WRONG_NAIVE_GRADIENT = dict(cell="svm_loss_naive", old="    dW = dW / N + 2 * reg * W", new="    dW = dW / N")
HONEST_FAILURES = ["test_svm_naive_gradient", "test_svm_naive_hidden"]
NAIVE_TESTS = ["test_svm_naive_known_answer", *HONEST_FAILURES]
# The target of the generic attack classes (``attacks_*.py``, see ``tests/test_adversarial.py``).
TARGET = dict(wrong=[WRONG_NAIVE_GRADIENT], honest_failures=HONEST_FAILURES, free_cell="helpers")

# Replaces the course's checks loader, which the source's hidden tests load (in grading they are the
# verification's verdicts and load nothing).
FAKE_CHECKS = """
import cs231kit.course

class _PassEverything:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None

cs231kit.course.load_course_module = lambda *args, **kwargs: _PassEverything()
"""
FAKE_CHECKS_MODULE = """
import sys, types
_fake = types.ModuleType("cs231kit.course")
_fake.load_course_module = lambda *args, **kwargs: types.SimpleNamespace(**{
    name: (lambda *a, **k: None) for name in ("check_svm_loss_naive", "check_svm_loss_vectorized",
    "check_softmax_loss_naive", "check_softmax_loss_vectorized", "check_softmax_stable", "check_no_python_loops",
    "check_l1_penalty", "check_l2_penalty", "check_svm_loss_bounds", "check_svm_loss_at_init",
    "check_svm_loss_with_correct_class", "check_softmax_loss_bounds", "check_softmax_loss_at_init")})
sys.modules["cs231kit.course"] = _fake
"""
# Looks for the gradebook and the instructor's notebook above the working folder and the course root;
# if it found the source, it would run its solutions and pass every test.
READ_COURSE_FILES = """
import glob, json, os, sqlite3
found = []
for here in (os.getcwd(), os.environ.get('CS231KIT_COURSE_ROOT', '/')):
    while here != '/':
        found += glob.glob(os.path.join(here, 'solutions', '*', '*.ipynb'))
        found += glob.glob(os.path.join(here, 'autograder', 'gradebook.db'))
        here = os.path.dirname(here)
for path in found:
    if path.endswith('.ipynb'):
        for cell in json.load(open(path))['cells']:
            if cell['cell_type'] == 'code' and cell['metadata'].get('nbgrader', {}).get('solution'):
                exec(''.join(cell['source']))
print('course files found:', found)
"""


def _insert(after, source, **values):
    return dict(cell=after, action="insert", source=source, **({"values": values} if values else {}))


CASES = [
    # ---- cheats that fool the in-kernel tests: verification takes the points back and flags them
    dict(name="fake_checks_loader", description="replaces cs231kit.course.load_course_module in a free cell: "
         "the hidden tests load nothing in the kernel (they are the verification's verdicts), so nothing changes",
         patches=[WRONG_NAIVE_GRADIENT], cell_edits=[_insert("helpers", FAKE_CHECKS)], status="graded",
         failing=HONEST_FAILURES),
    dict(name="fake_module_in_sys_modules", description="plants a fake cs231kit.course in sys.modules from a "
         "solution cell", patches=[dict(WRONG_NAIVE_GRADIENT, new="    dW = dW / N\n" + "\n".join(
             "    " + line for line in FAKE_CHECKS_MODULE.strip().splitlines()))],
         status="tamper suspected", failing=HONEST_FAILURES),
    dict(name="redefined_grading_helper", description="redefines the notebook's check_gradient_on_random_data "
         "to do nothing, and the checks loader", patches=[WRONG_NAIVE_GRADIENT],
         cell_edits=[_insert("svm_loss_naive", "def check_gradient_on_random_data(loss_fn):\n    pass\n" + FAKE_CHECKS)],
         status="tamper suspected", failing=HONEST_FAILURES),
    dict(name="cheats_only_under_nbgrader", description="installs the fake checks only when NBGRADER_EXECUTION "
         "is set, so that it looks honest when run by hand", patches=[WRONG_NAIVE_GRADIENT],
         cell_edits=[_insert("helpers", "import os\nif os.environ.get('NBGRADER_EXECUTION'):\n" + "\n".join(
             "    " + line for line in FAKE_CHECKS.strip().splitlines()))],
         status="graded", failing=HONEST_FAILURES),
    # ---- patched comparisons: no point gained; in a solution cell also flagged
    dict(name="allclose_patched", description="np.allclose and np.isclose always True, from the solution cell",
         patches=[dict(WRONG_NAIVE_GRADIENT, new="    dW = dW / N\n    np.allclose = np.isclose = lambda *a, **k: True")],
         status="tamper suspected", failing=HONEST_FAILURES),
    dict(name="np_testing_patched", description="numpy.testing asserts do nothing, from the solution cell: only "
         "the hidden checks used them, and in grading those are the verification's verdicts, so nothing is fooled; "
         "flagged all the same (numpy.testing, which numpy loads lazily, is watched like numpy)",
         patches=[dict(WRONG_NAIVE_GRADIENT, new="    dW = dW / N\n    np.testing.assert_allclose = "
                       "np.testing.assert_array_equal = lambda *a, **k: None")],
         status="tamper suspected", failing=HONEST_FAILURES),
    dict(name="eq_always_true", description="an answer that is a float subclass whose == is always True and "
         "whose differences are 0", patches=[dict(cell="svm_q4_answer", old="svm_loss_increase_with_correct_class = 1.0",
             new="class Liar(float):\n    __eq__ = lambda self, other: True\n    __sub__ = __rsub__ = lambda self, other: 0.0\n"
             "    __abs__ = lambda self: 0.0\nsvm_loss_increase_with_correct_class = Liar(7.0)")],
         status="graded", failing=["test_svm_q4_correct_class"]),
    dict(name="answer_set_in_a_free_cell", description="the answer cell holds a wrong answer, a free cell below "
         "sets the right one: the answer graded is the answer cell's", patches=[dict(
             cell="svm_q4_answer", old="svm_loss_increase_with_correct_class = 1.0",
             new="svm_loss_increase_with_correct_class = 2.0")], cell_edits=[_insert(
             "svm_q4_answer", "svm_loss_increase_with_correct_class = 1.0")], status="graded",
         failing=["test_svm_q4_correct_class"]),
    dict(name="reads_course_files", description="searches the folders above for the gradebook and the "
         "instructor's notebook, to run its solutions", patches=[WRONG_NAIVE_GRADIENT],
         cell_edits=[_insert("svm_loss_naive", READ_COURSE_FILES)], status="graded", failing=HONEST_FAILURES),
    # ---- code that attacks the grader: stopped, explained, the batch goes on
    dict(name="sys_exit", description="sys.exit() in a free cell", patches=[WRONG_NAIVE_GRADIENT],
         cell_edits=[_insert("helpers", "import sys\nsys.exit(0)")], status="graded", failing=HONEST_FAILURES),
    dict(name="os_exit", description="os._exit(1) in a free cell: the kernel dies",
         cell_edits=[_insert("helpers", "import os\nos._exit(1)")], status="kernel died", failing=None),
    dict(name="sigint_ignoring_loop", description="an endless loop that ignores SIGINT",
         cell_edits=[_insert("helpers", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")],
         status="timeout", failing=None),
    dict(name="memory_bomb", description="svm_loss_naive first allocates 32 GiB",
         patches=[dict(cell="svm_loss_naive", old="    N, C = X.shape[0], W.shape[1]\n",
                       new="    hog = np.ones((2**16, 2**16))\n    N, C = X.shape[0], W.shape[1]\n")],
         status="graded", failing=NAIVE_TESTS, test_statuses={t: "memory limit" for t in NAIVE_TESTS}),
    dict(name="fork_bomb", description="after the last test, forks until it cannot; the children never exit",
         cell_edits=[_insert("test_softmax_val_accuracy", "import os, time\ntry:\n    while True:\n"
                             "        if os.fork() == 0:\n            time.sleep(3600)\n            os._exit(0)\n"
                             "except OSError as error:\n    print('fork refused:', error)")],
         status="graded", failing=[]),
    dict(name="disk_filler", description="writes a file until the disk is full",
         cell_edits=[_insert("helpers", "try:\n    with open('filler.bin', 'wb') as f:\n        while True:\n"
                             "            f.write(b'0' * 2**20)\nexcept OSError as error:\n    print('write refused:', error)")],
         status="graded", failing=[]),
    dict(name="huge_output", description="prints 20 MB", cell_edits=[_insert("helpers", "print('x' * 20_000_000)")],
         status="graded", failing=[]),
    dict(name="network_access", description="tries to download solutions from the internet and to reach "
         "the grader's host", cell_edits=[_insert("helpers",
             "import socket\nfor host in (('pypi.org', 443), ('127.0.0.1', 22), ('1.1.1.1', 53)):\n    try:\n"
             "        socket.create_connection(host, timeout=3)\n        raise SystemExit('network reachable')\n"
             "    except OSError as error:\n        print(host, 'unreachable:', error)")],
         status="graded", failing=[]),
    # ---- edited notebooks: restored from the release and graded, with a note
    dict(name="deleted_test_cells", description="deletes the two tests the wrong answer fails",
         patches=[WRONG_NAIVE_GRADIENT], cell_edits=[dict(cell=t, action="delete") for t in HONEST_FAILURES],
         status="test cells restored", failing=HONEST_FAILURES),
    dict(name="duplicated_test_cell", description="duplicates a failing test and empties the copy",
         patches=[WRONG_NAIVE_GRADIENT], cell_edits=[dict(cell="test_svm_naive_hidden", action="duplicate",
                                                          source="print('hidden tests passed')")],
         status="test cells restored", failing=HONEST_FAILURES),
    dict(name="retyped_test_cell", description="turns a failing test into a markdown cell",
         patches=[WRONG_NAIVE_GRADIENT], cell_edits=[dict(cell="test_svm_naive_gradient", action="retype")],
         status="test cells restored", failing=HONEST_FAILURES),
    dict(name="edited_test_cell", description="replaces a failing visible test by a print",
         patches=[WRONG_NAIVE_GRADIENT], cell_edits=[dict(cell="test_svm_naive_gradient", action="edit",
                                                          source="print('visible tests passed')")],
         status="test cells restored", failing=HONEST_FAILURES),
    dict(name="test_marked_not_graded", description="marks a failing test as an ordinary, editable, ungraded cell",
         patches=[WRONG_NAIVE_GRADIENT], cell_edits=[dict(cell="test_svm_naive_hidden", action="metadata",
                                                          values={"grade": False, "locked": False})],
         status="test cells restored", failing=HONEST_FAILURES),
    dict(name="points_raised", description="gives a passing test 100 points",
         cell_edits=[dict(cell="test_l2_penalty_visible", action="metadata", values={"points": 100})],
         status="test cells restored", failing=[]),
    dict(name="bonus_test_cell", description="adds its own graded cell worth 50 points",
         cell_edits=[_insert("helpers", "print('bonus')", grade=True, grade_id="bonus", locked=True, points=50,
                             solution=False, schema_version=3)],
         status="test cells restored", failing=[]),
    dict(name="missing_function", description="softmax_loss_naive renamed in its solution cell, so it is never defined",
         patches=[dict(cell="softmax_loss_naive", old="def softmax_loss_naive(W, X, y, reg):",
                       new="def softmax_loss_naive_unfinished(W, X, y, reg):")],
         status="graded", failing=["test_softmax_naive_known_answer", "test_softmax_naive_gradient",
                                   "test_softmax_naive_hidden"]),
    # ---- files that are not this assignment's notebook: no score, a reason
    dict(name="corrupt_json", description="the notebook cut in half", raw='{"cells": [{"cell_type": "code", "sou',
         status="invalid notebook", failing=None),
    dict(name="empty_file", description="a file of 0 bytes", raw="", status="invalid notebook", failing=None),
    dict(name="renamed_notebook", description="the right notebook under the name the browser gave it",
         file_name="loss (1).ipynb", patches=[], status="renamed notebook", failing=None),
    dict(name="other_assignment", description="the gradcheck notebook submitted as loss.ipynb",
         from_assignment="gradcheck", status="wrong notebook", failing=None),
]
