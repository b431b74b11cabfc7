"""The statuses of a graded submission and of each of its tests: one vocabulary for every report.

A :class:`Status` is a ``str``: it equals, hashes, sorts and serialises (CSV, JSON) as its text, so
reports hold the same strings whether a status comes from this enum or was read back from a report.
"""

from enum import Enum


class Status(str, Enum):
    """What happened to a submission (``SubmissionResult.status``) or to one test (``TestResult.status``).

    A submission was graded (``GRADED``, ``TEST_CELLS_RESTORED``, ``TAMPER_SUSPECTED``), was refused at
    intake (the notebook statuses, ``UNSAFE_SUBMISSION``, ``INVALID_STUDENT_ID``), or could not be
    graded (``GRADING_ERROR``, the kernel and limit statuses), or was never submitted. A test passed,
    failed, hit a limit, failed its out-of-process verification, waits for a human (``MANUAL``), or was
    not graded. ``TIMEOUT`` and ``NOT_GRADED`` apply to both.
    """

    GRADED = "graded"
    TEST_CELLS_RESTORED = "test cells restored"
    TAMPER_SUSPECTED = "tamper suspected"
    NOT_SUBMITTED = "not submitted"
    NOT_GRADED = "not graded"

    MISSING_NOTEBOOK = "missing notebook"
    RENAMED_NOTEBOOK = "renamed notebook"
    INVALID_NOTEBOOK = "invalid notebook"
    WRONG_NOTEBOOK = "wrong notebook"
    NOTEBOOK_TOO_LARGE = "notebook too large"
    UNSAFE_SUBMISSION = "unsafe submission"
    INVALID_STUDENT_ID = "invalid student id"

    GRADING_ERROR = "grading error"
    EDITED_TEST_CELLS = "edited test cells"
    KERNEL_DIED = "kernel died"
    KERNEL_KILLED = "kernel killed"
    TIMEOUT = "timeout"
    CPU_LIMIT = "CPU limit"
    FILE_SIZE_LIMIT = "file-size limit"

    PASSED = "passed"
    FAILED = "failed"
    MEMORY_LIMIT = "memory limit"
    FAILED_VERIFICATION = "failed verification"
    MANUAL = "manual"

    def __str__(self):
        return self.value
