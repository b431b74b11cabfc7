"""Tests of cs231kit.timelimit: endless loops are stopped, finished blocks are left alone."""

import signal
import threading
import time

import pytest

from cs231kit.timelimit import TimeLimitExceeded, limits_available, time_limit


def test_an_endless_loop_is_stopped_with_a_message_naming_it():
    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded, match=r"my_function on a \(2, 3\) array did not finish within 0.2 s"):
        with time_limit(0.2, "my_function on a (2, 3) array"):
            while True:
                pass
    assert time.perf_counter() - start < 2


def test_except_exception_in_the_loop_cannot_swallow_it():
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.1, "a stubborn loop"):
            while True:
                try:
                    time.sleep(0.01)
                except Exception:  # noqa: BLE001 - this is what a student might write
                    pass


def test_a_finished_block_leaves_no_timer_and_restores_the_handler():
    before = signal.getsignal(signal.SIGALRM)
    with time_limit(5, "quick"):
        value = sum(range(10))
    assert value == 45
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before


def test_an_exception_in_the_block_passes_through_and_the_timer_is_cleared():
    with pytest.raises(ZeroDivisionError):
        with time_limit(5, "division"):
            1 / 0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_outside_the_main_thread_the_block_runs_without_a_limit():
    outcome = {}

    def worker():
        outcome["available"] = limits_available()
        with time_limit(0.01, "in a thread"):
            time.sleep(0.05)
        outcome["finished"] = True

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert outcome == {"available": False, "finished": True}


@pytest.mark.parametrize("seconds", [0, -1, float("nan")])
def test_the_limit_must_be_positive(seconds):
    with pytest.raises(ValueError, match="positive number of seconds"):
        with time_limit(seconds):
            pass
