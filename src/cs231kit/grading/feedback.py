"""Feedback HTML: the kit's scores, maths that render offline, no hidden test and no cut lines.

nbgrader's feedback adds every graded cell into one score out of the whole assignment, so an answer
still waiting for a grader reads ``0.0 / 1.0``; it loads MathJax from a CDN (raw ``$...$`` without a
network) and keeps long output lines on one line. Here, configured in ``nbgrader_config.py``:

- :class:`ScoreSummary` puts the kit's scores into the header (autograded, written answers pending
  until graded, the total once they are; :func:`cs231kit.grading.reports.score_parts`) and marks
  pending answers as such;
- :class:`RenderMaths` turns the LaTeX of markdown cells into MathML, which browsers draw without
  any script;
- :class:`FeedbackExporter` renders with the template ``templates/cs231kit_feedback`` (nbgrader's
  feedback without MathJax, with wrapped code and output), without nbconvert's second parse of the
  whole page;
- :class:`BoundedExecute` (an autograde preprocessor) runs the notebook like nbgrader's ``Execute``
  but keeps at most ``c.Intake.max_output_bytes_per_cell`` of output per cell, with a visible note of
  how much was cut, so a cell printing 200 MB neither fills the grader's memory nor lands in the
  autograded notebook and the feedback; error outputs are always kept (nbgrader scores a test cell
  by them), shortened to the same bound;
- :class:`DropWidgetViews`: a widget view would be a script in the page; the playgrounds' static
  figure stays;
- :class:`HideTestTracebacks`: nbgrader's ``ClearHiddenTests`` removes hidden tests from the cell
  source, but a failing hidden test's traceback quotes the failing lines (and the ``### BEGIN HIDDEN
  TESTS`` marker). The checks of this kit put everything a student needs into the error message, so
  feedback keeps ``ename: evalue`` and drops the quoted code.
"""

import json
import re
from pathlib import Path

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters import Highlight2HTML
from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer
from traitlets.config import Config

from .cells import grade_id, is_autograded_test
from .status import Status

TEMPLATE_NAME = "cs231kit_feedback"
TEMPLATE_DIR = Path(__file__).parent / "templates"

# $$display$$ or $inline$ maths (not an escaped \$), and code spans, which keep their dollars.
_MATHS_OR_CODE = re.compile(r"(?P<code>`+)(?:.|\n)*?(?P=code)|(?<!\\)\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\n]+?)\$",
                            re.DOTALL)
DEFAULT_MAX_OUTPUT_BYTES = 2**20
IMAGE_WITHOUT_ALT_TEXT = re.compile(r"<img\b(?![^>]*\salt\s*=)", re.IGNORECASE)
MISSING_ALT_TEXT = "No description has been provided for this image"  # nbconvert's words
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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


class _EnabledPreprocessor(Preprocessor):
    """An nbconvert preprocessor that is on when listed (nbconvert's are off by default)."""

    enabled = Bool(True, help="on when listed in GenerateFeedback.preprocessors").tag(config=True)


class HideTestTracebacks(_EnabledPreprocessor):
    """Replace each error traceback of a graded test cell by its last line, ``"ename: evalue"``."""

    def preprocess_cell(self, cell, resources, index):
        """Shorten the tracebacks of one cell if it is a graded test cell (not a student's answer)."""
        if is_autograded_test(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
        return cell, resources


class DropWidgetViews(_EnabledPreprocessor):
    """Outputs that only a live widget frontend can draw (the playgrounds' controls) left out.

    nbconvert renders a widget view as a script (and the notebook's widget state as more); the
    playgrounds also draw a static figure, which the feedback keeps.
    """

    def preprocess(self, nb, resources):
        """Drop the notebook's widget state, then each cell's widget views."""
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        """Keep the outputs of one cell that are not widget views."""
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if WIDGET_VIEW not in o.get("data", {})]
        return cell, resources


def latex_to_mathml(text):
    """Replace the ``$...$`` and ``$$...$$`` maths of markdown text by MathML (code spans are kept).

    A formula that cannot be converted stays as it was.

    Parameters
    ----------
    text : str
        Markdown source.

    Returns
    -------
    str
    """
    from latex2mathml.converter import convert

    def replace(match):
        if match.group("code"):
            return match.group(0)
        display = match.group("display") is not None
        try:
            return convert(match.group("display" if display else "inline").strip(), display="block" if display else "inline")
        except Exception:  # latex2mathml raises many kinds of errors on LaTeX it does not know
            return match.group(0)

    return _MATHS_OR_CODE.sub(replace, text)


class RenderMaths(_EnabledPreprocessor):
    """Markdown cells with their maths as MathML (see :func:`latex_to_mathml`)."""

    def preprocess_cell(self, cell, resources, index):
        """Convert the maths of one markdown cell."""
        if cell.cell_type == "markdown":
            cell.source = latex_to_mathml(cell.source)
        return cell, resources


class ScoreSummary(_EnabledPreprocessor):
    """The kit's scores of the submission for the feedback header; answers waiting for a grader marked.

    Sets ``resources["cs231kit_scores"]`` to ``{"autograded", "written", "total"}`` texts and the
    metadata ``nbgrader.pending = True`` of each answer cell still waiting for a grader. Runs after
    nbgrader's ``GetGrades`` (it reads the same gradebook).
    """

    def preprocess(self, nb, resources):
        """Read the submission's scores from the gradebook, then mark the pending cells."""
        from nbgrader.api import Gradebook

        from .export import gradebook_result
        from .reports import score_parts

        ids = resources["nbgrader"]
        with Gradebook(ids["db_url"]) as gradebook:
            result = gradebook_result(gradebook, ids["assignment"], ids["student"])
        resources["cs231kit_scores"] = dict(zip(("autograded", "written", "total"), score_parts(result)))
        pending = {t.name for t in result.tests if t.status == Status.MANUAL and t.points is None}
        for cell in nb.cells:
            if grade_id(cell) in pending:
                cell.metadata["nbgrader"]["pending"] = True
        return nb, resources


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter with the kit's feedback template (``c.GenerateFeedback.exporter_class``).

    nbgrader's API forces ``HTMLExporter.template_name = 'feedback'`` when it writes feedback; this
    class sets its own template in its own configuration section, so the Formgrader's exporter keeps its own.
    """

    def __init__(self, config=None, **kwargs):
        config = Config(config or {})
        # This class's own section wins over HTMLExporter's. nbgrader's template folder (set by
        # GenerateFeedback) becomes a search path, so that the template can extend 'feedback/index.html.j2'.
        nbgrader_templates = config.HTMLExporter.get("extra_template_basedirs", [])
        config.FeedbackExporter.extra_template_basedirs = [*nbgrader_templates, str(TEMPLATE_DIR)]
        config.FeedbackExporter.extra_template_paths = [*config.HTMLExporter.get("extra_template_paths", []),
                                                        *nbgrader_templates]
        config.FeedbackExporter.template_name = TEMPLATE_NAME
        super().__init__(config=config, **kwargs)

    def from_notebook_node(self, nb, resources=None, **kw):
        """Render the page as ``HTMLExporter`` does, but for its BeautifulSoup pass.

        ``HTMLExporter`` parses every page it renders again, with the pure-Python ``html.parser``, to
        give images without one an alt text and JupyterLab-template cells a tab index: half of the time
        of a feedback page (about 0.4 s). This template is nbgrader's classic one, without such cells,
        so only the alt texts are added (:func:`with_alt_texts`). Widget views are dropped before this
        (:class:`DropWidgetViews`), so the default data-type filter serves.
        """
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        self.register_filter("highlight_code", self.filters.get("highlight_code",
                                                                Highlight2HTML(pygments_lexer=lexer, parent=self)))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return with_alt_texts(html), resources


def with_alt_texts(html):
    """``html`` with nbconvert's alt text in every ``<img>`` tag that has none."""
    return IMAGE_WITHOUT_ALT_TEXT.sub(f'<img alt="{MISSING_ALT_TEXT}"', html)
