"""The sandboxed kernel: what student code can and cannot do while it is graded.

Each test starts the real ``cs231kit-sandbox`` kernel through jupyter_client, as nbgrader does,
runs student-like code in it and checks what happened, from inside and from outside.
"""

import contextlib
import tempfile
import time
from pathlib import Path

import pytest
from jupyter_client import KernelManager
from traitlets.config import Config

from cs231kit.grading.sandbox import KernelSandbox, Limits, describe_isolation, probe_isolation
from cs231kit.grading.session import grading_environment

ISOLATION = probe_isolation()
needs_namespaces = pytest.mark.skipif(not ISOLATION["namespaces"], reason="this machine has no user namespaces")
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


@contextlib.contextmanager
def sandboxed_kernel(course, limits=SMALL, scratch_parent=None):
    """Start a sandboxed kernel for ``course`` whose cwd is a submission folder, as in grading."""
    cwd = course / "autograder" / "autograded" / "student" / "toy"
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "data.txt").write_text("submitted file")
    with KernelSandbox(course, limits, scratch_parent) as sandbox, grading_environment(sandbox.environment):
        config = Config()
        for section, values in sandbox.config.items():
            for name, value in values.items():
                setattr(config[section], name, value)
        manager = KernelManager(kernel_name=sandbox.config["Execute"]["kernel_name"], config=config)
        manager.start_kernel(cwd=str(cwd))
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            yield Kernel(client), manager, sandbox
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


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


def test_isolation_is_described_for_reports():
    line = describe_isolation(ISOLATION)
    assert line.startswith("sandbox: memory, CPU-time, file-size and wall-clock limits")
    assert ("no network" in line) == (ISOLATION["namespaces"] and ISOLATION["process_limit"])


def test_limits_come_from_the_sandbox_section_of_the_config():
    config = Config()
    config.Sandbox.wall_seconds = 30
    assert Limits.from_config(config) == Limits(wall_seconds=30)
    assert Limits.from_config(Config()) == Limits()


@needs_namespaces
def test_student_code_sees_the_checks_but_not_the_gradebook_sources_or_other_submissions_and_works_outside(course):
    with sandboxed_kernel(course) as (kernel, _, _):
        output, error = kernel.run("import os\n"
                                   f"root = {str(course)!r}\n"
                                   "print(sorted(os.listdir(root + '/autograder')), os.listdir(root + '/solutions'))\n"
                                   "print(open(root + '/autograder/checks/toy.py').read())\n"
                                   "print(os.getcwd().startswith(root), open('data.txt').read(), open('probe.txt', 'w').write('ok'))")
    assert error is None, output
    assert "['checks'] []" in output
    assert "REFERENCE = 42" in output
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
    assert output.split("\n")[:2] == [str(own), "['checks']"]


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


def test_the_wall_clock_limit_ends_a_notebook_that_ignores_interrupts(course):
    limits = Limits(wall_seconds=6, cpu_seconds=60)
    start = time.monotonic()
    with sandboxed_kernel(course, limits) as (kernel, manager, sandbox):
        code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)"
        with pytest.raises(Exception):
            kernel.run(code, timeout=20)
        for _ in range(100):
            if not manager.is_alive():
                break
            time.sleep(0.1)
        assert not manager.is_alive()
        assert [e["kind"] for e in sandbox.endings()] == ["wall clock"]
    assert time.monotonic() - start < 30


def test_the_cpu_limit_kills_a_busy_kernel_and_says_why(course):
    with sandboxed_kernel(course, Limits(cpu_seconds=3)) as (kernel, manager, sandbox):
        with pytest.raises(Exception):
            kernel.run("while True:\n    pass", timeout=20)
        for _ in range(100):
            if sandbox.endings():
                break
            time.sleep(0.1)
        assert [e["kind"] for e in sandbox.endings()] == ["SIGXCPU"]


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
