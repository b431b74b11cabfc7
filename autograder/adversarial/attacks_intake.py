"""Adversarial cases: what a submission folder may hold besides an honest notebook.

``cases(assignment, target)`` returns, for one assignment, folders and files that attack the intake
(the layout is in ``tests/test_adversarial.py``): links of every kind (the notebook, the assignment
folder or the student folder linked to the instructor's solution or to ``/dev/zero``, hard links,
FIFOs), hostile folder names (glob characters, newlines, bytes that are not UTF-8), files that would
shadow modules if the folder were on an import path (``json.py``, ``cs231kit/__init__.py``,
``numpy.py``, ``sitecustomize.py``, IPython start-up files), oversized and malformed notebooks
(more bytes, cells, JSON values or nesting than allowed, lone surrogates, bytes that are not
UTF-8) and output floods.

Refused folders end with ``unsafe submission``, ``invalid student id``, ``invalid notebook`` or
``notebook too large`` and cost nothing (they are never executed). The others are graded like their
honest twin: the files beside the notebook are ignored, output is cut to the per-cell budget.
Executed cases cost a notebook run each, so they are spread over the assignments (:data:`EXECUTED`).
"""

# A module beside the notebook that, if it were ever imported by the grader or the kernel, would copy
# the instructor's notebook into the graded folder and report success.
SHADOW = """
import glob, os, shutil
for path in glob.glob(os.path.join(os.environ.get('CS231KIT_COURSE_ROOT', '..'), 'solutions', '*', '*.ipynb')):
    shutil.copy(path, os.getcwd())
raise SystemExit('shadowing module ran')
"""
# Files that Python or IPython would run on their own from the working folder or $HOME.
STARTUP_FILES = {"sitecustomize.py": SHADOW, "usercustomize.py": SHADOW, "numpy.py": SHADOW,
                 "ipython_config.py": SHADOW, ".ipython/profile_default/startup/00-cheat.py": SHADOW,
                 "nbgrader_config.py": "c = get_config()\nc.Execute.timeout = 1\n", "evil.pth": "import os\n"}
TINY_OUTPUT = '{"output_type": "stream", "name": "stdout", "text": "x"}'


def _wrong(target, **case):
    """A case carrying the target's wrong answer."""
    return dict(patches=list(target["wrong"]), **case)


def _refused(name, description, status, **kinds):
    return dict(name=name, description=description, status=status, failing=None, **kinds)


def _links(assignment, target):
    notebook = f"solutions/{assignment}/{assignment}.ipynb"
    unsafe = "unsafe submission"
    return [
        _refused("notebook_links_to_solution", "the notebook is a symbolic link to the instructor's notebook",
                 unsafe, notebook_link=notebook),
        _refused("notebook_hardlinks_solution", "the notebook is a hard link to the instructor's notebook",
                 unsafe, notebook_hardlink=notebook),
        _refused("folder_links_to_solutions", "the assignment folder is a symbolic link to solutions/<a>",
                 unsafe, folder_link=f"solutions/{assignment}"),
        _refused("student_folder_links_to_solutions", "the student folder is a symbolic link to solutions/ "
                 "(which holds <a>/<a>.ipynb)", unsafe, student_link="solutions"),
        _refused("notebook_links_to_dev_zero", "the notebook is a link to /dev/zero (an endless file)",
                 unsafe, notebook_link="/dev/zero"),
        _refused("notebook_is_a_fifo", "the notebook is a named pipe (opening it could block the grader)",
                 "invalid notebook", special_files={f"{assignment}.ipynb": "fifo"}),
        _refused("notebook_is_a_folder", "the notebook's name is a folder", "invalid notebook",
                 special_files={f"{assignment}.ipynb": "folder"}),
    ]


def _hostile_names(assignment, target):
    names = {"glob_star_name": "hon*", "glob_class_name": "[a-z]*", "glob_question_name": "honest_twi?",
             "option_name": "--force", "dot_name": "...", "space_name": "honest twin", "newline_name": "bad\nname",
             "non_utf8_name": "\udcff\udcfe", "long_name": "s" * 150}
    return [_wrong(target, name=name, description=f"the student folder is named {folder!r}", student_dir=folder,
                   status="invalid student id", failing=None) for name, folder in names.items()]


def _malformed(assignment, target):
    too_large, invalid = "notebook too large", "invalid notebook"
    return [
        _wrong(target, name="oversized_notebook", description="21 MB of padding in the notebook metadata",
               metadata={"padding": "@PAD@"}, splices={"@PAD@": ['"', "x" * 2**20, 21, '"']},
               status=too_large, failing=None),
        _wrong(target, name="tiny_outputs_15mb", description="15 MB of tiny outputs: under the size limit, "
               "over the JSON values limit (a million small objects cost the parser gigabytes)",
               metadata={"flood": "@OUT@"}, splices={"@OUT@": ["[", TINY_OUTPUT, 290_000, "]"]},
               status=too_large, failing=None),
        _wrong(target, name="cells_50000", description="50 000 empty cells after the last one",
               cell_edits=[dict(cell=target["free_cell"], action="insert", source="@CELLS@")],
               splices={"@CELLS@": ['"x"]}, ', '{"cell_type": "markdown", "metadata": {}, "source": "."}', 50_000,
                                    ', {"cell_type": "markdown", "metadata": {}, "source": ["x"']},
               status=too_large, failing=None),
        _wrong(target, name="nested_100000", description="a metadata value nested 100 000 levels deep (the "
               "parser's recursion limit)", metadata={"nested": "@NEST@"},
               splices={"@NEST@": "[" * 100_000 + "]" * 100_000}, status=invalid, failing=None),
        _wrong(target, name="nested_80", description="a metadata value nested 80 levels deep",
               metadata={"nested": "@NEST@"}, splices={"@NEST@": "[" * 80 + "]" * 80}, status=invalid, failing=None),
        _wrong(target, name="lone_surrogate", description="a lone surrogate (\\ud800) in a free cell",
               cell_edits=[dict(cell=target["free_cell"], action="insert", source="@SURROGATE@")],
               splices={"@SURROGATE@": '"s = \'\\ud800\'"'}, status=invalid, failing=None),
        _refused("not_utf8", "bytes that are not UTF-8", invalid, raw=b'{"cells": [], "x": "\xff\xfe"}'),
        _refused("json_list", "valid JSON, but a list", invalid, raw="[1, 2, 3]"),
        _refused("cells_not_a_list", "valid JSON whose cells are not a list", invalid, raw='{"cells": {"a": 1}}'),
        _refused("truncated_notebook", "the first 60 bytes of a notebook", invalid,
                 raw='{\n "cells": [\n  {\n   "cell_type": "markdown",\n   "id": "ab'),
        _refused("zero_bytes", "an empty file", invalid, raw=""),
    ]


def _large_but_legal(assignment, target):
    return [_wrong(target, name="tiny_outputs_48mb", description="48 MB of tiny outputs (the grader once "
                   "took 2.4 GiB for it)", metadata={"flood": "@OUT@"},
                   splices={"@OUT@": ["[", TINY_OUTPUT, 920_000, "]"]}, status="notebook too large", failing=None)]


def _executed(assignment, target):
    """Cases that are graded (the notebook runs): {name: case}."""
    honest = dict(status="graded", failing=list(target["honest_failures"]))
    free = target["free_cell"]
    return {
        "json_py_beside_notebook": _wrong(target, name="json_py_beside_notebook", description="a json.py "
                                          "beside the notebook", extra_files={"json.py": SHADOW}, **honest),
        "cs231kit_package_beside_notebook": _wrong(
            target, name="cs231kit_package_beside_notebook", description="a cs231kit/__init__.py beside the "
            "notebook (the kernel launcher is python -m cs231kit...)",
            extra_files={"cs231kit/__init__.py": SHADOW, "cs231kit/grading/__init__.py": SHADOW}, **honest),
        "startup_files_beside_notebook": _wrong(
            target, name="startup_files_beside_notebook", description="numpy.py, sitecustomize.py, an IPython "
            "start-up file, an nbgrader_config.py and a .pth beside the notebook", extra_files=STARTUP_FILES,
            **honest),
        "links_beside_notebook": _wrong(
            target, name="links_beside_notebook", description="links to the gradebook, the solutions, /dev/zero, "
            "another student and nowhere beside the notebook (they were copied, dereferenced, into the feedback)",
            links={"gradebook.db": "autograder/gradebook.db", "solutions": "solutions", "zeros": "/dev/zero",
                   "twin": "autograder/submitted/honest_twin", "dangling": "/nonexistent/file"}, **honest),
        "output_flood_200mb": _wrong(
            target, name="output_flood_200mb", description="a free cell prints 200 MB, a megabyte at a time: "
            "the grader keeps a cell's budget (1 MiB) and a note of what it cut",
            cell_edits=[dict(cell=free, action="insert", source="for _ in range(200):\n    print('x' * 1_000_000)")],
            **honest),
        "output_flood_many_lines": _wrong(
            target, name="output_flood_many_lines", description="a free cell prints 500 000 short lines",
            cell_edits=[dict(cell=free, action="insert", source="for i in range(500_000):\n    print(i)")],
            **honest),
        "error_flood": _wrong(
            target, name="error_flood", description="a free cell raises an error with a 50 MB message",
            cell_edits=[dict(cell=free, action="insert", source="raise ValueError('x' * 50_000_000)")], **honest),
    }


# Which executed cases each assignment runs (each costs a notebook run; together they cover all).
EXECUTED = {
    "loss": ["json_py_beside_notebook", "output_flood_200mb"],
    "gradcheck": ["cs231kit_package_beside_notebook", "links_beside_notebook"],
    "optimizers": ["startup_files_beside_notebook", "error_flood"],
    "features": ["output_flood_many_lines", "json_py_beside_notebook"],
}


def cases(assignment, target):
    """The intake cases of ``assignment`` (see the module docstring).

    Parameters
    ----------
    assignment : str
    target : dict
        The assignment's ``TARGET``: ``wrong`` patches, their ``honest_failures``, a ``free_cell``.

    Returns
    -------
    list of dict
    """
    executed = _executed(assignment, target)
    chosen = EXECUTED.get(assignment, list(executed)[:2])
    big = _large_but_legal(assignment, target) if assignment == "loss" else []
    return [*_links(assignment, target), *_hostile_names(assignment, target), *_malformed(assignment, target),
            *big, *(executed[name] for name in chosen)]
