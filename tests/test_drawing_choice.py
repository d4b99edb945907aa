"""EffectChoice: the entry the window picked (a rank among the listed entries, default the top),
applied by every output to the ranking it has."""
from __future__ import annotations

import pytest

from poserec_core.recommender import Ranking
from realtime.drawing.choice import EffectChoice, selected_effect
from realtime.messages import EffectScore, Recommendation

RAW = Ranking((31, 14, 54), ("basketball", "basketball", "saddle"), (0.95, 0.94, 0.93))
DISTINCT = (EffectScore("basketball", 31, 0.95), EffectScore("saddle", 54, 0.93))
RANKED = Recommendation(9, RAW, 1, 2, 3, 4, 5, "cpu", effects=DISTINCT)


@pytest.mark.parametrize("rank, raw_items, recommendation, expected", [
    (0, False, RANKED, "basketball"),   # the default: the top distinct effect
    (1, False, RANKED, "saddle"),       # the second distinct effect, not a repeated name
    (5, False, RANKED, "saddle"),       # a shorter list: its last entry
    (1, True, RANKED, "basketball"),    # raw items: names repeat
    (2, True, RANKED, "saddle"),
    (0, False, None, None),             # before the first ranking
    (0, False, Recommendation(9, Ranking((), (), ()), 1, 2, 3, 4, 5, "cpu"), None),
])
def test_the_choice_names_the_entry_at_its_rank(rank, raw_items, recommendation, expected):
    assert EffectChoice(rank, raw_items).effect(recommendation) == expected
    assert selected_effect(recommendation, rank, raw_items) == expected


def test_the_default_choice_is_the_top_effect():
    assert EffectChoice().effect(RANKED) == selected_effect(RANKED) == "basketball"


def test_a_negative_rank_is_refused():
    with pytest.raises(ValueError, match="rank must be >= 0"):
        EffectChoice(-1)
    with pytest.raises(ValueError, match="rank must be >= 0"):
        EffectChoice().choose(-1)


def test_obs_shows_the_effect_the_window_picked():
    """The OBS sink reads the shared choice on every frame: a pick made after the ranking
    arrived moves OBS's image to the picked effect on the next frame."""
    import numpy as np

    from realtime.messages import PoseFrame
    from realtime.outputs.obs_control import ObsConfig, ObsControlSink

    choice = EffectChoice()
    sink = ObsControlSink(ObsConfig("ws://127.0.0.1:1"), poser=None, art=None, frame_size=None,
                          choice=choice)
    frame = PoseFrame(10, 1, 2, np.zeros((33, 4), np.float32))
    sink(RANKED)
    sink(frame)
    assert sink._states.get(timeout=1).selected == "basketball"
    choice.choose(1)
    sink(frame)
    assert sink._states.get(timeout=1).selected == "saddle"
