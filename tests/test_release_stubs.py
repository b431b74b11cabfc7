"""What the student release holds in place of solutions: stubs that name the function and what it
returns, answer cells that start as None so that "Run All" goes on, and a complete ``language_info``."""

import re
import textwrap

import pytest
from notebook_cells import REPO, read_notebook

from cs231kit.grading.cells import grade_id, is_solution
from cs231kit.grading.stubs import STUB_LINE_WIDTH, kernel_language_info, solution_regions, stub_source

ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if any(p.glob("*.ipynb")))
LANGUAGE_INFO_KEYS = {"name", "version", "mimetype", "file_extension", "codemirror_mode", "pygments_lexer",
                      "nbconvert_exporter"}


def _raised_message(source):
    """The message of the NotImplementedError that running ``source`` raises."""
    with pytest.raises(NotImplementedError) as caught:
        exec(source, {})
    return str(caught.value)


FUNCTION_WITH_RETURNS = '''
def affine_forward(x, w, b):
    """Forward pass.

    Returns
    -------
    out : ndarray, shape (N, M)
        The scores.
    cache : object
    """
    ### BEGIN SOLUTION
    out = x @ w + b
    ### END SOLUTION
    return out, (x, w)
'''


def test_function_stub_names_the_function_and_its_returns_from_the_docstring():
    stub = stub_source(FUNCTION_WITH_RETURNS, "affine")
    assert "out = x @ w + b" not in stub and "    # YOUR CODE HERE" in stub
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError) as caught:
        namespace["affine_forward"](1, 2, 3)
    assert str(caught.value) == "affine_forward: not written yet (it must return (out, cache))"


def test_single_return_keeps_its_type_and_without_a_section_the_return_statement_speaks():
    single = '''def relative_error(a, b):
    """Largest relative error.

    Returns
    -------
    float
        The maximum.
    """
    ### BEGIN SOLUTION
    error = 0.0
    ### END SOLUTION
    return error


def add_backward(dout, cache):
    """Backward pass of the add gate."""
    ### BEGIN SOLUTION
    da, db = dout, dout
    ### END SOLUTION
    return da, db
'''
    namespace = {}
    exec(stub_source(single, "gates"), namespace)
    for name, expected in (("relative_error", "relative_error: not written yet (it must return float)"),
                           ("add_backward", "add_backward: not written yet (it must return (da, db))")):
        with pytest.raises(NotImplementedError) as caught:
            namespace[name](1.0, 2.0)
        assert str(caught.value) == expected


def test_answer_cell_starts_as_none_and_runs():
    source = "# best_h = ...   (a power of ten)\n# slope = ...\n### BEGIN SOLUTION\nbest_h = 1e-5\nslope = 2\n### END SOLUTION"
    stub = stub_source(source, "steps_answers")
    namespace = {}
    exec(stub, namespace)  # does not raise: Run All goes on
    assert namespace["best_h"] is None and namespace["slope"] is None and "1e-5" not in stub


def test_other_top_level_code_raises_naming_the_cell_and_what_to_set():
    source = "# Two lists of floats\n### BEGIN SOLUTION\nlearning_rates = [1e-7]\nregs, others = [1e3], []\n### END SOLUTION"
    assert _raised_message(stub_source(source, "tuning_grid")) == \
        "tuning_grid: not written yet (it must set learning_rates, regs, others)"


def test_a_long_message_is_wrapped_into_valid_lines():
    kind = "ndarray of float, shape (N, " + ", ".join(f"dimension_{k}" for k in range(12)) + ")"
    source = textwrap.dedent(f'''
        def features(images):
            """Features.

            Returns
            -------
            features : {kind}
            """
            ### BEGIN SOLUTION
            return images
            ### END SOLUTION
        ''')
    stub = stub_source(source, "features")
    body = stub[stub.index("# YOUR CODE HERE"):].splitlines()
    assert len(body) > 2 and all(len(line) <= 4 + STUB_LINE_WIDTH for line in body)  # 4: the function body
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError) as caught:
        namespace["features"](None)
    assert str(caught.value) == f"features: not written yet (it must return features: {kind})"


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested"),
    ("x = 1\n### BEGIN SOLUTION\nx = 2", "no end solution")])
def test_malformed_regions_are_nbgraders_errors(source, message):
    with pytest.raises(RuntimeError, match=message):
        solution_regions(source.split("\n"))


# --------------------------------------------------------------------------- the committed notebooks


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_stubs_say_what_to_write(assignment):
    source = {grade_id(c): c for c in read_notebook(REPO / "solutions" / assignment / f"{assignment}.ipynb")["cells"]}
    release = read_notebook(REPO / "notebooks" / assignment / f"{assignment}.ipynb")
    stubs = [c for c in release["cells"] if c["cell_type"] == "code" and is_solution(c)]
    assert stubs
    for cell in stubs:
        assert "raise NotImplementedError()" not in cell["source"], grade_id(cell)
        functions = re.findall(r"^\s*def (\w+)\(", source[grade_id(cell)]["source"], re.M)
        messages = re.findall(r'raise NotImplementedError\("(\w+): not written yet', cell["source"])
        if functions:  # every function of the cell says its name
            assert messages == [f for f in functions if f in messages] and set(messages) <= set(functions)
            assert messages, grade_id(cell)
        elif "= None" in cell["source"]:  # an answer cell runs without raising
            namespace = {}
            exec(cell["source"], namespace)
        else:
            assert messages == [grade_id(cell)]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_unanswered_questions_still_fail_a_hidden_test(assignment):
    """A visible check of an answer no longer raises on None, so a hidden test must do the grading."""
    for cell in read_notebook(REPO / "solutions" / assignment / f"{assignment}.ipynb")["cells"]:
        if cell["cell_type"] == "code" and re.search(r"^(if |answered = \[)check_is_number", cell["source"], re.M):
            assert "### BEGIN HIDDEN TESTS" in cell["source"], grade_id(cell)


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_carry_the_kernels_full_language_info(folder, assignment):
    info = read_notebook(REPO / folder / assignment / f"{assignment}.ipynb")["metadata"]["language_info"]
    assert set(info) >= LANGUAGE_INFO_KEYS
    kernel = kernel_language_info()
    assert {k: v for k, v in info.items() if k != "version"} == {k: v for k, v in kernel.items() if k != "version"}
    assert info["version"].split(".")[:2] == kernel["version"].split(".")[:2]


@pytest.mark.slow
def test_run_all_on_a_fresh_release_stops_at_the_first_function_with_one_line_naming_it():
    """Questions come before the first function in the loss notebook: they must not stop Run All."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = REPO / "notebooks" / "loss" / "loss.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    with pytest.raises(CellExecutionError):
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    ran = [c for c in notebook.cells if c.cell_type == "code" and c.get("execution_count")]
    errors = [o for c in ran for o in c.outputs if o.output_type == "error"]
    assert len(errors) == 1 and ran[-1].outputs[-1] is errors[0]
    assert errors[0].traceback == ["NotImplementedError: svm_loss_naive: not written yet (it must return (loss, dW))"]
    printed = "".join(o.get("text", "") for c in ran for o in c.outputs if o.output_type == "stream")
    assert printed.count("not answered yet") >= 4  # the questions before svm_loss_naive: said, not raised
    assert "dataset: offline" in printed


def test_a_function_without_docstring_or_return_is_still_named():
    namespace = {}
    exec(stub_source("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION", "add"), namespace)
    with pytest.raises(NotImplementedError) as caught:
        namespace["add"](1, 2)
    assert str(caught.value) == "add: not written yet"
