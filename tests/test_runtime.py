"""cs231kit.runtime: usable CPUs from fake cgroup trees, BLAS thread limits, one-line stub errors."""

import os

import numpy as np  # noqa: F401 (loads the BLAS whose threads are limited)
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from cs231kit import runtime


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def cgroup_v2(tmp_path):
    """A cgroup v2 tree where this process is in /user.slice/session; returns (root, proc file)."""
    root = tmp_path / "sys" / "fs" / "cgroup"
    (root / "user.slice" / "session").mkdir(parents=True)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("0::/user.slice/session\n")
    return root, proc


@pytest.fixture
def cgroup_v1(tmp_path):
    """A cgroup v1 tree (cpu,cpuacct controller) where this process is in /docker/abc."""
    root = tmp_path / "cgroup"
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n")
    return root, proc


def test_no_quota_files_mean_no_limit(cgroup_v2, cgroup_v1, tmp_path):
    assert runtime.cgroup_cpu_limit(*cgroup_v2) is None
    assert runtime.cgroup_cpu_limit(*cgroup_v1) is None
    assert runtime.cgroup_cpu_limit(tmp_path / "nothing", tmp_path / "no-proc-file") is None


def test_cgroup_v2_quota_and_max(cgroup_v2):
    root, proc = cgroup_v2
    _write(root / "user.slice" / "session" / "cpu.max", "max 100000\n")
    assert runtime.cgroup_cpu_limit(root, proc) is None
    _write(root / "user.slice" / "session" / "cpu.max", "150000 100000\n")
    assert runtime.cgroup_cpu_limit(root, proc) == 1.5


def test_the_tightest_ancestor_quota_wins(cgroup_v2):
    root, proc = cgroup_v2
    _write(root / "user.slice" / "session" / "cpu.max", "400000 100000\n")
    _write(root / "user.slice" / "cpu.max", "50000 100000\n")
    assert runtime.cgroup_cpu_limit(root, proc) == 0.5


def test_container_sees_its_own_cgroup_at_the_mount_root(cgroup_v2):
    root, proc = cgroup_v2  # the path of /proc/self/cgroup does not exist in a container's mount
    _write(root / "cpu.max", "100000 100000\n")
    assert runtime.cgroup_cpu_limit(root, proc) == 1.0


def test_cgroup_v1_quota(cgroup_v1):
    root, proc = cgroup_v1
    folder = root / "cpu,cpuacct" / "docker" / "abc"
    _write(folder / "cpu.cfs_quota_us", "-1\n")
    _write(folder / "cpu.cfs_period_us", "100000\n")
    assert runtime.cgroup_cpu_limit(root, proc) is None
    _write(folder / "cpu.cfs_quota_us", "200000\n")
    assert runtime.cgroup_cpu_limit(root, proc) == 2.0


@pytest.mark.parametrize("affinity, quota, expected", [(8, None, 8), (8, "100000 100000", 1), (8, "250000 100000", 2),
                                                       (2, "400000 100000", 2), (8, "20000 100000", 1)])
def test_usable_cpus_is_affinity_capped_by_the_quota(cgroup_v2, monkeypatch, affinity, quota, expected):
    root, proc = cgroup_v2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)), raising=False)
    if quota:
        _write(root / "cpu.max", quota)
    assert runtime.usable_cpus(root, proc) == expected


def _blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.mark.parametrize("explicit, usable, expected", [({}, 3, 3), ({"OMP_NUM_THREADS": "1"}, 3, 1),
                                                        ({"MKL_NUM_THREADS": "8"}, 2, 2), ({"OMP_NUM_THREADS": ""}, 2, 2)])
def test_limit_blas_threads_never_raises_an_explicit_setting(monkeypatch, explicit, usable, expected):
    environ = dict(explicit)
    monkeypatch.setattr(runtime, "usable_cpus", lambda: usable)
    with threadpool_limits():  # restores this process's pools afterwards
        assert runtime.limit_blas_threads(environ=environ) == expected
        assert _blas_threads() == {expected}  # numpy's BLAS
    assert {environ[name] for name in runtime.BLAS_THREAD_VARIABLES} == {str(expected)}


def test_stub_error_is_one_line_naming_the_function(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert runtime.show_stubs_briefly(shell)
        shell.run_cell('def svm_loss_naive():\n    raise NotImplementedError("svm_loss_naive: must return (loss, dW)")\n'
                       'def check():\n    return svm_loss_naive()\ncheck()')
        stub_lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
        shell.run_cell("1 / 0")
        other = capsys.readouterr().out
    finally:
        InteractiveShell.clear_instance()
    assert stub_lines == ["NotImplementedError: svm_loss_naive: must return (loss, dW)"]
    assert "ZeroDivisionError" in other and "Traceback" in other  # other errors keep their traceback


def test_outside_ipython_stub_errors_are_left_alone():
    assert runtime.show_stubs_briefly() is False


class _FakeKernelShell:
    kernel = object()


@pytest.mark.parametrize("argument, environ, in_kernel, expected", [
    (True, {"CS231KIT_PROGRESS": "0"}, False, True), (False, {}, True, False),  # an explicit choice wins
    (None, {}, True, True), (None, {"CS231KIT_PROGRESS": "0"}, True, False), (None, {}, False, False)])
def test_automatic_progress_only_in_notebooks_and_never_under_grading(monkeypatch, argument, environ, in_kernel,
                                                                       expected):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: _FakeKernelShell() if in_kernel else None)
    assert runtime.in_jupyter_kernel() is in_kernel
    assert runtime.show_progress(argument, environ) is expected


def test_grading_turns_automatic_progress_off():
    from cs231kit.grading.session import GRADING_ENVIRONMENT

    assert GRADING_ENVIRONMENT[runtime.PROGRESS_ENV] == "0"


def test_automatic_bar_waits_before_it_appears(capsys):
    with runtime.progress_bar(range(3), progress=None, desc="quick") as bar:
        assert bar.disable  # not in a kernel: no bar at all
    with runtime.progress_bar(range(3), progress=True, desc="asked for") as bar:
        assert not bar.disable and bar.delay == 0
        list(bar)
    assert "asked for" in capsys.readouterr().err
