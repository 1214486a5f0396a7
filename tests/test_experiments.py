"""sim.experiments: designs, seeds, validation, the store, summaries, Sobol' indices,
plots, executors and the sim sweep command (small, quick markets)."""

from __future__ import annotations

import concurrent.futures as cf
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim import MarketModel
from sim.experiments import (
    Grid,
    LatinHypercube,
    Points,
    Range,
    ResultSet,
    Saltelli,
    Sweep,
    SweepError,
    encode_task,
    execute,
    load_sweep,
    main,
    mean_ci,
    replication_seed,
    run_task,
)
from sim.experiments.store import arrow_schema, to_table
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"
SMALL = ["market.n_customers=200", "market.periods=8"]
PERIODS, FIRMS = 8, ("A", "B")


def small_sweep(design=None, **kw) -> Sweep:
    design = design or Grid({"firms.B.price": [0.8, 1.2]})
    kw.setdefault("overrides", SMALL)
    kw.setdefault("replications", 2)
    kw.setdefault("seed", 5)
    kw.setdefault("indicators", ["share", "customers", "complaints", "profit", "nps"])
    return Sweep(BASE, design, **kw)


@pytest.fixture(scope="module")
def grid_rs(tmp_path_factory) -> ResultSet:
    """3 prices × 3 replications, run sequentially in this process."""
    store = tmp_path_factory.mktemp("grid")
    return small_sweep(Grid({"firms.B.price": [0.8, 1.0, 1.2]}), replications=3).run(
        store, progress=False
    )


def frame_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = (
        ["point", "replication", "period", "firm"]
        if "period" in a
        else ["point", "replication", "firm"]
    )
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    )


# ---------------------------------------------------------------- designs
def test_grid_is_the_cartesian_product_last_parameter_fastest():
    g = Grid({"firms.B.price": [0.9, 1.1], "firms.B.service": Range(0.5, 0.9, num=3)})
    pts = g.points()
    assert len(pts) == 6
    assert [p["firms.B.price"] for p in pts] == [0.9] * 3 + [1.1] * 3
    assert [p["firms.B.service"] for p in pts[:3]] == pytest.approx([0.5, 0.7, 0.9])
    # an integer parameter's grid range is rounded and de-duplicated
    assert Grid({"wom.positive_reach": Range(1, 3, num=5)}).points(
        integer={"wom.positive_reach"}
    ) == [{"wom.positive_reach": v} for v in (1, 2, 3)]


def test_latin_hypercube_puts_one_point_in_each_stratum_of_every_parameter():
    n = 20
    d = LatinHypercube(
        {"firms.B.price": (0.8, 1.2), "firms.B.service": Range(0.4, 0.9)}, samples=n, seed=3
    )
    pts = d.points()
    assert len(pts) == n
    for k, (lo, hi) in {"firms.B.price": (0.8, 1.2), "firms.B.service": (0.4, 0.9)}.items():
        strata = sorted(int((p[k] - lo) / (hi - lo) * n) for p in pts)
        assert strata == list(range(n))
    assert (
        pts
        == LatinHypercube(
            {"firms.B.price": (0.8, 1.2), "firms.B.service": Range(0.4, 0.9)}, n, seed=3
        ).points()
    )
    assert (
        pts
        != LatinHypercube(
            {"firms.B.price": (0.8, 1.2), "firms.B.service": Range(0.4, 0.9)}, n, seed=4
        ).points()
    )


def test_integer_parameters_take_every_integer_of_their_range_equally():
    d = LatinHypercube(
        {"wom.positive_reach": Range(1, 4), "firms.B.price": (0.8, 1.2)}, samples=40, seed=1
    )
    vals = [p["wom.positive_reach"] for p in d.points(integer={"wom.positive_reach"})]
    assert all(isinstance(v, int) for v in vals)
    assert sorted(set(vals)) == [1, 2, 3, 4] and all(vals.count(v) == 10 for v in (1, 2, 3, 4))


def test_saltelli_has_n_times_d_plus_2_points_and_rejects_bad_sizes():
    d = Saltelli({"a.x": (0, 1), "a.y": (0, 2), "a.z": (5, 6)}, samples=8)
    pts = d.points()
    assert len(pts) == 8 * (3 + 2)
    assert all(5 <= p["a.z"] <= 6 for p in pts)
    assert len(
        Saltelli({"a.x": (0, 1), "a.y": (0, 2)}, samples=8, second_order=True).points()
    ) == 8 * (2 * 2 + 2)
    with pytest.raises(SweepError, match="power of 2"):
        Saltelli({"a.x": (0, 1), "a.y": (0, 1)}, samples=10).points()
    with pytest.raises(SweepError, match="at least two"):
        Saltelli({"a.x": (0, 1)}, samples=8).points()


def test_points_must_all_set_the_same_parameters():
    with pytest.raises(SweepError, match="same parameters"):
        Points([{"firms.B.price": 0.9}, {"firms.B.service": 0.5}]).points()


# ---------------------------------------------------------------- seeds and plan
def test_common_random_numbers_share_seeds_across_points_not_replications():
    plan = small_sweep(replications=3).plan()
    seeds = [[plan.seed_of(p, r) for r in range(3)] for p in range(plan.n_points)]
    assert seeds[0] == seeds[1]  # same replication → same seed
    assert len(set(seeds[0])) == 3  # replications differ
    assert seeds[0][1] == replication_seed(5, 0, 1)  # documented derivation
    ind = small_sweep(replications=3, common_random_numbers=False).plan()
    allseeds = {ind.seed_of(p, r) for p in range(ind.n_points) for r in range(3)}
    assert len(allseeds) == 6
    assert all(0 <= s < 2**63 for s in allseeds)
    # seeds do not depend on the number of replications (a sweep can be extended)
    assert small_sweep(replications=5).plan().seed_of(1, 2) == plan.seed_of(1, 2)


def test_a_run_is_exactly_the_model_with_the_point_applied_and_its_seed(grid_rs):
    rs = grid_rs
    p = rs.periods
    run = p[(p["point"] == 2) & (p["replication"] == 1)]
    seed = int(run["seed"].iloc[0])
    assert seed == replication_seed(5, 2, 1)
    params = load_scenario(BASE, [*SMALL, "firms.B.price=1.2"]).params
    params.record_events = False
    m = MarketModel(params, seed=seed).run()
    f = m.firm_frame()
    mine = run[run["firm"] == "B"]
    assert mine["period"].tolist() == list(range(PERIODS + 1))
    np.testing.assert_array_equal(mine["share"].to_numpy(), f[f["firm"] == "B"]["share"].to_numpy())
    np.testing.assert_array_equal(
        run[run["firm"] == "market"]["nps"].to_numpy(), m.market_frame()["nps"].to_numpy()
    )
    assert (run["firms.B.price"] == 1.2).all()


def test_tidy_tables_have_documented_columns_and_one_row_per_run_period_firm(grid_rs):
    rs = grid_rs
    p = rs.periods
    assert list(p.columns[:6]) == [
        "point",
        "replication",
        "seed",
        "firms.B.price",
        "period",
        "firm",
    ]
    assert len(p) == 3 * 3 * (PERIODS + 1) * (len(FIRMS) + 1)
    assert not p.duplicated(["point", "replication", "period", "firm"]).any()
    assert p.loc[p["firm"] == "market", "share"].isna().all()  # share is a firm indicator
    assert p.loc[p["firm"] != "market", "nps"].isna().all()  # NPS is a market indicator
    s = rs.summary
    assert len(s) == 3 * 3 * 3 and list(s.columns[:5]) == [
        "point",
        "replication",
        "seed",
        "firms.B.price",
        "firm",
    ]
    # summary = mean over periods 1..T
    one = p[(p["point"] == 1) & (p["replication"] == 2) & (p["firm"] == "A") & (p["period"] > 0)]
    row = s[(s["point"] == 1) & (s["replication"] == 2) & (s["firm"] == "A")]
    assert row["profit"].item() == pytest.approx(one["profit"].mean())
    assert rs.design["firms.B.price"].tolist() == [0.8, 1.0, 1.2]


def test_price_lowers_share_and_shares_add_up(grid_rs):
    ci = grid_rs.ci("share", firm="B")
    assert ci["mean"].is_monotonic_decreasing
    s = grid_rs.summary
    tot = s[s["firm"] != "market"].groupby(["point", "replication"])["share"].sum()
    assert np.allclose(tot, 1.0)


# ---------------------------------------------------------------- summaries
def test_confidence_interval_contains_the_mean_and_is_the_t_interval(grid_rs):
    ci = grid_rs.ci()
    assert set(ci["indicator"]) == {"share", "customers", "complaints", "profit", "nps"}
    ok = ci.dropna(subset=["ci_low"])
    assert len(ok) == len(ci) and (ok["n"] == 3).all()
    assert ((ok["ci_low"] <= ok["mean"]) & (ok["mean"] <= ok["ci_high"])).all()
    row = ci[(ci["point"] == 0) & (ci["firm"] == "B") & (ci["indicator"] == "profit")].iloc[0]
    s = grid_rs.summary
    x = s[(s["point"] == 0) & (s["firm"] == "B")]["profit"].to_numpy()
    half = 4.302652729911275 * x.std(ddof=1) / math.sqrt(3)  # t_{0.975, 2}
    assert row["mean"] == pytest.approx(x.mean()) and row["ci_high"] == pytest.approx(
        x.mean() + half
    )
    # pooled by a parameter = the same here (one parameter)
    by = grid_rs.ci("profit", firm="B", by=["firms.B.price"])
    assert by["mean"].tolist() == pytest.approx(
        ci[(ci["firm"] == "B") & (ci["indicator"] == "profit")]["mean"].tolist()
    )


def test_mean_ci_edge_cases():
    assert mean_ci([2.0])[1] == 2.0 and math.isnan(mean_ci([2.0])[3])
    n, mean, sd, lo, hi = mean_ci([1.0, 2.0, 3.0, np.nan], level=0.9)
    assert n == 3 and mean == 2.0 and lo < 2.0 < hi
    assert (
        hi - lo < mean_ci([1.0, 2.0, 3.0], level=0.99)[4] - mean_ci([1.0, 2.0, 3.0], level=0.99)[3]
    )


def test_sobol_indices_find_the_driver_and_give_zero_to_a_parameter_without_effect(tmp_path):
    # complaint ease drives B's complaints; the remedy cost only changes B's costs
    d = Saltelli(
        {"firms.B.complaint_ease": (0.05, 0.9), "firms.B.remedy_cost": (0.1, 2.0)},
        samples=8,
        seed=2,
    )
    rs = small_sweep(
        d,
        replications=1,
        indicators=["complaints", "profit"],
        # problems (and so complaints) frequent enough in a small market for the ranking
        overrides=[*SMALL, "satisfaction.problem_threshold=0.05"],
    ).run(tmp_path / "s", progress=False)
    t = rs.sobol("complaints", "B").set_index("parameter")
    assert t.loc["firms.B.remedy_cost", "ST"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc["firms.B.remedy_cost", "S1"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc["firms.B.complaint_ease", "ST"] > 0.8
    assert t.loc["firms.B.complaint_ease", "S1"] > 0.5
    # profit depends on both
    tp = rs.sobol("profit", "B").set_index("parameter")
    assert tp.loc["firms.B.remedy_cost", "ST"] > 0.01
    grid = small_sweep().run(tmp_path / "g", progress=False)
    with pytest.raises(ValueError, match="Saltelli"):
        grid.sobol("complaints", "B")


def test_plots_draw_a_line_and_band_per_firm_and_sobol_bars(grid_rs, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = grid_rs.plot("share", "firms.B.price")
    assert [ln.get_label() for ln in ax.get_lines()] == ["A", "B"]
    assert len(ax.collections) == 2  # the two confidence bands
    ys = ax.get_lines()[1].get_ydata()
    assert list(ys) == pytest.approx(grid_rs.ci("share", firm="B")["mean"].tolist())
    plt.close(ax.figure)
    ax = grid_rs.plot("nps")  # a market-only indicator
    assert [ln.get_label() for ln in ax.get_lines()] == ["market"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="not recorded"):
        grid_rs.plot("clv")


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "design, kw, key, words",
    [
        (
            Grid({"firms.B.quality": Range(0.5, 1.5, num=3)}),
            {},
            "firms.B.quality",
            "must lie in [0.0, 1.0]",
        ),
        (
            LatinHypercube({"firms.B.quality": (0.5, 1.5)}, 4),
            {},
            "design.parameters.firms.B.quality.max",
            "[0.0, 1.0]",
        ),
        (Grid({"firms.C.price": [1.0]}), {}, "design.parameters.firms.C.price", "names: A, B"),
        (Grid({"wom.no_such_key": [1.0]}), {}, "wom.no_such_key", "unknown key"),
        (Grid({"scenario.seed": [1, 2]}), {}, "scenario.seed", "cannot be swept"),
        (
            Grid({"firms.B.price": [1.0]}),
            {"indicators": ["happiness"]},
            "sweep.indicators",
            "unknown indicator",
        ),
        (Grid({"firms.B.price": [1.0]}), {"replications": 0}, "sweep.replications", "[1, 100000]"),
        (
            Grid({"firms.B.price": [1.0]}),
            {"record": "everything"},
            "sweep.record",
            "periods, summary",
        ),
        (Grid({"firms.B.price": [1.0]}), {"window": 0}, "sweep.window", "≥ 1"),
        (
            Saltelli({"firms.B.price": (0.8, 1.2), "firms.B.service": (0.5, 0.9)}, 12),
            {},
            "design.samples",
            "power of 2",
        ),
    ],
)
def test_bad_sweeps_give_one_clear_line_naming_key_value_and_what_is_allowed(
    design, kw, key, words, tmp_path
):
    with pytest.raises(SweepError) as err:
        small_sweep(design, source="my.toml", **kw).run(tmp_path / "out", progress=False)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("my.toml: ") and key in msg and words in msg
    assert not (tmp_path / "out").exists()


def test_integer_parameters_are_detected_from_the_scenario_schema():
    plan = small_sweep(
        LatinHypercube({"wom.positive_reach": (0, 6), "firms.B.price": (0.8, 1.2)}, 8)
    ).plan()
    assert plan.types == {"wom.positive_reach": "int", "firms.B.price": "float"}
    assert plan.params_of(3).wom.positive_reach == plan.columns["wom.positive_reach"][3]
    grid = small_sweep(Grid({"wom.negative_reach": Range(2, 5, num=7)})).plan()
    assert (
        grid.columns["wom.negative_reach"] == [2, 3, 4, 5]
        and grid.types["wom.negative_reach"] == "int"
    )


def test_the_base_can_be_model_params_or_a_loaded_scenario():
    from sim import ModelParams

    p = ModelParams()
    p.market.n_customers = 100
    plan = Sweep(p, Grid({"firms.B.price": [0.9, 1.1]})).plan()
    assert plan.params_of(1).firms[1].price == 1.1 and plan.params_of(1).market.n_customers == 100
    sc = load_scenario(ROOT / "scenarios" / "price_war.toml")
    plan = Sweep(sc, Grid({"firms.A.quality": [0.6]}), overrides=["market.n_customers=100"]).plan()
    q = plan.params_of(0)
    assert (
        q.firms[0].quality == 0.6 and q.market.n_customers == 100 and q.events == sc.params.events
    )
    assert not q.record_events and q.panel_size == 0  # sweeps switch the event log off


def test_opening_a_folder_that_is_not_a_store_says_so(tmp_path):
    with pytest.raises(SweepError, match="not a sweep store"):
        ResultSet(tmp_path)


# ---------------------------------------------------------------- store, resume, executors
def test_resume_runs_only_missing_keys_and_leaves_stored_runs_untouched(grid_rs, tmp_path):
    import shutil

    store = tmp_path / "copy"
    shutil.copytree(grid_rs.path, store)
    runs = store / "runs"
    gone = sorted(runs.iterdir())[::4]
    for f in gone:
        f.unlink()
    (runs / ".p000000-r0000.123.deadbeef.tmp").write_bytes(b"partial")  # left by a killed writer
    before = {
        f.name: (f.stat().st_ino, f.stat().st_mtime_ns)
        for f in runs.iterdir()
        if not f.name.startswith(".")
    }
    rs = small_sweep(Grid({"firms.B.price": [0.8, 1.0, 1.2]}), replications=3).run(
        store, progress=False
    )
    after = {f.name: (f.stat().st_ino, f.stat().st_mtime_ns) for f in runs.iterdir()}
    assert set(after) == {
        f.name for f in grid_rs.path.joinpath("runs").iterdir()
    }  # no temp file left
    assert all(after[k] == v for k, v in before.items())  # untouched
    assert rs.complete
    frame_equal(rs.periods, grid_rs.periods)


def test_more_replications_extend_the_store_fewer_are_read_as_fewer(tmp_path):
    a = small_sweep(replications=2).run(tmp_path / "s", progress=False)
    first = a.periods
    b = small_sweep(replications=3).run(tmp_path / "s", progress=False)
    assert b.replications == 3 and len(b.store.done()) == 6
    frame_equal(b.periods[b.periods["replication"] < 2], first)
    c = small_sweep(replications=1).run(tmp_path / "s", progress=False)
    assert set(c.periods["replication"]) == {0}


def test_a_store_of_another_sweep_is_refused(tmp_path):
    small_sweep().run(tmp_path / "s", progress=False)
    with pytest.raises(SweepError, match="holds a different sweep .*points"):
        small_sweep(Grid({"firms.B.price": [0.7]})).run(tmp_path / "s", progress=False)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.txt").write_text("x")
    with pytest.raises(SweepError, match="not empty"):
        small_sweep().run(tmp_path / "junk", progress=False)


def test_summary_record_equals_the_summary_of_the_period_record(grid_rs, tmp_path):
    rs = small_sweep(
        Grid({"firms.B.price": [0.8, 1.0, 1.2]}), replications=3, record="summary"
    ).run(tmp_path / "s", progress=False)
    with pytest.raises(ValueError, match="summaries only"):
        rs.periods  # noqa: B018
    a, b = rs.summary, grid_rs.summary
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_any_executor_gives_identical_results(grid_rs, tmp_path):
    # (a process pool: tests/test_experiments_resume.py; a Dask cluster: test_experiments_dask.py)
    with cf.ThreadPoolExecutor(2) as ex:
        threads = small_sweep(Grid({"firms.B.price": [0.8, 1.0, 1.2]}), replications=3).run(
            tmp_path / "t", ex, progress=False
        )
    frame_equal(threads.periods, grid_rs.periods)


@pytest.mark.parametrize("record", ["periods", "summary"])
def test_a_worker_encodes_exactly_the_rows_of_run_task_in_the_store_schema(record):
    # every column type a design can give: float, int, bool and text parameters
    design = Points(
        [
            {
                "firms.B.price": 0.9,
                "wom.positive_reach": 2,
                "complaints.enabled": True,
                "firms.B.policy": "fixed",
            },
            {
                "firms.B.price": 1.1,
                "wom.positive_reach": 4,
                "complaints.enabled": False,
                "firms.B.policy": "cost_plus",
            },
        ]
    )
    plan = small_sweep(design, record=record, window=3).plan()
    manifest = plan.manifest()
    assert plan.types == {
        "firms.B.price": "float",
        "wom.positive_reach": "int",
        "complaints.enabled": "bool",
        "firms.B.policy": "str",
    }
    for task in plan.tasks([(0, 1), (1, 0)]):
        got = pq.read_table(io.BytesIO(encode_task(task)))
        want = to_table(run_task(task), manifest)
        assert got.schema.equals(arrow_schema(manifest))
        assert got.equals(want)
        assert got.num_rows == (PERIODS + 1) * 3 if record == "periods" else got.num_rows == 3


class CountingExecutor(cf.ThreadPoolExecutor):
    def __init__(self):
        super().__init__(2)
        self.outstanding = self.peak = 0

    def submit(self, fn, *args, **kw):
        self.outstanding += 1
        self.peak = max(self.peak, self.outstanding)
        return super().submit(fn, *args, **kw)


def test_runs_in_flight_are_bounded_whatever_the_number_of_runs():
    plan = small_sweep(
        Grid({"firms.B.price": [0.8, 0.9, 1.0, 1.1, 1.2]}),
        replications=2,
        overrides=["market.n_customers=60", "market.periods=2"],
    ).plan()
    ex = CountingExecutor()
    seen = []

    def handle(key, df):
        ex.outstanding -= 1
        seen.append(key)

    n = execute(
        plan.tasks([(p, r) for p in range(5) for r in range(2)]), ex, handle, max_in_flight=3
    )
    ex.shutdown()
    assert n == 10 and sorted(seen) == [(p, r) for p in range(5) for r in range(2)]
    assert ex.peak <= 3


# ---------------------------------------------------------------- sweep files and the command
def write_sweep(path: Path, body: str) -> Path:
    path.write_text(f'[sweep]\nscenario = "{BASE}"\nset = {json.dumps(SMALL)}\n' + body)
    return path


GOOD = """replications = 2
seed = 9
indicators = ["share", "complaints"]

[design]
method = "grid"

[design.parameters]
firms.B.price = [0.9, 1.1]

[analysis]
indicator = "share"
firm = "B"
"""


def test_sweep_file_keys_unquoted_or_quoted_mean_the_same(tmp_path):
    a = load_sweep(write_sweep(tmp_path / "a.toml", GOOD))
    b = load_sweep(
        write_sweep(tmp_path / "b.toml", GOOD.replace("firms.B.price", '"firms.B.price"'))
    )
    assert a.sweep.plan().manifest()["fingerprint"] == b.sweep.plan().manifest()["fingerprint"]
    assert a.out == Path("results/sweeps/a") and a.analysis == {"indicator": "share", "firm": "B"}


def test_example_sweep_files_are_valid():
    for path in sorted((ROOT / "sweeps").glob("*.toml")):
        plan = load_sweep(path).sweep.plan()
        assert plan.n_runs >= 1, path


def test_sim_sweep_runs_writes_the_store_and_analysis_and_resumes(tmp_path, capsys):
    f = write_sweep(tmp_path / "s.toml", GOOD)
    out = tmp_path / "out"
    assert main([str(f), "--out", str(out), "--workers", "0", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "share: mean and 95% confidence interval" in captured.out
    assert "4 to run" in captured.err
    assert (out / "manifest.json").exists() and len(list((out / "runs").glob("*.parquet"))) == 4
    assert (out / "analysis" / "ci.csv").exists() and (
        out / "analysis" / "plots" / "share-firms.B.price.png"
    ).exists()
    assert main([str(f), "--out", str(out), "--workers", "0", "--quiet", "--no-plots"]) == 0
    assert "4 stored, 0 to run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "body, words",
    [
        (GOOD.replace("seed = 9", "seeds = 9"), "sweep.seeds = 9: unknown key"),
        (
            GOOD.replace('method = "grid"', 'method = "random"'),
            "design.method = 'random': allowed: grid, list, lhs, saltelli",
        ),
        (
            GOOD.replace("[0.9, 1.1]", "[0.9, -1.0]"),
            "design.parameters.firms.B.price = -1.0: must lie in [0.0, 1000000000.0]",
        ),
        (
            GOOD.replace('indicator = "share"', 'indicator = "profit"'),
            "analysis.indicator = 'profit': not among sweep.indicators",
        ),
        (GOOD.replace('firm = "B"', 'firm = "Z"'), "analysis.firm = 'Z': allowed: A, B, market"),
        (
            GOOD.replace("replications = 2", 'replications = "two"'),
            "sweep.replications = 'two': must be an integer",
        ),
        (GOOD.replace("[design]", "[desing]"), "desing = "),
    ],
)
def test_sim_sweep_bad_input_exits_2_with_one_line_and_writes_nothing(
    body, words, tmp_path, capsys
):
    f = write_sweep(tmp_path / "bad.toml", body)
    out = tmp_path / "out"
    assert main([str(f), "--out", str(out), "--workers", "0", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        len(err.splitlines()) == 1 and err.startswith(f"sim sweep: error: {f}") and words in err
    ), err
    assert not out.exists()


def test_sim_sweep_bad_flags_and_missing_files(tmp_path, capsys):
    f = write_sweep(tmp_path / "s.toml", GOOD)
    cases = [
        ([str(tmp_path / "nope.toml")], "file not found"),
        ([str(f), "--workers", "-1"], "--workers -1"),
        ([str(f), "--workers", "2", "--scheduler", "tcp://x:1"], "not allowed with argument"),
        ([str(f), "--frobnicate"], "unrecognized arguments"),
    ]
    for args, words in cases:
        assert main([*args, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err, err
    assert not (tmp_path / "o").exists()
    # --plan writes nothing either
    assert main([str(f), "--out", str(tmp_path / "o"), "--plan"]) == 0
    assert "2 design points (grid) × 2 replication(s) = 4 runs" in capsys.readouterr().out
    assert not (tmp_path / "o").exists()


def test_the_sweep_command_is_routed_from_sim(tmp_path):
    from sim.cli import main as sim_main

    f = write_sweep(tmp_path / "s.toml", GOOD)
    assert sim_main(["sweep", str(f), "--out", str(tmp_path / "o"), "--plan"]) == 0


WARM = """
import sys
import sim.model
from sim import accel
from sim.experiments.sweep import warm_kernels
kernels = [
    v for m in list(sys.modules.values()) if (getattr(m, "__name__", "") or "").startswith("sim.")
    for v in vars(m).values() if hasattr(v, "signatures") and hasattr(v, "py_func")
]
loaded = lambda: sum(bool(k.signatures) for k in kernels)
assert kernels and loaded() == 0
with accel.use(False):
    warm_kernels()
assert loaded() == 0, "kernels loaded although switched off"
warm_kernels()
print(loaded(), len(kernels))
"""


def test_warm_kernels_loads_the_compiled_kernels_a_fork_server_hands_to_its_workers():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", WARM], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    loaded, total = int(out[0]), int(out[1])
    assert loaded >= total // 2  # a 2-period run calls most kernels (some only on rare paths)
