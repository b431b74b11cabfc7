"""The grading pipeline: release, autograde, collect outcomes, report, and the demo class.

The steps, each in its own module and each with one concern:

1. :mod:`.session`   load the course's ``nbgrader_config.py`` and drive nbgrader's Python API
2. :mod:`.release`   generate student releases from ``solutions/`` (atomic replacement of ``notebooks/<a>``)
3. :mod:`.intake`    take only a submission's notebook (no links, a valid student id, bounded size,
                      cells and nesting), stage it for nbgrader, note edited read-only cells and
                      restore released cells for nbgrader
4. :mod:`.autograde` autograde every submission of an assignment, one nbgrader run per student,
                      each in the :mod:`.sandbox` (started by :mod:`.sandbox_start`, from a warm
                      :mod:`.sandbox_forkserver`, launcher: :mod:`.sandbox_kernel`), in parallel
5. :mod:`.verify`    verify the graded functions out of process (:mod:`.verify_child` runs in the sandbox,
                      with what probes call there in :mod:`.probing`)
6. :mod:`.gradebook` what the kit writes into the gradebook (verification caps as autograded zeros),
                      never over a grader's work
7. :mod:`.outcomes`  turn the gradebook, the autograded notebooks and the verification into explained
                      results: one definition of the scores (autograded, written pending, total)
8. :mod:`.reports`   write the grades CSV and JSON report atomically, and render the class table
9. :mod:`.feedback`  output kept per executed cell; feedback HTML with the same scores, without hidden
                      tests (not even in tracebacks), maths as MathML (offline), wrapped lines
10. :mod:`.export`   ``nbgrader export`` plugin writing the same scores
11. :mod:`.gradescope` / :mod:`.gradescope_run`  build a Gradescope autograder zip / grade one upload with it
12. :mod:`.simulate`  build simulated submissions (reference, blank, typical bugs, the adversarial corpus)
13. :mod:`.demo`      the main job: release, simulate a class, grade it, check the expected scores

Shared by the steps: :mod:`.cells` (the nbgrader vocabulary of a notebook cell, on plain JSON) and
:mod:`.status` (the statuses of a submission and of its tests).
"""

import sys

# jsonschema, which nbformat and nbgrader import, imports ``rfc3987_syntax`` when it is installed (as the
# ``format-nongpl`` extra that nbformat asks for installs it), and that module compiles Earley parsers of
# the IRI grammar at import: about 2 s in every grading process (the CLI, each worker), for the "iri"
# formats that no notebook or nbgrader schema uses (python-jsonschema/jsonschema#1428). A None entry
# makes that optional import fail at once, and jsonschema then leaves those two formats unchecked.
sys.modules.setdefault("rfc3987_syntax", None)
