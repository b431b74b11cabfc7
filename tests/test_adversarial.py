"""The adversarial corpus (``autograder/adversarial/``) graded per assignment in one parallel batch.

For each assignment with a corpus module (``<assignment>.py`` with ``TARGET`` and ``CASES``) the
batch holds its ``CASES``, every ``attacks_*.cases(assignment, TARGET)`` and an honest twin (the
target's wrong answer alone). Every case must end with its expected status and score, and never
score more than the twin; the batch must finish, leave the submissions, the course tree, the Python
installation and ``$HOME`` as they were, and keep every output and feedback bounded. The cases the
intake refuses are graded again with one worker (they must end identically), in a process whose
peak memory is measured.
"""

import hashlib
import html
import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from cs231kit.course import load_course_module
from cs231kit.grading import intake
from cs231kit.grading.autograde import grade_assignment
from cs231kit.grading.demo import copy_course
from cs231kit.grading.reports import write_reports
from cs231kit.grading.session import list_assignments
from cs231kit.grading.simulate import release_points, submission_id, write_simulated_class
from cs231kit.grading.status import Status
from notebook_cells import REPO

ADVERSARIAL = REPO / "autograder" / "adversarial"
ATTACKS = [load_course_module(f"autograder/adversarial/{p.name}", root=REPO)
           for p in sorted(ADVERSARIAL.glob("attacks_*.py"))]
ASSIGNMENTS = [a for a in list_assignments(REPO) if (ADVERSARIAL / f"{a}.py").is_file()]
TWIN = "honest_twin"
# Statuses the intake gives without running anything.
REFUSED = {Status.UNSAFE_SUBMISSION, Status.INVALID_STUDENT_ID, Status.INVALID_NOTEBOOK, Status.NOTEBOOK_TOO_LARGE,
           Status.RENAMED_NOTEBOOK, Status.MISSING_NOTEBOOK, Status.WRONG_NOTEBOOK}
# Per-cell and per-notebook limits for the batch: far above what the notebooks need (their longest cell
# takes about 4 s on a quiet machine, 10 s in CI; a whole notebook 10-15 s, a minute in CI), low enough
# that the endless loops (``loss``'s and ``gradcheck``'s, each held until the cell limit) cost little.
# The verification of the instructor's solution took more than its default 120 s on a machine with a
# load of 25.
LIMITS = "c.Execute.timeout = 30\nc.Sandbox.wall_seconds = 300\nc.Sandbox.verify_seconds = 600\n"
# What a graded folder may hold at most: ~60 cells of at most 1 MB of output each would be 60 MB;
# the corpus's floods must be cut far below that.
MAX_AUTOGRADED_BYTES, MAX_FEEDBACK_BYTES = 8 * 2**20, 12 * 2**20
MAX_GRADER_RSS = 2**30


def corpus(assignment):
    """The honest twin, ``CASES`` and every attack module's cases of ``assignment``."""
    module = load_course_module(f"autograder/adversarial/{assignment}.py", root=REPO)
    target = module.TARGET
    twin = dict(name=TWIN, description="the target's wrong answer, submitted honestly", patches=list(target["wrong"]),
                status=Status.GRADED, failing=list(target["honest_failures"]))
    return [twin, *module.CASES, *(case for attack in ATTACKS for case in attack.cases(assignment, target))]


def _carries_target_wrong_answer(case, assignment):
    """Whether ``case`` submits its assignment's ``TARGET`` wrong answer (patched in, or edited around)."""
    target = load_course_module(f"autograder/adversarial/{assignment}.py", root=REPO).TARGET
    cells = {patch["cell"] for patch in case.get("patches", ())}
    return {patch["cell"] for patch in target["wrong"]} <= cells or case["name"] == TWIN


def _expected_score(case, points):
    if case["failing"] is None:
        return None
    return sum(points.values()) - sum(points[name] for name in case["failing"])


def test_the_corpus_covers_every_assignment_with_at_least_80_cases_of_known_tests():
    assert {"loss", "gradcheck", "optimizers", "features"} <= set(ASSIGNMENTS)
    total = 0
    for assignment in ASSIGNMENTS:
        cases = corpus(assignment)
        names, ids = [c["name"] for c in cases], [submission_id(c) for c in cases]
        assert len(set(names)) == len(names) and len(set(ids)) == len(ids), assignment
        points = release_points(REPO, assignment)
        for case in cases:
            assert case["status"] in set(Status) and set(case.get("test_statuses", {}).values()) <= set(Status), case
            assert set(case["failing"] or ()) <= set(points), (assignment, case["name"])
            assert set(case.get("test_statuses", {})) <= set(case["failing"] or ()), (assignment, case["name"])
        total += len(cases)
    assert total >= 80


# ---------------------------------------------------------------- snapshots


def _tree_digest(folder, skip=()):
    """``{path: digest}`` of the regular files and links under ``folder`` (links not followed; byte-code
    caches, which importing writes, left out)."""
    digests = {}
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if os.path.join(here, d) not in skip and d != "__pycache__"]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
            path = os.path.join(here, name)
            if os.path.islink(path):
                digests[path] = "link:" + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as file:
                    digests[path] = hashlib.sha256(file.read()).hexdigest()
    return digests


def _installation_state():
    """Size and modification time of every file of the Python installation (cheaper than hashing), and
    the digests of the kit's own source (installed in editable mode)."""
    state = _tree_digest(REPO / "src")
    for root in {*site.getsitepackages(), sys.prefix + "/bin"}:
        for here, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                info = os.lstat(os.path.join(here, name))
                state[os.path.join(here, name)] = (info.st_size, info.st_mtime_ns)
    return state


def _home_state():
    """What a cheat would plant in ``$HOME``: its top-level files and the IPython and user-site folders."""
    home = Path.home()
    places = [home / ".ipython" / "profile_default" / "startup", Path(site.getusersitepackages())]
    state = {p: None for p in home.iterdir() if p.is_file()}  # files planted there (others edit their histories)
    for place in places:
        state.update(_tree_digest(place) if place.is_dir() else {})
    return state


def _course_state(course):
    """Digests of the course tree except what grading writes (submissions, autograded, feedback, reports, db)."""
    outputs = {str(course / "autograder" / name) for name in ("submitted", "autograded", "feedback", "reports")}
    return {k: v for k, v in _tree_digest(course, skip=outputs).items()
            if not k.endswith(("gradebook.db", "gradebook.db-journal"))}


def _make_course(tmp_path):
    course = copy_course(REPO, tmp_path / "course")
    shutil.copytree(REPO / "notebooks", course / "notebooks")
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(LIMITS)
    return course


# ---------------------------------------------------------------- the batch of each assignment


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [pytest.param(a, marks=pytest.mark.xdist_group(f"adversarial_{a}"))
                                        for a in ASSIGNMENTS])
def test_every_bad_submission_ends_with_its_status_gains_no_point_and_the_batch_finishes(tmp_path, assignment):
    cases = corpus(assignment)
    course = _make_course(tmp_path)
    write_simulated_class(course, assignment, cases)
    submitted = course / "autograder" / "submitted"
    before = (_tree_digest(submitted), _course_state(course), _installation_state(), _home_state())
    results = {r.student: r for r in grade_assignment(course, assignment, jobs=2, progress=False)}
    write_reports(course, assignment, list(results.values()))
    after = (_tree_digest(submitted), _course_state(course), _installation_state(), _home_state())

    points = release_points(course, assignment)
    outcomes = {c["name"]: (results[submission_id(c)].status, results[submission_id(c)].score) for c in cases}
    expected = {c["name"]: (c["status"], _expected_score(c, points)) for c in cases}
    assert outcomes == expected, {c["name"]: results[submission_id(c)].reason for c in cases
                                  if outcomes[c["name"]] != expected[c["name"]]}
    # Cases that carry the target's wrong answer never beat the honest twin graded beside them; a case
    # with a wrong answer of its own is held to that answer's honest score by ``failing`` above.
    twin_score = results[TWIN].score
    assert all(outcomes[c["name"]][1] is None or outcomes[c["name"]][1] <= twin_score
               for c in cases if _carries_target_wrong_answer(c, assignment))
    for case in cases:
        result = results[submission_id(case)]
        assert result.reason or result.status == Status.GRADED, case["name"]
        tests = {t.name: t.status for t in result.tests}
        assert {t: tests[t] for t in case.get("test_statuses", {})} == case.get("test_statuses", {}), case["name"]
    flagged = [r for r in results.values() if r.status == Status.TAMPER_SUSPECTED]
    assert all("tests patched?" in r.reason or "replaced trusted code" in r.reason for r in flagged)

    assert before[0] == after[0], "a submission changed"
    assert before[1] == after[1], "the course tree changed"
    assert before[2] == after[2], "the Python installation changed"
    assert before[3] == after[3], "$HOME changed"
    _assert_outputs_bounded(course, assignment, cases)
    _assert_no_reference_reached_the_students(course, assignment)
    csv_text = (course / "autograder" / "reports" / assignment / "grades.csv").read_text()
    assert all(submission_id(case) in csv_text for case in cases)

    # The refused cases again, with one worker, in a process whose peak memory is the grader's own.
    refused = [case for case in cases if case["status"] in REFUSED]
    one_worker, peak = _grade_in_process(course, assignment, [submission_id(c) for c in refused])
    assert one_worker == {submission_id(c): [results[submission_id(c)].status, None, results[submission_id(c)].reason]
                          for c in refused}
    print(f"{assignment}: peak resident memory of the grader taking {len(refused)} refused folders: "
          f"{peak / 2**20:.0f} MiB; autograder folder after the batch: {_disk_use(course / 'autograder') / 2**20:.0f} MiB")
    assert peak < MAX_GRADER_RSS


def _reference_lines():
    """The distinctive lines (40 characters or more) of the code that holds answers, the hidden checks
    and the parent's references, which no student process may read; lines that are part of what a
    student may write or read anyway (the solution notebooks, the package) left out."""
    checks = [*(REPO / "autograder" / "checks").rglob("*.py"), *(REPO / "autograder" / "references").glob("*.py")]
    secret = {line.strip() for path in checks for line in _text_lines(path) if len(line.strip()) >= 40}
    public = "\n".join(line for path in [*(REPO / "solutions").glob("*/*.ipynb"), *(REPO / "src" / "cs231kit").rglob("*.py")]
                       for line in _text_lines(path))
    return {line for line in secret if line not in public}


def _text_lines(path):
    """The lines of a Python file, or of every cell of a notebook."""
    if path.suffix != ".ipynb":
        return path.read_text().splitlines()
    return [line for cell in json.loads(path.read_text())["cells"] for line in "".join(cell["source"]).splitlines()]


def _assert_no_reference_reached_the_students(course, assignment):
    """Neither the autograded notebooks nor the feedback hold a line of the checks or references."""
    secret = _reference_lines()
    for path in [*(course / "autograder" / "autograded").glob(f"*/{assignment}/*.ipynb"),
                 *(course / "autograder" / "feedback").glob(f"*/{assignment}/*.html")]:
        text = ("".join(_cell_texts(json.loads(path.read_text()))) if path.suffix == ".ipynb"
                else html.unescape(path.read_text(errors="replace")))
        leaked = [line for line in secret if line in text]
        assert leaked == [], (path, leaked[:3])


def _cell_texts(notebook):
    """Every source and output text of a notebook (as the student reads them)."""
    for cell in notebook["cells"]:
        yield "".join(cell.get("source", ""))
        for output in cell.get("outputs", []):
            yield "".join(output.get("text", "")) + "".join(output.get("traceback", []))
            yield "".join("".join(v) for v in output.get("data", {}).values() if isinstance(v, (str, list)))


def _assert_outputs_bounded(course, assignment, cases):
    """Autograded notebooks and feedback are small, and feedback folders hold the feedback page only."""
    for folder, limit in (("autograded", MAX_AUTOGRADED_BYTES), ("feedback", MAX_FEEDBACK_BYTES)):
        for path in (course / "autograder" / folder).rglob("*"):
            assert not path.is_symlink(), path
            assert not path.is_file() or path.stat().st_size <= limit, (path, path.stat().st_size)
    for feedback in (course / "autograder" / "feedback").glob(f"*/{assignment}"):
        assert {p.name for p in feedback.iterdir()} <= {f"{assignment}.html", "timestamp.txt"}, feedback
        text = (feedback / f"{assignment}.html").read_text(errors="replace")
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, feedback


# ---------------------------------------------------------------- one worker, memory and disk

GRADE_IN_PROCESS = """
import json, re, sys
from cs231kit.grading.autograde import grade_assignment
course, assignment, students = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
results = grade_assignment(course, assignment, students=students, jobs=1, progress=False, feedback=False)
peak = int(re.search(r"VmHWM:\\s*(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
json.dump({"results": {r.student: [r.status, r.score, r.reason] for r in results}, "peak": peak}, sys.stdout)
"""


def _grade_in_process(course, assignment, students):
    """Grade ``students`` with one worker in a fresh Python process (the grader itself: the intake runs
    there); return ``(results by student, peak resident memory of that process)``."""
    folders = [s for s in os.listdir(course / "autograder" / "submitted") if intake.printable_id(s) in students]
    done = subprocess.run([sys.executable, "-c", GRADE_IN_PROCESS, str(course), assignment,
                           json.dumps(folders, ensure_ascii=False)], capture_output=True, text=True, check=True)
    output = json.loads(done.stdout)
    return output["results"], output["peak"]


def _disk_use(folder):
    """Bytes of the regular files under ``folder``."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink())
