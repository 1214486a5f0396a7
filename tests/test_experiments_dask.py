"""The same sweep on a real Dask cluster (two worker processes) gives the same numbers as
in this process, through the API (a Client) and through ``sim sweep --scheduler``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments import Grid, ResultSet, Sweep, main

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"
SWEEP_FILE = f"""[sweep]
scenario = "{BASE}"
set = ["market.n_customers=300", "market.periods=10"]
replications = 2
seed = 17
indicators = ["share", "complaints", "profit", "nps"]

[design]
method = "grid"

[design.parameters]
"firms.B.price" = [0.8, 0.9, 1.1, 1.2]
"""


def sweep() -> Sweep:
    # the sweep file's sweep: 4 prices × 2 replications = 8 runs of 300 customers × 10 periods
    return Sweep(
        BASE,
        Grid({"firms.B.price": [0.8, 0.9, 1.1, 1.2]}),
        replications=2,
        seed=17,
        overrides=["market.n_customers=300", "market.periods=10"],
        indicators=["share", "complaints", "profit", "nps"],
    )


def executed(dask_worker) -> int:
    return dask_worker.state.executed_count


def sorted_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["point", "replication", "period", "firm"]).reset_index(drop=True)


def test_a_dask_cluster_gives_identical_results_via_the_api_and_the_command(tmp_path, capsys):
    reference = sorted_frame(sweep().run(tmp_path / "seq", progress=False).periods)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
            before = sum(client.run(executed).values())
            rs = sweep().run(tmp_path / "dask", client, progress=False)
            assert sum(client.run(executed).values()) - before == 8  # the 8 runs ran on the workers
        assert rs.complete
        pd.testing.assert_frame_equal(sorted_frame(rs.periods), reference)

        f = tmp_path / "s.toml"
        f.write_text(SWEEP_FILE)
        out = tmp_path / "cli"
        assert (
            main(
                [
                    str(f),
                    "--scheduler",
                    cluster.scheduler_address,
                    "--out",
                    str(out),
                    "--quiet",
                    "--no-plots",
                ]
            )
            == 0
        )
        assert "Dask cluster" in capsys.readouterr().err
        pd.testing.assert_frame_equal(sorted_frame(ResultSet(out).periods), reference)
