"""The sandboxed kernel: what student code can and cannot do while it is graded.

Each test starts the real ``cs231kit-sandbox`` kernel through jupyter_client, as nbgrader does,
runs student-like code in it and checks what happened, from inside and from outside.
"""

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from pathlib import Path
from queue import Empty

import pytest
from jupyter_client import KernelManager
from traitlets.config import Config
from traitlets.utils.importstring import import_item

import cs231kit
from cs231kit import data
from cs231kit.grading.autograde import BatchSetup, share_offline_dataset
from cs231kit.grading.sandbox import (PROTECTIONS, KernelSandbox, Limits, describe_isolation, missing_protections,
                                      probe_isolation)
from cs231kit.grading.sandbox_world import plan_world, python_paths
from cs231kit.grading.sandbox_start import ENVIRONMENT_VARIABLE
from cs231kit.grading.session import grading_environment

ISOLATION = probe_isolation()
needs_namespaces = pytest.mark.skipif(not ISOLATION["namespaces"], reason="this machine has no user namespaces")
DATASET_ARRAYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
SMALL = Limits(wall_seconds=60, cpu_seconds=30, memory_bytes=2 * 2**30, file_bytes=2**20, processes=40)


class Kernel:
    """A sandboxed kernel that runs code and returns ``(text output, error name or None)``."""

    def __init__(self, client):
        self.client = client

    def run(self, code, timeout=30):
        printed, errors = [], []

        def collect(message):
            content = message["content"]
            printed.append(content.get("text", "") or content.get("data", {}).get("text/plain", ""))
            if message["msg_type"] == "error":
                errors.append(content["ename"])

        self.client.execute_interactive(code, timeout=timeout, output_hook=collect)
        return "".join(printed), (errors[-1] if errors else None)

    def restart(self, manager):
        """Restart the kernel at once and talk to the new one through a new client.

        The old client's queues can still hold a kernel_info reply and a status from the old kernel (jupyter_client's
        ``wait_for_ready`` asks again while IOPub is silent and leaves the extra answers behind). Read after a
        restart, they make the new kernel look ready before it has started, and its first output is published
        before the client has subscribed: lost (4 of 25 restarts on a busy machine, 0 of 25 with a new client).
        """
        self.client.stop_channels()
        manager.restart_kernel(now=True)
        self.client = manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)


@contextlib.contextmanager
def sandboxed_kernel(course, limits=SMALL, scratch_parent=None, shared=()):
    """Start a sandboxed kernel for ``course`` whose cwd is a submission folder, as in grading."""
    cwd = course / "autograder" / "autograded" / "student" / "toy"
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "data.txt").write_text("submitted file")
    with KernelSandbox(course, limits, scratch_parent, shared=shared) as sandbox, \
            grading_environment(sandbox.environment):
        with kernel_in(sandbox, cwd) as (kernel, manager):
            yield kernel, manager, sandbox


@contextlib.contextmanager
def kernel_in(sandbox, cwd):
    """Start a kernel of ``sandbox`` (its environment already set) in ``cwd``: ``(Kernel, KernelManager)``."""
    manager = KernelManager(kernel_name=sandbox.config["Execute"]["kernel_name"], config=sandbox_config(sandbox))
    manager.start_kernel(cwd=str(cwd))
    kernel = Kernel(manager.client())
    kernel.client.start_channels()
    try:
        kernel.client.wait_for_ready(timeout=60)
        yield kernel, manager
    finally:
        kernel.client.stop_channels()
        manager.shutdown_kernel(now=True)


def sandbox_config(sandbox):
    """The traitlets ``Config`` of ``sandbox``'s settings (kernel spec, transport, kernel manager)."""
    config = Config()
    for section, values in sandbox.config.items():
        for name, value in values.items():
            setattr(config[section], name, value)
    return config


async def start_graded_kernel(sandbox, cwd):
    """Start a kernel of ``sandbox`` in ``cwd`` with the graded kernels' manager, as nbgrader does:
    ``(manager, client)``, the client's channels started."""
    manager_class = import_item(sandbox.config["Execute"]["kernel_manager_class"])
    manager = manager_class(kernel_name=sandbox.config["Execute"]["kernel_name"], config=sandbox_config(sandbox))
    await manager.start_kernel(cwd=str(cwd))
    client = manager.client()
    client.start_channels()
    return manager, client


@pytest.fixture
def course(tmp_path):
    """A course tree with a gradebook, sources, another student's submission and the hidden checks."""
    root = tmp_path / "course"
    (root / "autograder" / "checks").mkdir(parents=True)
    (root / "autograder" / "checks" / "toy.py").write_text("REFERENCE = 42\n")
    (root / "autograder" / "gradebook.db").write_text("secret grades")
    (root / "autograder" / "submitted" / "other" / "toy").mkdir(parents=True)
    (root / "autograder" / "submitted" / "other" / "toy" / "toy.ipynb").write_text("other student's work")
    (root / "solutions" / "toy").mkdir(parents=True)
    (root / "solutions" / "toy" / "toy.ipynb").write_text("the solution")
    (root / "notebooks" / "toy").mkdir(parents=True)
    (root / "notebooks" / "toy" / "toy.ipynb").write_text("the release")
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    return root


@pytest.fixture
def short_tmp():
    """A folder with a short path (Unix socket paths are limited to 107 bytes; pytest's are long)."""
    with tempfile.TemporaryDirectory(prefix="cs231kit-test-") as folder:
        yield Path(folder)


def test_a_socket_folder_with_too_long_a_path_is_refused_with_advice(course, tmp_path):
    deep = tmp_path / ("x" * 100)
    deep.mkdir()
    with pytest.raises(OSError, match="TMPDIR"):
        with KernelSandbox(course, SMALL, scratch_parent=deep):
            pass


def test_isolation_is_described_for_reports_in_one_line_naming_exactly_what_is_missing():
    everything = dict.fromkeys(PROTECTIONS, True)
    line = describe_isolation(everything)
    assert line.startswith("sandbox: memory, CPU-time, file-size and wall-clock limits") and "MISSING" not in line
    assert all(PROTECTIONS[name][0] in line for name in PROTECTIONS)
    partial = {**everything, "read_only_world": False, "no_capabilities": False}
    line = describe_isolation(partial)
    assert "\n" not in line and missing_protections(partial) == ["read_only_world", "no_capabilities"]
    assert line.endswith("; MISSING: " + PROTECTIONS["read_only_world"][1] + "; " + PROTECTIONS["no_capabilities"][1])
    assert PROTECTIONS["namespaces"][0] in line and PROTECTIONS["read_only_world"][0] not in line
    assert describe_isolation(ISOLATION).count("MISSING") == bool(missing_protections(ISOLATION))


def test_the_probe_observes_the_protections_from_inside_the_sandbox():
    assert set(ISOLATION) == set(PROTECTIONS)
    if ISOLATION["namespaces"]:  # with namespaces, everything the world plan promises must hold
        assert ISOLATION["read_only_world"] and ISOLATION["no_capabilities"] and ISOLATION["unprivileged_user"]
    else:
        assert not ISOLATION["read_only_world"]


def test_limits_come_from_the_sandbox_section_of_the_config():
    config = Config()
    config.Sandbox.wall_seconds = 30
    assert Limits.from_config(config) == Limits(wall_seconds=30)
    assert Limits.from_config(Config()) == Limits()


@needs_namespaces
def test_student_code_sees_no_checks_gradebook_sources_or_other_submissions_and_works_outside(course):
    with sandboxed_kernel(course) as (kernel, _, _):
        output, error = kernel.run("import os\n"
                                   f"root = {str(course)!r}\n"
                                   "print(os.listdir(root + '/autograder'), os.listdir(root + '/solutions'))\n"
                                   "print(os.path.exists(root + '/autograder/checks/toy.py'))\n"
                                   "print(os.getcwd().startswith(root), open('data.txt').read(), open('probe.txt', 'w').write('ok'))")
    assert error is None, output
    # The checks hold reference implementations: the hidden tests a kernel runs are verdicts instead.
    assert output.split("\n")[:2] == ["[] []", "False"]
    # It works in a copy of its folder outside the course tree: what it writes never lands there.
    assert "False submitted file 2" in output
    assert not (course / "autograder" / "autograded" / "student" / "toy" / "probe.txt").exists()
    assert (course / "autograder" / "gradebook.db").read_text() == "secret grades"


@needs_namespaces
def test_parallel_kernels_cannot_see_each_others_scratch_space(course, short_tmp):
    parent = short_tmp
    (parent / "another-worker").mkdir()
    (parent / "another-worker" / "connection.json").write_text("{}")
    with sandboxed_kernel(course, scratch_parent=parent) as (kernel, _, sandbox):
        output, error = kernel.run(f"import os\nprint(os.listdir({str(parent)!r}))\n"
                                   f"print(os.listdir({str(course / 'autograder')!r}))")
        own = [p.name for p in parent.iterdir() if p.name != "another-worker"]
    assert error is None, output
    assert output.split("\n")[:2] == [str(own), "[]"]


@needs_namespaces
def test_the_batch_dataset_gives_the_kernel_the_built_arrays_and_no_sandboxed_code_can_change_it(course, short_tmp):
    built = data.build_offline_dataset()
    path = share_offline_dataset(course, short_tmp)
    digests = [hashlib.sha256(getattr(built, f).tobytes()).hexdigest() for f in DATASET_ARRAYS]
    code = ("import errno, hashlib, os\nfrom cs231kit import _offline, data\n"
            "_offline.build = None  # a build would fail: the arrays must come from the shared copy\n"
            "d = data.load_offline_dataset()\n"
            f"print([hashlib.sha256(getattr(d, f).tobytes()).hexdigest() for f in {DATASET_ARRAYS!r}])\n"
            f"path = {path!r}\n"
            "for attempt in (lambda: open(path, 'r+b'), lambda: os.chmod(path, 0o666), lambda: os.unlink(path),\n"
            "                lambda: os.rename(path, path + '.old'), lambda: open(path + '.new', 'wb')):\n"
            "    try:\n        attempt()\n        print('changed')\n"
            "    except OSError as error:\n        print(errno.errorcode[error.errno])")
    before = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    os.chmod(path, 0o666)  # even a file its mode lets anyone write is read-only inside the sandbox
    with grading_environment(BatchSetup(path).environment()):
        with sandboxed_kernel(course, scratch_parent=short_tmp, shared=[path]) as (kernel, _, _):
            output, error = kernel.run(code)
    lines = output.splitlines()
    assert error is None, output
    assert lines[0] == str(digests)
    assert lines[1] == "EROFS" and set(lines[2:]) <= {"EROFS", "EPERM", "EACCES", "EBUSY"} and len(lines) == 6, output
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == before
    assert sorted(p.name for p in short_tmp.iterdir() if p.name.startswith("offline")) == ["offline-dataset.npz"]


@needs_namespaces
def test_student_code_has_no_network(course):
    with sandboxed_kernel(course) as (kernel, _, _):
        output, error = kernel.run("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)")
    assert error in ("OSError", "TimeoutError"), output


def test_a_memory_bomb_gets_a_memory_error_and_the_kernel_survives(course):
    with sandboxed_kernel(course) as (kernel, _, _):
        _, error = kernel.run("import numpy as np\nx = np.ones((4, 2**30))")
        output, after = kernel.run("print(1 + 1)")
    assert error == "MemoryError"
    assert (output.strip(), after) == ("2", None)


def test_a_fork_bomb_is_stopped_by_the_process_limit(course):
    if not ISOLATION["process_limit"]:
        pytest.skip("the number of processes cannot be limited here (root without a pids cgroup)")
    code = ("import os, time\nchildren = []\ntry:\n    for _ in range(500):\n        pid = os.fork()\n"
            "        if pid == 0:\n            time.sleep(60)\n            os._exit(0)\n        children.append(pid)\n"
            "except OSError as error:\n    print('stopped after', len(children), type(error).__name__)")
    with sandboxed_kernel(course) as (kernel, _, _):
        output, error = kernel.run(code)
    assert error is None and "stopped after" in output, output
    assert int(output.split()[2]) < SMALL.processes


def test_a_file_larger_than_the_limit_cannot_be_written(course):
    with sandboxed_kernel(course) as (kernel, _, _):
        output, error = kernel.run("open('big.bin', 'wb').write(b'x' * (4 * 2**20))")
    assert error == "OSError", output


def _ended(manager, sandbox, seconds):
    """Wait until the kernel of ``manager`` is dead and ``sandbox`` said why (at most ``seconds``): the endings."""
    deadline = time.monotonic() + seconds
    while (manager.is_alive() or not sandbox.endings()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not manager.is_alive()
    return [e["kind"] for e in sandbox.endings()]


def test_the_wall_clock_limit_ends_a_notebook_that_ignores_interrupts(course):
    limits = Limits(wall_seconds=6, cpu_seconds=60)
    start = time.monotonic()
    with sandboxed_kernel(course, limits) as (kernel, manager, sandbox):
        kernel.client.execute("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                              "while True:\n    time.sleep(0.01)")  # no reply will come
        assert _ended(manager, sandbox, 30) == ["wall clock"]
    assert time.monotonic() - start < 30


def test_the_cpu_limit_kills_a_busy_kernel_and_says_why(course):
    with sandboxed_kernel(course, Limits(cpu_seconds=3)) as (kernel, manager, sandbox):
        kernel.client.execute("while True:\n    pass")  # no reply will come
        assert _ended(manager, sandbox, 30) == ["SIGXCPU"]


def test_processes_started_by_student_code_die_with_the_kernel(course):
    with sandboxed_kernel(course) as (kernel, _, _):
        _, error = kernel.run("import subprocess\nsubprocess.Popen(['sleep', '1001'], start_new_session=True)")
        assert error is None
        assert _sleepers(), "the test's process did not start"
    for _ in range(50):
        if not _sleepers():
            break
        time.sleep(0.1)
    assert _sleepers() == [], "a process started in the sandbox outlived the kernel"


def _sleepers():
    return [p for p in Path("/proc").glob("[0-9]*") if _command(p) == "sleep\x001001\x00"]


def _command(proc):
    try:
        return (proc / "cmdline").read_text()
    except OSError:
        return ""


# What a hostile notebook tries against the read-only world (run in the kernel; prints a JSON report).
ESCAPE_ATTEMPTS = """
import ctypes, json, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
MS_REMOUNT, MS_BIND, MNT_DETACH = 32, 4096, 2
targets, grader_home = {targets!r}, {grader_home!r}
report = {{"umount": libc.umount2(targets["hidden"].encode(), MNT_DETACH),
          "remount_rw": libc.mount(None, b"/", None, ctypes.c_ulong(MS_REMOUNT | MS_BIND), None),
          "mount_over_checks": libc.mount(b"tmpfs", targets["checks"].encode(), b"tmpfs", 0, None),
          "hidden_listing": os.listdir(targets["hidden"]),
          "grader_home_listing": sorted(os.listdir(grader_home)) if os.access(grader_home, os.X_OK) else None}}
nested = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                         "umount -l {{0}}; ls -A {{0}}; touch {{1}}/nested-{{2}}".format(targets["hidden"], targets["venv"], {tag!r})],
                        capture_output=True, text=True)
report["nested_namespace"] = [nested.stdout.split(), nested.returncode]
written = {{}}
for name, path in targets.items():
    if name in ("hidden", "checks_dir"):
        continue
    try:
        with open(os.path.expanduser(path), "a") as handle:
            handle.write("import os; os.system('echo owned')\\n")
        written[name] = True
    except OSError:
        written[name] = False
report["written"] = written
print(json.dumps(report))
"""


def _attack_targets(course, tag):
    """Places a notebook must not write (and the private ones it may), each a new or existing file."""
    purelib = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"]
    return {"hidden": str(course / "solutions"), "checks": str(course / "autograder" / "checks"),
            "venv_site": f"{sysconfig.get_paths()['purelib']}/evil-{tag}.pth",
            "base_site": f"{purelib}/evil-{tag}.pth", "venv": sys.prefix,
            "package": str(Path(cs231kit.__file__).parent / f"evil_{tag}.py"),
            "config": str(course / "nbgrader_config.py"), "check_file": str(course / "autograder" / "checks" / "toy.py"),
            "release": str(course / "notebooks" / "toy" / "toy.ipynb"),
            "other_submission": str(course / "autograder" / "submitted" / "other" / "toy" / "toy.ipynb"),
            "grader_home": str(Path.home() / f".evil-{tag}"), "private_tmp": f"/tmp/leak-{tag}",
            "private_home": "~/leak"}


def _remove_strays(targets):
    for name in ("venv_site", "base_site", "package", "grader_home", "private_tmp"):
        Path(targets[name]).unlink(missing_ok=True)
    Path(targets["venv"], f"nested-{targets['tag']}").unlink(missing_ok=True)


@needs_namespaces
def test_student_code_cannot_unhide_remount_or_write_anything_but_its_private_places(course):
    tag = uuid.uuid4().hex[:8]
    targets = _attack_targets(course, tag)
    before = {p: Path(p).read_bytes() for p in (targets[k] for k in ("config", "check_file", "release", "other_submission"))}
    code = ESCAPE_ATTEMPTS.format(targets=targets, grader_home=str(Path.home()), tag=tag)
    try:
        with sandboxed_kernel(course) as (kernel, _, _):
            output, error = kernel.run(code)
        assert error is None, output
        report = json.loads(output.strip().splitlines()[-1])
        strays = [targets[k] for k in ("venv_site", "base_site", "package", "grader_home", "private_tmp")
                  if Path(targets[k]).exists()] + [str(p) for p in Path(sys.prefix).glob(f"nested-{tag}")]
    finally:
        _remove_strays({**targets, "tag": tag})
    assert (report["umount"], report["remount_rw"], report["mount_over_checks"]) == (-1, -1, -1)
    assert report["hidden_listing"] == []
    assert report["nested_namespace"][0] == [] and report["nested_namespace"][1] != 0  # still hidden, not written
    assert report["written"] == {**{name: False for name in report["written"]}, "private_tmp": True, "private_home": True}
    assert strays == [], "a file written in the sandbox landed outside it"
    assert before == {p: Path(p).read_bytes() for p in before}
    home, needed = Path.home(), [Path(p) for p in python_paths()]
    if report["grader_home_listing"] is not None:  # only what the interpreter needs shows of the grader's home
        assert set(report["grader_home_listing"]) <= {p.relative_to(home).parts[0] for p in needed if home in p.parents}


# The places a kernel may write: /tmp, $HOME, its working folder and the folder of its sockets.
WRITABLE_PLACES = ("import json, os\nfrom ipykernel.connect import get_connection_file\n"
                   "places = ['/tmp', os.path.expanduser('~'), os.getcwd(), "
                   "os.path.dirname(json.load(open(get_connection_file()))['ip'])]\n")


@needs_namespaces
def test_what_one_kernel_leaves_where_it_may_write_is_gone_for_the_next(course):
    cwd = course / "autograder" / "autograded" / "student" / "toy"
    cwd.mkdir(parents=True)
    with KernelSandbox(course, SMALL) as sandbox, grading_environment(sandbox.environment):
        with kernel_in(sandbox, cwd) as (kernel, _):
            output, error = kernel.run(WRITABLE_PLACES + "for place in places:\n"
                                       "    open(os.path.join(place, 'left-behind'), 'w').write('x')\nprint(places)")
            assert error is None, output
        with kernel_in(sandbox, cwd) as (kernel, _):  # the next submission's, in the same sandbox
            output, error = kernel.run(WRITABLE_PLACES + "print([os.path.exists(os.path.join(p, 'left-behind')) "
                                       "for p in places])")
    assert (error, output.strip()) == (None, "[False, False, False, False]"), output
    assert not Path("/tmp/left-behind").exists() and not (cwd / "left-behind").exists()


def test_the_launcher_imports_nothing_from_the_submission_folder(course):
    """A ``json.py`` or ``cs231kit/__init__.py`` beside the notebook must not run as the grader."""
    marker = Path(tempfile.gettempdir()) / f"cs231kit-owned-{uuid.uuid4().hex[:8]}"
    folder = course / "autograder" / "autograded" / "student" / "toy"
    (folder / "cs231kit").mkdir(parents=True)
    planted = f"open({str(marker)!r}, 'w').write('ran')\n"
    for path in (folder / "json.py", folder / "cs231kit" / "__init__.py", folder / "ipykernel_launcher.py"):
        path.write_text(planted)
    try:
        with sandboxed_kernel(course) as (kernel, _, _):
            output, error = kernel.run("print(1 + 1)")
        assert (output.strip(), error) == ("2", None)
        assert not marker.exists(), "a module planted beside the notebook ran outside the sandbox"
    finally:
        marker.unlink(missing_ok=True)


PROBE_AS_NOBODY = """
import os, sys
from pathlib import Path
from cs231kit.grading.sandbox_world import cover, python_paths, _others_traverse
blocked = sorted({{str(a) for p in python_paths() for a in Path(p).parents if a != Path("/") and not _others_traverse(a)}},
                 key=len)
for folder in blocked:  # make the interpreter reachable for nobody, as the sandbox does for its own user
    cover(folder, [p for p in python_paths() if Path(folder) in Path(p).parents], "mode=755")
os.setgroups([]); os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)
os.environ["HOME"] = "/tmp"
os.execv(sys.executable, [sys.executable, "-I", "-c", {probe!r}])
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="becoming another user needs root (and unshare, to reach the interpreter)")
def test_the_protections_hold_for_a_grader_who_is_an_ordinary_user():
    probe = ("import json\nfrom cs231kit.grading.sandbox import probe_isolation, describe_isolation\n"
             "print(json.dumps([probe_isolation(), describe_isolation(probe_isolation())]))")
    command = ["unshare", "--mount", "--propagation", "private", sys.executable, "-I", "-c",
               PROBE_AS_NOBODY.format(probe=probe)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")
    assert result.returncode == 0, result.stderr
    isolation, line = json.loads(result.stdout.strip().splitlines()[-1])
    print(line)
    if not isolation["namespaces"]:
        pytest.skip(f"this machine gives ordinary users no user namespaces: {line}")
    assert isolation == dict.fromkeys(PROTECTIONS, True), line


def _inside(path, folder):
    return Path(folder) == Path(path) or Path(folder) in Path(path).parents


def test_the_world_plan_hides_what_it_must_and_keeps_every_needed_path_reachable(tmp_path):
    closed = tmp_path / "closed"  # a folder others cannot enter, above a needed one
    (closed / "course" / "solutions").mkdir(parents=True)
    (closed / "course" / "autograder" / "checks").mkdir(parents=True)
    closed.chmod(0o700)
    course = closed / "course"
    hidden = [[str(course / "solutions"), []], [str(course / "autograder"), [str(course / "autograder" / "checks")]],
              [str(tmp_path / "missing"), []]]
    world = plan_world(hidden, [str(course)], [str(tmp_path)], 2**20)
    covers = dict(world.covers)
    depths = [len(Path(path).parts) for path, _ in world.covers]
    assert depths == sorted(depths) and "/tmp" in covers and "/dev/shm" in covers
    assert str(tmp_path / "missing") not in covers
    for needed in [str(course), str(course / "autograder" / "checks"), str(tmp_path), *python_paths()]:
        for path, kept in world.covers:  # reachable: every cover above it binds it (or a folder above it) back
            assert not _inside(needed, path) or any(_inside(needed, k) for k in kept), (needed, path)
    for secret in (course / "solutions", course / "autograder" / "gradebook.db"):
        assert any(_inside(secret, path) and not any(_inside(secret, k) for k in kept) for path, kept in world.covers)
    if world.user is not None:  # the grader is root: the folder nobody cannot enter is covered, its insides bound back
        assert covers[str(closed)] == (str(course),)
    assert world.writable == (str(tmp_path),)


def test_the_world_fingerprint_names_what_changed_and_ignores_the_graders_own_outputs(course):
    from cs231kit.grading.world_state import world_changes, world_fingerprint

    before = world_fingerprint(course)
    assert str(course / "nbgrader_config.py") in before and str(course / "solutions" / "toy" / "toy.ipynb") in before
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("c.Owned = True\n")
    (course / "notebooks" / "toy" / "helper.py").write_text("OWNED = True\n")
    (course / "autograder" / "submitted" / "other" / "toy" / "toy.ipynb").unlink()
    (course / "autograder" / "gradebook.db").write_text("new grades")  # the grader's own outputs
    (course / "autograder" / "feedback" / "other").mkdir(parents=True)
    (course / "autograder" / "checks" / "__pycache__").mkdir()
    assert world_changes(before, world_fingerprint(course)) == sorted([
        f"{course}/autograder/submitted/other/toy/toy.ipynb (removed)", f"{course}/notebooks/toy/helper.py (added)",
        f"{course}/nbgrader_config.py (changed)"])


def test_grading_with_require_isolation_refuses_where_a_protection_is_missing(course, monkeypatch, capsys):
    from cs231kit import cli
    from cs231kit.grading import sandbox

    monkeypatch.setattr(sandbox, "probe_isolation", lambda: {**dict.fromkeys(PROTECTIONS, True), "read_only_world": False})
    code = cli.main(["--course-dir", str(course), "grade", "toy", "--require-isolation"])
    error = capsys.readouterr().err
    assert code == 2 and "not grading" in error and "read_only_world" in error and PROTECTIONS["read_only_world"][1] in error
    assert not (course / "autograder" / "reports").exists()


def test_without_namespaces_a_kernel_still_runs_under_its_limits(course, monkeypatch):
    from cs231kit.grading import sandbox

    without = {**dict.fromkeys(PROTECTIONS, False), "process_limit": ISOLATION["process_limit"]}
    monkeypatch.setattr(sandbox, "probe_isolation", lambda: without)
    with sandboxed_kernel(course) as (kernel, _, sandbox_):
        output, error = kernel.run("import resource\nprint(resource.getrlimit(resource.RLIMIT_FSIZE)[0])")
    assert (error, int(output.strip())) == (None, SMALL.file_bytes)
    assert "KernelManager" not in sandbox_.config  # TCP on localhost: there is no network namespace to cut


def test_the_sandbox_manager_stops_a_kernel_through_its_launcher_which_still_cleans_up(course):
    """The graded kernels' manager stops a kernel with SIGTERM to its launcher (not ipykernel's graceful exit):
    the launcher's handler kills the kernel and still removes the kernel's working copy before it exits."""
    cwd = course / "autograder" / "autograded" / "student" / "toy"
    cwd.mkdir(parents=True)

    async def run(sandbox):
        manager, client = await start_graded_kernel(sandbox, cwd)
        try:
            await client.wait_for_ready(timeout=60)
            await client.execute_interactive("open('left-behind', 'w').write('x')", timeout=60)
        finally:
            client.stop_channels()
        launcher = manager.provisioner.process
        left = [copy / "left-behind" for copy in (sandbox.scratch / "work").iterdir()]
        assert [path.exists() for path in left] == [True]  # in the kernel's working copy, not in cwd
        await manager.shutdown_kernel()
        return launcher.wait(timeout=10), left[0]

    with KernelSandbox(course, SMALL) as sandbox, grading_environment(sandbox.environment):
        exit_code, left = asyncio.run(run(sandbox))
        assert exit_code == 128 + signal.SIGTERM  # the launcher's own handler, which cleans up, ended it
        assert not left.exists() and list((sandbox.scratch / "work").iterdir()) == []
    assert not (cwd / "left-behind").exists()


def test_the_sandbox_managers_client_is_ready_at_the_kernels_idle_status_not_after_a_silence(course):
    """jupyter_client's clients end their wait for a new kernel by listening to IOPub until it was silent for
    0.2 s. The graded kernels' client stops at the idle status that follows its kernel_info reply: its last
    read of IOPub before it is ready brings that status, it does not time out; and the kernel then runs cells."""
    cwd = course / "autograder" / "autograded" / "student" / "toy"
    cwd.mkdir(parents=True)

    async def run(sandbox):
        manager, client = await start_graded_kernel(sandbox, cwd)
        reads, read = [], client.iopub_channel.get_msg

        async def recorded_read(*args, **kwargs):
            try:
                message = await read(*args, **kwargs)
            except Empty:
                reads.append("silence")
                raise
            reads.append((message["msg_type"], message["content"].get("execution_state"),
                          message["parent_header"].get("msg_type")))
            return message

        try:
            client.iopub_channel.get_msg = recorded_read
            await client.wait_for_ready(timeout=60)
            ready_reads = list(reads)
            reply = await client.execute_interactive("print(6 * 7)", timeout=60, output_hook=lambda message: None)
        finally:
            client.stop_channels()
            await manager.shutdown_kernel()
        return ready_reads, reply["content"]["status"]

    with KernelSandbox(course, SMALL) as sandbox, grading_environment(sandbox.environment):
        ready_reads, status = asyncio.run(run(sandbox))
    assert ready_reads[-1] == ("status", "idle", "kernel_info_request") and status == "ok", ready_reads


FORKSERVER_VIEW = """
import os, socket, stat, sys
warm = [name in sys.modules for name in ("numpy", "matplotlib.pyplot", "cs231kit.data")]
addresses = []
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            continue
        with socket.socket(fileno=os.dup(fd)) as view:
            if view.family == socket.AF_UNIX:
                addresses += [view.getsockname(), view.getpeername() if view.type == socket.SOCK_STREAM else ""]
    except OSError:
        continue
print(warm, [str(a) for a in addresses if a])
"""


def _forkserver_children(sandbox):
    """Pids of the fork server's children (one per running sandboxed process)."""
    pid = sandbox._forkserver.pid
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


@needs_namespaces
def test_a_kernel_starts_warm_and_holds_no_descriptor_of_its_fork_server_or_launcher(course):
    """Forked from the warm server, the kernel has numpy, matplotlib and cs231kit before its first cell, and of
    the server's listening socket and the launcher's connection (which would let it start sandboxes or speak
    for its launcher) nothing: the sandboxed process closes every descriptor but its standard streams. Nor
    does the server have writable shared memory, through which one kernel could reach the next."""
    with sandboxed_kernel(course) as (kernel, manager, sandbox):
        output, error = kernel.run(FORKSERVER_VIEW)
        assert error is None and output.startswith("[True, True, True] ["), output
        assert "/ipc/k-" in output and "forkserver" not in output  # its own (ZeroMQ's) sockets are there
        mappings = Path(f"/proc/{sandbox._forkserver.pid}/maps").read_text().splitlines()
        assert [m for m in mappings if m.split()[1][1] == "w" and m.split()[1][3] == "s"] == []


@needs_namespaces
def test_kernels_forked_from_one_server_draw_different_global_random_numbers(course):
    """numpy's global generator is reseeded in every forked process, as a fresh interpreter's import seeds it."""
    with sandboxed_kernel(course) as (kernel, manager, sandbox):
        draws = []
        for _ in range(2):
            output, error = kernel.run("import numpy; print(numpy.random.randint(2**62))")
            assert error is None
            draws.append(int(output))
            kernel.restart(manager)
        assert draws[0] != draws[1]


@needs_namespaces
def test_a_kernel_whose_launcher_was_killed_is_stopped_and_its_working_copy_removed(course):
    """A launcher killed outright (jupyter_client's last resort) closes its connection to the server's child,
    which then kills the sandbox and cleans up, as the launcher's own SIGTERM handler would."""
    with sandboxed_kernel(course) as (kernel, manager, sandbox):
        assert kernel.run("open('left-behind', 'w').write('x')")[1] is None
        assert len(_forkserver_children(sandbox)) == 1 and len(list((sandbox.scratch / "work").iterdir())) == 1
        os.kill(manager.provisioner.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (_forkserver_children(sandbox) or list((sandbox.scratch / "work").iterdir())) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _forkserver_children(sandbox) == [] and list((sandbox.scratch / "work").iterdir()) == []


@needs_namespaces
def test_a_sandbox_whose_fork_server_died_still_starts_its_kernels_cold(course):
    with sandboxed_kernel(course) as (kernel, manager, sandbox):
        sandbox._forkserver.kill()
        sandbox._forkserver.wait()
        kernel.restart(manager)
        output, error = kernel.run("import sys; print('numpy' in sys.modules, 6 * 7)")
        assert (output.split(), error) == (["False", "42"], None)


ENVIRONMENT_VIEW = """
import json, os
views = {"os.environ": sorted(os.environ)}
for pid in ["self", *(p for p in os.listdir("/proc") if p.isdigit())]:
    try:
        entries = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
    except OSError:
        continue
    views[pid] = sorted(entry.split(b"=")[0].decode() for entry in entries if entry)
print(json.dumps(views))
"""


def test_student_code_sees_nothing_of_the_graders_own_environment_warm_or_cold(course, monkeypatch):
    """An instructor's token in the grader's environment, and the sandbox's plan, never reach student code: not in
    its environment nor in the first environment of any process it can see (with namespaces: the fork server's
    children are forked from memory that held the server's first environment), warm and, its server gone, cold.
    It keeps what it needs: PATH, a home, the course's dataset setting."""
    monkeypatch.setenv("GRADESCOPE_API_TOKEN", "an instructor's secret")
    monkeypatch.setenv(data.DATASET_ENV, "offline")
    outputs = []
    with sandboxed_kernel(course) as (kernel, manager, sandbox):
        outputs.append(kernel.run(ENVIRONMENT_VIEW))
        if sandbox._forkserver:
            sandbox._forkserver.kill()
            sandbox._forkserver.wait()
            kernel.restart(manager)
            outputs.append(kernel.run(ENVIRONMENT_VIEW + "import sys; assert 'numpy' not in sys.modules"))
    assert len(outputs) == (2 if ISOLATION["namespaces"] else 1)
    for output, error in outputs:
        assert error is None, output
        views = json.loads(output)
        # Without a PID namespace the kernel sees every process of its user, its launcher's first environment too.
        seen = views if ISOLATION["namespaces"] else {name: views[name] for name in ("os.environ", "self")}
        assert {"os.environ", "self"} <= set(seen)
        assert [name for name, names in seen.items() if {"GRADESCOPE_API_TOKEN", ENVIRONMENT_VARIABLE} & set(names)] == []
        assert {"PATH", "HOME", data.DATASET_ENV, "CS231KIT_COURSE_ROOT"} <= set(views["os.environ"])
