"""What grading keeps of a notebook's output: bounded outputs and tracebacks without test code.

:class:`BoundedExecute` runs the notebook like nbgrader's ``Execute`` but keeps at most
``max_output_bytes`` of output per cell (``c.Intake.max_output_bytes_per_cell``), with a visible
note saying how much was cut, so a cell printing 200 MB neither fills the grader's memory nor
lands in the autograded notebook and the feedback. Error outputs are always kept (nbgrader scores a
test cell by them), shortened to the same bound.

nbgrader's ``ClearHiddenTests`` removes hidden tests from the cell source, but a failing hidden
test's traceback quotes the failing lines (and the ``### BEGIN HIDDEN TESTS`` marker) in the
feedback. The checks of this kit put everything a student needs into the error message, so
feedback keeps ``ename: evalue`` and drops the quoted code (:class:`HideTestTracebacks`).
"""

import json

from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

DEFAULT_MAX_OUTPUT_BYTES = 2**20


class BoundedExecute(Execute):
    """nbgrader's ``Execute`` keeping at most ``max_output_bytes`` of output per cell."""

    max_output_bytes = Integer(DEFAULT_MAX_OUTPUT_BYTES,
                               help="Output kept per cell (characters of text and data)").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        """Execute the notebook with fresh per-cell output budgets."""
        self._kept, self._notes = {}, {}
        return super().preprocess(nb, resources, km)

    def output(self, outs, msg, display_id, cell_index):
        """Keep the output of ``msg`` within the cell's budget; count and note what is cut."""
        content = msg["content"]
        if msg["msg_type"] == "error":
            return super().output(outs, {**msg, "content": bounded_error(content, self.max_output_bytes)},
                                  display_id, cell_index)
        size = output_size(content)
        kept = self._kept.get(cell_index, 0)
        room = max(self.max_output_bytes - kept, 0)
        self._kept[cell_index] = kept + size
        if size <= room:
            return super().output(outs, msg, display_id, cell_index)
        out = None
        if msg["msg_type"] == "stream" and room:
            out = super().output(outs, {**msg, "content": {**content, "text": content["text"][:room]}},
                                 display_id, cell_index)
        self._note_cut(outs, cell_index)
        return out

    def _note_cut(self, outs, cell_index):
        """Add (or update) the cell's note on how much of its output was cut."""
        cut = self._kept[cell_index] - self.max_output_bytes
        text = (f"[output cut by the grader: {cut} more characters than the {self.max_output_bytes} kept "
                f"per cell were not kept]\n")
        note = self._notes.get(cell_index)
        if note is None or not any(o is note for o in outs):
            note = self._notes[cell_index] = new_output("stream", name="stderr", text=text)
            outs.append(note)
        note.text = text


def output_size(content):
    """Characters of text and data in one output message's content."""
    if "text" in content:
        return len(content["text"])
    data = content.get("data", {})
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())


def bounded_error(content, limit):
    """An error message's content with its value and traceback cut to ``limit`` characters in all."""
    evalue = str(content.get("evalue", ""))[:limit]
    traceback, room = [], limit - len(evalue)
    for line in content.get("traceback", []):
        if room <= 0:
            traceback.append("[traceback cut by the grader]")
            break
        traceback.append(line[:room])
        room -= len(line)
    return {**content, "evalue": evalue, "traceback": traceback}


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
