"""The `regularization` assignment: its laws, hidden checks, probes, the solution notebook, the simulated class.

No kernel runs here (the whole-notebook execution, the release sync and the graded demo live in
``tests/test_course.py``). What is tested:

* the laws of ``cs231kit.laws`` hold for the notebook's solution and for other correct implementations
  that draw their random numbers differently (a binomial mask, a crop by fancy indexing...), so that
  no honest student depends on the instructor's choice of random calls;
* every hidden check accepts the solution and rejects broken twins, naming the law they break;
* the probes measure the same laws in the parent, from plain arrays;
* the simulated students: every patch applies, and the hidden tests each must fail are exactly those
  whose checks fail on the patched functions.
"""

from pathlib import Path

import numpy as np
import pytest

from cs231kit import laws
from cs231kit.course import load_course_module
from cs231kit.grading import verify
from notebook_cells import (assert_nbgrader_conventions, assert_simulated_class_is_well_formed, autograded_tests,
                            nbgrader, patched_sources, read_notebook, run_cells, solution_sources)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # broken twins divide by zero on purpose

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "solutions" / "regularization" / "regularization.ipynb"
RELEASE = REPO / "notebooks" / "regularization" / "regularization.ipynb"
checks = load_course_module("autograder/checks/regularization.py", root=REPO)
probes = load_course_module("autograder/verify/regularization.py", root=REPO)
simulated = load_course_module("autograder/simulated/regularization.py", root=REPO)

# Hidden function tests of the notebook: grade_id -> (check name, function names).
HIDDEN_FUNCTION_TESTS = {
    "test_dropout_forward_hidden": ("check_dropout_forward", ("dropout_forward",)),
    "test_dropout_backward_hidden": ("check_dropout_backward", ("dropout_forward", "dropout_backward")),
    "test_dropconnect_hidden": ("check_dropconnect", ("dropconnect_forward", "dropconnect_backward")),
    "test_two_layer_net_hidden": ("check_two_layer_net_loss", ("two_layer_net_loss",)),
    "test_flip_hidden": ("check_random_horizontal_flip", ("random_horizontal_flip",)),
    "test_crop_hidden": ("check_random_crop", ("random_crop",)),
    "test_jitter_hidden": ("check_color_jitter", ("color_jitter",)),
    "test_tta_hidden": ("check_predict_tta", ("predict_tta",)),
    "test_freeze_fine_tune_hidden": ("check_freeze_fine_tune", ("freeze", "fine_tune")),
}


def _given_namespace(notebook):
    """What the setup and given cells define (the given layers and rules), without loading any data."""
    given = next(c["source"] for c in notebook["cells"] if c["id"] == "given_layers")
    return run_cells({"given_layers": given}, "given", {"np": np, "numbers": __import__("numbers")})


def _functions(namespace, names):
    return [namespace[name] for name in names]


@pytest.fixture(scope="module")
def solution():
    notebook = read_notebook(SOURCE)
    return run_cells(solution_sources(notebook), "solution", _given_namespace(notebook))


def _failed_hidden_tests(namespace):
    failed = set()
    for grade_id, (check, names) in HIDDEN_FUNCTION_TESTS.items():
        try:
            getattr(checks, check)(*_functions(namespace, names))
        except (AssertionError, NotImplementedError):
            failed.add(grade_id)
    return failed


# ------------------------------------------------------------------ laws and checks


@pytest.mark.parametrize("grade_id", sorted(HIDDEN_FUNCTION_TESTS))
def test_solution_passes_every_hidden_check(solution, grade_id):
    check, names = HIDDEN_FUNCTION_TESTS[grade_id]
    getattr(checks, check)(*_functions(solution, names))


def _binomial_dropout(x, p, mode, rng):
    if mode == "test" or p == 1:
        return x, None
    mask = rng.binomial(1, p, size=x.shape) / p
    return x * mask, mask


def _fancy_crop(images, size, padding, rng):
    N = len(images)
    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    starts = rng.integers(0, padded.shape[1] - size + 1, size=(2, N))
    rows = starts[0][:, None] + np.arange(size)
    cols = starts[1][:, None] + np.arange(size)
    return padded[np.arange(N)[:, None, None], rows[:, :, None], cols[:, None, :]]


def _where_flip(images, rng):
    flip = rng.integers(0, 2, size=len(images)).astype(bool)
    return np.where(flip[:, None, None, None], images[:, :, ::-1], images)


def _jitter_in_float32(images, brightness, contrast, rng):
    factors = rng.uniform(1 - np.array([brightness, contrast]), 1 + np.array([brightness, contrast]),
                          size=(len(images), 2))
    out = []
    for image, (b, c) in zip(images.astype(np.float64), factors):
        image = image * b
        out.append((image - image.mean()) * c + image.mean())
    out = np.clip(np.array(out), 0, 255 if images.dtype == np.uint8 else 1)
    return (np.round(out) if images.dtype == np.uint8 else out).astype(images.dtype)


def _stateless_fine_tune(params, grads, lr, lr_mult):
    return {k: (v if lr_mult[k] == 0 else v - lr * lr_mult[k] * grads[k]) for k, v in params.items()}


@pytest.mark.parametrize("topic, functions", [
    ("dropout_forward", (_binomial_dropout,)),
    ("random_crop", (_fancy_crop,)),
    ("random_horizontal_flip", (_where_flip,)),
    ("color_jitter", (_jitter_in_float32,)),
    ("fine_tune", ("freeze", _stateless_fine_tune)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_other_correct_implementations_obey_every_law(solution, topic, functions):
    laws.assert_laws(topic, *(solution[f] if isinstance(f, str) else f for f in functions))


def test_dropout_backward_law_holds_for_a_binomial_mask(solution):
    laws.assert_laws("dropout_backward", _binomial_dropout, solution["dropout_backward"])


def _twin(solution, name, old, new):
    """The solution's function ``name`` with ``old`` replaced by ``new`` in its cell (exactly once)."""
    notebook = read_notebook(SOURCE)
    cell = next(g for g, s in solution_sources(notebook).items() if f"def {name}(" in s)
    source = solution_sources(notebook)[cell]
    assert source.count(old) == 1, (name, old)
    namespace = dict(solution)
    return run_cells({cell: source.replace(old, new)}, f"twin-{name}", namespace)[name]


# (check, functions, (function to break, old, new), the law named in the message)
TWINS = [
    ("check_dropout_forward", ("dropout_forward",),
     ("dropout_forward", "< p) / p)", "< p))"), "zero_or_scaled"),
    ("check_dropout_forward", ("dropout_forward",),
     ("dropout_forward", "rng.random(x.shape)", "np.random.default_rng(0).random(x.shape)"), "different_seeds_differ"),
    ("check_dropout_forward", ("dropout_forward",),
     ("dropout_forward", "    return x * mask, mask", "    x *= mask\n    return x, mask"), "input_untouched"),
    ("check_dropout_backward", ("dropout_forward", "dropout_backward"),
     ("dropout_backward", "return dout * mask", "return dout * (mask != 0)"), "backward_matches_mask"),
    ("check_dropconnect", ("dropconnect_forward", "dropconnect_backward"),
     ("dropconnect_backward", "(x.T @ dout) * mask", "x.T @ dout"), "gradient_fixed_mask"),
    ("check_dropconnect", ("dropconnect_forward", "dropconnect_backward"),
     ("dropconnect_forward", "(rng.random(W.shape) < p) / p", "(rng.random(W.shape) >= p) / (1 - p)"),
     "kept_fraction"),
    ("check_two_layer_net_loss", ("two_layer_net_loss",),
     ("two_layer_net_loss", '"b2": db2}', '"b2": db2 + 2 * reg * params["b2"]}'), "network_reg"),
    ("check_two_layer_net_loss", ("two_layer_net_loss",),
     ("two_layer_net_loss", "hidden, relu_cache = relu_forward(hidden)", "relu_cache = hidden"), "network_architecture"),
    ("check_random_crop", ("random_crop",),
     ("random_crop", "H + 2 * padding - size + 1, size=N)", "H + 2 * padding - size, size=N)"), "crop_covers_offsets"),
    ("check_color_jitter", ("color_jitter",),
     ("color_jitter", "np.rint(np.clip(jittered, 0, 255))", "(np.clip(jittered, 0, 255) - 1e-9)"), "jitter_zero_identity"),
    ("check_color_jitter", ("color_jitter",),
     ("color_jitter", "size=shape)\n    contrast_factor", "size=1)\n    contrast_factor"), "jitter_per_image"),
    ("check_predict_tta", ("predict_tta",),
     ("predict_tta", "for _ in range(n)) / n", "for _ in range(n)) / max(n - 1, 1)"), "tta_average"),
    ("check_freeze_fine_tune", ("freeze", "fine_tune"),
     ("freeze", "0.0 if name in names else 1.0", "1.0 if name in names else 0.0"), "freeze_multipliers"),
]


@pytest.mark.parametrize("check, names, breakage, law", TWINS, ids=[f"{t[2][0]}-{t[3]}" for t in TWINS])
def test_checks_reject_broken_twins_and_name_the_law(solution, check, names, breakage, law):
    namespace = {**solution, breakage[0]: _twin(solution, *breakage)}
    with pytest.raises(AssertionError, match=f"\\({law}: "):
        getattr(checks, check)(*_functions(namespace, names))


def test_the_answer_check_takes_the_lectures_value_only():
    assert checks._expected_output_factor() == pytest.approx(0.5, abs=1e-12)
    assert checks._expected_output_factor(p=0.25, seed=3) == pytest.approx(0.25, abs=1e-12)
    checks.check_expected_output_factor(0.5)
    for wrong in (1.0, 0.25, 2.0, True):
        with pytest.raises(AssertionError):
            checks.check_expected_output_factor(wrong)


def test_laws_are_measured_from_arrays_and_survive_outputs_of_any_structure(solution):
    outputs = laws.flat(laws.collect_crop(solution["random_crop"]))
    assert laws.broken_laws("random_crop", outputs) == {}
    assert "shape_and_dtype" in laws.broken_laws("random_crop", {**outputs, "crops": np.zeros(3)})
    assert "shape_and_dtype" in laws.broken_laws("random_crop", {})


# ------------------------------------------------------------------ probes


def test_every_probe_names_real_tests_and_every_test_is_backed():
    tests = autograded_tests(read_notebook(SOURCE))
    backed = set(verify.probes_by_test(probes.PROBES))
    assert backed <= tests and tests - backed == set(probes.IN_KERNEL_ONLY)


@pytest.mark.parametrize("topic", sorted(probes.TESTS))
def test_law_probes_pass_the_solution_and_fail_a_function_that_returns_its_input(solution, topic):
    names, _, _ = probes.TESTS[topic]
    definitions = {name: solution[name] for name in names}
    (visible, hidden) = [p for p in probes.PROBES if p.name.startswith(f"{topic} (")]
    outputs = laws.flat(visible.run(definitions))
    assert verify.compare_probe(hidden, outputs, outputs) == "" == verify.compare_probe(visible, outputs, outputs)


def test_a_law_probe_reports_the_broken_law_in_the_parent(solution):
    (probe,) = [p for p in probes.PROBES if p.name == "random_horizontal_flip (all laws)"]
    reference = laws.flat(probe.run({"random_horizontal_flip": solution["random_horizontal_flip"]}))
    upside_down = laws.flat(probe.run({"random_horizontal_flip": lambda images, rng: images[:, ::-1].copy()}))
    reason = verify.compare_probe(probe, reference, upside_down)
    assert "flip_or_keep" in reason and "mirror image" in reason
    assert "shape_and_dtype" in verify.compare_probe(probe, reference, {k: np.zeros(2) for k in reference})


# ------------------------------------------------------------------ the notebook and the simulated class


def test_notebook_metadata_follows_the_conventions():
    notebook = read_notebook(SOURCE)
    assert_nbgrader_conventions(notebook)
    cells = {c["id"]: c for c in notebook["cells"]}
    given = cells["given_layers"]
    assert nbgrader(given)["locked"] and not nbgrader(given)["solution"] and "def affine_forward" in given["source"]
    assert set(HIDDEN_FUNCTION_TESTS) <= autograded_tests(notebook)
    assert nbgrader(cells["transfer_answer"])["points"] == 2 and nbgrader(cells["dropout_question_explanation"])["solution"]


def test_the_package_holds_none_of_the_graded_functions():
    import cs231kit
    graded = {"dropout_forward", "dropout_backward", "dropconnect_forward", "dropconnect_backward",
              "two_layer_net_loss", "random_horizontal_flip", "random_crop", "color_jitter", "predict_tta",
              "freeze", "fine_tune"}
    package = Path(cs231kit.__file__).parent
    defined = {line.split("(")[0][4:] for path in package.rglob("*.py") for line in path.read_text().splitlines()
               if line.startswith("def ")}
    assert defined & graded == set()


def test_simulated_class_is_well_formed():
    assert_simulated_class_is_well_formed(read_notebook(SOURCE), simulated, "regularization")
    names = {s["name"] for s in simulated.STUDENTS}
    assert {"reference", "blank"} <= names and len(names) == 8


def test_blank_release_fails_every_hidden_function_test():
    release = read_notebook(RELEASE)
    namespace = run_cells(solution_sources(release), "release", _given_namespace(release))
    assert _failed_hidden_tests(namespace) == set(HIDDEN_FUNCTION_TESTS)


@pytest.mark.parametrize("student", [s for s in simulated.STUDENTS if not s.get("release")], ids=lambda s: s["name"])
def test_simulated_students_fail_exactly_their_hidden_function_tests(student):
    notebook = read_notebook(SOURCE)
    namespace = run_cells(patched_sources(notebook, student), student["name"], _given_namespace(notebook))
    assert _failed_hidden_tests(namespace) == set(student["failing"]) & set(HIDDEN_FUNCTION_TESTS)


# ------------------------------------------------------------------ the adversarial corpus


def test_adversarial_cases_are_unique_and_name_real_tests_and_cells():
    corpus = load_course_module("autograder/adversarial/regularization.py", root=REPO)
    release_tests = autograded_tests(read_notebook(RELEASE))
    names = [case["name"] for case in corpus.CASES]
    assert corpus.ASSIGNMENT == "regularization" and len(names) == len(set(names)) >= 8
    assert set(corpus.TARGET["honest_failures"]) <= release_tests
    assert corpus.TARGET["free_cell"] in {c["id"] for c in read_notebook(RELEASE)["cells"] if nbgrader(c).get("locked")}
    for case in corpus.CASES:
        assert set(case["failing"] or ()) <= release_tests, case["name"]
        notebook = read_notebook(SOURCE)
        patched_sources(notebook, {"name": case["name"], "patches": case.get("patches", [])})
    # The honest twin of the target fails exactly its honest failures among the hidden tests.
    notebook = read_notebook(SOURCE)
    twin = {"name": "honest_twin", "patches": corpus.TARGET["wrong"]}
    namespace = run_cells(patched_sources(notebook, twin), "honest_twin", _given_namespace(notebook))
    assert _failed_hidden_tests(namespace) == set(corpus.TARGET["honest_failures"]) & set(HIDDEN_FUNCTION_TESTS)
