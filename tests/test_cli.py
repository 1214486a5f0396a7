"""The sim command: run folders, replay, bad input, compare, explain, cascades."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.runner import read_run

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"
SMALL = ["--set", "market.n_customers=300", "--periods", "12", "--quiet", "--format", "both"]


def sim(*args) -> int:
    return main([str(a) for a in args])


def only_run(out: Path) -> Path:
    runs = [p for p in (out / "baseline").iterdir()]
    assert len(runs) == 1
    return runs[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("results")
    assert (
        sim(
            "run",
            BASE,
            "--out",
            out,
            "--set",
            "market.n_customers=400",
            "--periods",
            "18",
            "--quiet",
            "--format",
            "both",
        )
        == 0
    )
    return only_run(out)


def test_run_folder_has_everything(run_dir, capsys):
    names = {p.name for p in run_dir.iterdir()}
    for f in (
        "scenario.toml",
        "manifest.json",
        "summary.csv",
        "cascades.csv",
        "customers.parquet",
        "plots",
    ):
        assert f in names
    for t in ("firms", "market", "events", "panel"):
        assert f"{t}.parquet" in names and f"{t}.csv" in names
        pq, csv = pd.read_parquet(run_dir / f"{t}.parquet"), pd.read_csv(run_dir / f"{t}.csv")
        assert len(pq) == len(csv) > 0
    plots = {p.name for p in (run_dir / "plots").iterdir()}
    for p in (
        "share.png",
        "mean_satisfaction.png",
        "churn_rate.png",
        "complaints_resolution.png",
        "wom.png",
        "cascade_sizes.png",
        "profit.png",
        "overview.png",
        "levers.png",
        "headline.png",
        "profit_concentration.png",
    ):
        assert p in plots
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["seed"] == 42 and m["periods"] == 18 and m["customers"] == 400
    assert m["versions"]["mesa"].startswith("3.")
    assert len(m["scenario_sha256"]) == 64 and m["wall_seconds"] > 0
    assert m["started_utc"] <= m["finished_utc"]


def test_resolved_scenario_replays_identically(run_dir, tmp_path):
    """The scenario.toml written into a run folder reproduces the run exactly."""
    assert (
        sim(
            "run",
            run_dir / "scenario.toml",
            "--out",
            tmp_path,
            "--quiet",
            "--no-plots",
            "--format",
            "both",
        )
        == 0
    )
    again = only_run(tmp_path)
    for t in ("firms", "market", "events"):
        assert (again / f"{t}.csv").read_bytes() == (run_dir / f"{t}.csv").read_bytes()


def digest(folder: Path) -> dict[str, str]:
    return {
        t: hashlib.sha256((folder / f"{t}.{ext}").read_bytes()).hexdigest()
        for t in ("firms", "market", "events")
        for ext in ("csv", "parquet")
    }


def test_replay_is_byte_identical_in_another_process(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert sim("run", BASE, "--out", a, *SMALL, "--no-plots") == 0
    cmd = [sys.executable, "-m", "sim.cli", "run", str(BASE), "--out", str(b), *SMALL, "--no-plots"]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    da, db = digest(only_run(a)), digest(only_run(b))
    assert da == db


def test_seed_flag_changes_the_run(tmp_path):
    assert sim("run", BASE, "--out", tmp_path / "a", *SMALL, "--no-plots") == 0
    assert sim("run", BASE, "--out", tmp_path / "b", *SMALL, "--no-plots", "--seed", "7") == 0
    fa = pd.read_csv(only_run(tmp_path / "a") / "firms.csv")
    fb = pd.read_csv(only_run(tmp_path / "b") / "firms.csv")
    assert not fa.equals(fb)


def test_validate_ok(capsys):
    for p in sorted((ROOT / "scenarios").glob("*.toml")):
        assert sim("validate", p) == 0
    assert "ok:" in capsys.readouterr().out


BAD = {
    "unknown key": ("[market]\nn_customer = 10\n", "market.n_customer", "unknown key; allowed"),
    "wrong type": ('[market]\nn_customers = "many"\n', "market.n_customers", "must be an integer"),
    "out of range": (
        '[[firms]]\nname = "A"\nquality = 1.5\n',
        "firms[0].quality",
        "must lie in [0.0, 1.0]",
    ),
    "malformed": ("[market\nn_customers = 10\n", "", "malformed TOML"),
    "unknown policy": (
        '[[firms]]\nname = "A"\npolicy = "psychic"\n',
        "firms[0].policy",
        "unknown policy; allowed",
    ),
    "unknown network": ('[network]\nkind = "lattice"\n', "network.kind", "allowed: small_world"),
    "event after end": (
        '[market]\nperiods = 10\n[[firms]]\nname = "A"\n[[events]]\nperiod = 11\nfirm = "A"\nkind = "price"\nvalue = 0.9\n',
        "events[0].period",
        "after the last period",
    ),
    "unknown event firm": (
        '[[events]]\nperiod = 3\nfirm = "Z"\nkind = "price"\nvalue = 0.9\n',
        "events[0].firm",
        "unknown firm",
    ),
    "unknown event kind": (
        '[[events]]\nperiod = 3\nfirm = "A"\nkind = "meteor"\n',
        "events[0].kind",
        "unknown event kind",
    ),
    "missing edgelist": (
        '[network]\nkind = "edgelist"\npath = "nowhere.csv"\n',
        "network.path",
        "file not found",
    ),
    "unknown section": ("[marketing]\nbudget = 3\n", "marketing", "unknown section"),
    "duplicate firms": (
        '[[firms]]\nname = "A"\n[[firms]]\nname = "A"\n',
        "firms[1].name",
        "unique",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenarios_exit_2_with_one_clear_line_and_write_nothing(case, tmp_path, capsys):
    text, key, allowed = BAD[case]
    f = tmp_path / "bad.toml"
    f.write_text(text)
    out = tmp_path / "results"
    assert sim("run", f, "--out", out, "--quiet") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert str(f) in err and key in err and allowed in err
    assert not out.exists() or not any(out.rglob("*"))
    assert sim("validate", f) == 2


def test_missing_scenario_file(tmp_path, capsys):
    assert sim("run", tmp_path / "nope.toml", "--out", tmp_path / "r") == 2
    assert "nope.toml: file not found" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_bad_flags(tmp_path, capsys):
    assert sim("run", BASE, "--periods", "0", "--out", tmp_path) == 2
    assert "--periods 0" in capsys.readouterr().err
    assert sim("run", BASE, "--set", "firms.Z.price=1", "--out", tmp_path) == 2
    assert "firms.Z" in capsys.readouterr().err
    assert sim("run", BASE, "--set", "market.periods=-3", "--out", tmp_path) == 2
    assert "market.periods = -3" in capsys.readouterr().err
    assert sim("run") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scenario" in err
    assert not any(tmp_path.rglob("*.csv"))


def test_set_overrides_by_firm_name(tmp_path):
    assert (
        sim("run", BASE, "--out", tmp_path, *SMALL, "--no-plots", "--set", "firms.B.price=1.3") == 0
    )
    f = pd.read_csv(only_run(tmp_path) / "firms.csv")
    assert (f[f.firm == "B"].price == 1.3).all() and (f[f.firm == "A"].price == 1.0).all()


# a malformed-file generator: valid scenario text with one corruption
CORRUPTIONS = st.sampled_from(
    [
        ("n_customers = 2000", "n_customers = {v}"),
        ("periods = 60", "periods = {v}"),
        ("degree = 10", "degree = {v}"),
        ("rewire = 0.1", "rewire = {v}"),
        ('kind = "small_world"', "kind = {v}"),
        ('name = "B"', 'name = "B"\nprice = {v}'),
        ('name = "A"', 'name = "A"\n{k} = 1'),
        ("[network]", "[network]\n{k} = {v}"),
    ]
)
BAD_VALUES = st.sampled_from(
    ["-1", "1e99", '"x"', "true", "[1, 2]", "{a = 1}", "nan", "-0.5", "2.5", "''", "1.5e3"]
)
BAD_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corruption=CORRUPTIONS, value=BAD_VALUES, key=BAD_KEYS, truncate=st.integers(0, 40))
def test_property_malformed_files_never_crash(tmp_path, corruption, value, key, truncate):
    """Whatever the corruption, the loader either accepts the file or raises one
    ScenarioError naming the file; it never raises anything else."""
    from sim.scenario import ScenarioError, load_scenario

    text = BASE.read_text()
    old, new = corruption
    text = text.replace(old, new.format(v=value, k=key), 1)
    if truncate:
        text = text[: max(0, len(text) - truncate * 7)]
    f = tmp_path / "gen.toml"
    f.write_text(text)
    try:
        sc = load_scenario(f)
    except ScenarioError as exc:
        msg = str(exc)
        assert msg.startswith(str(f)) and "\n" not in msg
    else:
        assert sc.params.market.n_customers >= 1


def test_failed_run_leaves_no_partial_folder(tmp_path, monkeypatch):
    import sim.runner as runner

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runner, "summarise", boom)
    with pytest.raises(RuntimeError):
        sim("run", BASE, "--out", tmp_path, *SMALL, "--no-plots")
    leftovers = list((tmp_path / "baseline").iterdir())
    assert leftovers == []


def test_compare(run_dir, tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        sim(
            "run",
            BASE,
            "--out",
            out,
            "--set",
            "market.n_customers=400",
            "--periods",
            "18",
            "--quiet",
            "--set",
            "firms.B.price=1.2",
        )
        == 0
    )
    other = only_run(out)
    cmp_dir = tmp_path / "cmp"
    assert sim("compare", run_dir, other, "--out", cmp_dir) == 0
    table = pd.read_csv(cmp_dir / "comparison.csv")
    assert (cmp_dir / "comparison.png").stat().st_size > 10_000
    share = table[(table.firm == "B") & (table.kpi == "final_share")].sort_values("mean")
    assert len(share) == 2 and share.iloc[0]["run"] != share.iloc[1]["run"]
    diffs = pd.read_csv(cmp_dir / "differences.csv")
    assert "firms.B.price" in set(diffs["input"])
    captured = capsys.readouterr().out
    assert "final_share" in captured
    assert sim("compare", run_dir) == 2
    assert sim("compare", run_dir, tmp_path / "not-a-run") == 2


def test_explain_tells_a_customers_story(run_dir, capsys):
    run = read_run(run_dir)
    ev = run["events"]
    who = int(ev.loc[ev.event == "complaint", "customer"].iloc[0])
    assert sim("explain", run_dir, "--customer", who) == 0
    story = capsys.readouterr().out
    assert f"Customer {who}" in story and "complained to" in story and "Satisfaction path" in story
    ref = ev[ev.event == "referral"]
    if len(ref):
        referred = int(ref.iloc[0]["customer"])
        assert sim("explain", run_dir, "--customer", referred) == 0
        assert "referral" in capsys.readouterr().out
    assert sim("explain", run_dir, "--customer", 10_000) == 2
    assert "no such customer" in capsys.readouterr().err


def test_cascades_report(run_dir, capsys):
    assert sim("cascades", run_dir) == 0
    out = capsys.readouterr().out
    assert "Referral cascades" in out and "max_depth" in out and "wom_neg" in out
    assert sim("cascades", run_dir.parent) == 2


def test_cascades_report_counts_influence_trees_as_the_validation_does(run_dir, capsys):
    """`sim cascades` also shows the influence trees (word of mouth, imitation, referrals):
    their number per replication is what sim.validation.cascade_sizes counts."""
    from sim.runner import read_run
    from sim.validation import cascade_sizes

    assert sim("cascades", run_dir) == 0
    out = capsys.readouterr().out
    assert "Influence trees" in out
    run = read_run(run_dir)
    ev = run["events"]
    ev = ev.assign(replication=0) if "replication" not in ev else ev
    trees = pd.concat(
        [cascade_sizes(ev[ev["replication"] == r]) for r in ev["replication"].unique()]
    )
    assert len(trees) > 0
    total = int(trees["size"].value_counts().sum())
    shown = out.split("Influence trees")[1].split("Size distribution: ")[1].splitlines()[0]
    assert sum(int(part.split(": ")[1]) for part in shown.split(", ")) == total


@pytest.mark.parametrize("command", ["sweep", "tournament", "dashboard"])
def test_delegated_commands_take_options_first(command, capsys):
    try:
        code = sim(command, "--help")
    except SystemExit as e:  # argparse's own exit
        code = e.code
    assert code == 0
    assert f"usage: sim {command}" in capsys.readouterr().out


def test_bad_edgelist_is_caught_by_validate(tmp_path, capsys):
    edges = tmp_path / "edges.txt"
    edges.write_text("0 1\n1 99999\n")
    f = tmp_path / "net.toml"
    f.write_text(f'[market]\nn_customers = 100\n[network]\nkind = "edgelist"\npath = "{edges}"\n')
    assert sim("validate", f) == 2
    err = capsys.readouterr().err
    assert "network.path" in err and "0..99" in err
    f.write_text(
        f'[market]\nn_customers = 100\n[network]\nkind = "edgelist"\npath = "{tmp_path}"\n'
    )
    assert sim("run", f, "--out", tmp_path / "r", "--quiet") == 2
    assert "not a folder" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_out_under_a_file_fails_before_running(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert sim("run", BASE, "--out", blocker / "x", *SMALL) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_compare_out_onto_a_file(run_dir, tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert sim("compare", run_dir, run_dir, "--out", blocker) == 2
    assert "not a folder" in capsys.readouterr().err


def test_corrupt_run_folders_give_one_line(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text("{bad")
    assert sim("explain", bad, "--customer", 1) == 2
    assert "not a valid manifest" in capsys.readouterr().err
    (bad / "manifest.json").write_text("{}")
    assert sim("cascades", bad) == 2
    assert "manifest lacks" in capsys.readouterr().err
    (bad / "manifest.json").write_text('{"scenario": "x", "firms": ["A"]}')
    assert sim("cascades", bad) == 2
    assert "incomplete run folder" in capsys.readouterr().err


#: column renames that turn this version's tables into those of run folders written before
#: the firm was named ``firm`` (name) and ``firm_index`` in every table
_TO_OLD = {
    "firms": {"firm": "name", "firm_index": "firm"},
    "events": {"firm": "firm_name", "firm_index": "firm", "other_firm_index": "other_firm"},
    "panel": {"firm_index": "firm", "last_firm_index": "last_firm"},
    "customers": {"firm_index": "firm", "last_firm_index": "last_firm"},
}
_DROP = {
    "events": ["other_firm"],
    "panel": ["firm", "last_firm"],
    "customers": ["firm", "last_firm"],
}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_run_folders_written_before_the_firm_naming_are_read_renamed(
    run_dir, tmp_path, fmt, capsys
):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    for table, ren in _TO_OLD.items():
        for p in old.glob(f"{table}.*"):
            p.unlink()
        df = read_run(run_dir)[table].drop(columns=_DROP.get(table, [])).rename(columns=ren)
        assert "firm_index" not in df and ("firm" in df)
        if fmt == "parquet":
            df.to_parquet(old / f"{table}.parquet")
        else:
            df.to_csv(old / f"{table}.csv", index=False)
    new_dir = run_dir
    if fmt == "csv":  # compare with this version's CSV tables
        new_dir = tmp_path / "new"
        shutil.copytree(run_dir, new_dir)
        for p in new_dir.glob("*.parquet"):
            p.unlink()
    got, want = read_run(old), read_run(new_dir)
    for table in _TO_OLD:
        assert list(got[table].columns) == list(want[table].columns), table
        pd.testing.assert_frame_equal(got[table], want[table], check_dtype=False, obj=table)
    ev = got["events"]
    assert set(ev["firm"]) <= {"A", "B", ""} and (ev["firm"] == "").eq(ev["firm_index"] < 0).all()
    # the readers accept the old folder: compare (no differences), explain, cascades
    cmp_dir = tmp_path / "cmp"
    assert sim("compare", old, new_dir, "--out", cmp_dir) == 0
    deltas = pd.read_csv(cmp_dir / "deltas.csv")
    assert (deltas["delta"].abs() < 1e-12).all()
    who = int(ev.loc[ev.event == "complaint", "customer"].iloc[0])
    assert sim("explain", old, "--customer", who) == 0
    assert sim("cascades", old) == 0
    assert "Referral cascades" in capsys.readouterr().out
