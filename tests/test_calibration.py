"""Calibration: targets, the two methods, recovery of known parameters, the
identifiability warning, resume after a kill, and bad input (one line, exit 2, nothing
written)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import (
    Calibration,
    CalibrationError,
    FreeParameter,
    load_calibration,
    main,
    register_moment,
)
from sim.calibration.moments import MOMENTS
from sim.calibration.synthetic import synthetic_targets
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"
# complaining made easy (ease 0.8) so that complaints, about 6% of problems at the default
# ease, are frequent enough in a small market to inform complaints.max_prob
SMALL = [
    "market.n_customers=1000",
    "market.periods=12",
    "firms.A.complaint_ease=0.8",
    "firms.B.complaint_ease=0.8",
]
TRUTH = {
    "firms.B.price": 1.08,
    "churn.base_rate": 0.018,
    "complaints.max_prob": 0.62,
    "firms.A.quality": 0.78,
}
RANGES = {
    "firms.B.price": (0.8, 1.3),
    "churn.base_rate": (0.005, 0.06, "loguniform"),
    "complaints.max_prob": (0.2, 0.9),
    "firms.A.quality": (0.5, 0.95),
}
SERIES = [
    ("churn_rate", "A"),
    ("churn_rate", "B"),
    ("share", "B"),
    ("mean_satisfaction", "A"),
    ("mean_satisfaction", "B"),
    ("complaints", "A"),
    ("complaints", "B"),
    ("nps", "market"),
]


@pytest.fixture(scope="module")
def observed() -> pd.DataFrame:
    """Means over 12 months of seven KPIs (and NPS, held out) at hidden parameters."""
    return synthetic_targets(
        BASE, TRUTH, SERIES, monthly=False, seed=99, replications=6, noise=0.5, overrides=SMALL
    )


# ---------------------------------------------------------------------- targets
def test_statistics_are_deterministic_and_read_the_tables(observed):
    plan = Calibration(BASE, observed, RANGES, overrides=SMALL, holdout=["nps"]).plan()
    sim = plan.simulator
    a, b = sim.run(TRUTH), sim.run(TRUTH)
    assert np.array_equal(a, b)  # same seeds, same numbers
    p = sim.params(TRUTH)
    assert not p.record_events and p.panel_size == 0  # no overhead that serves no target
    assert p.firms[1].price == pytest.approx(1.08)
    # a monthly target reads the firm table's row
    sc = load_scenario(BASE, SMALL)
    monthly = pd.DataFrame({"kpi": ["share"], "firm": ["B"], "period": [5], "value": [0.5]})
    pm = Calibration(sc, monthly, {"firms.B.price": (0.8, 1.2)}, method="optimize").plan()
    from sim import MarketModel

    m = MarketModel(pm.simulator.params({"firms.B.price": 1.1}), seed=pm.simulator.seeds[0]).run()
    f = m.firm_frame()
    want = f.loc[(f["firm"] == "B") & (f["period"] == 5), "share"].iloc[0]
    assert pm.simulator.run({"firms.B.price": 1.1})[0] == pytest.approx(want)


def test_a_registered_moment_is_a_target(observed):
    @register_moment("served_share_test", firm="market")
    def served(model, firm):
        """Share of the population that is someone's customer."""
        return float((model.pop.status == 1).mean())

    try:
        t = pd.DataFrame(
            {"kpi": ["served_share_test", "share"], "firm": ["", "B"], "value": [0.8, 0.5]}
        )
        plan = Calibration(BASE, t, {"firms.B.price": (0.8, 1.2)}, overrides=SMALL).plan()
        s = plan.simulator.run({"firms.B.price": 1.0})
        assert 0 < s[0] <= 1 and plan.targets["kind"].tolist() == ["moment", "firm"]
    finally:
        MOMENTS.pop("served_share_test")


# ---------------------------------------------------------------------- recovery
def test_recovers_four_known_parameters(observed, tmp_path):
    """Each hidden value lies inside the 90% posterior interval and near the point
    estimate (within a quarter of its prior range, in the prior's scale)."""
    cal = Calibration(
        BASE,
        observed,
        RANGES,
        holdout=["nps"],
        method="both",
        trials=50,
        particles=30,
        populations=4,
        min_epsilon=1.0,
        draws=8,
        overrides=SMALL,
        seed=5,
    )
    res = cal.run(tmp_path, None, progress=False, plots=False)
    tab = res.parameters.set_index("parameter")
    for fp in cal.plan().parameters:
        truth = TRUTH[fp.key]
        row = tab.loc[fp.key]
        assert row["q05"] <= truth <= row["q95"], (fp.key, truth, row.to_dict())
        assert abs(fp.to_unit(row["point_estimate"]) - fp.to_unit(truth)) < 0.25, fp.key
        # the data inform it: the posterior is narrower than the prior
        assert fp.to_unit(row["q95"]) - fp.to_unit(row["q05"]) < 0.8, fp.key
    assert res.predictive_check["kpi"].tolist() == ["nps"]
    folder = res.folder
    for name in ("calibrated.toml", "parameters.csv", "fit.csv", "posterior.csv", "manifest.json"):
        assert (folder / name).is_file(), name
    sc = load_scenario(folder / "calibrated.toml")  # ready for `sim run`
    assert sc.params.firms[1].price == pytest.approx(res.point["firms.B.price"], abs=1e-6)


def test_identifiability_warning_on_an_unidentifiable_pair(tmp_path):
    """Complaints at A depend on ease_A × max_prob: A's complaints alone cannot pin down
    both, and the posterior says so."""
    obs = synthetic_targets(
        BASE,
        {"complaints.max_prob": 0.5, "firms.A.complaint_ease": 0.5},
        [("complaints", "A"), ("churn_rate", "A"), ("mean_satisfaction", "A")],
        monthly=False,
        seed=3,
        replications=4,
        overrides=SMALL[:2],  # its own complaint ease is a free parameter
    )
    cal = Calibration(
        BASE,
        obs,
        {"complaints.max_prob": (0.2, 1.0), "firms.A.complaint_ease": (0.2, 1.0)},
        method="abc",
        particles=30,
        populations=3,
        draws=4,
        overrides=SMALL[:2],  # its own complaint ease is a free parameter
        seed=2,
    )
    res = cal.run(tmp_path, None, progress=False, plots=False)
    text = " ".join(res.warnings)
    assert "complaints.max_prob" in text and "firms.A.complaint_ease" in text, res.warnings
    assert (res.folder / "warnings.txt").read_text().strip()


# ---------------------------------------------------------------------- resume
def _write_example(tmp: Path, obs: pd.DataFrame, out: Path) -> Path:
    obs.to_csv(tmp / "obs.csv", index=False)
    f = tmp / "cal.toml"
    f.write_text(
        f"""[calibration]
name = "killme"
scenario = "{BASE}"
set = ["market.n_customers=500", "market.periods=8"]
seed = 4
out = "{out}"

[targets]
file = "obs.csv"
holdout = ["nps"]

[parameters]
"firms.B.price" = {{min = 0.8, max = 1.3}}
"complaints.max_prob" = {{min = 0.2, max = 0.9}}

[optimizer]
trials = 8

[abc]
particles = 20
populations = 3

[predictive]
draws = 4
"""
    )
    return f


def _generations(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as c:
            return c.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_midway_the_same_command_resumes(observed, tmp_path):
    out = tmp_path / "out"
    f = _write_example(tmp_path, observed, out)
    cmd = [sys.executable, "-m", "sim.calibration", str(f), "--workers", "0", "--quiet"]
    cmd += ["--no-plots"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    dbs = []
    while time.time() < deadline and proc.poll() is None:
        dbs = list(out.glob("killme/state-*/abc.db"))
        if dbs and _generations(dbs[0]) >= 1:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not [p for p in (out / "killme").iterdir() if not p.name.startswith("state-")]
    rc = main([str(f), "--workers", "0", "--quiet", "--no-plots"])
    assert rc == 0
    (run,) = [p for p in (out / "killme").iterdir() if not p.name.startswith("state-")]
    man = json.loads((run / "manifest.json").read_text())
    assert man["resumed_from"]["trials"] == 8  # the point estimate was done: not rerun
    assert man["resumed_from"]["generations"] >= 1  # finished generations kept
    gens = pd.read_csv(run / "generations.csv")
    assert gens["t"].tolist() == [0, 1, 2]
    assert len(pd.read_csv(run / "trials.csv")) == 8


# ---------------------------------------------------------------------- bad input
BAD_CASES = {
    "unknown KPI": ("csv", "kpi,firm,period,value\nchurn,A,1,0.05\nshare,B,1,0.5\n", "unknown KPI"),
    "unknown firm": (
        "csv",
        "kpi,firm,period,value\nshare,Z,1,0.5\nshare,B,2,0.5\n",
        "unknown firm",
    ),
    "too long": (
        "csv",
        "kpi,firm,period,value\nshare,B,1,0.5\nshare,B,13,0.5\nshare,A,2,0.5\n",
        "mismatched lengths",
    ),
    "NaN": ("csv", "kpi,firm,period,value\nshare,B,1,nan\nshare,B,2,0.5\n", "finite number"),
    "range outside allowed": (
        "param",
        '"firms.B.quality" = {min = 0.5, max = 1.5}',
        "allowed range",
    ),
    "integer parameter": ("param", '"complaints.late_delay" = {min = 1, max = 4}', "real-valued"),
    "unknown key": ("param", '"firms.B.colour" = {min = 0.5, max = 1.5}', "unknown key"),
    "empty range": ("param", '"firms.B.price" = {min = 1.0, max = 1.0}', "empty range"),
    "more parameters than targets": (
        "param",
        '"firms.B.price" = {min = 0.8, max = 1.2}\n"firms.A.price" = {min = 0.8, max = 1.2}\n'
        '"churn.base_rate" = {min = 0.01, max = 0.05}\n"firms.A.quality" = {min = 0.5, max = 0.9}',
        "not identifiable",
    ),
    "mechanism off": ("param", '"wom.positive_talk" = {min = 0.1, max = 0.5}', "switched off"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_one_line_exit_2_nothing_written(case, tmp_path, capsys):
    where, text, expect = BAD_CASES[case]
    csv = "kpi,firm,period,value\nshare,B,1,0.5\nshare,B,2,0.5\nshare,B,3,0.5\n"
    params = '"firms.B.price" = {min = 0.8, max = 1.2}'
    if where == "csv":
        csv = text
    else:
        params = text
    (tmp_path / "obs.csv").write_text(csv)
    out = tmp_path / "out"
    sets = [*SMALL, "wom.enabled=false"] if case == "mechanism off" else SMALL
    (tmp_path / "c.toml").write_text(
        f'[calibration]\nscenario = "{BASE}"\nset = {json.dumps(sets)}\nout = "{out}"\n'
        f'[targets]\nfile = "obs.csv"\n[parameters]\n{params}\n'
    )
    rc = main([str(tmp_path / "c.toml"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and expect in err, err
    assert not out.exists()


def test_bad_file_keys_and_flags(tmp_path, capsys):
    (tmp_path / "c.toml").write_text('[calibration]\nscenario = "nope.toml"\n')
    assert main([str(tmp_path / "c.toml")]) == 2
    assert "file not found" in capsys.readouterr().err
    with pytest.raises(CalibrationError, match="unknown table"):
        (tmp_path / "d.toml").write_text("[calibrate]\n")
        load_calibration(tmp_path / "d.toml")
    with pytest.raises(CalibrationError, match="loguniform prior needs min > 0"):
        Calibration(
            BASE,
            pd.DataFrame({"kpi": ["share"] * 3, "firm": ["B"] * 3, "value": [0.5] * 3}),
            [FreeParameter("firms.B.price", 0.0, 1.2, "loguniform")],
        ).plan()


def test_shipped_example_is_valid():
    cal, out = load_calibration(ROOT / "calibrations" / "example.toml")
    plan = cal.plan()
    assert len(plan.parameters) == 4 and (~plan.targets["used"]).sum() == 24  # NPS held out
    assert main([str(ROOT / "calibrations" / "example.toml"), "--plan"]) == 0


def test_sim_calibrate_is_a_command(tmp_path, capsys):
    from sim.cli import main as sim_main

    assert sim_main(["calibrate", "--help"]) == 0
    assert "usage: sim calibrate" in capsys.readouterr().out
    assert sim_main(["calibrate", str(tmp_path / "missing.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["pool", "dask"])
def test_runs_on_a_process_pool_and_on_dask_with_the_same_numbers(where, tmp_path):
    """The executors of the sweeps run the candidates; a candidate's statistics do not
    depend on where it ran."""
    tiny = ["market.n_customers=300", "market.periods=6"]
    obs = pd.DataFrame(
        {
            "kpi": ["share", "churn_rate", "churn_rate"],
            "firm": ["B", "A", "B"],
            "value": [0.45, 0.05, 0.05],
        }
    )
    cal = Calibration(
        BASE,
        obs,
        {"firms.B.price": (0.8, 1.3)},
        trials=6,
        particles=8,
        populations=1,
        draws=3,
        overrides=tiny,
        seed=1,
    )
    if where == "pool":
        res = cal.run(tmp_path, 2, progress=False, plots=False)
    else:
        distributed = pytest.importorskip("distributed")
        with distributed.Client(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ) as client:
            res = cal.run(tmp_path, client, progress=False, plots=False)
    assert len(res.trials) == 6 and len(res.posterior) == 8
    here = cal.plan().simulator.run(res.point)
    assert np.allclose(res.fit["point_estimate"].to_numpy(), here, equal_nan=True)


def test_shipped_observed_data_are_the_model_at_the_hidden_parameters():
    """calibrations/example_observed.csv is what make_example.py makes with today's model
    (when the model's defaults change, run `python calibrations/make_example.py`)."""
    import runpy

    ns = runpy.run_path(str(ROOT / "calibrations" / "make_example.py"))
    made = synthetic_targets(
        BASE,
        ns["TRUTH"],
        ns["SERIES"],
        seed=2024,
        replications=8,
        noise=0.5,
        overrides=ns["OVERRIDES"],
    )
    shipped = pd.read_csv(ROOT / "calibrations" / "example_observed.csv")
    assert shipped[["kpi", "firm", "period"]].equals(made[["kpi", "firm", "period"]])
    np.testing.assert_allclose(shipped["value"], made["value"], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(shipped["se"], made["se"], rtol=1e-5, atol=1e-9)
