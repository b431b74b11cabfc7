"""The adversarial corpus of the gradcheck assignment: its target and its own cases.

The generic attack classes (``attacks_*.py``) are built from :data:`TARGET`: the wrong answer most
cheats carry (the affine layer's backward pass forgets to reshape dx to the input's shape), the tests that answer fails when submitted honestly, and the read-only
cell after which a cheat inserts its free code cell. ``tests/test_adversarial.py`` grades them with
an honest twin (the wrong answer alone) in one batch; no case may score more than the twin.
"""

ASSIGNMENT = "gradcheck"

TARGET = dict(
    wrong=[dict(cell="affine", old="    dx = (dout @ w.T).reshape(x.shape)", new="    dx = dout @ w.T")],
    honest_failures=["test_affine_visible", "test_affine_hidden"],
    free_cell="helpers")

CASES = [
    dict(name="previous_assignment", description="the loss notebook submitted as gradcheck.ipynb",
         from_assignment="loss", status="wrong notebook", failing=None),
    dict(name="renamed_by_jupyter", description="the right notebook under the name 'gradcheck-Copy1.ipynb'",
         file_name="gradcheck-Copy1.ipynb", patches=[], status="renamed notebook", failing=None),
]
