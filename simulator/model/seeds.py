"""The seed tree: every random draw of a run comes from one `numpy.random.SeedSequence`.

`SeedSequence(seed)` has one child per concern, at a fixed index (so adding a concern never
moves the others), and each child one grandchild per thing that draws, keyed by its name
(so a camera's draws do not depend on which other cameras exist or are served):

| child     | index | keyed by                            | draws                                |
|-----------|-------|-------------------------------------|--------------------------------------|
| `world`   | 0     | `camera:<id>`, link, `server:<id>`, | failures, repairs, activity episodes |
|           |       | `activity:<district>`,              | disk failures                        |
|           |       | `disks:<server>`                    |                                      |
| `traffic` | 1     | chunk number, `state`               | per-second bitrates, motion episodes |
| `window`  | 2     | — (the core's), a district link     | the frame-level windows' frames      |
| `watch`   | 3     | `incidents`, `operators`            | incidents, requests, detections      |
| `wire`    | 4     | camera and kind, `district:<name>`  | stream faults on the timeline        |
| `actions` | 5     | `requests`, `ptz`                   | what the operators' actions act on   |
| `streams` | 6     | camera, stream                      | SSRC, first seq, loop offset, loss   |
| `replications` | 7 | replication number               | each replication's seed              |
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

CHILDREN = ("world", "traffic", "window", "watch", "wire", "actions", "streams", "replications")


def _words(key: str) -> tuple[int, int]:
    """A name as two 32-bit words (64 bits: no collisions among a city's names in practice)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


@dataclass(frozen=True)
class SeedTree:
    """The run's seed and the named children every draw comes from."""

    seed: int

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer ≥ 0, got {self.seed!r}")

    def sequence(self, child: str, *key: str | int) -> np.random.SeedSequence:
        """The SeedSequence of `child` (one of CHILDREN), or of one thing under it."""
        path = [CHILDREN.index(child)]
        for part in key:
            path.extend(_words(part) if isinstance(part, str) else (int(part),))
        return np.random.SeedSequence(self.seed, spawn_key=tuple(path))

    def generator(self, child: str, *key: str | int) -> np.random.Generator:
        """A generator for `child` (and key), the same for the same seed, child and key."""
        return np.random.Generator(np.random.PCG64(self.sequence(child, *key)))

    def integer(self, child: str, *key: str | int) -> int:
        """A 64-bit integer from `child` (and key), for libraries that take an int seed."""
        return int(self.sequence(child, *key).generate_state(1, np.uint64)[0])
