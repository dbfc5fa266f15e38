"""Shared recipes and honest cache keys: editing a recipe recomputes exactly the runs that use it."""

from pathlib import Path

from whynet.experiments import recipes, registry
from whynet.runner import plan
from whynet.store import Store

IDS = ("a1", "a7", "a8", "a9", "a10", "i4")
USES_DIGITS_SPLIT = {"a7", "a8", "a9"}  # a1 uses gradient_ratios, i4 circles_split, a10 none


def _recipe_after_editing(name, old, new):
    """``recipes.<name>`` as it would be after editing recipes.py's text: ``old`` → ``new``
    (the whole module recompiled in a fresh namespace, as a real edit would be)."""
    path = Path(recipes.__file__)
    text = path.read_text(encoding="utf-8")
    assert old in text
    namespace = {"__name__": "whynet.experiments._edited", "__package__": "whynet.experiments"}
    exec(compile(text.replace(old, new), str(path), "exec"), namespace)
    fn = namespace[name]
    fn.__module__ = recipes.__name__
    return fn


def _edited_digits_split():
    """A different validation size: same name, other numbers."""
    return _recipe_after_editing("digits_split", "n_val: int = 500):", "n_val: int = 400):")


def _keys():
    return {(t.experiment.id, t.key) for t in plan([registry.get(i) for i in IDS], quick=True)}


def test_fingerprint_is_stable_and_empty_without_recipes():
    a7 = registry.get("a7")
    assert a7.code_version == a7.code_version and str(a7.code_version).startswith(f"{a7.version}+")
    assert registry.get("a10").code_version == registry.get("a10").version


def test_editing_a_recipe_recomputes_exactly_the_runs_that_use_it(tmp_path, monkeypatch):
    before = _keys()
    with Store(tmp_path / "runs.sqlite") as store:
        for exp_id, key in before:  # pretend everything ran
            task = next(t for t in plan([registry.get(exp_id)], quick=True) if t.key == key)
            store.put(task.experiment, task.spec, task.seed, status="ok", result={"x": 1.0})
        monkeypatch.setattr(recipes, "digits_split", _edited_digits_split())
        after = _keys()
        stale = {i for i, k in after if k not in {k for _, k in before}}
        assert stale == USES_DIGITS_SPLIT
        done = store.done_keys(k for _, k in after)
        for exp_id, key in after:
            assert (key in done) == (exp_id not in USES_DIGITS_SPLIT), exp_id
        # the stored rows of unchanged experiments still read back; changed ones read nothing
        assert store.results(registry.get("a1")) and not store.results(registry.get("a7"))
    monkeypatch.undo()
    assert _keys() == before


def test_comments_and_docstrings_do_not_change_the_fingerprint(monkeypatch):
    a7 = registry.get("a7")
    before = a7.code_version
    moved = _recipe_after_editing(
        "digits_split", '"""A seeded random subset of the 8×8 digits, standardised on the training part."""',
        '"""Reworded docstring."""\n    # a comment that changes nothing\n\n\n')
    assert moved.__code__.co_firstlineno == recipes.digits_split.__code__.co_firstlineno
    monkeypatch.setattr(recipes, "digits_split", moved)
    assert a7.code_version == before
    assert moved.__doc__ == "Reworded docstring."
