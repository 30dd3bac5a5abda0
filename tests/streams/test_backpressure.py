"""Who lost a frame: a client that stops reading (the target's loss, `target_drops`) against
a server that falls behind (the harness's own, `late_skips`), as the control API reports them
to the lab's ledger."""

from __future__ import annotations

import time

from simulator.streams.client import RtspClient


def _counters(served, camera: str) -> dict:  # noqa: ANN001
    status, cams = served.api("/api/cameras")
    assert status == 200
    return next(c for c in cams if c["id"] == camera)["streams"]["main"]


def test_a_client_that_stops_reading_loses_frames_the_target_did_not_take(tight) -> None:  # noqa: ANN001
    camera = "h264cam-002"
    client = RtspClient(tight.port, rcvbuf=4096)
    client.start(tight.url(camera))
    client.packets(1.0)  # it reads for a second, then stalls
    before = _counters(tight, camera)
    time.sleep(4.0)
    stalled = _counters(tight, camera)
    client.close()
    due = stalled["frames_due"] - before["frames_due"]
    sent = stalled["frames_sent"] - before["frames_sent"]
    lost = stalled["target_drops"] - before["target_drops"]
    assert 35 <= due <= 45, due  # 10 fps for 4 s, whether sent or not
    # its connection filled within two seconds or so (32 kB at 0.3 Mbps): from then on
    # every frame due is the target's loss, none the harness's
    assert lost >= 15 and abs(sent + lost - due) <= 1, (due, sent, lost)
    assert stalled["late_skips"] == before["late_skips"]
    assert stalled["unsent_bytes"] > 30_000  # the kernel's queue and the server's, not taken


def test_a_client_that_reads_loses_nothing_and_every_frame_due_is_sent(served) -> None:  # noqa: ANN001
    camera = "h264cam-003"
    client = RtspClient(served.port)
    client.start(served.url(camera))
    client.packets(1.0)
    before = _counters(served, camera)
    client.packets(3.0)
    after = _counters(served, camera)
    client.close()
    due = after["frames_due"] - before["frames_due"]
    assert 25 <= due <= 35 and after["frames_sent"] - before["frames_sent"] == due
    assert after["target_drops"] == before["target_drops"]


def test_a_server_that_falls_behind_skips_frames_as_its_own_fault(served) -> None:  # noqa: ANN001
    camera = "h264cam-001"
    client = RtspClient(served.port)
    client.start(served.url(camera))
    client.packets(1.0)
    before = _counters(served, camera)
    served.thread.call(time.sleep, 1.5)  # the server's event loop starved for 1.5 s
    client.packets(2.0)
    after = _counters(served, camera)
    client.close()
    assert after["late_skips"] - before["late_skips"] >= 10  # 1.5 s at 10 fps, skipped
    assert after["target_drops"] == before["target_drops"]
