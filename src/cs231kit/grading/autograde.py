"""Autograde every submission of an assignment and explain each outcome.

One nbgrader autograde run per submission, each notebook in a sandboxed kernel
(:mod:`cs231kit.grading.sandbox`), several at once in worker processes; a submission that cannot be
graded is recorded with its reason and the batch goes on, with one worker as with several.

nbgrader never sees the submission folder: the intake (:mod:`cs231kit.grading.intake`) stages the
validated notebook of each submission in a folder of the grader's own, and nbgrader grades that.
"""

import contextlib
import contextvars
import json
import multiprocessing
import os
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from ..data import (COURSE_SETTINGS_FILE, OFFLINE_CACHE_ENV, build_offline_dataset, dataset_environment,
                    read_course_dataset, save_dataset)
from . import verify
from .gradebook import name_unnamed_student, read_grader_review, record_verification, restore_grader_review
from .intake import IntakeLimits, printable_id, released_cells, take_submission
from .outcomes import (SubmissionResult, apply_verification, collect_graded_submission, failed_submission,
                       with_intake_notes)
from .release import generate_release
from .sandbox import KernelSandbox, Limits, probe_isolation
from .session import grading_environment, load_config, make_api
from .status import Status
from .timings import TIMINGS_ENV, execution_marks, timed
from .verdicts import test_verdicts
from .world_state import world_changes, world_fingerprint

class GradedBatch(list):
    """The results of one batch (a list of SubmissionResult), with what changed in the world during it.

    Attributes
    ----------
    world_changes : list of str
        Files of the course tree, the Python installation or ``$HOME`` that changed while the batch
        ran (see :mod:`cs231kit.grading.world_state`); empty when nothing did.
    """

    def __init__(self, results, world_changes=()):
        super().__init__(results)
        self.world_changes = list(world_changes)


def submitted_root(root):
    """The folder of the submissions, ``autograder/submitted`` (``CourseDirectory.submitted_directory``)."""
    coursedir = load_config(root).CourseDirectory
    return Path(coursedir.root) / coursedir.get("submitted_directory", "submitted")


def submitted_students(root, assignment):
    """Return ``(submitted, missing)``: students with an entry for ``assignment`` and those without.

    Students are the folders of ``autograder/submitted/``, and links there (never followed: the
    intake refuses them with a reason), whatever their names (the intake checks them).
    """
    submitted_dir = submitted_root(root)
    if not submitted_dir.is_dir():
        return [], []
    students = sorted(e.name for e in os.scandir(submitted_dir) if e.is_dir(follow_symlinks=False) or e.is_symlink())
    submitted = [s for s in students if os.path.lexists(submitted_dir / s / assignment)]
    return submitted, [s for s in students if s not in submitted]


def ensure_registered(root, api, assignment):
    """Make sure the gradebook knows ``assignment`` (a fresh clone has no gradebook).

    Registration writes its release into a scratch folder, so ``notebooks/`` is never touched here.
    """
    gradebook = api.gradebook
    try:
        known = assignment in {a.name for a in gradebook.assignments if a.notebooks}
    finally:
        gradebook.close()
    if not known:
        with tempfile.TemporaryDirectory() as scratch:
            generate_release(root, assignment, scratch)


def autograded_max_score(api, assignment):
    """Total points of the assignment's autograded test cells, from the gradebook."""
    gradebook = api.gradebook
    try:
        return autograded_max(gradebook.find_assignment(assignment))
    finally:
        gradebook.close()


def autograded_max(assignment):
    """Total points of the autograded test cells of a gradebook ``nbgrader.api.Assignment``."""
    total = 0.0
    for notebook in assignment.notebooks:
        solution_names = {c.name for c in notebook.solution_cells}
        total += sum(c.max_score for c in notebook.grade_cells if c.cell_type == "code" and c.name not in solution_names)
    return total


@dataclass(frozen=True)
class BatchSetup:
    """What every submission of a batch shares, prepared once by the trusted grader and handed to its workers.

    Attributes
    ----------
    offline_dataset : str or None
        A read-only copy of the offline dataset (:func:`share_offline_dataset`) that kernels and
        verification children load instead of building it; None: each builds its own.
    released : dict
        ``{assignment: {notebook: {grade id: ReleasedCell}}}`` (what the intake compares with).
    references : dict
        ``{assignment: {probe key: ndarray}}``: the reference outputs of the probes.
    """

    offline_dataset: str | None = None
    released: dict = field(default_factory=dict)
    references: dict = field(default_factory=dict)

    def environment(self):
        """Environment variables that hand the shared dataset to kernels and verification children."""
        return {OFFLINE_CACHE_ENV: self.offline_dataset} if self.offline_dataset else {}


def share_offline_dataset(root, folder):
    """Build the offline dataset once for a batch, as a read-only file in ``folder``; return its path.

    Only where the sandbox's world is read-only: there the file is bound into every sandbox
    read-only (:class:`~cs231kit.grading.sandbox.KernelSandbox`'s ``shared``), so student code can
    read it but never change what the next submission loads. Returns None when the course uses
    CIFAR-10 (read from its verified archive) or the world is writable.
    """
    if read_course_dataset(Path(root) / COURSE_SETTINGS_FILE) != "offline" or not probe_isolation()["read_only_world"]:
        return None
    path = Path(folder) / "offline-dataset.npz"
    save_dataset(build_offline_dataset(), path)
    path.chmod(0o444)
    return str(path)


class SubmissionGrader:
    """Grades submissions of one course in this process, each notebook in a sandboxed kernel.

    Parameters
    ----------
    root : str or Path
        Course root.
    limits : Limits
        Resource limits of each notebook.
    scratch_parent : str or Path, optional
        Shared parent of the scratch folders of parallel graders (each hidden from the others).
    hidden : sequence of str or Path, optional
        More paths that student code must not see (see :class:`~cs231kit.grading.sandbox.KernelSandbox`).
    batch : BatchSetup, optional
        What the batch's submissions share (prepared once); what it lacks is computed here when needed.
    """

    def __init__(self, root, limits, scratch_parent=None, hidden=(), batch=BatchSetup()):
        self.root = Path(root)
        self.submitted_root = submitted_root(root)
        self.intake_limits = IntakeLimits.from_config(load_config(root))
        self._stack = contextlib.ExitStack()
        staging = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="staged-", dir=scratch_parent))
        private = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="grader-", dir=scratch_parent))
        # The kernel must not see the staged notebooks or the verdicts (a sibling of its scratch folder is
        # hidden anyway).
        hidden = hidden if scratch_parent else [*hidden, staging, private]
        shared = [batch.offline_dataset] if batch.offline_dataset else []
        # The environment first: the sandbox's fork server imports numpy (which reads the BLAS thread count) in it.
        self._stack.enter_context(grading_environment({**dataset_environment(root), **batch.environment()}))
        self.sandbox = self._stack.enter_context(KernelSandbox(root, limits, scratch_parent, hidden, shared))
        self._stack.enter_context(grading_environment(self.sandbox.environment))
        self.verdicts_path = Path(private) / "verdicts.json"
        sections = {**self.sandbox.config,
                    "BoundedExecute": {"max_output_bytes": self.intake_limits.max_output_bytes_per_cell},
                    "InsertVerdicts": {"path": str(self.verdicts_path)}}
        if os.environ.get(TIMINGS_ENV):
            execute = sections["Execute"]
            sections["Execute"] = {**execute, **execution_marks(execute["kernel_manager_class"])}
        self.api = make_api(root, sections=sections, submitted_directory=staging)
        self._released = dict(batch.released)
        self._references = dict(batch.references)
        self._declared_probes = {}

    def close(self):
        """Restore the environment and remove the scratch folder."""
        self._stack.close()

    def grade(self, assignment, student, max_score, feedback=True):
        """Autograde one submission (and write its feedback); return ``(SubmissionResult, feedback error)``."""
        intake = self._intake(assignment, student)
        if intake.status:
            return SubmissionResult(printable_id(student), assignment, intake.status, None, max_score, (),
                                    intake.reason), None
        verification = self._verification(assignment, student)
        self.sandbox.clear_endings()
        outcome = self._autograde_keeping_grader_work(assignment, student)
        if not outcome["success"]:
            error_text = f"{outcome.get('error')}\n{outcome.get('log')}"
            return failed_submission(student, assignment, max_score, error_text, self.sandbox.endings()), None
        gradebook = self.api.gradebook
        try:
            result = collect_graded_submission(gradebook, assignment, student, self._autograded_dir(assignment, student))
            result = with_intake_notes(self._capped(result, verification, gradebook), intake.notes, intake.ignored)
        finally:
            gradebook.close()
        return result, (self._feedback(assignment, student) if feedback else None)

    def _autograded_dir(self, assignment, student):
        """``autograder/autograded/<student>/<assignment>``."""
        coursedir = self.api.coursedir
        return Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))

    @timed("autograde")
    def _autograde_keeping_grader_work(self, assignment, student):
        """nbgrader's autograde of one submission, then the grader's review flags put back and the student
        named (see :mod:`cs231kit.grading.gradebook`); returns nbgrader's outcome."""
        gradebook = self.api.gradebook
        try:
            review = read_grader_review(gradebook, assignment, student)
        finally:
            gradebook.close()
        outcome = self.api.autograde(assignment, student, force=True, create=True)
        gradebook = self.api.gradebook
        try:
            name_unnamed_student(gradebook, student)
            if outcome["success"]:
                restore_grader_review(gradebook, assignment, student, review)
        finally:
            gradebook.close()
        return outcome

    @timed("intake")
    def _intake(self, assignment, student):
        """:func:`~cs231kit.grading.intake.take_submission` of one student's folder into nbgrader's (staged) one."""
        return take_submission(self.submitted_root, student, assignment, self._released_cells(assignment),
                               self.api.coursedir.submitted_directory, self.intake_limits)

    def _released_cells(self, assignment):
        """``{notebook: {grade id: ReleasedCell}}`` of the assignment, read from the gradebook once."""
        if assignment not in self._released:
            gradebook = self.api.gradebook
            try:
                self._released[assignment] = {n.name: released_cells(gradebook, assignment, n.name)
                                              for n in gradebook.find_assignment(assignment).notebooks}
            finally:
                gradebook.close()
        return self._released[assignment]

    def _probes(self, assignment):
        """The assignment's :class:`~cs231kit.grading.verify.AssignmentProbes`, loaded once per grader."""
        if assignment not in self._declared_probes:
            self._declared_probes[assignment] = verify.load_probes(self.root, assignment)
        return self._declared_probes[assignment]

    def batch_setup(self, assignments, offline_dataset=None):
        """The :class:`BatchSetup` of ``assignments``: their released cells and reference outputs, computed here
        (the reference runs of several assignments at once: each waits for its sandboxed process)."""
        released = {assignment: self._released_cells(assignment) for assignment in assignments}
        probes = {assignment: self._probes(assignment).probes for assignment in assignments}
        with ThreadPoolExecutor(os.cpu_count() or 1) as threads:
            runs = {assignment: threads.submit(contextvars.copy_context().run, self._reference, assignment,
                                               probes[assignment], list(released[assignment]))
                    for assignment in assignments if probes[assignment]}
        references = {}
        for assignment, run in runs.items():
            # A solution that fails its own verification has no references: every submission records why.
            with contextlib.suppress(RuntimeError):
                references[assignment] = run.result()
        return BatchSetup(offline_dataset, released, references)

    def _verification(self, assignment, student):
        """Verify the staged submission out of process, before its notebook runs; return
        ``(report, backing, needs)`` for :func:`~cs231kit.grading.outcomes.apply_verification`
        (``None`` when the assignment has no probes).

        The verdicts go to :attr:`verdicts_path`, which :class:`~cs231kit.grading.verdicts.InsertVerdicts`
        puts in place of the hidden tests, so the kernel runs no reference code.
        """
        declared = self._probes(assignment)
        verification = None
        if declared.probes:
            notebooks = list(self._released_cells(assignment))
            coursedir = self.api.coursedir
            submitted = coursedir.format_path(coursedir.submitted_directory, student, assignment)
            program = verify.assignment_program(self.root, assignment, notebooks, submitted)
            outputs, child_report = verify.run_in_sandbox(self.sandbox, self.root, assignment, program)
            report = verify.verify_outputs(declared.probes, self._reference(assignment, declared.probes, notebooks),
                                           outputs, child_report)
            verification = (report, verify.probes_by_test(declared.probes), declared.needs())
        self.verdicts_path.write_text(json.dumps(test_verdicts(*verification[:2]) if verification else {}),
                                      encoding="utf-8")
        return verification

    def _capped(self, result, verification, gradebook):
        """``result`` capped by the out-of-process verification; caps are also written to the gradebook."""
        if verification is None:
            return result
        verified = apply_verification(result, *verification)
        capped = {t.name: t.reason for t in verified.tests if t.status == Status.FAILED_VERIFICATION}
        record_verification(gradebook, result.assignment, result.student, capped,
                            self._autograded_dir(result.assignment, result.student))
        return verified

    def _reference(self, assignment, probes, notebooks):
        """The reference outputs of the probes (the instructor's solution run the same way), computed once."""
        if assignment not in self._references:
            with timed("reference"):
                self._references[assignment] = self._run_reference(assignment, notebooks)
        return self._references[assignment]

    def _run_reference(self, assignment, notebooks):
        """Run the reference program in the sandbox; return its outputs (RuntimeError if the solution fails)."""
        program = verify.assignment_program(self.root, assignment, notebooks)
        outputs, report = verify.run_in_sandbox(self.sandbox, self.root, assignment, program)
        problems = [report.get("failure")] + [f"{k}: {v}" for k, v in report.get("probe_errors", {}).items()]
        problems += [f"cell {k}: {v}" for k, v in report.get("cell_errors", {}).items()]
        if any(problems):
            raise RuntimeError(f"the solution of {assignment} fails its own verification (fix "
                               f"autograder/verify/{assignment}.py or the solution): {'; '.join(filter(None, problems))}")
        return outputs

    @timed("feedback")
    def _feedback(self, assignment, student):
        """Write the feedback HTML of one graded submission; return the error text or None."""
        outcome = self.api.generate_feedback(assignment, student, force=True)
        return None if outcome["success"] else (outcome.get("error") or outcome.get("log") or "unknown error")


_worker_grader = None


def _start_worker(root, limits, scratch_parent, hidden, batch):
    """Pool initializer: one grader (sandbox, environment, nbgrader API) per worker process."""
    global _worker_grader
    _worker_grader = SubmissionGrader(root, limits, scratch_parent, hidden, batch)


def _grade_in_worker(task, feedback):
    return _grade_safely(_worker_grader, task, feedback)


@dataclass(frozen=True)
class GradingTask:
    """One submission to grade: whose, of which assignment, and the assignment's autograded points."""

    assignment: str
    student: str
    max_score: float


def _grade_safely(grader, task, feedback):
    """``grader.grade(...)`` of ``task``, or an explained failure if grading it raised (the batch goes on)."""
    try:
        with timed("grade"):
            return grader.grade(task.assignment, task.student, task.max_score, feedback)
    except Exception as error:  # one submission's grading error must not stop the batch
        return failed_submission(printable_id(task.student), task.assignment, task.max_score,
                                 f"the grader failed: {error!r}"), None


def _grade_all(root, tasks, *, feedback, jobs, progress, hidden):
    """Grade ``tasks`` (GradingTask, of one or several assignments) with ``jobs`` worker processes (in this
    process when ``jobs == 1``); return ``(SubmissionResult, feedback error)`` in the order of ``tasks``.

    What the submissions share (:class:`BatchSetup`) is prepared first, once, by a grader of this
    (trusted) process, which then grades here what no worker graded: everything when ``jobs == 1``,
    else the submissions not yet graded when a worker process died. One pool for every assignment
    keeps both cores busy until the last submission, where a pool per assignment idles at each end.
    """
    if not tasks:
        return []
    limits = Limits.from_config(load_config(root))
    assignments = list(dict.fromkeys(task.assignment for task in tasks))
    bar = tqdm(total=len(tasks), desc=f"grading {', '.join(assignments)}", unit="submission", disable=not progress)
    with tempfile.TemporaryDirectory(prefix="cs231kit-grading-") as scratch:
        grader, batch = _batch_grader(root, assignments, limits, scratch, hidden)
        try:
            done = {}
            if jobs > 1 and len(tasks) > 1:
                sandbox = (limits, scratch, hidden, batch)
                done = _grade_in_pool(root, tasks, feedback, min(jobs, len(tasks)), sandbox, bar)
            for task in (task for task in tasks if task not in done):
                done[task] = _advance(bar, _grade_safely(grader, task, feedback))
        finally:
            grader.close()
        return [done[task] for task in tasks]


@timed("batch setup")
def _batch_grader(root, assignments, limits, scratch, hidden):
    """A grader of this (trusted) process and the :class:`BatchSetup` it prepared for the batch graded in
    ``scratch``: the shared offline dataset, the released cells and the reference outputs."""
    offline_dataset = share_offline_dataset(root, scratch)
    grader = SubmissionGrader(root, limits, scratch, hidden, BatchSetup(offline_dataset))
    try:
        return grader, grader.batch_setup(assignments, offline_dataset)
    except BaseException:
        grader.close()
        raise


def _grade_in_pool(root, tasks, feedback, jobs, sandbox, bar):
    """Grade in ``jobs`` worker processes; return ``{task: outcome}`` of those graded before any worker died."""
    done = {}
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                                 initargs=(str(root), *sandbox)) as pool:
            futures = {pool.submit(_grade_in_worker, task, feedback): task for task in tasks}
            for future in as_completed(futures):
                done[futures[future]] = _advance(bar, _outcome_of(future, futures[future]))
    except BrokenProcessPool as error:
        warnings.warn(f"a grading worker process died ({error}); the {len(tasks) - len(done)} submissions "
                      "not yet graded are graded in this process", stacklevel=3)
    return done


def _advance(bar, value):
    """Tick the progress bar and pass ``value`` through."""
    bar.update()
    return value


def _outcome_of(future, task):
    """The result of a worker, or an explained failure if grading this submission raised."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise
    except Exception as error:  # one submission's grading error must not stop the batch
        return failed_submission(printable_id(task.student), task.assignment, task.max_score,
                                 f"grader worker failed: {error!r}"), None


def grade_assignment(root, assignment, *, students=None, feedback=True, progress=True, jobs=None, hidden=()):
    """Autograde the submissions of ``assignment`` under ``autograder/submitted/``.

    Parameters
    ----------
    root : str or Path
        Course root.
    assignment : str
        Assignment id.
    students : list of str, optional
        Only these students (default: every folder of ``autograder/submitted/``).
    feedback : bool
        Also write feedback HTML (hidden tests removed) under ``autograder/feedback/``.
    progress : bool
        Show a progress bar.
    jobs : int, optional
        Submissions graded at once, each in its own worker process (default: the number of cores).
    hidden : sequence of str or Path, optional
        Paths outside the course that student code must not see either.

    Returns
    -------
    GradedBatch
        One SubmissionResult per student, sorted by student id, including students who did not
        submit; its ``world_changes`` name what changed in the read-only world during the batch.
    """
    return grade_assignments(root, {assignment: students}, feedback=feedback, progress=progress, jobs=jobs,
                             hidden=hidden)[assignment]


def grade_assignments(root, students_by_assignment, *, feedback=True, progress=True, jobs=None, hidden=()):
    """Autograde several assignments in one batch: one pool of workers for all their submissions.

    Parameters
    ----------
    root : str or Path
        Course root.
    students_by_assignment : dict
        ``{assignment: list of student ids, or None for every folder of autograder/submitted/}``.
    feedback, progress, jobs, hidden
        As for :func:`grade_assignment`.

    Returns
    -------
    dict
        ``{assignment: GradedBatch}`` as :func:`grade_assignment` returns it; every batch carries the
        world changes of the whole run.
    """
    api = make_api(root)
    tasks, missing, max_scores = [], {}, {}
    for assignment, students in students_by_assignment.items():
        ensure_registered(root, api, assignment)
        max_scores[assignment] = autograded_max_score(api, assignment)
        submitted, missing[assignment] = submitted_students(root, assignment)
        if students is not None:
            submitted = [s for s in submitted if s in students]
            missing[assignment] = [s for s in missing[assignment] if s in students]
        tasks += [GradingTask(assignment, student, max_scores[assignment]) for student in submitted]
    before = world_fingerprint(root)
    graded = _grade_all(root, tasks, feedback=feedback, jobs=jobs or os.cpu_count() or 1, progress=progress,
                        hidden=[str(p) for p in hidden])
    changes = world_changes(before, world_fingerprint(root))
    if changes:
        warnings.warn(f"the world changed while the batch was graded ({len(changes)} paths, e.g. {changes[0]}): "
                      "treat its results as suspect", stacklevel=2)
    for result, error in graded:
        if error:
            warnings.warn(f"no feedback HTML for {result.student}: {error.strip().splitlines()[-1]}", stacklevel=2)
    batches = {}
    for assignment in students_by_assignment:
        results = [result for (result, _), task in zip(graded, tasks) if task.assignment == assignment]
        results += [SubmissionResult(printable_id(s), assignment, Status.NOT_SUBMITTED, None, max_scores[assignment],
                                     (), "no submission") for s in missing[assignment]]
        batches[assignment] = GradedBatch(sorted(results, key=lambda r: r.student), changes)
    return batches
