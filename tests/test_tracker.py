"""FloorTracker on hand-made speaker activity: the definitions of DESIGN.md, no audio."""

from __future__ import annotations

import pytest

from facilitator.ledger import Ledger
from facilitator.settings import Settings
from facilitator.tracker import FloorTracker

FRAME_S = 0.03


def run(timeline, speakers=("A", "B"), end_s=None, **settings):
    """``timeline``: list of (speaker, start_s, end_s). Returns (events, summary)."""
    s = Settings(hangover_ms=0, **settings)
    events: list[dict] = []
    ledger = Ledger()
    ledger.apply({"kind": "session_start", "speakers": list(speakers), "settings": s.to_dict()})

    def emit(event):
        events.append(event)
        ledger.apply(event)

    tracker = FloorTracker(list(speakers), s, emit)
    end_s = end_s or max(b for _, _, b in timeline) + 3.0
    n = int(round(end_s / FRAME_S))
    for i in range(n):
        t = i * FRAME_S + FRAME_S / 2
        active = frozenset(name for name, a, b in timeline if a <= t < b)
        tracker.step(i, active)
    tracker.finish(n * FRAME_S)
    return events, ledger.summary(n * FRAME_S), tracker


def kinds(events, kind):
    return [e for e in events if e["kind"] == kind]


def test_floor_time_and_share_count_overlap_for_each_speaker():
    _, summary, _ = run([("A", 0.0, 6.0), ("B", 5.0, 9.0)])
    floors = {s["name"]: s["floor_s"] for s in summary["speakers"]}
    assert floors["A"] == pytest.approx(6.0, abs=0.04)
    assert floors["B"] == pytest.approx(4.0, abs=0.04)
    assert summary["overlap_s"] == pytest.approx(1.0, abs=0.04)
    assert summary["speakers"][0]["share"] == pytest.approx(0.6, abs=0.01)


def test_overlapping_start_that_takes_the_floor_is_a_successful_interruption():
    events, summary, _ = run([("A", 0.0, 5.5), ("B", 5.0, 9.0)])
    (intr,) = kinds(events, "interruption")
    assert (intr["who"], intr["whom"], intr["successful"]) == ("B", "A", True)
    assert intr["t_s"] == pytest.approx(5.0, abs=0.04)
    assert not kinds(events, "backchannel")
    assert [c["holder"] for c in kinds(events, "floor_change")] == ["A", "B"]


def test_holder_who_talks_on_makes_it_an_attempted_interruption():
    events, _, _ = run([("A", 0.0, 10.0), ("B", 4.0, 6.0)])
    (intr,) = kinds(events, "interruption")
    assert intr["successful"] is False
    assert [c["holder"] for c in kinds(events, "floor_change")] == ["A"]


def test_short_listener_utterance_while_holder_talks_is_a_backchannel_not_an_interruption():
    events, summary, _ = run([("A", 0.0, 10.0), ("B", 4.0, 4.6)])
    (bc,) = kinds(events, "backchannel")
    assert (bc["who"], bc["whom"]) == ("B", "A")
    assert not kinds(events, "interruption")
    b = next(s for s in summary["speakers"] if s["name"] == "B")
    assert b["backchannels"] == 1 and b["interruptions_made"] == 0


def test_taking_the_floor_after_a_normal_gap_is_no_interruption():
    events, summary, _ = run([("A", 0.0, 5.0), ("B", 5.4, 9.0), ("A", 9.3, 12.0)])
    assert not kinds(events, "interruption")
    assert [c["holder"] for c in kinds(events, "floor_change")] == ["A", "B", "A"]
    turns = {s["name"]: s["turns"] for s in summary["speakers"]}
    assert turns == {"A": 2, "B": 1}


def test_short_gap_inside_the_holders_utterance_counts_as_mid_utterance():
    # A pauses 0.1 s at 5.0 and goes on; B starts in that pause and talks 3 s
    events, _, _ = run([("A", 0.0, 5.0), ("A", 5.1, 6.0), ("B", 5.05, 8.0)])
    (intr,) = kinds(events, "interruption")
    assert intr["who"] == "B" and intr["successful"] is True


def test_pauses_shorter_than_bridge_stay_in_one_utterance():
    events, summary, _ = run([("A", 0.0, 2.0), ("A", 2.3, 4.0), ("A", 5.0, 6.0)])
    a = summary["speakers"][0]
    assert a["utterances"] == 3  # speech segments
    assert a["floor_s"] == pytest.approx(4.7, abs=0.05)
    assert a["turns"] == 1


def test_riff_preset_needs_a_second_of_overlap_and_five_seconds_of_talk():
    timeline = [("A", 0.0, 5.5), ("B", 5.0, 9.0)]  # 0.5 s overlap, 4 s talk
    events, _, _ = run(timeline, interrupt_overlap_min_s=1.0, interrupt_min_s=5.0)
    assert not kinds(events, "interruption")
    events, _, _ = run([("A", 0.0, 6.5), ("B", 5.0, 12.0)], interrupt_overlap_min_s=1.0,
                       interrupt_min_s=5.0)
    assert len(kinds(events, "interruption")) == 1


# ------------------------------------------------------------- round robin
def test_round_robin_turn_ends_when_the_holders_own_speech_reaches_turn_s():
    # A talks in 5-s stretches with 1-s pauses: 20 s of floor takes 23 s of wall time
    timeline = [("A", 6.0 * k, 6.0 * k + 5.0) for k in range(4)] + [("B", 24.0, 50.0)]
    events, summary, _ = run(timeline, protocol="round-robin", turn_s=20.0, end_s=52.0)
    ends = kinds(events, "turn_end")
    assert ends[0]["holder"] == "A" and ends[0]["reason"] == "time_up"
    assert ends[0]["t_s"] == pytest.approx(23.0, abs=0.05)
    starts = kinds(events, "turn_start")
    assert [s["holder"] for s in starts][:2] == ["A", "B"]
    assert summary["turns"][0]["floor_s"] == pytest.approx(20.0, abs=0.05)


def test_listener_speech_during_a_protected_turn_raises_exactly_one_alert():
    timeline = [("A", 0.0, 30.0), ("B", 10.0, 12.5), ("B", 20.0, 20.5)]
    events, summary, _ = run(timeline, protocol="round-robin", turn_s=60.0)
    (alert,) = kinds(events, "turn_interruption")
    assert (alert["who"], alert["whom"]) == ("B", "A")
    assert alert["t_s"] == pytest.approx(10.0, abs=0.04)
    assert alert["left_s"] == pytest.approx(60.0 - 11.0, abs=0.1)  # detected after 1 s of B
    assert len(kinds(events, "backchannel")) == 1  # the 0.5-s "mm-hm" at 20 s
    assert summary["turns"][0]["interruptions"] == 1


def test_warnings_at_one_minute_and_ten_seconds_left():
    events, _, _ = run([("A", 0.0, 100.0)], protocol="round-robin", turn_s=90.0)
    warnings = [(w["left_s"], round(w["t_s"], 1)) for w in kinds(events, "turn_warning")]
    assert warnings == [(60.0, 30.0), (10.0, 80.0)]


def test_time_given_back_extends_the_turn():
    s = Settings(hangover_ms=0, protocol="round-robin", turn_s=30.0)
    events: list[dict] = []
    tracker = FloorTracker(["A", "B"], s, events.append)
    for i in range(int(25 / FRAME_S)):
        tracker.step(i, frozenset(["A"]))
    assert tracker.give_back(5.0) == 5.0
    assert tracker.snapshot()["turn"]["left_s"] == pytest.approx(10.0, abs=0.05)
    assert kinds(events, "time_given_back")[0]["given_s"] == 5.0


def test_pass_floor_advances_to_the_next_holder():
    s = Settings(hangover_ms=0, protocol="round-robin", turn_s=300.0)
    events: list[dict] = []
    tracker = FloorTracker(["A", "B", "C"], s, events.append)
    tracker.step(0, frozenset(["A"]))
    tracker.pass_floor()
    tracker.pass_floor()
    assert [e["holder"] for e in kinds(events, "turn_start")] == ["A", "B", "C"]
    assert kinds(events, "turn_end")[0]["reason"] == "passed"


def test_auto_advance_off_waits_for_a_key_after_time_up():
    events, _, tracker = run([("A", 0.0, 30.0)], protocol="round-robin", turn_s=20.0,
                             auto_advance=False, end_s=31.0)
    assert any(w["left_s"] == 0 for w in kinds(events, "turn_warning"))
    assert len(kinds(events, "turn_start")) == 1


def test_block_size_never_changes_the_events():
    """Same activity fed frame by frame gives the same events whatever the grouping upstream."""
    timeline = [("A", 0.0, 5.5), ("B", 5.0, 9.0), ("A", 9.2, 9.6), ("B", 9.8, 14.0)]
    first, _, _ = run(timeline)
    second, _, _ = run(list(timeline))
    assert first == second
