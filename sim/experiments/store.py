"""The sweep store: a folder that is a Parquet dataset, written one run at a time.

Layout::

    <store>/
      manifest.json          the sweep: parameters, their column types, every design point,
                             replications, root seed, seeding rule, indicators, fingerprint
      runs/
        p000003-r0001.parquet  one file per (design point, replication): its tidy rows

Each run file is written under a hidden temporary name in ``runs/`` and renamed with
``os.replace`` once complete (after ``fsync``), so a file either holds a whole run or does
not exist: a sweep killed at any moment leaves complete runs and, at most, hidden
temporary files, which the next start deletes. The file name *is* the key, so a run can
be stored at most once; resuming runs exactly the keys without a file. Readers use
``pyarrow.dataset`` over ``runs/`` (hidden files are ignored) with the schema from the
manifest.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .design import SweepError

__all__ = ["Store", "arrow_schema", "encode_table", "run_file_name", "to_table"]

FORMAT = "sim-sweep/1"
_RUN = re.compile(r"^p(\d{6,})-r(\d{4,})\.parquet$")
_ARROW = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "str": pa.string()}


def run_file_name(point: int, replication: int) -> str:
    """``p000012-r0003.parquet``: the file (and key) of one run."""
    return f"p{point:06d}-r{replication:04d}.parquet"


class Store:
    """A sweep's folder. ``Store(path)`` only stores the path; nothing is touched until a
    method is called."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def runs_dir(self) -> Path:
        return self.path / "runs"

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    # ------------------------------------------------------------------ manifest
    def read_manifest(self) -> dict | None:
        """The manifest, or None when the folder holds no sweep yet."""
        if not self.manifest_path.exists():
            return None
        try:
            m = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise SweepError(
                str(self.manifest_path), "", None, f"unreadable sweep manifest ({exc})"
            ) from None
        if m.get("format") != FORMAT:
            raise SweepError(
                str(self.manifest_path),
                "format",
                m.get("format"),
                f"not a sweep store (expected {FORMAT})",
            )
        return m

    def check_usable(self, manifest: dict) -> dict | None:
        """Raise :class:`SweepError` if the folder cannot hold this sweep (a file, or a
        different sweep); return the existing manifest (None if new). Writes nothing."""
        if self.path.exists() and not self.path.is_dir():
            raise SweepError("", "out", str(self.path), "exists and is not a folder")
        if self.path.is_dir() and not self.manifest_path.exists() and any(self.path.iterdir()):
            raise SweepError(
                "",
                "out",
                str(self.path),
                "folder exists, is not empty and holds no sweep; choose another folder",
            )
        old = self.read_manifest()
        if old is not None and old.get("fingerprint") != manifest["fingerprint"]:
            diff = [
                k
                for k in (
                    "base_scenario_sha256",
                    "parameters",
                    "types",
                    "points",
                    "seed",
                    "common_random_numbers",
                    "indicators",
                    "window",
                    "record",
                )
                if old.get(k) != manifest.get(k)
            ]
            raise SweepError(
                "",
                "out",
                str(self.path),
                "holds a different sweep (it differs in: "
                + (", ".join(diff) or "fingerprint")
                + "); choose another folder or delete this one",
            )
        return old

    def open(self, manifest: dict) -> None:
        """Create the folder, write the manifest (atomically) and delete stale temporary
        files left by a killed sweep."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        old = self.read_manifest()
        if old is None or old != manifest:
            keep = dict(manifest)
            if old is not None:
                keep["created_utc"] = old.get("created_utc", manifest.get("created_utc"))
            if old != keep:
                _atomic_write_bytes(
                    self.manifest_path, (json.dumps(keep, indent=1) + "\n").encode()
                )
        for folder in (self.path, self.runs_dir):
            for p in folder.iterdir():
                if p.name.startswith(".") and p.name.endswith(".tmp"):
                    p.unlink(missing_ok=True)

    # ------------------------------------------------------------------ runs
    def done(self) -> set[tuple[int, int]]:
        """Keys ``(point, replication)`` of the runs stored."""
        if not self.runs_dir.is_dir():
            return set()
        out = set()
        for e in os.scandir(self.runs_dir):
            m = _RUN.match(e.name)
            if m:
                out.add((int(m.group(1)), int(m.group(2))))
        return out

    def write_run(self, point: int, replication: int, table: pa.Table | bytes) -> Path:
        """Write one run's rows atomically (temporary file, fsync, ``os.replace``).

        Args:
            point: the design point.
            replication: the replication.
            table: the rows as an Arrow table, or already as Parquet bytes
                (:func:`encode_table`, as sweep workers return them).

        Returns:
            the run's file.
        """
        final = self.runs_dir / run_file_name(point, replication)
        if isinstance(table, bytes):
            _atomic_write_bytes(final, table)
        else:
            _atomic_write(final, lambda fh: pq.write_table(table, fh))
        return final

    def read(self, manifest: dict, columns: list[str] | None = None) -> pd.DataFrame:
        """Every stored run of the manifest's sweep (replications below the manifest's
        count), sorted by point and replication, each run's rows in their written order."""
        import pyarrow.dataset as ds

        schema = arrow_schema(manifest)
        files = sorted(
            self.runs_dir / run_file_name(p, r)
            for p, r in self.done()
            if r < manifest["replications"] and p < len(manifest["points"])
        )
        if not files:
            return (
                schema.empty_table().to_pandas()
                if columns is None
                else schema.empty_table().select(columns).to_pandas()
            )
        data = ds.dataset([str(f) for f in files], schema=schema, format="parquet")
        return data.to_table(columns=columns).to_pandas()


def arrow_schema(manifest: dict) -> pa.Schema:
    """The schema of every run file of a sweep (from its manifest)."""
    fields = [
        pa.field("point", pa.int64()),
        pa.field("replication", pa.int64()),
        pa.field("seed", pa.int64()),
    ]
    fields += [pa.field(k, _ARROW[manifest["types"][k]]) for k in manifest["parameters"]]
    if manifest["record"] == "periods":
        fields.append(pa.field("period", pa.int64()))
    fields.append(pa.field("firm", pa.string()))
    fields += [pa.field(k, pa.float64()) for k in manifest["indicators"]]
    return pa.schema(fields)


def _atomic_write_bytes(path: Path, blob: bytes) -> None:
    _atomic_write(path, lambda fh: fh.write(blob))


def _atomic_write(path: Path, write) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``, fsync, then rename it to
    ``path``; on any error the temporary file is removed and ``path`` is untouched."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def encode_table(table: pa.Table) -> bytes:
    """A run's Arrow table as the bytes of its Parquet file (written by the store as is)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def to_table(df: pd.DataFrame, manifest: dict) -> pa.Table:
    """A run's rows as an Arrow table with the sweep's schema."""
    return pa.Table.from_pandas(df, schema=arrow_schema(manifest), preserve_index=False)
