"""Choosing some cameras by the command line's --cameras and --shard, among a list of ids."""

from __future__ import annotations

from collections.abc import Sequence


def select(ids: Sequence[str], cameras: str | None = None, shard: str | None = None) -> list[int]:
    """Indexes of some of `ids`: `cameras` is a count N or comma-separated ids; `shard` is
    `i/n` (1-based), every n-th camera from the i-th. Raises ValueError on bad input."""
    chosen = list(range(len(ids)))
    if shard:
        i, _, n = shard.partition("/")
        if not (i.isdigit() and n.isdigit() and 1 <= int(i) <= int(n)):
            raise ValueError(f"--shard: expected i/n with 1 <= i <= n, got {shard!r}")
        chosen = chosen[int(i) - 1 :: int(n)]
    if cameras:
        if cameras.isdigit():
            chosen = chosen[: int(cameras)]
        else:
            index = {cid: k for k, cid in enumerate(ids)}
            wanted = [c.strip() for c in cameras.split(",") if c.strip()]
            unknown = [c for c in wanted if c not in index]
            if unknown:
                raise ValueError(f"--cameras: unknown camera id(s): {', '.join(unknown[:5])}")
            keep = set(chosen)
            chosen = [index[c] for c in wanted if index[c] in keep]
    if not chosen:
        raise ValueError("no cameras selected")
    return chosen
