"""The Gradescope run step: the notebook it grades and the results.json it writes.

``results.json`` is checked against a validator written from Gradescope's specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/).
"""

import json
import math

import pytest

from cs231kit.grading import gradescope_run, outcomes

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
TOP_LEVEL_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}


def assert_valid_gradescope_results(document):
    """Fail unless ``document`` is a results.json the kit promises: Gradescope's format, consistent scores."""
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"} <= set(document)
    assert set(document) <= TOP_LEVEL_KEYS, set(document) - TOP_LEVEL_KEYS
    assert all(_is_number(document[k]) and document[k] >= 0 for k in ("score", "execution_time"))
    assert isinstance(document["output"], str) and isinstance(document["tests"], list)
    assert {document["visibility"], document["stdout_visibility"]} <= VISIBILITIES
    for test in document["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test) <= TEST_KEYS, test
        assert isinstance(test["name"], str) and isinstance(test["output"], str), test
        assert _is_number(test["score"]) and _is_number(test["max_score"]), test
        assert 0 <= test["score"] <= test["max_score"], test
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITIES, test
    names = [t["name"] for t in document["tests"]]
    assert len(names) == len(set(names)), names
    assert math.isclose(sum(t["score"] for t in document["tests"]), document["score"])


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------- the run step's pieces (fast)

@pytest.mark.parametrize("uploads, chosen, note", [
    (["toy.ipynb"], "toy.ipynb", ""),
    (["toy.ipynb", "scratch.ipynb", ".ipynb_checkpoints/toy-checkpoint.ipynb", "notes.pdf"], "toy.ipynb", ""),
    (["hw/toy.ipynb", "hw/other.ipynb"], "hw/toy.ipynb", ""),
    (["toy (1).ipynb", ".ipynb_checkpoints/toy (1)-checkpoint.ipynb"], "toy (1).ipynb",
     "No file named toy.ipynb was uploaded, so the only notebook, 'toy (1).ipynb', was graded as toy.ipynb."),
    (["a.ipynb", "b.ipynb"], None, "2 notebooks were uploaded ('a.ipynb', 'b.ipynb')"),
    (["toy.ipynb", "sub/toy.ipynb"], None, "2 notebooks were uploaded ('sub/toy.ipynb', 'toy.ipynb')"),
    (["notes.pdf"], None, "no notebook was uploaded; upload your toy.ipynb"),
])
def test_the_notebook_to_grade_is_chosen_by_name_then_by_being_the_only_one(tmp_path, uploads, chosen, note):
    for name in uploads:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    path, explanation = gradescope_run.find_notebook(tmp_path, "toy.ipynb")
    assert (path and path.relative_to(tmp_path).as_posix()) == chosen
    assert explanation.startswith(note) and bool(explanation) == bool(note)


@pytest.mark.parametrize("metadata, student", [
    (None, "student"),
    ({"users": [{"email": "ada.l@uni.edu", "id": 7}, {"email": "bob@uni.edu"}]}, "ada_l_uni_edu"),
    ({"users": [{"id": 1234, "name": "Cy"}]}, "1234"),
    ({"users": []}, "student"),
    ({"users": [{"email": "../../etc"}]}, "etc"),
])
def test_student_id_comes_from_the_submission_metadata_and_is_folder_safe(tmp_path, metadata, student):
    if metadata is not None:
        (tmp_path / "submission_metadata.json").write_text(json.dumps(metadata))
    assert gradescope_run.student_id(tmp_path / "submission_metadata.json") == student


def test_results_count_only_passed_tests_and_leave_out_answers_graded_by_hand():
    tests = (outcomes.TestResult("t_visible", outcomes.PASSED, 1.0, 1.0),
             outcomes.TestResult("t_hidden", outcomes.FAILED, 0.5, 2.0, "ValueError: wrong shape"),
             outcomes.TestResult("t_slow", outcomes.TIMEOUT, 0.0, 3.0, "timeout: the cell ran longer than the time limit"),
             outcomes.TestResult("t_tamper", "tamper suspected", 4.0, 4.0, "np.allclose was replaced"),
             outcomes.TestResult("t_deleted", outcomes.NOT_GRADED, None, 1.0, "this test cell was missing"),
             outcomes.TestResult("essay", outcomes.MANUAL, None, 5.0, "graded by hand"))
    result = outcomes.SubmissionResult("ann", "toy", "graded", 5.5, 11.0, tests)
    source = gradescope_run.SourceTests({"t_visible": 1.0, "t_hidden": 2.0, "t_slow": 3.0, "t_tamper": 4.0,
                                         "t_deleted": 1.0}, frozenset({"t_hidden", "t_tamper"}), manual=1)
    document = gradescope_run.gradescope_results(result, source, seconds=12.4)
    assert_valid_gradescope_results(document)
    by_name = {t["name"]: t for t in document["tests"]}
    assert list(by_name) == ["t_visible", "t_hidden", "t_slow", "t_tamper", "t_deleted"]
    assert {n: t["status"] for n, t in by_name.items() if t["status"] == "passed"} == {"t_visible": "passed"}
    assert (by_name["t_hidden"]["score"], by_name["t_hidden"]["output"]) == (0.5, "ValueError: wrong shape")
    assert by_name["t_tamper"]["output"] == "np.allclose was replaced"
    assert {n for n, t in by_name.items() if t["visibility"] == "after_due_date"} == {"t_hidden", "t_tamper"}
    assert (document["score"], document["execution_time"], document["visibility"]) == (5.5, 12, "visible")
    assert "1 written answer(s) are graded by hand" in document["output"] and "5.5" not in document["output"]


def test_a_submission_that_could_not_be_graded_scores_zero_with_its_status_and_reason():
    result = outcomes.failed_submission("ann", "toy", 6.0, "nbformat.reader.NotJSONError: not JSON")
    document = gradescope_run.gradescope_results(result, gradescope_run.SourceTests({"t": 6.0}, frozenset(), 0))
    assert_valid_gradescope_results(document)
    assert (document["score"], document["tests"]) == (0.0, [])
    assert "invalid notebook" in document["output"] and "not valid JSON" in document["output"]
    assert ".." not in document["output"]
