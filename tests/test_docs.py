"""The documentation the project carries: generated pages are current, links stay inside."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_question_catalogue_page_is_current():
    page = (ROOT / "docs" / "questions.md").read_text(encoding="utf-8")
    assert page == _load(ROOT / "docs" / "make_questions.py").render(), \
        "docs/questions.md is stale: run python docs/make_questions.py"


def test_readme_and_docs_link_nothing_outside_the_repository():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text, page
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
