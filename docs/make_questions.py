"""Writes docs/questions.md, the question catalogue page, from whynet.experiments.questions
(run: python docs/make_questions.py; tests/test_docs.py checks the page is up to date)."""

from pathlib import Path

from whynet.experiments import registry
from whynet.experiments.questions import GROUPS, NOTES, QUESTIONS


def render() -> str:
    by_question: dict[str, list[str]] = {}
    for e in registry.all_experiments():
        for q in e.questions:
            by_question.setdefault(q, []).append(e.id)
    out = ["# The questions whynet answers", "",
           "The catalogue of claims from the study group's notes, each with the experiment that "
           "measures it (`whynet run ID`) and the mechanism behind it. The verdicts themselves are "
           "computed from measured runs: see `whynet claims` or the report "
           "([docs/report.html](report.html)). This page is generated from "
           "`whynet.experiments.questions` by `python docs/make_questions.py`.", "",
           "## The notes", "", "| note | what it is |", "|---|---|"]
    out += [f"| {n.id} | {n.title} |" for n in NOTES.values()]
    for letter, title in GROUPS.items():
        out += ["", f"## {letter} — {title}", ""]
        for q in (q for q in QUESTIONS.values() if q.group == letter):
            exps = ", ".join(f"`{e}`" for e in by_question.get(q.id, [])) or "none yet"
            out += [f"### {q.id}", "", f"**The notes say:** {q.claim}", "",
                    f"**Where:** {q.source or '—'} · **experiment:** {exps}", ""]
            if q.why:
                out += [f"**Why:** {q.why}", ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    path = Path(__file__).resolve().parent / "questions.md"
    path.write_text(render(), encoding="utf-8")
    print("wrote", path)
