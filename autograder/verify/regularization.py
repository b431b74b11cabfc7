"""Out-of-process verification of the ``regularization`` assignment (see ``cs231kit.grading.verify``).

Dropout, DropConnect and augmentation draw random numbers, so their outputs cannot be compared with
the instructor's: every probe here runs a collector of ``cs231kit.laws`` in the sandbox (the
student's functions on seeded inputs; only arrays come back) and measures the laws in the trusted
parent (``Probe.laws``), on the arrays that came back and on inputs rebuilt from the seeds. A visible
test's probe measures the laws that test checks (``VISIBLE_LAWS``); a hidden test's, all of them.
This file holds no reference implementation: inputs, seeds and calling conventions only.

The numeric answer is compared with the instructor's value, as in the other assignments.
"""

import numbers
from pathlib import Path

from cs231kit import laws
from cs231kit.course import load_course_module
from cs231kit.grading.verify import Probe

shared = load_course_module("autograder/checks/cases/regularization.py", root=Path(__file__).resolve().parents[2])
"""The tolerance of the answer, shared with the hidden check."""

# topic -> (the functions it calls, the visible test, the hidden test)
TESTS = {
    "dropout_forward": (("dropout_forward",), "test_dropout_forward_visible", "test_dropout_forward_hidden"),
    "dropout_backward": (("dropout_forward", "dropout_backward"), "test_dropout_backward_visible",
                         "test_dropout_backward_hidden"),
    "dropconnect": (("dropconnect_forward", "dropconnect_backward"), "test_dropconnect_visible",
                    "test_dropconnect_hidden"),
    "two_layer_net": (("two_layer_net_loss",), "test_two_layer_net_visible", "test_two_layer_net_hidden"),
    "random_horizontal_flip": (("random_horizontal_flip",), "test_flip_visible", "test_flip_hidden"),
    "random_crop": (("random_crop",), "test_crop_visible", "test_crop_hidden"),
    "color_jitter": (("color_jitter",), "test_jitter_visible", "test_jitter_hidden"),
    "predict_tta": (("predict_tta",), "test_tta_visible", "test_tta_hidden"),
    "fine_tune": (("freeze", "fine_tune"), "test_freeze_fine_tune_visible", "test_freeze_fine_tune_hidden"),
}
# Test cells that no probe backs, and why.
IN_KERNEL_ONLY = {}


def collector(topic, names):
    """``run(definitions)``: the topic's collector on the student's functions, as flat arrays."""
    return lambda definitions: laws.flat(laws.TOPICS[topic][0](*(definitions[name] for name in names)))


def measured(topic, chosen=None):
    """``laws(outputs) -> reason``, run in the parent: the laws of ``topic`` (or ``chosen``) that break."""
    def check(outputs):
        broken = laws.broken_laws(topic, outputs, chosen)
        return f"broke {len(broken)} law(s):\n{laws.describe(broken)}" if broken else ""
    return check


def answer(definitions):
    """The value of ``expected_output_factor``, which must be a real number (not a bool)."""
    value = definitions["expected_output_factor"]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected_output_factor must be a number, not {value!r}")
    return {"expected_output_factor": value}


def _law_probes(topic, names, visible, hidden):
    run = collector(topic, names)
    return [Probe(f"{topic} (visible laws)", (visible,), run, reference_keys=(),
                  laws=measured(topic, laws.VISIBLE_LAWS[topic])),
            Probe(f"{topic} (all laws)", (hidden,), run, reference_keys=(), laws=measured(topic))]


PROBES = (
    *(probe for topic, (names, visible, hidden) in TESTS.items() for probe in _law_probes(topic, names, visible, hidden)),
    Probe("the network memorises 50 examples", ("test_two_layer_net_hidden", "test_overfit_small_data"),
          collector("overfit", ("two_layer_net_loss",)), reference_keys=(), laws=measured("overfit")),
    Probe("expected_output_factor", ("test_dropout_question",), answer, rtol=0, atol=shared.ANSWER_ATOL),
)
