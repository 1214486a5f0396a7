"""A sweep killed midway (SIGKILL) or interrupted (Ctrl-C) and started again with the same
command runs only what is missing: every run is stored exactly once and the store equals
a clean, uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments import ResultSet, load_sweep
from sim.experiments.store import run_file_name

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"
POINTS, REPS, PERIODS, FIRMS = 5, 4, 12, 2
SWEEP = f"""[sweep]
name = "killme"
scenario = "{BASE}"
set = ["market.n_customers=400", "market.periods={PERIODS}"]
replications = {REPS}
seed = 99
indicators = ["share", "complaints", "profit"]

[design]
method = "grid"

[design.parameters]
"firms.B.price" = [0.8, 0.9, 1.0, 1.1, 1.2]
"""


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    f = tmp_path_factory.mktemp("sweep") / "killme.toml"
    f.write_text(SWEEP)
    return f


@pytest.fixture(scope="module")
def clean(sweep_file, tmp_path_factory) -> pd.DataFrame:
    """The same sweep, uninterrupted, in this process."""
    return (
        load_sweep(sweep_file)
        .sweep.run(tmp_path_factory.mktemp("clean") / "s", progress=False)
        .periods
    )


def command(sweep_file: Path, out: Path, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sim.experiments",
        str(sweep_file),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--quiet",
        "--no-plots",
    ]


def stored(out: Path) -> int:
    runs = out / "runs"
    return len(list(runs.glob("p*.parquet"))) if runs.is_dir() else 0


def start_and_stop_after(cmd: list[str], out: Path, n: int, sig: int) -> subprocess.Popen:
    """Start the sweep in its own process group; send ``sig`` to the group (the parent and
    any pool workers, as a terminal's Ctrl-C does) once ``n`` runs are stored."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while stored(out) < n:
        assert proc.poll() is None, (
            f"the sweep ended before it could be stopped: {proc.communicate()}"
        )
        assert time.monotonic() < deadline, "no runs appeared"
        time.sleep(0.005)
    os.killpg(proc.pid, sig)
    return proc


def check_complete_and_equal(out: Path, clean: pd.DataFrame) -> None:
    names = sorted(p.name for p in (out / "runs").iterdir())
    assert names == sorted(
        run_file_name(p, r) for p in range(POINTS) for r in range(REPS)
    )  # no temp files
    got = ResultSet(out).periods
    sizes = got.groupby(["point", "replication"]).size()
    assert (
        len(sizes) == POINTS * REPS and (sizes == (PERIODS + 1) * (FIRMS + 1)).all()
    )  # each key once
    key = ["point", "replication", "period", "firm"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True), clean.sort_values(key).reset_index(drop=True)
    )


def test_sigkill_midway_then_the_same_command_finishes_exactly_what_is_missing(
    sweep_file, clean, tmp_path
):
    out = tmp_path / "store"
    cmd = command(sweep_file, out, workers=0)
    proc = start_and_stop_after(cmd, out, 3, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    at_kill = stored(out)
    assert 3 <= at_kill < POINTS * REPS
    (out / "runs" / ".p000004-r0003.4242.0badc0de.tmp").write_bytes(
        b"half a parquet file"
    )  # as if killed mid-write
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{at_kill} stored, {POINTS * REPS - at_kill} to run" in again.stderr
    check_complete_and_equal(out, clean)


def test_ctrl_c_stops_a_process_pool_cleanly_and_resumes(sweep_file, clean, tmp_path):
    out = tmp_path / "store"
    cmd = command(sweep_file, out, workers=2)
    proc = start_and_stop_after(cmd, out, 3, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    at_stop = stored(out)
    assert f"interrupted; {at_stop} of {POINTS * REPS} runs are stored" in err
    assert "Traceback" not in err
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{at_stop} stored, {POINTS * REPS - at_stop} to run" in again.stderr
    check_complete_and_equal(out, clean)
