"""The project's generator of malformed inputs (hypothesis strategies).

Four families, each derived from the schema rather than written out by hand:

- scenario documents: a valid scenario with one or more keys (any key of any section,
  a firm, the scenario table, the output table) set to a hostile value, removed, or
  joined by an unknown key;
- timeline events: every registered event kind, with hostile values in its fields;
- command lines: every ``sim`` command with hostile flag values;
- run folders: a real run folder with one table, column or manifest entry tampered.

The property is the same for all: the input is either accepted (and then every value
lies in its declared range) or refused with one line; nothing else (no traceback, no
hang, no exit code other than 0 or 2).

``python -m tests.malformed N [M]`` runs N examples of the document and event families
and M (default N) of the command-line and run-folder ones, and prints the counts
(tried, clean, failures).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import math
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import params as P
from sim.scenario import EVENTS, SECTIONS, ScenarioError, parse_scenario, read_toml

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline.toml"

#: values that have broken loaders before: non-finite, huge, wrong type, deep, long
HOSTILE = st.one_of(
    st.sampled_from(
        [
            math.nan,
            math.inf,
            -math.inf,
            1e308,
            -1e308,
            -1,
            0,
            2**63,
            2**64,
            10**30,
            -(2**70),
            "",
            "none",
            "x" * 300,
            "../" * 40,
            True,
            [],
            {},
            [1, "a"],
            {"x": 1},
            0.5,
            1.5,
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.text(max_size=20),
    st.recursive(st.integers(0, 3), lambda c: st.lists(c, max_size=2), max_leaves=40),
)


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


#: every key path of the schema a document can hold (derived from the dataclasses)
KEY_PATHS = (
    [("scenario", k) for k in ("name", "title", "seed", "replications")]
    + [(s, k) for s, cls in SECTIONS.items() for k in _fields(cls)]
    + [("firms", 0, k) for k in _fields(P.FirmParams)]
    + [("output", k) for k in P.OUTPUT_KEYS]
    + [("market", "segments", 0, k) for k in _fields(P.SegmentParams)]
)


def base_document() -> dict:
    """The shipped baseline, made small enough to parse quickly."""
    data = read_toml(BASE)
    data.setdefault("market", {})["n_customers"] = 500
    return data


def _set(doc: dict, path: tuple, value) -> None:
    node = doc
    for part in path[:-1]:
        if not isinstance(node, (dict, list)) or node == []:
            return  # a section of the wrong type already: nothing to reach into
        if isinstance(node, list) != isinstance(part, int):
            return  # the shape was changed by an earlier mutation
        if isinstance(node, list):
            node = node[part] if part < len(node) else node[-1]
        else:
            node = node.setdefault(part, [{}] if part in ("firms", "segments") else {})
            if isinstance(node, list) and not node:
                node.append({})
    if isinstance(node, dict):
        node[path[-1]] = value


@st.composite
def documents(draw) -> dict:
    """A scenario document with 1–3 hostile changes."""
    doc = base_document()
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["value", "value", "value", "unknown", "delete", "type"]))
        path = draw(st.sampled_from(KEY_PATHS))
        if how == "value":
            _set(doc, path, draw(HOSTILE))
        elif how == "unknown":
            _set(doc, (*path[:-1], draw(st.text("abcxyz_", min_size=1, max_size=8))), 1)
        elif how == "delete":
            section = doc.get(path[0])
            if isinstance(section, dict):
                section.pop(path[-1], None)
        else:  # a section of the wrong type
            doc[path[0]] = draw(st.sampled_from([5, "x", [1], True]))
    return doc


@st.composite
def events(draw) -> dict:
    """A document whose timeline holds events of every kind with hostile fields."""
    doc = base_document()
    evs = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(EVENTS)))
        spec = EVENTS[kind]
        period = st.one_of(st.integers(1, 12), st.sampled_from([0, -1, 10**9, 1.5, "1"]))
        ev = {"kind": kind, "period": draw(period)}
        ev["firm"] = draw(st.one_of(st.sampled_from(["A", "B"]), st.sampled_from(["Z", "", 1])))
        for key in (*spec.required, *spec.optional):
            if key == "set":
                ev[key] = {
                    draw(st.sampled_from(["price", "quality", "capacity", "nope"])): draw(HOSTILE)
                }
            elif key == "on":
                ev[key] = draw(st.sampled_from([True, False, 1, "yes"]))
            elif key == "duration":
                if draw(st.booleans()) or key in spec.required:
                    ev[key] = draw(
                        st.one_of(st.integers(1, 6), st.sampled_from([0, -2, 10**6, 1.5, True]))
                    )
            else:
                ev[key] = draw(st.one_of(st.floats(0, 1), HOSTILE))
        evs.append(ev)
    doc["events"] = evs
    return doc


def check_in_ranges(obj, where: str = "") -> None:
    """Every number of an accepted scenario is finite and in its declared range."""
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            check_in_ranges(v, f"{where}{f.name}.")
            continue
        if isinstance(v, list):
            for i, item in enumerate(v):
                if dataclasses.is_dataclass(item):
                    check_in_ranges(item, f"{where}{f.name}[{i}].")
            continue
        lo, hi = (f.metadata or {}).get("range", (None, None))
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert math.isfinite(v), f"{where}{f.name} = {v}"
            assert lo is None or v >= lo, f"{where}{f.name} = {v} < {lo}"
            assert hi is None or v <= hi, f"{where}{f.name} = {v} > {hi}"


def check_document(doc: dict) -> str:
    """Parse ``doc``: 'accepted' (values checked) or 'refused' (one line); else raise."""
    try:
        sc = parse_scenario(copy.deepcopy(doc), source="gen.toml", base_dir=ROOT)
    except ScenarioError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg.startswith("gen.toml"), msg
        return "refused"
    check_in_ranges(sc.params)
    for e in sc.params.events:
        for lever, v in e["set"].items():
            if isinstance(v, float):
                assert math.isfinite(v), (lever, v)
                lo, hi = next(
                    f.metadata["range"] for f in dataclasses.fields(P.FirmParams) if f.name == lever
                )
                assert (lo is None or v >= lo) and (hi is None or v <= hi), (lever, v)
    return "accepted"


#: command lines: every command, hostile flag values (never a long simulation)
COMMANDS = st.one_of(
    st.tuples(
        st.just("run"),
        st.just(str(BASE)),
        st.sampled_from(["--seed", "--periods", "--replications"]),
        st.sampled_from(["abc", "1e3", "-1", "0", str(2**64), str(10**30), "", "1.5", "nan"]),
        st.just("--set"),
        st.sampled_from(["market.n_customers=100001000000", "market.periods=0"]),
    ),
    st.tuples(
        st.just("validate"),
        st.sampled_from([str(BASE), "/dev/zero", "/dev/null", "/proc/self/mem", "/", "x" * 5000]),
        st.just("--set"),
        st.sampled_from(
            [
                "market.n_customers.x=1",
                "market=5",
                "firms.Z.price=1",
                "firms.0.price=nan",
                "market.periods=" + "[" * 2000,
                ".".join(["a"] * 3000) + "=1",
                "scenario.seed=18446744073709551616",
                "scenario.name=" + "n" * 300,
                "noequals",
            ]
        ),
    ),
    st.tuples(
        st.sampled_from(["explain", "cascades", "compare"]),
        st.sampled_from(["/nonexistent", "/dev/null", str(BASE), "/"]),
        st.sampled_from(["--customer", "--out", "--bogus"]),
        st.sampled_from(["abc", "-5", "1e3", ""]),
    ),
    st.tuples(
        st.sampled_from(["sweep", "tournament", "dashboard"]),
        st.sampled_from(["--workers", "--replications", "--port", "--seed", "--nope"]),
        st.sampled_from(["abc", "-1", "1e3"]),
    ),
    st.lists(st.sampled_from(["--quiet", "-x", "--out", "bogus", "run"]), max_size=2).map(tuple),
)


def check_command(argv: tuple, out: Path) -> str:
    """Run ``sim ARGV``: exit 0, or 2 with exactly one line on stderr; nothing else."""
    from sim.cli import main

    args = [a.replace("OUT", str(out)) for a in argv]
    if args[:1] == ["run"]:
        args += ["--out", str(out), "--quiet", "--no-plots", "--set", "market.n_customers=200"]
    err, std = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(std):
        rc = main(args)
    text = err.getvalue()
    assert rc in (0, 2), (argv, rc, text[-300:])
    if rc == 2:
        assert text.count("\n") == 1 and "Traceback" not in text, (argv, text[-300:])
        return "refused"
    return "accepted"


#: ways to damage a run folder: (file, what to do)
TAMPERS = st.tuples(
    st.sampled_from(["firms", "events", "market", "panel", "customers", "manifest"]),
    st.sampled_from(
        ["drop_column", "text_column", "empty", "garbage", "delete", "rename_firm", "nan"]
    ),
    st.integers(0, 60),
)


def tamper(folder: Path, table: str, how: str, k: int) -> None:
    """Damage ``folder`` in place (one table, column or manifest entry)."""
    import pandas as pd

    if table == "manifest":
        mf = folder / "manifest.json"
        m = json.loads(mf.read_text())
        keys = sorted(m)
        key = keys[k % len(keys)]
        if how == "delete":
            m.pop(key)
        elif how == "garbage":
            mf.write_bytes(b"\x00\xff{")
            return
        else:
            m[key] = [None, "x", 5, {"a": 1}, [], "A"][k % 6]
        mf.write_text(json.dumps(m))
        return
    p = folder / f"{table}.parquet"
    if how == "delete":
        p.unlink()
        return
    if how == "garbage":
        p.write_bytes(b"PAR1" + bytes(range(256)) * (k + 1))
        return
    df = pd.read_parquet(p)
    cols = list(df.columns)
    col = cols[k % len(cols)]
    if how == "drop_column":
        df = df.drop(columns=[col])
    elif how == "text_column":
        df[col] = "x"
    elif how == "empty":
        df = df.iloc[0:0]
    elif how == "rename_firm" and "name" in df:
        df["firm"] = "Z"
    elif how == "nan" and len(df):
        df[col] = None
    df.to_parquet(p)


def check_run_folder(folder: Path, out: Path) -> list[str]:
    """``compare``, ``cascades`` and ``explain`` on a (damaged) folder: exit 0 or 2 with
    one line (a damaged folder must not give 0 if it cannot be read)."""
    outcomes = []
    for argv in (
        ["cascades", str(folder)],
        ["explain", str(folder), "--customer", "3"],
        ["compare", str(folder), str(folder), "--out", str(out / "cmp")],
    ):
        outcomes.append(check_command(tuple(argv), out))
    return outcomes


def campaign(
    n: int, run_folder: Path | None = None, tmp: Path | None = None, n_slow: int | None = None
) -> dict:
    """Run ``n`` examples of the document and event families and ``n_slow`` (default
    ``n``) of the command-line and run-folder ones (each of those runs the CLI);
    return the counts per family: (tried, clean, failures)."""
    import shutil
    import tempfile

    tmp = Path(tmp or tempfile.mkdtemp())
    counts: dict[str, list[int]] = {}
    failures: list[str] = []
    outcomes: dict[str, int] = {}

    def record(family: str, fn) -> None:
        c = counts.setdefault(family, [0, 0, 0])
        c[0] += 1
        try:
            got = fn()
            for o in got if isinstance(got, list) else [got]:
                outcomes[f"{family}: {o}"] = outcomes.get(f"{family}: {o}", 0) + 1
            c[1] += 1
        except Exception as exc:  # a failure of the property: count and keep going
            c[2] += 1
            failures.append(f"{family}: {type(exc).__name__}: {str(exc)[:200]}")

    opts = settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )

    @opts
    @given(documents())
    def docs(doc):
        record("scenario documents", lambda: check_document(doc))

    @opts
    @given(events())
    def evs(doc):
        record("timeline events", lambda: check_document(doc))

    slow_opts = settings(opts, max_examples=n if n_slow is None else n_slow)

    @slow_opts
    @given(COMMANDS)
    def cmds(argv):
        record("command lines", lambda: check_command(argv, tmp / "cli"))

    docs()
    evs()
    cmds()
    if run_folder is not None:

        @slow_opts
        @given(TAMPERS)
        def folders(t):
            target = tmp / "tampered"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(run_folder, target)
            tamper(target, *t)
            record("run folders", lambda: check_run_folder(target, tmp / "cli"))

        folders()
    return {
        "counts": {k: tuple(v) for k, v in counts.items()},
        "outcomes": outcomes,
        "failures": failures,
    }


if __name__ == "__main__":  # python -m tests.malformed N
    import tempfile

    from sim.cli import main

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    n_slow = int(sys.argv[2]) if len(sys.argv) > 2 else n
    work = Path(tempfile.mkdtemp())
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        main(
            [
                "run",
                str(BASE),
                "--out",
                str(work / "r"),
                "--quiet",
                "--no-plots",
                "--periods",
                "6",
                "--set",
                "market.n_customers=300",
            ]
        )
    run = next((work / "r" / "baseline").iterdir())
    res = campaign(n, run, work, n_slow=n_slow)
    total = [0, 0, 0]
    for fam, (tried, clean, bad) in res["counts"].items():
        print(f"{fam:20s} tried {tried:5d}  clean {clean:5d}  failures {bad}")
        total = [a + b for a, b in zip(total, (tried, clean, bad), strict=True)]
    print(f"{'total':20s} tried {total[0]:5d}  clean {total[1]:5d}  failures {total[2]}")
    print("outcomes:", ", ".join(f"{k} {v}" for k, v in sorted(res["outcomes"].items())))
    for f in res["failures"][:30]:
        print("  ", f)
