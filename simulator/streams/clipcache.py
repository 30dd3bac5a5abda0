"""The clip cache: encoded loops on disk under a content-addressed key.

The key is a hash of everything that shapes the loop (scene, size, rate, codec, GOP, bitrate,
cache format version), so a changed scenario builds new clips and an unchanged one starts in
seconds. Default place: `$CAMSIM_CACHE`, else `~/.cache/camsim/clips`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import struct
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from simulator.streams.encoder import Clip, EncodeSpec, encode

FORMAT_VERSION = 3  # 2: BT.709 in the VUI; 3: multi-pass H.26x rate control, MJPEG quality


def default_cache_dir() -> Path:
    """`$CAMSIM_CACHE` or `~/.cache/camsim/clips`."""
    env = os.environ.get("CAMSIM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "camsim" / "clips"


def clip_key(spec: EncodeSpec) -> str:
    """Content address of the loop `spec` describes."""
    data = {"v": FORMAT_VERSION, **dataclasses.asdict(spec)}
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def save_clip(clip: Clip, path: Path) -> None:
    """Write a clip atomically: a length-prefixed JSON header, then the units back to back."""
    units = [u for f in clip.frames for u in f]
    meta = {
        "codec": clip.codec,
        "width": clip.width,
        "height": clip.height,
        "fps": clip.fps,
        "gop": clip.gop,
        "keyframes": clip.keyframes,
        "units": [len(f) for f in clip.frames],
        "sizes": [len(u) for u in units],
        "params": {k: v.hex() for k, v in clip.params.items()},
    }
    head = json.dumps(meta).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(struct.pack(">I", len(head)) + head)
        for u in units:
            f.write(u)
    os.replace(tmp, path)


def load_clip(path: Path) -> Clip:
    """Read a clip written by save_clip."""
    data = path.read_bytes()
    (n,) = struct.unpack_from(">I", data)
    meta = json.loads(data[4 : 4 + n])
    pos = 4 + n
    units = []
    for size in meta["sizes"]:
        units.append(data[pos : pos + size])
        pos += size
    frames, k = [], 0
    for count in meta["units"]:
        frames.append(units[k : k + count])
        k += count
    params = {k: bytes.fromhex(v) for k, v in meta["params"].items()}
    return Clip(
        meta["codec"], meta["width"], meta["height"], meta["fps"], meta["gop"], frames,
        meta["keyframes"], params,
    )  # fmt: skip


@dataclasses.dataclass
class ClipCache:
    """Encoded loops on disk; `get_many` builds the missing ones (with a progress bar)."""

    root: Path = dataclasses.field(default_factory=default_cache_dir)
    progress: bool = True
    workers: int = 0  # encoding processes; 0: one per CPU

    def path(self, spec: EncodeSpec) -> Path:
        return self.root / f"{clip_key(spec)}.clip"

    def get_many(self, specs: Sequence[EncodeSpec]) -> dict[EncodeSpec, Clip]:
        """Load or build every distinct spec; returns spec → clip."""
        clips: dict[EncodeSpec, Clip] = {}
        missing = []
        for spec in dict.fromkeys(specs):
            p = self.path(spec)
            try:
                clips[spec] = load_clip(p)
            except (OSError, ValueError, KeyError, struct.error):
                missing.append(spec)
        if missing:
            from tqdm import tqdm

            total = sum(s.scene.frames for s in missing)
            with tqdm(
                total=total,
                desc=f"camsim: encoding {len(missing)} clip(s)",
                unit="frame",
                disable=not self.progress,
                file=sys.stderr,
            ) as bar:
                workers = min(self.workers or os.cpu_count() or 1, len(missing))
                if workers <= 1:
                    for spec in missing:
                        clip = encode(spec, bar.update)
                        save_clip(clip, self.path(spec))
                        clips[spec] = clip
                else:  # one clip per process: x264/x265 run single-threaded here
                    # spawned, not forked: a fork of a process with threads (a test's server
                    # loop, the stall probe's watchdog) can inherit a lock held and hang
                    spawn = multiprocessing.get_context("spawn")
                    with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
                        jobs = {
                            pool.submit(_build, spec, self.path(spec)): spec for spec in missing
                        }
                        for job in as_completed(jobs):
                            spec = jobs[job]
                            job.result()
                            clips[spec] = load_clip(self.path(spec))
                            bar.update(spec.scene.frames)
        return clips


def _build(spec: EncodeSpec, path: Path) -> None:
    """Encode one clip into the cache (run in a worker process)."""
    save_clip(encode(spec), path)
