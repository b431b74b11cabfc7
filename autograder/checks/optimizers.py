"""Trusted grading code of the ``optimizers`` assignment: reference implementations and hidden checks.

Never released to students. Hidden test cells of ``solutions/optimizers/optimizers.ipynb`` load this
file with ``cs231kit.course.load_course_module("autograder/checks/optimizers.py")`` and call one
``check_*`` function per test cell. Every check raises ``AssertionError`` with a message a student
can act on (which function, which input, which step and index, expected vs got, the likely cause)
and returns None when it passes. ``tests/test_optimizers_assignment.py`` checks the references
against closed forms (constant gradients), loop twins and scipy.

The checks live in one module per section of the notebook, which this file loads and whose public
names (checks, references, tables) it offers as its own:

- ``optimizers_strategies.py``: 1. lecture 3's search strategies;
- ``optimizers_rules.py``: 2. the update rules (one table drives every generic check) and their questions;
- ``optimizers_schedules.py``: 4. learning-rate schedules;
- ``optimizers_second_order.py``: 5. Newton's step and L-BFGS;
- ``optimizers_averaging.py``: 6. Polyak averaging and ensembles.

Every failure is raised by the contract's ``fail`` (``autograder/checks/contract.py``); the other
functions set ``__tracebackhide__`` (see the loss checks for why).
"""

from pathlib import Path

from cs231kit.course import load_course_module

SECTIONS = {name: load_course_module(f"autograder/checks/optimizers_{name}.py", root=Path(__file__).resolve().parents[2])
            for name in ("strategies", "rules", "schedules", "second_order", "averaging")}
"""The module of each section, in the order of the notebook."""

globals().update({name: value for section in SECTIONS.values() for name, value in vars(section).items()
                  if not name.startswith("_")})
