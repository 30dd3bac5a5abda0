"""The loop probe: a callback that computes for 0.3 s is a `busy` stall, one that sleeps in a
system call an `asleep` one, each logged with the loop thread's stack; short work is none."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from simulator.streams.stalls import LoopProbe


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _nap(seconds: float) -> None:
    time.sleep(seconds)


async def _probe_while(work, seconds: float) -> LoopProbe:  # noqa: ANN001
    probe = LoopProbe(threshold_s=0.1)
    probe.start()
    await asyncio.sleep(0.1)
    asyncio.get_running_loop().call_soon(work, seconds)
    await asyncio.sleep(0.2 + seconds)
    probe.stop()
    return probe


@pytest.mark.parametrize(("work", "cause"), [(_spin, "busy"), (_nap, "asleep")])
def test_a_stall_is_counted_with_its_cause_and_logged_with_its_stack(
    work, cause: str, caplog: pytest.LogCaptureFixture
) -> None:  # noqa: ANN001
    lines = []
    for _ in range(3):  # the stack is sampled by a thread that needs the GIL: best effort
        caplog.clear()
        with caplog.at_level(logging.WARNING, "camsim.serve"):
            probe = asyncio.run(_probe_while(work, 0.3))
        assert probe.by_cause[cause] == 1 and sum(probe.by_cause.values()) == 1
        assert 0.25 < probe.seconds_by_cause[cause] < 0.6
        (line,) = [r.getMessage() for r in caplog.records if "loop stalled" in r.getMessage()]
        assert f": {cause} (" in line
        assert f'camsim_loop_stalls_total{{cause="{cause}"}} 1' in probe.lines()
        lines.append(line)
        if "test_stalls.py" in line:
            break
    else:  # once is luck; never is a probe that does not sample
        pytest.fail(f"no stack sampled in three stalls: {lines}")


def test_work_shorter_than_the_threshold_is_no_stall() -> None:
    probe = asyncio.run(_probe_while(_spin, 0.03))
    assert not probe.by_cause and probe.lag.n == 0


def test_a_second_with_a_frame_sent_late_is_logged_with_its_shares(
    caplog: pytest.LogCaptureFixture,
) -> None:
    asked = []

    def late() -> float:  # the pacer's worst lateness: 0.25 s once, then none
        asked.append(1)
        return 0.25 if len(asked) == 1 else 0.0

    async def run() -> LoopProbe:
        probe = LoopProbe(threshold_s=0.1)
        probe.start(late)
        await asyncio.sleep(2.3)
        probe.stop()
        return probe

    with caplog.at_level(logging.WARNING, "camsim.serve"):
        probe = asyncio.run(run())
    assert len(asked) == 2 and sum(probe.late_seconds.values()) == 1
    (line,) = [r.getMessage() for r in caplog.records if "sent up to" in r.getMessage()]
    assert line.startswith("camsim: frames sent up to 0.250 s late in the 1.0 s")
