"""Adversarial cases: reaching the course's answers, delegating to its implementation, forging graded facts.

``cases(assignment, target)`` returns, for one assignment, submissions that carry the wrong answer of
``target["wrong"]`` (whose honest failures are ``target["honest_failures"]``) plus one attack each
(the layout is in ``tests/test_adversarial.py``). No case may score more than the honest twin:

- reading or importing what holds answers (the hidden checks and their references, the verify
  modules, the instructor's notebook) from a free cell gains nothing, since the score comes from the
  out-of-process verification, which runs the solution cells only and refuses them the course tree;
- a graded function that calls the course's own implementation of itself (``cs231kit.gradcheck`` for
  the numerical gradient, ``cs231kit.training.sgd`` for SGD, scikit-image's HOG for ``hog_features``)
  loses the tests of that function: the verification records the call ("calls the course's
  implementation"), also when the implementation is re-executed from its source file;
- a graded fact is measured by trusted code: switching tracing off (``sys.settrace``, ``ctypes``'s
  ``PyEval_SetTrace``) is refused in the verification, and forged notebook variables are not read.

``status``: ``tamper suspected`` where the attack makes an in-kernel test pass that verification
then fails; ``graded`` where the kernel's tests are not fooled.
"""

# In a free cell: the hidden checks and the grader's modules are found and printed into the output
# (and so into the feedback); any reference found is run.
PRINT_REFERENCES = """
import glob, inspect, os
from cs231kit.course import find_course_root, load_course_module
try:
    root = find_course_root()
    for pattern in ('autograder/checks/*.py', 'autograder/verify/*.py', 'solutions/*/*.ipynb'):
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            print(path, open(path).read()[:200])
except Exception as error:
    print('not found:', error)
"""
# In a solution cell (so it runs in the verification too): tracing switched off, in two ways.
SETTRACE_OFF = "import sys\nsys.settrace(None)\nsys.setprofile(None)\n"
CTYPES_SETTRACE_OFF = ("import ctypes\ntry:\n    ctypes.pythonapi.PyEval_SetTrace(None, None)\n"
                       "except Exception as error:\n    print('refused:', error)\n")

# Per assignment: (solution cell, first line of its solution, a delegation put before that line, the
# tests of that function). Each delegation returns exactly what the solution returns.
DELEGATIONS = {
    "gradcheck": ("numerical_gradient", "    grad = np.zeros(x.shape)\n",
                  "    from cs231kit.gradcheck import numerical_gradient as course_version\n"
                  "    return course_version(f, x, h)\n",
                  ["test_numerical_gradient_visible", "test_numerical_gradient_hidden",
                   "test_numerical_gradient_restores_x"]),
    "optimizers": ("sgd", '    state = {"learning_rate": 1e-2, **(state or {})}\n',
                   "    from cs231kit.training import sgd as course_version\n"
                   "    return course_version(w, dw, {'learning_rate': 1e-2, **(state or {})})\n",
                   ["test_sgd_visible", "test_sgd_hidden"]),
    "features": ("hog_features", "    images = np.asarray(images)\n",
                 "    from skimage.feature import hog\n"
                 "    gray = rgb_to_gray(images)\n"
                 "    return np.stack([hog(g, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2),\n"
                 "                         block_norm='L2-Hys', feature_vector=True) for g in gray])\n",
                 ["test_hog_features_visible", "test_hog_features_hidden", "test_hog_no_per_image_loop"]),
}
# The same delegation to a fresh copy of the course's module, executed from its source file.
FRESH_COPY = ("    import importlib.util, cs231kit.gradcheck as course\n"
              "    spec = importlib.util.spec_from_file_location('fresh_copy', course.__file__)\n"
              "    fresh = importlib.util.module_from_spec(spec)\n"
              "    spec.loader.exec_module(fresh)\n"
              "    return fresh.numerical_gradient(f, x, h)\n")

# Per assignment: a loop where vectorised code is asked, with tracing switched off first, and every
# test of that function (switching tracing off is refused in the verification: all its probes fail).
LOOPS = {
    "loss": ("svm_loss_vectorized", "    N = X.shape[0]\n",
             "    import sys\n    sys.settrace(None)\n    for _ in range(X.shape[0]):\n        pass\n",
             ["test_svm_vectorized_known_answer", "test_svm_vectorized_gradient", "test_svm_vectorized_hidden",
              "test_svm_vectorized_no_loops", "test_svm_val_accuracy"]),  # the accuracy's points need the loss
    "features": ("hog_features", "    images = np.asarray(images)\n",
                 "    import sys\n    sys.settrace(None)\n"
                 "    return np.concatenate([hog_features(images[n:n + 1]) for n in range(len(images))])"
                 " if len(images) > 1 else block_normalize(cell_histograms(*gradient_magnitude_orientation("
                 "*image_gradients(rgb_to_gray(images)))))\n",
                 ["test_hog_features_visible", "test_hog_features_hidden", "test_hog_no_per_image_loop"]),
}

def _insert(after, source):
    return dict(cell=after, action="insert", source=source)


def _before(cell, anchor, code):
    """A patch putting ``code`` before the ``anchor`` line of a solution cell."""
    return dict(cell=cell, old=anchor, new=code + anchor)


def cases(assignment, target):
    """The reference-reaching cases of ``assignment`` (see the module docstring)."""
    wrong, honest, free = target["wrong"], list(target["honest_failures"]), target["free_cell"]
    found = [
        dict(name="prints_references", description="a free cell finds the hidden checks, the verify modules and "
             "the instructor's notebook and prints them (into the feedback)", patches=list(wrong),
             cell_edits=[_insert(free, PRINT_REFERENCES)], status="graded", failing=honest),
        dict(name="settrace_off_in_a_free_cell", description="switches tracing off before the graded functions "
             "run", patches=list(wrong), cell_edits=[_insert(free, SETTRACE_OFF + CTYPES_SETTRACE_OFF)],
             status="graded", failing=honest),
    ]
    if assignment in DELEGATIONS:
        cell, anchor, code, tests = DELEGATIONS[assignment]
        found.append(dict(name="delegates_to_the_course", description=f"{cell} calls the course's implementation "
                          "of itself", patches=[*wrong, _before(cell, anchor, code)], status="tamper suspected",
                          failing=sorted(set(honest) | set(tests))))
    if assignment == "gradcheck":
        cell, anchor, _, tests = DELEGATIONS[assignment]
        found.append(dict(name="delegates_to_a_fresh_copy", description="numerical_gradient re-executes "
                          "cs231kit/gradcheck.py from its file and calls the copy", patches=[
                              *wrong, _before(cell, anchor, FRESH_COPY)], status="tamper suspected",
                          failing=sorted(set(honest) | set(tests))))
    if assignment in LOOPS:
        cell, anchor, code, tests = LOOPS[assignment]
        found.append(dict(name="loops_with_tracing_off", description=f"{cell} switches tracing off and loops: "
                          "refused in the verification, so every test of the function loses its points",
                          patches=[*wrong, _before(cell, anchor, code)], status="tamper suspected",
                          failing=sorted(set(honest) | set(tests))))
    return found
