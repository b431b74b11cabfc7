"""The adversarial corpus of the optimizers assignment: its target and its own cases.

The generic attack classes (``attacks_*.py``) are built from :data:`TARGET`: the wrong answer most
cheats carry (Adam without bias correction), the tests that answer fails when submitted honestly, and the read-only
cell after which a cheat inserts its free code cell. ``tests/test_adversarial.py`` grades them with
an honest twin (the wrong answer alone) in one batch; no case may score more than the twin.
"""

ASSIGNMENT = "optimizers"

TARGET = dict(
    wrong=[dict(cell="adam", old="    m_hat = m / (1 - beta1 ** t)\n", new="    m_hat = m\n"),
           dict(cell="adam", old="    v_hat = v / (1 - beta2 ** t)\n", new="    v_hat = v\n")],
    honest_failures=["test_adam_visible", "test_adam_hidden"],
    free_cell="helpers")

CASES = [
    dict(name="previous_assignment", description="the gradcheck notebook submitted as optimizers.ipynb",
         from_assignment="gradcheck", status="wrong notebook", failing=None),
    dict(name="renamed_by_jupyter", description="the right notebook under the name 'optimizers (1).ipynb'",
         file_name="optimizers (1).ipynb", patches=[], status="renamed notebook", failing=None),
]
