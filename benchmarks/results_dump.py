"""Dump `simulate` Results of a few fixed cases, and compare two dumps: a check that a
speed-up left the model's answers unchanged. Not a test.

    python benchmarks/results_dump.py dump DIR       # report.json + every figure unrounded
    python benchmarks/results_dump.py compare A B    # identical? else the largest relative
                                                     # difference of any figure, per case

Cases: Strasbourg (450 cameras, 1 day), tests/data/mixed_city.yaml (12 cameras, every random
part of the model), tests/data/outages.yaml (10 cameras) and Strasbourg scaled to 1,000
cameras over 6 h (many districts and servers, a different chunk length), and two small
cities with failover, disks, dual recording, motion and a congested uplink; and the
year-aware sizing (`size_year`) of tests/data/year_city.yaml.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import dataclasses  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from bench_sizing import load_data, scaled  # noqa: E402

from simulator.model.sizing import simulate  # noqa: E402
from simulator.model.year import size_year  # noqa: E402
from simulator.report import write_json  # noqa: E402
from simulator.scenario import Scenario, load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def cases() -> dict[str, Scenario]:
    """The fixed cases, by name."""
    data = ROOT / "tests" / "data"
    return {
        "strasbourg": load_scenario(ROOT / "scenarios" / "strasbourg.yaml"),
        "mixed_city": load_scenario(data / "mixed_city.yaml"),
        "outages": load_scenario(data / "outages.yaml"),
        "scaled_1000": scaled(load_data(ROOT / "scenarios" / "strasbourg.yaml"), 1000, 0.25),
        # failing servers with a standby, failing disks, dual recording
        "resilience": load_scenario(
            data / "cbr_city.yaml",
            [
                "simulation.days=2",
                "recording.record_sub_streams=true",
                "recording.servers.0.reliability.mtbf_h=20",
                "recording.servers.0.reliability.mttr_h=4",
                "recording.failover.standby=1",
                "recording.servers.0.disks.mtbf_h=50",
                "recording.servers.0.disks.size_tb=1",
                "recording.servers.0.disks.raid=raid5",
            ],
        ),
        "motion_congested": load_scenario(
            data / "mixed_city.yaml",
            [
                "simulation.days=0.5",
                "network.districts.1.uplink.capacity_mbps=6",
            ],
        ),
        "year_city": load_scenario(data / "year_city.yaml"),  # size_year: a year at 60 s
    }


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a Results (dataclasses, dicts, lists, arrays) by its path."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            out |= flat(getattr(value, f.name), f"{prefix}.{f.name}")
        return out
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out |= flat(v, f"{prefix}[{k}]")
        return out
    if isinstance(value, list | tuple) and any(
        dataclasses.is_dataclass(v) or isinstance(v, dict | list | np.ndarray) for v in value
    ):
        out = {}
        for i, v in enumerate(value):
            out |= flat(v, f"{prefix}[{i}]")
        return out
    return {prefix: value}


def dump(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, scenario in cases().items():
        t, c = time.perf_counter(), time.process_time()
        r = size_year(scenario) if name.startswith("year") else simulate(scenario)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        write_json(r, out / f"{name}.json")
        (out / f"{name}.pkl").write_bytes(pickle.dumps(flat(r)))
        print(f"{name}: wall {wall:.2f} s, CPU {cpu:.2f} s, load {os.getloadavg()[0]:.2f}")


def difference(x: Any, y: Any) -> float:
    """0 when equal to the bit; the largest relative difference of numbers; inf otherwise."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape:
            return float("inf")
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            if np.array_equal(x, y, equal_nan=True):
                return 0.0
            x, y = x.astype(np.float64), y.astype(np.float64)
            scale = np.maximum(np.abs(x), np.abs(y))
            d = np.divide(np.abs(x - y), scale, out=np.zeros_like(scale), where=scale > 0)
            return float(d.max()) if d.size else 0.0
        return 0.0 if np.array_equal(x, y) else float("inf")
    if isinstance(x, float) and isinstance(y, float):
        if x == y or (x != x and y != y):
            return 0.0
        return abs(x - y) / max(abs(x), abs(y))
    if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        return max((difference(a, b) for a, b in zip(x, y, strict=True)), default=0.0)
    return 0.0 if x == y else float("inf")


def compare(a: Path, b: Path) -> int:
    worst = 0.0
    for pa in sorted(a.glob("*.pkl")):
        pb = b / pa.name
        fa, fb = pickle.loads(pa.read_bytes()), pickle.loads(pb.read_bytes())
        same_json = (a / f"{pa.stem}.json").read_bytes() == (b / f"{pa.stem}.json").read_bytes()
        diffs = {k: difference(fa.get(k), fb.get(k)) for k in fa.keys() | fb.keys()}
        moved = {k: v for k, v in diffs.items() if v > 0}
        top = sorted(moved.items(), key=lambda kv: -kv[1])[:5]
        print(f"{pa.stem}: report.json {'identical' if same_json else 'DIFFERS'}; "
              f"{len(moved)} of {len(diffs)} figures moved"
              + "".join(f"\n    {k}: {v:.3g}" for k, v in top))  # fmt: skip
        worst = max(worst, max(diffs.values(), default=0.0))
    print(f"largest relative difference: {worst:.3g}")
    return 0 if worst < 1e-9 else 1


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "dump":
        dump(Path(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__.splitlines()[2:5], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
