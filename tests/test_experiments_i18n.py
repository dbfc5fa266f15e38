"""Every experiment speaks through the catalogue, and the language never touches a verdict.

The verdicts, corrections, published baselines and figures of all experiments are built from
stored quick-grid results (``tests/data/quick_results.json.gz``, made by
``tests/data/make_quick_results.py``), so nothing trains here. Under the ⟦pseudo⟧ locale every
text a learner reads must come out wrapped (it went through ``_()``); under Korean it must be
Korean (no run of three English words outside code identifiers); and the statuses must be the
same in every language, since they are computed from the numbers, not from the words.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path

import pytest

from whynet import i18n
from whynet.experiments import registry
from whynet.experiments.base import RunResult, status_word
from whynet.experiments.questions import (QUESTIONS, translated_groups,
                                          translated_known_corrections, translated_notes,
                                          translated_questions)
from whynet.i18n import use_language
from whynet.runner import claims, evaluate

DATA = Path(__file__).parent / "data" / "quick_results.json.gz"
LANGS = ("en", i18n.PSEUDO, "ko")

#: Names that stay as they are in every language: activations, data sets, optimisers, layers,
#: dtypes and a few abbreviations (they are code identifiers in whynet).
IDENTIFIERS = set("""
    relu tanh sigmoid elu prelu leaky_relu leaky maxout linear identity softmax swish
    moons circles xor digits spiral mnist mnist-1d logistic cnn mlp mlp_paper rnn
    sgd adam rmsprop momentum bce mse ece float32 float64 nan none inf
    dense batchnorm1d batchnorm2d layernorm conv1d conv2d he xavier alexnet imagenet cifar-10
    gamma beta alpha relu's lr log10
""".split())
#: Figures whose axes another part of whynet draws (its labels are that domain's messages):
#: H2's third figure is whynet.search.plot_trials.
DRAWN_ELSEWHERE = {("h2", 3)}
WRAPPED = re.compile(r"⟦[^⟦⟧]*⟧")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'-]*[A-Za-z0-9]")
HANGUL = re.compile(r"[가-힣]")
STATUS_WORD = re.compile(r"\b(holds|fails|depends|inconclusive)\b")


@functools.lru_cache(maxsize=None)
def stored() -> dict:
    """Experiment id → its stored quick-grid RunResults (seeds 0 and 1)."""
    raw = json.loads(gzip.decompress(DATA.read_bytes()))
    return {eid: [RunResult(r["spec"], r["seed"], r["result"]) for r in runs]
            for eid, runs in raw.items()}


@functools.lru_cache(maxsize=None)
def rendered(exp_id: str, lang: str) -> dict:
    """What the experiment says to a learner, built inside ``use_language(lang)``: verdicts,
    corrections, published baselines, title/question/what (figures: :func:`figure_texts`)."""
    exp = registry.get(exp_id)
    results = stored()[exp_id]
    with use_language(lang):
        ev = evaluate(exp, results)
        assert ev.error is None, f"{exp_id} ({lang}): {ev.error}"
        return {"verdicts": ev.verdicts, "corrections": exp.corrections(results),
                "published": exp.published(results), "texts": exp.texts()}


def figure_texts(exp_id: str, lang: str) -> list[tuple[str, str]]:
    """(where, text) for each figure's caption, axes titles, axis labels and legend entries
    (drawing the figures is the slow part, so only the pseudo-locale test does it)."""
    exp = registry.get(exp_id)
    out = []
    with use_language(lang):
        for k, (caption, fig) in enumerate(exp.figures(stored()[exp_id]), 1):
            if (exp_id, k) in DRAWN_ELSEWHERE:
                continue
            out.append((f"figure {k} caption", caption))
            for ax in fig.axes:
                legend = ax.get_legend()
                out += [(f"figure {k} axes", s) for s in (
                    ax.get_title(), ax.get_xlabel(), ax.get_ylabel(),
                    *(t.get_text() for t in (legend.get_texts() if legend else []))) if s]
    return out


def leftover(text: str) -> list[str]:
    """The English words of ``text`` outside every ⟦…⟧ (nested ones too), identifiers aside."""
    before = None
    while before != text:
        before, text = text, WRAPPED.sub(" ", text)
    return [w for w in WORD.findall(text) if not identifier(w)]


def identifier(word: str) -> bool:
    """A name that stays as it is: listed, code-like (``z_l``, ``W_hh``) or a number (``1e-3``)."""
    word = word.strip(".!?“”\"'")
    return word.lower() in IDENTIFIERS or "_" in word or len(re.sub("[^A-Za-z]", "", word)) < 2


def english_run(text: str) -> str | None:
    """A run of three or more English words (identifiers aside) in ``text``, or None."""
    run: list[str] = []
    for token in re.split(r"[\s,;:()]+", text):
        word = token.strip(".!?“”\"'")
        if WORD.fullmatch(word) and not identifier(word):
            run.append(token)
            if len(run) >= 3:
                return " ".join(run)
        elif token:
            run = []
    return None


def verdict_texts(view: dict) -> list[tuple[str, str]]:
    """(where, text) for every text of the verdicts and corrections that the tests demand."""
    out = []
    for v in view["verdicts"]:
        out += [(f"{v.question} answer", v.answer), (f"{v.question} sentence", v.sentence),
                (f"{v.question} rule", v.rule)]
        out += [(f"{v.question} depends_on", d) for d in v.depends_on]
    for c in view["corrections"]:
        out += [(f"{c.question} correction {k}", getattr(c, k))
                for k in ("says", "measured", "so_what") if getattr(c, k)]
    out += [(f"experiment {k}", t) for k, t in view["texts"].items() if t]
    return out


def shown_texts(view: dict) -> list[tuple[str, str]]:
    """The other texts of a verdict view: evidence conditions and measure names, published
    comments."""
    out = []
    for v in view["verdicts"]:
        for row in v.evidence:
            out.append((f"{v.question} condition", row.condition))
            out += [(f"{v.question} measure", m) for m in row.measures]
    out += [("published", p.comment) for p in view["published"] if p.comment]
    return out


IDS = [e.id for e in registry.all_experiments()]


def test_the_stored_results_cover_every_experiment():
    assert set(stored()) == set(IDS), "regenerate tests/data/quick_results.json.gz"


@pytest.mark.parametrize("exp_id", IDS)
def test_every_verdict_text_goes_through_the_catalogue(exp_id):
    view = rendered(exp_id, i18n.PSEUDO)
    texts = verdict_texts(view)
    assert texts
    for where, text in texts:
        assert "⟦" in text and not leftover(text), f"{exp_id} {where}: {text!r}"
    for where, text in shown_texts(view) + figure_texts(exp_id, i18n.PSEUDO):
        assert not leftover(text), f"{exp_id} {where}: {text!r}"


@pytest.mark.parametrize("exp_id", IDS)
def test_korean_verdicts_are_korean(exp_id):
    view = rendered(exp_id, "ko")
    for v in view["verdicts"]:
        assert HANGUL.search(v.answer), f"{exp_id}: {v.answer!r}"
    for where, text in verdict_texts(view) + shown_texts(view):
        assert not english_run(text), f"{exp_id} {where}: {english_run(text)!r} in {text!r}"
        assert not STATUS_WORD.search(text), f"{exp_id} {where}: a status left in English"


@pytest.mark.parametrize("exp_id", IDS)
def test_the_language_never_changes_a_verdict(exp_id):
    def data(lang):
        return [(v.question, v.status, v.depends_on != (), v.agree, len(v.evidence))
                for v in rendered(exp_id, lang)["verdicts"]]

    assert data("en") == data("ko") == data(i18n.PSEUDO)
    assert data("en"), f"{exp_id} gives no verdict"


def test_the_english_texts_are_the_source_texts():
    """English is the identity: a verdict rendered in English has no wrapping and no Hangul."""
    for exp_id in IDS:
        for where, text in verdict_texts(rendered(exp_id, "en")):
            assert "⟦" not in text and not HANGUL.search(text), f"{exp_id} {where}"


def test_the_question_catalogue_is_translated_where_it_is_read():
    with use_language(i18n.PSEUDO):
        questions = translated_questions()
        groups, notes = translated_groups(), translated_notes()
        known = translated_known_corrections()
        rows = claims([])
    for qid, q in questions.items():
        assert q.claim.startswith("⟦") and q.why.startswith("⟦"), qid
        assert all(" " not in s.where or s.where.startswith("⟦") for s in q.sources), qid
    assert all(g.startswith("⟦") for g in groups.values())
    assert all(n.title.startswith("⟦") for n in notes.values())
    assert all(says.startswith("⟦") and fix.startswith("⟦") for _q, _n, says, fix in known)
    assert [r["claim"] for r in rows] == [questions[r["question"]].claim for r in rows]
    assert not any("⟦" in q.claim for q in QUESTIONS.values()), "the catalogue stays English"
    with use_language("ko"):
        assert all(HANGUL.search(q.claim) and HANGUL.search(q.why)
                   for q in translated_questions().values())
        assert status_word("holds") == "성립" and status_word("inconclusive") == "판단 보류"
