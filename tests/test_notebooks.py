"""Every notebook in notebooks/ (and the teacher's versions in notebooks/teacher/) runs clean
from top to bottom, is stored with its outputs, and every student notebook is its teacher
notebook without the solutions (scripts/notebooks.py writes them from the one source)."""

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TEACHER = sorted((ROOT / "notebooks" / "teacher").glob("*.ipynb"))
STUDENT = [ROOT / "notebooks" / t.name for t in TEACHER]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + TEACHER
#: a student notebook's code is its teacher notebook's code minus the solutions (checked
#: below), so running the teacher's version runs every line of both
RUN = [p for p in NOTEBOOKS if p not in STUDENT]


def _script():
    spec = importlib.util.spec_from_file_location("nb_script", ROOT / "scripts" / "notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _name(p: Path) -> str:
    return ("teacher/" if p.parent.name == "teacher" else "") + p.stem


@pytest.mark.parametrize("path", RUN, ids=_name)
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_is_stored_with_its_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.execution_count for c in code), (
        f"{path.name}: run scripts/notebooks.py to store it with its outputs"
    )
    assert any(c.outputs for c in code)
    assert not any(o.output_type == "error" for c in code for o in c.outputs)


def test_student_notebooks_are_the_teachers_without_solutions():
    nb = _script()
    assert nb.stale() == [], "run scripts/notebooks.py"
    teachers = sorted((ROOT / "notebooks" / "teacher").glob("*.ipynb"))
    assert len(teachers) >= 4
    for t in teachers:
        teacher = nbformat.read(t, as_version=4)
        student = nbformat.read(ROOT / "notebooks" / t.name, as_version=4)
        solutions = [c for c in teacher.cells if "solution" in c.metadata.get("tags", [])]
        assert solutions, f"{t.name} has no solution cell"
        text = "\n".join(c.source for c in student.cells)
        for c in solutions:
            assert c.source not in text
        assert "Teacher's note" not in text
        answers = [c for c in student.cells if "answer" in c.metadata.get("tags", [])]
        assert len(answers) == len(solutions)
        # every other code cell of the student's version is a cell of the teacher's, in order
        assert all(
            line.strip().startswith("#") or not line.strip()
            for c in answers
            for line in c.source.splitlines()
        )
        own = [c.source for c in student.cells if c.cell_type == "code" and c not in answers]
        theirs = [c.source for c in teacher.cells if c.cell_type == "code" and c not in solutions]
        assert own == theirs
