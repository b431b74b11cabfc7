"""A feedback preprocessor: tracebacks of test cells shortened to their error message.

nbgrader's ``ClearHiddenTests`` removes hidden tests from the cell source, but a failing hidden
test's traceback quotes the failing lines (and the ``### BEGIN HIDDEN TESTS`` marker) in the
feedback. The checks of this kit put everything a student needs into the error message, so
feedback keeps ``ename: evalue`` and drops the quoted code.
"""

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool


class HideTestTracebacks(Preprocessor):
    """Replace each error traceback of a graded test cell by its last line, ``"ename: evalue"``."""

    enabled = Bool(True, help="nbconvert preprocessors are off by default; this one is on when listed").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        """Shorten the tracebacks of one cell if it is a graded test cell (not a student's answer)."""
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
        return cell, resources
