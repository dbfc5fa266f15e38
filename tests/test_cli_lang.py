"""`--lang` on `whynet run`, `claims` and `report`; WHYNET_LANG and the locale as defaults; a bad
language is one `error:` line. The verdict tables' headings and status labels are translated."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from whynet.cli import main
from whynet.experiments import registry
from whynet.experiments.base import Experiment, Row, Verdict, mean_spread, tally, values
from whynet.i18n import current_language
from whynet.store import Store


class Positive(Experiment):
    id = "zz_positive"
    questions = ("A4", "A10")
    title = "Positive"
    question = "?"
    what = "y = seed + 1."
    seeds_quick = 2

    def grid(self, quick):
        return [{"x": 1}]

    def run(self, spec, seed):
        return {"y": seed + 1.0}

    def verdicts(self, results):
        y = values(results, "y")
        t = tally(v > 0 for v in y)
        return [Verdict("A4", t.status, "y > 0", {"y": mean_spread(y)}, answer="y > 0.",
                        evidence=[Row("x = 1", {"y": mean_spread(y)})], rule="y > 0 → holds.",
                        agree=t),
                Verdict("A10", "shown", "identity", answer="x = x.",
                        evidence=[Row("float64", {"diff": 0.0})], rule="x = x.")]


@pytest.fixture
def cli(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "_discovered", {})
    monkeypatch.setenv("WHYNET_STORE", str(tmp_path / "runs.sqlite"))
    Store(tmp_path / "runs.sqlite").close()  # claims and report refuse a store that does not exist
    monkeypatch.setenv("COLUMNS", "300")
    for var in ("WHYNET_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    handle = registry.register(Positive())
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, list(args), catch_exceptions=False)
    handle.remove()


def test_run_and_claims_print_korean_tables_with_lang_ko(cli):
    out = cli("run", "zz_positive", "--quick", "--jobs", "1", "--lang", "ko").stdout
    assert "질문" in out and "판정" in out and "성립" in out and "시연" in out
    assert "실행 2번: 새로 실행 2번" in out
    out = cli("claims", "--lang", "ko", "-v").stdout
    assert "답 (없으면 노트의 주장)" in out and "판정 규칙: y > 0 → holds." in out
    assert "시드 2개 중 2개 일치" in out
    a10 = next(line for line in out.splitlines() if "A10" in line)
    assert "시연" in a10
    english = cli("claims").stdout
    assert "answer (or the notes' claim)" in english and "shown (demonstration)" in english


def test_the_language_of_one_command_does_not_leak_into_the_next(cli):
    cli("claims", "--lang", "ko")
    assert current_language() == "en"
    assert "verdict" in cli("claims").stdout.lower()


def test_whynet_lang_and_the_locale_are_the_defaults(cli, monkeypatch):
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert "판정" in cli("claims").stdout
    monkeypatch.setenv("WHYNET_LANG", "en")
    assert "Verdict" in cli("claims").stdout
    assert "판정" in cli("claims", "--lang", "ko").stdout  # the option wins


def test_report_lang_ko_writes_a_korean_report(cli, tmp_path):
    cli("run", "zz_positive", "--quick", "--jobs", "1")
    r = cli("report", "--lang", "ko", "-o", str(tmp_path / "report.ko.html"))
    assert r.exit_code == 0 and "에 저장했습니다" in r.stdout
    html = (tmp_path / "report.ko.html").read_text(encoding="utf-8")
    assert '<html lang="ko">' in html and "개요" in html and "용어집" in html


@pytest.mark.parametrize("args, env, message", [
    (("claims", "--lang", "fr"), {}, "error: unknown language 'fr': choose one of en, ko"),
    (("report", "--lang", "klingon"), {}, "error: unknown language 'klingon'"),
    (("claims",), {"WHYNET_LANG": "xx"}, "error: WHYNET_LANG='xx' is not a known language"),
])
def test_a_bad_language_is_one_error_line(cli, monkeypatch, args, env, message):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    r = cli(*args)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), r.stderr


def test_search_prints_its_trials_and_table_in_the_language_asked_for():
    """Every line ``whynet search`` prints (trials, summary, best-trials table) goes through the
    catalogue: under the pseudo-locale each is wrapped, under ko the table's headings are Korean."""
    args = ["search", "--data", "moons", "-p", "lr=0.01:0.1", "-p", "epochs=2", "--n-trials",
            "2", "--storage", "memory"]
    pseudo = CliRunner().invoke(main, ["--lang", "qps", *args])
    assert pseudo.exit_code == 0, pseudo.output
    worded = [line for line in pseudo.stdout.splitlines()  # a table row of numbers has no words
              if re.search(r"[A-Za-z]{2,}", line.replace("lr", ""))]
    assert len(worded) >= 5, pseudo.stdout  # two trials, the summary, the title, the headings
    for line in worded:
        assert "⟦" in line, line
    korean = CliRunner().invoke(main, ["--lang", "ko", *args])
    assert "순위" in korean.stdout and "검증 정확도" in korean.stdout
