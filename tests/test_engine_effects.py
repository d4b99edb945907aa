"""Distinct effects: the top-k distinct names of every ranking (each name's best item), with and
without smoothing, in the records and on the console; `top` stays the raw item ranking."""
from __future__ import annotations

import io

import numpy as np
import pytest

from poserec_core.recommender import Ranking
from realtime.engine.sinks import ConsoleSink
from realtime.engine.smoothing import ScoreSmoother, SmoothingConfig, name_groups
from realtime.messages import EffectScore, Recommendation

from .helpers import NEAR_TIE, assert_reference_records, run_poserec
from .test_live_cli import REPLAY_ARGS, read_jsonl

TOP_K = 5


def distinct_top_k(scores: np.ndarray, names, k: int) -> list[tuple[str, int]]:
    """(name, best item) of the k best names, from first principles: walk every item from the
    highest score down and keep the first item of each name."""
    chosen: dict[str, int] = {}
    for item in sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i)):
        chosen.setdefault(names[item], item)
        if len(chosen) == k:
            break
    return list(chosen.items())


def effects_of(smoother: ScoreSmoother, names, scores) -> list[tuple[str, int]]:
    items, _ = smoother.update(np.asarray(scores, dtype=np.float32))
    return [(names[i], int(i)) for i in items]


@pytest.mark.parametrize("names, scores, k, expected", [
    # the top-2 items are both "a": the effects still name two
    (["a", "a", "a", "b", "c"], [0.9, 0.8, 0.7, 0.6, 0.5], 2, [("a", 0), ("b", 3)]),
    (["a", "a", "a", "b", "c"], [0.9, 0.8, 0.7, 0.6, 0.5], 3, [("a", 0), ("b", 3), ("c", 4)]),
    # a name's best item can be anywhere in the catalog
    (["a", "b", "a", "c"], [0.1, 0.5, 0.7, 0.6], 2, [("a", 2), ("c", 3)]),
    # an exact tie between two items of one name: the lower index
    (["a", "b", "a"], [0.5, 0.9, 0.5], 2, [("b", 1), ("a", 0)]),
    # k above the number of names: every name once
    (["a", "a", "b"], [0.3, 0.2, 0.1], 3, [("a", 0), ("b", 2)]),
])
def test_without_smoothing_the_effects_are_the_distinct_top_k_of_all_scores(
        names, scores, k, expected):
    smoother = ScoreSmoother(SmoothingConfig(0.0), k, groups=name_groups(names))
    assert effects_of(smoother, names, scores) == expected
    assert expected == distinct_top_k(np.array(scores), names, k)


NAMES = ["a", "a", "b", "c"]


@pytest.mark.parametrize("hysteresis, rounds, expected", [
    # "c" overtakes "b" by less than the margin: "b" stays shown ...
    (0.005, [[0.9, 0.0, 0.50, 0.49], [0.9, 0.0, 0.49, 0.502]], [("a", 0), ("b", 2)]),
    # ... and without the margin it goes
    (0.0, [[0.9, 0.0, 0.50, 0.49], [0.9, 0.0, 0.49, 0.502]], [("a", 0), ("c", 3)]),
    # another item of a shown name becomes its best: the name stays, shown at that item
    (0.005, [[0.9, 0.0, 0.50, 0.49], [0.0, 2.0, 0.49, 0.502]], [("a", 1), ("b", 2)]),
    (0.0, [[0.9, 0.0, 0.50, 0.49], [0.0, 2.0, 0.49, 0.502]], [("a", 1), ("c", 3)]),
])
def test_with_smoothing_a_shown_name_is_kept_by_the_hysteresis(hysteresis, rounds, expected):
    smoother = ScoreSmoother(SmoothingConfig(0.5, hysteresis), 2, groups=name_groups(NAMES))
    for scores in rounds:
        shown = effects_of(smoother, NAMES, scores)
    assert shown == expected


def test_a_reset_forgets_the_shown_names():
    smoother = ScoreSmoother(SmoothingConfig(0.9, 0.5), 1, groups=name_groups(NAMES))
    effects_of(smoother, NAMES, [0.9, 0.0, 0.0, 0.0])
    smoother.reset()
    assert effects_of(smoother, NAMES, [0.0, 0.0, 0.0, 0.9]) == [("c", 3)]


RANKING = Ranking((31, 14, 54), ("basketball", "basketball", "saddle"), (0.956, 0.933, 0.931))


def recommendation(effects) -> Recommendation:
    return Recommendation(409, RANKING, 1_000_000, 2_000_000, 3_000_000, 4_000_000, 13_500_000,
                          "cpu", effects=tuple(effects))


@pytest.mark.parametrize("effects, error", [
    ([EffectScore("hat", 1, 0.9), EffectScore("hat", 2, 0.8)], "repeats a name"),
    ([EffectScore("hat", 1, 0.8), EffectScore("cap", 2, 0.9)], "not best first"),
])
def test_recommendation_effects_are_distinct_and_best_first(effects, error):
    with pytest.raises(ValueError, match=error):
        recommendation(effects)


@pytest.mark.parametrize("name, item", [("", 3), ("hat", -1)])
def test_an_effect_needs_a_name_and_an_item(name, item):
    with pytest.raises(ValueError, match="EffectScore needs"):
        EffectScore(name, item, 0.5)


def test_the_console_line_labels_its_columns_and_shows_distinct_names():
    stream = io.StringIO()
    sink = ConsoleSink(stream)
    sink.open()
    sink(recommendation([EffectScore("basketball", 31, 0.956), EffectScore("saddle", 54, 0.931),
                         EffectScore("horse rope", 86, 0.907)]))
    assert stream.getvalue() == ("frame    409  latency    12.5 ms  effects (score): "
                                 "basketball 0.956 | saddle 0.931 | horse rope 0.907\n")


def test_records_keep_top_and_carry_the_distinct_effects():
    record = recommendation([EffectScore("basketball", 31, 0.956),
                             EffectScore("saddle", 54, 0.931)]).to_json()
    assert record["top"] == RANKING.to_json()
    assert record["effects"] == [{"name": "basketball", "item": 31, "score": 0.956},
                                 {"name": "saddle", "item": 54, "score": 0.931}]


def same_effects(got: list[dict], expected: list[tuple[str, int]], scores: np.ndarray) -> bool:
    """Effects that agree with the expected ones position by position, up to near-ties: each
    effect's reference score is within 1e-5 of the expected one's (the reference README's rule,
    for the order of names and for which of a name's items is best)."""
    return len(got) == len(expected) and all(
        abs(float(scores[e["item"]]) - float(scores[item])) <= NEAR_TIE
        for e, (_, item) in zip(got, expected))


def test_replay_without_smoothing_gives_the_distinct_top_k_of_the_reference_scores(
        weights_dir, recommender, reference_dir, reference_top5, reference_scores, tmp_path):
    names = recommender.catalog.names
    out = tmp_path / "live.jsonl"
    result = run_poserec("live", "--source", f"replay:{reference_dir / 'sample_sequence.npy'}",
                         *REPLAY_ARGS, "--top-k", TOP_K, "--jsonl", out, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    records = read_jsonl(out)
    assert_reference_records(records, reference_top5, reference_scores)  # `top` is unchanged
    repeated = 0
    for n, (record, line) in enumerate(zip(records, result.stdout.splitlines())):
        expected = distinct_top_k(reference_scores[n], names, TOP_K)
        assert same_effects(record["effects"], expected, reference_scores[n]), n
        assert len({e["name"] for e in record["effects"]}) == TOP_K
        for effect in record["effects"]:
            assert names[effect["item"]] == effect["name"]
            assert abs(effect["score"] - reference_scores[n, effect["item"]]) <= 1e-5
        assert line.split("effects (score): ")[1].split(" | ") == [
            f"{e['name']} {e['score']:.3f}" for e in record["effects"]]
        repeated += len({e["name"] for e in record["top"]}) < TOP_K
    assert repeated > 0  # the raw top-5 repeats names in some windows: the test can tell


def test_smoothed_records_show_k_distinct_names_each_at_its_best_item(weights_dir, recommender,
                                                                     tmp_path):
    names = recommender.catalog.names
    out = tmp_path / "live.jsonl"
    result = run_poserec("live", "--source", "demo", "--headless", "--fps", "0", "--max-frames",
                         "120", "--smoothing", "0.6", "--top-k", TOP_K, "--jsonl", out,
                         "--device", "cpu")
    assert result.returncode == 0, result.stderr
    records = read_jsonl(out)
    assert len(records) == 23
    for record in records:
        effects = record["effects"]
        assert len({e["name"] for e in effects}) == TOP_K
        assert all(names[e["item"]] == e["name"] for e in effects)
        assert [e["score"] for e in effects] == sorted((e["score"] for e in effects), reverse=True)
        # a name's best item by smoothed score: none of the name's items in `top` scores higher
        best = {e["name"]: e["score"] for e in effects}
        assert all(t["score"] <= best[t["name"]] + 1e-6 for t in record["top"]
                   if t["name"] in best)
