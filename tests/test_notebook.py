"""The notebook tour (docs/tour.ipynb) runs from top to bottom, and matches docs/make_tour.py."""

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

DOCS = Path(__file__).resolve().parents[1] / "docs"
pytestmark = pytest.mark.slow


def _maker():
    spec = importlib.util.spec_from_file_location("make_tour", DOCS / "make_tour.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_notebook_is_the_one_make_tour_writes():
    committed = nbformat.read(DOCS / "tour.ipynb", as_version=4)
    built = _maker().build()
    assert [c.source for c in committed.cells] == [c.source for c in built.cells]
    assert all(c.outputs for c in committed.cells if c.cell_type == "code"
               and not c.source.startswith("import")), "commit the executed notebook"


def test_the_tour_executes_without_errors_and_shows_html_tables(tmp_path):
    nb = nbformat.read(DOCS / "tour.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    _maker().execute(nb, tmp_path)  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(html) >= 4 and all("<table" in h for h in html)
    assert any("History" in h for h in html) and any("A10" in h for h in html)
