"""The soak's hostile trickle, a process of its own beside the lab (benchmarks/bench_soak.py):
one short hostile request (benchmarks/hostile.py) every `interval_s` on a connection of its
own, a few slow readers and idle connections (benchmarks/lingerers.py), a digest replay round
(benchmarks/replay.py) every 30 s. Every request is counted by kind and answer, answers a kind
should not get apart with a few examples, and journalled with its wall time; the counts are
written as JSON every few seconds for the benchmark to read.
"""

from __future__ import annotations

import collections
import json
import random
import time
import traceback
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import replay
from hostile import EXAMPLES, Case, api_cases, exchange, rtsp_cases, write_json
from lingerers import Lingerer, idle, slow_reader

# -- the trickle ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Requests by kind and answer, unexpected answers apart (bounded: kinds × answers)."""

    answers: dict[str, collections.Counter] = field(default_factory=dict)
    unexpected: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def add(self, kind: str, answer: str, ok: bool = True, label: str = "") -> None:
        self.answers.setdefault(kind, collections.Counter())[answer[:60]] += 1
        if not ok:
            self.unexpected[kind] = self.unexpected.get(kind, 0) + 1
            example = f"{kind} ({label[:60]}): {answer[:60]}"
            if len(self.examples) < EXAMPLES and example not in self.examples:
                self.examples.append(example)

    def as_json(self) -> dict:
        return {
            "answers": {k: dict(v) for k, v in self.answers.items()},
            "unexpected": self.unexpected,
            "examples": self.examples,
        }


class Journal:
    """Every hostile request as a JSON line: wall time it began, kind, label, answer, and the
    seconds it took (what the soak matches with serve's loop stalls)."""

    def __init__(self, path: Path) -> None:
        self.f = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def write(self, t: float, kind: str, label: str, answer: str) -> None:
        row = {"t": round(t, 3), "took": round(time.time() - t, 3), "kind": kind,
               "label": label[:60], "answer": answer[:60]}  # fmt: skip
        self.f.write(json.dumps(row) + "\n")
        self.f.flush()

    def close(self) -> None:
        self.f.close()


def read_journal(path: Path) -> list[dict]:
    """The trickle's journal (empty when absent)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


def offline(api_port: int, camera: str) -> bool:
    """Whether serve's API says `camera` is offline now (False when it cannot say)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/api/cameras", timeout=5) as r:
            rows = json.load(r)
    except (OSError, ValueError):
        return False
    return any(row.get("id") == camera and row.get("state") == "offline" for row in rows)


def run_trickle(rtsp_port: int, api_port: int, token: str, urls: list[str], spare: list[str],
                stop, status: Path, interval_s: float = 0.5, slow: int = 4,
                idle_max: int = 8, seed: int = 16, replay_to: dict | None = None,
                replay_every_s: float = 30.0) -> None:  # fmt: skip
    """The trickle's process: until `stop` is set, one short hostile request every
    `interval_s` and up to `slow` slow readers and `idle_max` idle connections open; `urls`
    are the streams slow readers may take, `spare` those whose camera the unauthenticated
    fault requests name (not the viewers'); with `replay_to` ({"port", "url", "password"} of
    a serve asking for Digest credentials) a digest replay round every `replay_every_s`."""
    rng = random.Random(seed)
    tally = Tally()
    lingering: list[Lingerer] = []
    queue: list[Case] = []
    slow_cameras: collections.Counter = collections.Counter()
    errors: list[str] = []
    t0 = next_req = next_slow = next_idle = next_write = time.monotonic()
    next_replay = t0 + 10
    sent = 0
    journal = Journal(status.with_name(status.stem + "-requests.jsonl"))
    while not stop.is_set():
        now = time.monotonic()
        try:
            if now >= next_req:
                next_req += interval_s
                if not queue:
                    url = rng.choice(spare)
                    camera = urlsplit(url).path.strip("/").split("/")[0]
                    queue = rtsp_cases(rng, url) + api_cases(rng, camera, token)
                    rng.shuffle(queue)
                case = queue.pop()
                t = time.time()
                answer = exchange(api_port if case.api else rtsp_port, case.data)
                ok = answer in case.expected
                if answer == "503" and not case.api and not ok:
                    # a camera the timeline has down answers 503 to whatever reaches it
                    ok = offline(api_port, camera)
                tally.add(case.kind, answer, ok, case.label)
                journal.write(t, case.kind, case.label, answer)
                sent += 1
            if replay_to is not None and now >= next_replay:
                next_replay = now + replay_every_s
                t = time.time()
                for kind, label, answer in replay.replay_round(
                    replay_to["port"], replay_to["url"], replay_to["password"]
                ):
                    tally.add(kind, answer, answer in replay.KINDS.get(kind, ()), label)
                    journal.write(t, kind, label, answer)
            if now >= next_slow and sum(x.kind.startswith("slow") for x in lingering) < slow:
                next_slow = now + 15
                url = rng.choice(urls)
                keep = rng.random() < 0.5
                t = time.time()
                got = slow_reader(rtsp_port, url, keep, 150.0 if keep else 240.0)
                journal.write(t, "slow reader, keep-alive" if keep else "slow reader, silent",
                              url, got if isinstance(got, str) else "playing")  # fmt: skip
                if isinstance(got, str):
                    kind = "slow reader, keep-alive" if keep else "slow reader, silent"
                    # a camera the timeline has down refuses the session: expected
                    down = got.endswith(" 503") and offline(api_port, url.rsplit("/", 2)[-2])
                    tally.add(kind, got, down, url)
                else:
                    lingering.append(got)
                    slow_cameras[got.label] += 1
            if now >= next_idle and sum(x.kind.startswith("idle") for x in lingering) < idle_max:
                next_idle = now + 5
                api = rng.random() < 0.3
                t = time.time()
                got = idle(api_port if api else rtsp_port, api, rng.choice(spare), rng, 150.0)
                journal.write(t, "idle API" if api else "idle RTSP", "",
                              got if isinstance(got, str) else "open")  # fmt: skip
                if isinstance(got, str):
                    tally.add("idle API" if api else "idle RTSP", got, False)
                else:
                    lingering.append(got)
            for x in list(lingering):
                fate = x.step(now)
                if fate is not None:
                    lingering.remove(x)
                    x.sock.close()
                    # ended by the server, except a keep-alive slow reader: its session
                    # is alive and its drops are the target's (the server may keep it)
                    expected = x.kind == "slow reader, keep-alive" or fate.startswith(
                        ("ended", "reset", "closed")
                    )
                    tally.add(x.kind, fate, expected, x.label)
                    journal.write(time.time(), x.kind, x.label, f"ended: {fate}")
        except Exception as exc:  # noqa: BLE001 - the benchmark's own bug: noted, not fatal
            line = "".join(traceback.format_exception_only(exc)).strip()
            if len(errors) < 20:
                errors.append(line[:200])
        if now >= next_write:
            next_write = now + 5
            write_json(status, {
                "t": time.time(), "elapsed_s": now - t0, "sent": sent,
                "lingering": collections.Counter(x.kind for x in lingering),
                "slow_reader_cameras": dict(slow_cameras.most_common(200)),
                "errors": errors, **tally.as_json(),
            })  # fmt: skip
        time.sleep(max(0.0, min(next_req, now + 0.5) - time.monotonic()))
    for x in lingering:
        x.sock.close()
    journal.close()
    write_json(status, {
        "t": time.time(), "elapsed_s": time.monotonic() - t0, "sent": sent, "lingering": {},
        "slow_reader_cameras": dict(slow_cameras.most_common(200)), "errors": errors,
        **tally.as_json(),
    })  # fmt: skip
