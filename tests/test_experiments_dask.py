"""The same sweep on a real Dask cluster (two worker processes) gives the same numbers as
in this process, through the API (a Client) and through ``sim sweep --scheduler``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments import Grid, Sweep, main

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"
SMALL = ["market.n_customers=300", "market.periods=10"]


def sweep() -> Sweep:
    # 4 prices × 2 replications = 8 runs of 300 customers × 10 periods
    return Sweep(BASE, Grid({"firms.B.price": [0.8, 0.9, 1.1, 1.2]}), replications=2, seed=17,
                 overrides=SMALL, indicators=["share", "complaints", "profit", "nps"])


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as c:
        yield c


def executed(dask_worker) -> int:
    return dask_worker.state.executed_count


def sorted_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["point", "replication", "period", "firm"]).reset_index(drop=True)


def test_dask_cluster_gives_identical_results(cluster, tmp_path):
    reference = sweep().run(tmp_path / "seq", progress=False).periods
    with distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        before = client.run(executed)
        rs = sweep().run(tmp_path / "dask", client, progress=False)
        after = client.run(executed)
    # the 8 runs happened on the cluster's worker processes
    assert sum(after.values()) - sum(before.values()) == 8
    assert rs.complete and len(rs.store.done()) == 8
    pd.testing.assert_frame_equal(sorted_frame(rs.periods), sorted_frame(reference))


def test_sim_sweep_scheduler_flag_runs_on_the_cluster(cluster, tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(f'[sweep]\nscenario = "{BASE}"\nset = ["market.n_customers=300", "market.periods=10"]\n'
                 'replications = 2\nseed = 17\nindicators = ["share", "complaints", "profit", "nps"]\n'
                 '[design]\nmethod = "grid"\n[design.parameters]\n"firms.B.price" = [0.8, 0.9, 1.1, 1.2]\n')
    out = tmp_path / "out"
    assert main([str(f), "--scheduler", cluster.scheduler_address, "--out", str(out), "--quiet", "--no-plots"]) == 0
    assert "Dask cluster" in capsys.readouterr().err
    from sim.experiments import ResultSet

    reference = sweep().run(tmp_path / "seq", progress=False).periods
    pd.testing.assert_frame_equal(sorted_frame(ResultSet(out).periods), sorted_frame(reference))
