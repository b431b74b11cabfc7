"""nbgrader configuration: maps nbgrader's course directory onto the kit's top-level layout.

solutions/<a>/<a>.ipynb  -> instructor source (nbgrader's "source")
notebooks/<a>/<a>.ipynb  -> student release, committed
autograder/...           -> submissions, autograded copies, feedback and the gradebook
"""
import os

c = get_config()  # noqa: F821 (injected by traitlets)

_here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "cs231kit"
c.CourseDirectory.root = _here
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "autograder/submitted"
c.CourseDirectory.autograded_directory = "autograder/autograded"
c.CourseDirectory.feedback_directory = "autograder/feedback"
# An absolute URL: a relative sqlite URL resolves against the cwd and breaks `nbgrader export`.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_here, "autograder", "gradebook.db")

# Per-cell limit in seconds. Execute.timeout wins over ExecutePreprocessor.timeout.
c.Execute.timeout = 120
# ipykernel 7 warns on every start that TCP is unencrypted (kernels run on loopback): keep logs readable.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
# cs231kit's sandbox limits per graded notebook (defaults: cs231kit.grading.sandbox.Limits), e.g.
# c.Sandbox.wall_seconds = 300
# A deleted test cell is put back and graded instead of silently lowering the maximum.
c.OverwriteCells.add_missing_cells = True
# Before nbgrader checks the read-only cells, cs231kit puts their released metadata back (a test cell
# retyped, marked as a solution or given 100 points would otherwise stop grading with "Inconsistent
# checksums"); cells claiming grade ids the release does not have become ordinary cells.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "cs231kit.grading.intake.RestoreCells",
    "nbgrader.preprocessors.OverwriteCells",
    "cs231kit.grading.verdicts.InsertVerdicts",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# What the grader takes from a submission folder (cs231kit.grading.intake): only the notebook, as a
# regular file, within these limits; anything else ends with an explained status ("notebook too
# large", "invalid notebook", "unsafe submission"...). Defaults: cs231kit.grading.intake.IntakeLimits.
# c.Intake.max_bytes = 20 * 2**20          # size of the notebook file
# c.Intake.max_cells = 2000
# c.Intake.max_depth = 64                  # nesting of JSON arrays and objects
# c.Intake.max_json_values = 1_000_000     # what the parsed notebook costs the grader's memory
# c.Intake.max_output_bytes_per_cell = 2**20   # output kept per executed cell (a note says what was cut)
# Execution keeps at most c.Intake.max_output_bytes_per_cell of output per cell.
c.Autograde.autograde_preprocessors = [
    "cs231kit.grading.feedback.BoundedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Feedback without the source of hidden tests (nbgrader's default feedback shows them), not even
# quoted in the traceback of a failing test; with the kit's scores (written answers pending until a
# grader scores them), maths as MathML (no MathJax from a CDN: it renders offline) and wrapped lines.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "cs231kit.grading.feedback.ScoreSummary",
    "nbgrader.preprocessors.ClearHiddenTests",
    "cs231kit.grading.feedback.HideTestTracebacks",
    "cs231kit.grading.feedback.RenderMaths",
    "cs231kit.grading.feedback.DropWidgetViews",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# The student release (cs231kit.grading.stubs): stubs that raise NotImplementedError naming the function
# and what it must return, answer cells that start as None (an unanswered question never stops Run All),
# and the kernel's full language_info (JupyterLab does not mark a fresh release as modified).
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "cs231kit.grading.stubs.ClearSolutionsWithMessages",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
    "cs231kit.grading.stubs.CompleteLanguageInfo",
]

c.GenerateFeedback.exporter_class = "cs231kit.grading.feedback.FeedbackExporter"

# `nbgrader export` writes the kit's scores (autograded, written answers pending until graded, total),
# the same numbers as `cs231kit grade`'s grades.csv, instead of one sum in which pending answers are 0.
c.ExportApp.plugin_class = "cs231kit.grading.export.ScoresExportPlugin"
