"""Execute every notebook in notebooks/ (each must run top to bottom, quickly)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"{path.name} produced errors: {errors}"
    # the notebook must show something: at least one figure or printed result
    kinds = {
        out.get("output_type")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    }
    assert kinds & {"display_data", "execute_result", "stream"}, f"{path.name} showed nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_valid_nbformat_4_5(path):
    """Every cell has a unique id (nbformat >= 4.5; a missing id will become an error)."""
    import json

    nb = json.loads(path.read_text())
    assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5), path.name
    ids = [cell.get("id") for cell in nb["cells"]]
    assert None not in ids, f"{path.name}: cells without an id at {ids.index(None)}"
    assert len(set(ids)) == len(ids), f"{path.name}: repeated cell ids"
