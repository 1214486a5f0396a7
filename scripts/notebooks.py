"""Student notebooks from the teacher's, and notebooks stored with their outputs.

The teacher's notebooks in notebooks/teacher/ are the one source. A student notebook
(notebooks/<same name>) is the teacher's without its solutions: cells tagged ``solution``
become an empty answer cell, cells tagged ``teacher`` (notes) are left out.

    .venv/bin/python scripts/notebooks.py            # write the student notebooks, run every
                                                     # notebook and store it with its outputs
    .venv/bin/python scripts/notebooks.py --no-run   # only write the student notebooks
    .venv/bin/python scripts/notebooks.py --check    # exit 1 if a student notebook is stale

Notebooks are stored with their outputs so they can be read without running them; the test
suite still runs every one (tests/test_notebooks.py).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TEACHER = NOTEBOOKS / "teacher"
ANSWER = "# Your answer here: write and run your code, then compare with the class.\n"


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def student_version(teacher: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student notebook of a teacher notebook (outputs cleared)."""
    nb = copy.deepcopy(teacher)
    cells = []
    for cell in nb.cells:
        tags = _tags(cell)
        if "teacher" in tags:
            continue
        if "solution" in tags:
            cell = nbformat.v4.new_code_cell(ANSWER)
            cell.metadata["tags"] = ["answer"]
        cells.append(_clean(cell))
    nb.cells = cells
    return nb


def _clean(cell):
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _sources(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def stale() -> list[Path]:
    """Student notebooks that do not match their teacher's version."""
    out = []
    for t in sorted(TEACHER.glob("*.ipynb")):
        s = NOTEBOOKS / t.name
        want = student_version(nbformat.read(t, as_version=4))
        if not s.exists() or _sources(nbformat.read(s, as_version=4)) != _sources(want):
            out.append(s)
    return out


def execute(path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a student notebook is stale")
    ap.add_argument("--no-run", action="store_true", help="do not run the notebooks")
    ap.add_argument("only", nargs="*", help="run only these notebooks (paths)")
    a = ap.parse_args(argv)
    if a.check:
        bad = stale()
        for p in bad:
            print(f"stale: {p.relative_to(ROOT)} (run scripts/notebooks.py)", file=sys.stderr)
        return 1 if bad else 0
    for student in stale():  # an up-to-date student notebook keeps its outputs
        teacher = nbformat.read(TEACHER / student.name, as_version=4)
        nbformat.write(student_version(teacher), student)
    if not a.no_run:
        paths = [Path(p).resolve() for p in a.only] or sorted(
            [*NOTEBOOKS.glob("*.ipynb"), *TEACHER.glob("*.ipynb")]
        )
        for p in paths:
            print(f"running {p.relative_to(ROOT)}", flush=True)
            execute(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
