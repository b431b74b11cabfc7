"""What the student release puts in place of solution code: stubs that say what to write.

nbgrader's ``ClearSolutions`` replaces every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region
with ``raise NotImplementedError()``: a bare error, and one that stops "Run All" at the first
question. :class:`ClearSolutionsWithMessages` writes instead, per region:

* inside a function: ``raise NotImplementedError("<function>: not written yet (it must return ...)")``,
  what it returns taken from the docstring's ``Returns`` section, else from the ``return`` statement
  after the region;
* in an answer cell, one that announces its answers as ``# name = ...`` comments: ``name = None``
  for each, so that the visible check says "not answered yet" and the notebook runs on (the hidden
  test still fails on None);
* elsewhere (code at the top level of a cell): ``raise NotImplementedError("<cell>: not written yet
  (it must set ...)")`` with the names the solution assigns.

:class:`CompleteLanguageInfo` completes the notebook's ``language_info`` with the keys the Python
kernel reports, so that JupyterLab does not mark a freshly opened release as modified.
"""

import ast
import re
import sys
import textwrap

from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

from .cells import BEGIN_SOLUTION, END_SOLUTION, grade_id
ANSWER_PLACEHOLDER = re.compile(r"^#\s*([A-Za-z_]\w*)\s*=\s*\.\.\.", re.MULTILINE)
SECTION_UNDERLINE = re.compile(r"^-{3,}$")
NOT_WRITTEN = "# YOUR CODE HERE"
STUB_LINE_WIDTH = 100
"""Longest stub line, before the indentation of the solution region."""


def solution_regions(lines):
    """The ``(begin, end)`` line indices (0-based) of each solution region of a cell's lines.

    Raises
    ------
    RuntimeError
        A region is nested in another or not closed (nbgrader's own messages).
    """
    regions, begin = [], None
    for index, line in enumerate(lines):
        if BEGIN_SOLUTION in line:
            if begin is not None:
                raise RuntimeError("encountered nested begin solution statements")
            begin = index
        elif END_SOLUTION in line and begin is not None:
            regions.append((begin, index))
            begin = None
    if begin is not None:
        raise RuntimeError("no end solution statement found")
    return regions


def _returns_section(docstring):
    """The entries of a numpydoc ``Returns`` section: ``[(name or None, type)]``."""
    lines = (docstring or "").splitlines()
    starts = [i for i in range(len(lines) - 1)
              if lines[i].strip() == "Returns" and SECTION_UNDERLINE.match(lines[i + 1].strip())]
    if not starts:
        return []
    entries, base = [], None
    for index in range(starts[0] + 2, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        if index + 1 < len(lines) and SECTION_UNDERLINE.match(lines[index + 1].strip()):
            break  # the next section's title
        indent = len(line) - len(line.lstrip())
        base = indent if base is None else base
        if indent == base:
            name, colon, kind = line.strip().partition(" : ")
            entries.append((name, kind) if colon else (None, name))
    return entries


def _describe_returns(function, region_end_line):
    """What ``function`` (an ``ast.FunctionDef``) must return, in a few words, or None if nothing says."""
    entries = _returns_section(ast.get_docstring(function))
    if len(entries) == 1:
        name, kind = entries[0]
        return f"{name}: {kind}" if name else kind
    if entries:
        return "(" + ", ".join(name or kind for name, kind in entries) + ")"
    after = [node for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None
             and node.lineno > region_end_line]
    if after:
        return ast.unparse(after[-1].value)  # a tuple comes in parentheses
    return None


def _enclosing_function(tree, line_number):
    """The innermost function definition of ``tree`` that contains ``line_number`` (1-based), or None."""
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and node.lineno <= line_number <= node.end_lineno]
    return max(functions, key=lambda node: node.lineno, default=None)


def _assigned_names(code):
    """The names assigned at the top level of ``code``, in order."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            for leaf in ast.walk(target) if target is not None else ():
                if isinstance(leaf, ast.Name) and leaf.id not in names:
                    names.append(leaf.id)
    return names


def _string_literal(text):
    """``text`` as a Python string literal, in double quotes when possible."""
    return f'"{text}"' if '"' not in text and "\\" not in text else repr(text)


def _raise_lines(message):
    """``raise NotImplementedError(message)`` as source lines of at most :data:`STUB_LINE_WIDTH`
    characters (the message split into adjacent string literals)."""
    head = "raise NotImplementedError("
    chunks = textwrap.wrap(message, STUB_LINE_WIDTH - len(head) - 3, drop_whitespace=False,
                           break_long_words=False, break_on_hyphens=False)
    lines = [" " * len(head) + _string_literal(chunk) for chunk in chunks]
    lines[0] = head + lines[0].lstrip()
    lines[-1] += ")"
    return lines


def region_stub(source, region, cell_name, tree=None):
    """The stub lines (without indentation) that replace one solution region of a code cell.

    Parameters
    ----------
    source : str
        The cell's source, with its solution regions.
    region : tuple of int
        ``(begin, end)`` line indices of the region, as :func:`solution_regions` gives them.
    cell_name : str
        The cell's grade id, named by stubs outside any function.
    tree : ast.Module, optional
        ``ast.parse(source)`` if it parses (saves parsing it again for every region).

    Returns
    -------
    list of str
    """
    lines = source.split("\n")
    begin, end = region
    function = _enclosing_function(tree, begin + 1) if tree is not None else None
    if function is not None:
        returns = _describe_returns(function, end + 1)
        message = f"{function.name}: not written yet" + (f" (it must return {returns})" if returns else "")
        return [NOT_WRITTEN, *_raise_lines(message)]
    outside = "\n".join(lines[:begin] + lines[end + 1:])
    answers = ANSWER_PLACEHOLDER.findall(outside)
    if answers:
        return [f"{NOT_WRITTEN}: replace None by your answer"] + [f"{name} = None" for name in answers]
    names = _assigned_names("\n".join(line.strip() for line in lines[begin + 1:end]))
    what = f"it must set {', '.join(names)}" if names else "see the instructions above"
    return [NOT_WRITTEN, *_raise_lines(f"{cell_name}: not written yet ({what})")]


def stub_source(source, cell_name):
    """The release's source of a code cell: every solution region replaced by its stub.

    Parameters
    ----------
    source : str
    cell_name : str
        The cell's grade id.

    Returns
    -------
    str or None
        None when the cell has no solution region.
    """
    lines = source.split("\n")
    regions = solution_regions(lines)
    if not regions:
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    out, position = [], 0
    for begin, end in regions:
        indent = re.match(r"\s*", lines[begin]).group(0)
        out += lines[position:begin] + [indent + line for line in region_stub(source, (begin, end), cell_name, tree)]
        position = end + 1
    return "\n".join(out + lines[position:])


class ClearSolutionsWithMessages(ClearSolutions):
    """nbgrader's ``ClearSolutions`` with stubs that name the function and what it returns (Python code
    cells; markdown cells and other languages as nbgrader does it)."""

    def _replace_solution_region(self, cell, language):
        if cell.cell_type != "code" or language != "python":
            return super()._replace_solution_region(cell, language)
        name = grade_id(cell) or cell.get("id") or "this cell"
        stubbed = stub_source(cell.source, name)
        if stubbed is None:
            return False
        cell.source = stubbed
        return True


def kernel_language_info():
    """The ``language_info`` an IPython kernel of this interpreter reports (name, version, mimetype, ...)."""
    from ipykernel.ipkernel import IPythonKernel

    return {**IPythonKernel.language_info, "version": sys.version.split()[0]}


class CompleteLanguageInfo(NbGraderPreprocessor):
    """Fill the keys of ``metadata.language_info`` that the notebook lacks with the kernel's; keys it has
    are kept, so the release follows its source notebook and stays reproducible."""

    def preprocess(self, nb, resources):
        nb.metadata["language_info"] = {**kernel_language_info(), **nb.metadata.get("language_info", {})}
        return nb, resources
