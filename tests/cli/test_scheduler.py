"""`--scheduler` on `run` and `compare` with --replications: the runs go to a Dask scheduler's
workers and give the local processes' figures; without --replications it is a mistake."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_sweep_command import camsim
from tests.test_cli import assert_one_line_error


def _summary(stdout: str) -> str:
    """The report, without the closing line (it gives the elapsed time and --out)."""
    return "\n".join(x for x in stdout.splitlines() if not x.startswith("simulated in"))


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, scheduler_kwargs={"dashboard": False}
    ) as c:
        yield c


def _ran(cluster) -> int:
    return sum(w.state.executed_count for w in cluster.workers.values())


def test_run_replications_on_a_scheduler_equal_the_local_ones(data_dir, tmp_path, cluster):
    args = ("run", data_dir / "outages.yaml", "--days", 0.1, "--replications", 3, "-q")
    local = camsim(*args, "--out", tmp_path / "local")
    assert local.exit_code == 0, local.output
    before = _ran(cluster)
    dask = camsim(*args, "--out", tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert dask.exit_code == 0, dask.output
    assert _ran(cluster) - before == 3  # the three replications ran on the cluster's workers
    assert _summary(dask.stdout) == _summary(local.stdout)
    report = [json.loads((tmp_path / d / "report.json").read_text()) for d in ("local", "dask")]
    assert report[0] == report[1]


def test_compare_replications_on_a_scheduler_equal_the_local_ones(data_dir, cluster):
    args = ("compare", data_dir / "outages.yaml", data_dir / "cbr_city.yaml", "--days", 0.1,
            "--replications", 2, "-q")  # fmt: skip
    local = camsim(*args)
    assert local.exit_code == 0, local.output
    before = _ran(cluster)
    dask = camsim(*args, "--scheduler", cluster.scheduler_address)
    assert dask.exit_code == 0, dask.output
    assert _ran(cluster) - before == 4  # 2 scenarios × 2 replications
    assert dask.stdout == local.stdout


@pytest.mark.parametrize("command", ["run", "compare"])
def test_scheduler_without_replications_or_with_jobs_is_one_line(data_dir, tmp_path, command):
    city = data_dir / "cbr_city.yaml"
    args = [command, city] + ([city] if command == "compare" else ["--out", tmp_path / "o"])
    args += ["--days", 0.05]
    assert_one_line_error(camsim(*args, "--scheduler", "x:1"), "--scheduler", "--replications")
    assert_one_line_error(
        camsim(*args, "--replications", 2, "--jobs", 2, "--scheduler", "x:1"), "--jobs"
    )
    assert not (tmp_path / "o").exists()
