"""The grading pipeline: release, autograde, collect outcomes, report, and the demo class.

The steps, each in its own module and each with one concern:

1. :mod:`.session`   load the course's ``nbgrader_config.py`` and drive nbgrader's Python API
2. :mod:`.release`   generate student releases from ``solutions/`` (atomic replacement of ``notebooks/<a>``)
3. :mod:`.autograde` autograde every submission of an assignment, one nbgrader run per student
4. :mod:`.outcomes`  turn the gradebook and the autograded notebooks into explained per-test results
5. :mod:`.reports`   write the grades CSV and JSON report atomically, and render the class table
6. :mod:`.simulate`  build simulated submissions (reference, blank, typical bugs) from the source
7. :mod:`.demo`      the main job: release, simulate a class, grade it, check the expected scores
"""
