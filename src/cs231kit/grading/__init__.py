"""The grading pipeline: release, autograde, collect outcomes, report, and the demo class.

The steps, each in its own module and each with one concern:

1. :mod:`.session`   load the course's ``nbgrader_config.py`` and drive nbgrader's Python API
2. :mod:`.release`   generate student releases from ``solutions/`` (atomic replacement of ``notebooks/<a>``)
3. :mod:`.intake`    take only a submission's notebook (no links, a valid student id, bounded size,
                      cells and nesting), stage it for nbgrader, note edited read-only cells and
                      restore released cells for nbgrader
4. :mod:`.autograde` autograde every submission of an assignment, one nbgrader run per student,
                      each in the :mod:`.sandbox` (kernel launcher: :mod:`.sandbox_kernel`), in parallel
5. :mod:`.verify`    verify the graded functions out of process (:mod:`.verify_child` runs in the sandbox)
6. :mod:`.outcomes`  turn the gradebook, the autograded notebooks and the verification into explained results
7. :mod:`.reports`   write the grades CSV and JSON report atomically, and render the class table
8. :mod:`.feedback`  output kept per executed cell, and feedback HTML without hidden tests, not even in tracebacks
9. :mod:`.gradescope` / :mod:`.gradescope_run`  build a Gradescope autograder zip / grade one upload with it
10. :mod:`.simulate`  build simulated submissions (reference, blank, typical bugs, the adversarial corpus)
11. :mod:`.demo`      the main job: release, simulate a class, grade it, check the expected scores
"""
