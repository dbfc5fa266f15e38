"""Writes and executes docs/tour.ipynb, the notebook tour of whynet (run: python docs/make_tour.py).

The notebook's cells are defined here, as data, so a change to the tour is a reviewable diff; the
executed notebook (with its outputs) is committed beside it, and tests/test_notebook.py executes
it again so it cannot rot.
"""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELLS = [
    ("md", "# A tour of whynet\n\nAn engine you can read, probes that look inside a network "
           "while it trains, and experiments that answer *why* with numbers over seeds. Every "
           "object below shows itself as a table in Jupyter."),
    ("code", "import tempfile\nfrom pathlib import Path\n\nfrom whynet.datasets import moons, split\n"
             "from whynet.nn import mlp\nfrom whynet.train import fit\n\n"
             "work = Path(tempfile.mkdtemp())  # where this tour writes its files"),
    ("md", "## Train a small network\n\nA 2-16-16-2 tanh net on the moons; `fit` returns a "
           "`History`."),
    ("code", "train, _, test = split(moons(n=500, noise=0.2, seed=0), val=0, test=0.2, seed=0)\n"
             "model = mlp([2, 16, 16, 2], activation=\"tanh\", seed=0)\n"
             "history = fit(model, *train, loss=\"softmax_ce\", optimizer=\"adam\", lr=0.01, "
             "epochs=8,\n              validation_data=tuple(test), progress=False)\nhistory"),
    ("md", "## Look inside while it trains\n\nA `Probe` measures every layer on a fixed batch "
           "and turns what it sees into findings. Here a ReLU net gets a learning rate far too "
           "large."),
    ("code", "from whynet.probes import Probe\n\n"
             "relu = mlp([2, 32, 32, 2], activation=\"relu\", seed=0)\n"
             "probe = Probe(relu, train.X[:256], train.y[:256], \"softmax_ce\", every=10)\n"
             "fit(relu, *train, loss=\"softmax_ce\", lr=2.0, epochs=5, callbacks=[probe], "
             "progress=False)\nprobe"),
    ("code", "probe.records.where(quantity=\"dead\")"),
    ("md", "Share the run as one self-contained page (a timeline slider, per-layer table, "
           "histograms, charts, findings):"),
    ("code", "page = probe.save_html(work / \"run.html\", title=\"ReLU at lr 2.0\")\n"
             "print(page.name, f\"{page.stat().st_size:,} bytes, open it in any browser\")"),
    ("md", "## Ask a question, get a measured answer\n\nExperiment A10: do stacked linear "
           "layers collapse to one linear map? The runner stores every (spec, seed) run; the "
           "verdict is computed from them."),
    ("code", "from whynet.experiments import registry\nfrom whynet.runner import collect, "
             "evaluate, plan, run_tasks\nfrom whynet.store import Store\n\n"
             "a10 = registry.get(\"a10\")\nwith Store(work / \"runs.sqlite\") as store:\n"
             "    run_tasks(plan([a10], quick=True), store, jobs=1, progress=False)\n"
             "    (verdict,) = evaluate(a10, collect(a10, store, quick=True)).verdicts\nverdict"),
]


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md"
                else nbformat.v4.new_code_cell(src) for kind, src in CELLS]
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    nbformat.write(execute(build(), here), here / "tour.ipynb")
    print("wrote", here / "tour.ipynb")
