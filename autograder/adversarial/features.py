"""The adversarial corpus of the features assignment: its target and its own cases.

The generic attack classes (``attacks_*.py``) are built from :data:`TARGET`: the wrong answer most
cheats carry (the colour histogram bins the value channel instead of the hue), the tests that answer fails when submitted honestly, and the read-only
cell after which a cheat inserts its free code cell. ``tests/test_adversarial.py`` grades them with
an honest twin (the wrong answer alone) in one batch; no case may score more than the twin.
"""

ASSIGNMENT = "features"

TARGET = dict(
    wrong=[dict(cell="color_histogram_hsv", old="    hue = (sector / 6) % 1.0 ",
                new="    hue = rgb_to_hsv(rgb / 255)[..., 2] ")],
    honest_failures=["test_color_histogram_visible", "test_color_histogram_hidden"],
    free_cell="helpers")

CASES = [
    dict(name="previous_assignment", description="the optimizers notebook submitted as features.ipynb",
         from_assignment="optimizers", status="wrong notebook", failing=None),
    dict(name="renamed_by_jupyter", description="the right notebook under the name 'Untitled.ipynb'",
         file_name="Untitled.ipynb", patches=[], status="renamed notebook", failing=None),
]
