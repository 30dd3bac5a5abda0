"""Measurements of the wire: counters per camera stream and a histogram of send lateness."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

#: Upper bounds (seconds) of the send-lateness histogram buckets: fine around one frame
#: interval (40 ms at 25 fps, 33 ms at 30, 100 ms at 10), where "fell behind" is decided.
LATENESS_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04,
    0.045, 0.05, 0.06, 0.07, 0.08, 0.1, 0.125, 0.25, 0.5, 1.0, 5.0,
)  # fmt: skip


@dataclass
class Histogram:
    """A cumulative-bucket histogram as Prometheus exposes it."""

    bounds: tuple[float, ...] = LATENESS_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.n += 1

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket holding quantile q (inf beyond the last bucket)."""
        rank, seen = q * self.n, 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            seen += count
            if seen >= rank and self.n:
                return bound
        return 0.0

    def lines(self, name: str, labels: str = "") -> list[str]:
        sep = "," if labels else ""
        out, seen = [], 0
        for bound, count in zip(self.bounds, self.counts, strict=False):
            seen += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound:g}"}} {seen}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.n}')
        tail = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{tail} {self.total:.6f}")
        out.append(f"{name}_count{tail} {self.n}")
        return out


@dataclass(slots=True)
class StreamCounters:
    """What one camera stream has sent and dropped."""

    frames_sent: int = 0  # frames that left for at least one client
    bytes_sent: int = 0  # bytes written to clients, all clients together
    packets: int = 0  # RTP packets emitted in the UDP layout (for RTCP SR)
    octets: int = 0  # RTP payload octets emitted in the UDP layout (for RTCP SR)
    tcp_packets: int = 0  # the same in the TCP layout
    tcp_octets: int = 0
    frames_due: int = 0  # frame slots that fell due while a client played (sent or not)
    client_drops: int = 0  # frames not sent to a client because it was too slow (per client)
    target_drops: int = 0  # frames some TCP client missed because it stopped reading: its
    # connection held more than its backlog, or it waited out the GOP after such a drop
    fault_drops: int = 0  # frames withheld by a fault, and the rest of their GOP
    keyframe_wait_skips: int = 0  # frames before the keyframe a (re)started stream opens with
    late_skips: int = 0  # frames the server skipped after falling behind, and the rest of the GOP
    late_resyncs: int = 0  # times the stream fell too far behind and skipped ahead
    lateness_sum: float = 0.0  # seconds, over frames sent
    lateness_max: float = 0.0  # seconds, worst frame so far
