"""FloorTracker: per-frame active speakers in, conversation events out. Pure: no audio, no clock.

Each speaker's speech segments are grouped into utterances (pauses < ``bridge_s`` bridged). A
listener's utterance that starts while the floor holder is mid-utterance (speaking, or silent for less
than ``interrupt_gap_s``) and lasts ≥ ``interrupt_min_s`` is an interruption — successful if the holder
stops within ``success_window_s`` and the interrupter talks on; a listener utterance < ``backchannel_max_s``
while the holder keeps talking is a backchannel. Decisions are made as soon as the stream has shown
enough, from stream times only, so live and replayed audio give the same events.
In round-robin the protocol names the holder; any listener utterance ≥ ``backchannel_max_s`` during a
protected turn is an interruption of the turn (an alert), and the turn ends when the holder's own
speech reaches ``turn_s`` (plus time given back).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from facilitator.settings import Settings

INF = math.inf
Emit = Callable[[dict], None]


@dataclass
class _Claim:
    """A listener's utterance, followed until we know what it was."""

    who: str
    whom: str | None  # the holder when it started
    start_s: float
    mid: bool | None = None  # started while the holder was mid-utterance (known once long)
    long: bool = False  # reached backchannel_max_s
    decided: bool = False  # interruption decision made (or not applicable)
    turn_index: int | None = None  # the protected turn it broke into
    ended_s: float | None = None  # utterance end, once known


@dataclass
class _Speaker:
    name: str
    speaking: bool = False
    seg_start_s: float = 0.0
    last_end_s: float = -INF
    utt_start_s: float | None = None  # open utterance (speaking or in a bridged pause)
    floor_s: float = 0.0  # closed segments only
    segments: deque = field(default_factory=lambda: deque(maxlen=64))  # recent (start, end)

    def floor_at(self, now_s: float) -> float:
        return self.floor_s + (now_s - self.seg_start_s if self.speaking else 0.0)

    def speech_between(self, a_s: float, b_s: float, now_s: float) -> float:
        """Seconds of this speaker's speech inside [a_s, b_s] (recent history only)."""
        total = 0.0
        for start, end in self.segments:
            if end > a_s and start < b_s:
                total += min(end, b_s) - max(start, a_s)
        if self.speaking and now_s > a_s and self.seg_start_s < b_s:
            total += min(now_s, b_s) - max(self.seg_start_s, a_s)
        return total


@dataclass
class _Turn:
    index: int
    holder: str
    start_s: float
    allowance_s: float
    holder_floor_base_s: float
    warned: set = field(default_factory=set)
    interruptions: int = 0
    given_back_s: float = 0.0
    time_up: bool = False


class FloorTracker:
    """Consumes ``step(frame_index, active_names)`` in frame order; calls ``emit(event)``."""

    def __init__(self, speakers: list[str], settings: Settings, emit: Emit):
        self.settings = settings
        self.frame_s = settings.frame_s
        self.emit = emit
        self.order = list(speakers)  # round-robin order
        self.speakers: dict[str, _Speaker] = {}
        for name in speakers:
            self._speaker(name)
        self.holder: str | None = None
        self.now_s = 0.0
        self._active: frozenset = frozenset()
        self._claims: dict[str, _Claim] = {}
        self._next_due_s = 0.0
        self._next_heartbeat_s = settings.heartbeat_s
        self.round_robin = settings.protocol == "round-robin"
        self.turn: _Turn | None = None
        self.turns_done = 0
        self._last_turn_interruption: _Claim | None = None
        self._finished = False
        if self.round_robin:
            if not self.order:
                raise ValueError("round-robin needs the speakers' names")
            self._start_turn(0.0, 0)

    # ---------------------------------------------------------------- input
    def step(self, frame_index: int, active: frozenset) -> None:
        """Frame ``frame_index`` (stream time ``frame_index × frame_s``) had ``active`` speakers."""
        t_s = frame_index * self.frame_s
        if active != self._active:
            self._transition(t_s, active)
        self.now_s = t_s + self.frame_s
        if self.now_s >= self._next_due_s:
            self._process(self.now_s)

    def finish(self, end_s: float | None = None) -> None:
        """End of the session: close segments, settle open decisions, end the turn."""
        if self._finished:
            return
        end_s = self.now_s if end_s is None else max(end_s, self.now_s)
        self._transition(end_s, frozenset())
        self.now_s = end_s
        self._process(end_s, final=True)
        if self.turn is not None:
            self._end_turn(end_s, "session_end")
        self.emit({"kind": "session_end", "t_s": end_s, "duration_s": end_s})
        self._finished = True

    # ------------------------------------------------------- user actions
    def pass_floor(self) -> None:
        """Round-robin: end the current turn now and give the floor to the next person."""
        if self.turn is None:
            return
        index = self.turn.index
        self._end_turn(self.now_s, "passed")
        self._start_turn(self.now_s, index + 1)
        self._process(self.now_s)

    def give_back(self, seconds: float | None = None) -> float:
        """Round-robin: add time lost to the last interruption (or ``seconds``) to the turn."""
        turn = self.turn
        if turn is None:
            return 0.0
        if seconds is None:
            claim = self._last_turn_interruption
            if claim is None or claim.turn_index != turn.index:
                return 0.0
            end_s = claim.ended_s if claim.ended_s is not None else self.now_s
            seconds = self.speakers[claim.who].speech_between(claim.start_s, end_s, self.now_s)
            self._last_turn_interruption = None
        if seconds <= 0:
            return 0.0
        turn.allowance_s += seconds
        turn.given_back_s += seconds
        turn.time_up = False
        turn.warned = {w for w in turn.warned if self._turn_left(self.now_s) <= w}
        self.emit({"kind": "time_given_back", "t_s": self.now_s, "index": turn.index,
                   "holder": turn.holder, "given_s": round(seconds, 3)})
        self._process(self.now_s)
        return seconds

    # ---------------------------------------------------------- queries
    def snapshot(self) -> dict:
        """Live figures for a display (not journaled)."""
        now = self.now_s
        snap = {
            "t_s": now,
            "active": sorted(self._active),
            "holder": self.holder,
            "floor_s": {n: s.floor_at(now) for n, s in self.speakers.items()},
        }
        if self.turn is not None:
            snap["turn"] = {
                "index": self.turn.index, "holder": self.turn.holder,
                "floor_s": self._turn_floor(now), "left_s": self._turn_left(now),
                "allowance_s": self.turn.allowance_s, "time_up": self.turn.time_up,
                "next": self._holder_for(self.turn.index + 1),
                "interruptions": self.turn.interruptions,
            }
        return snap

    # ----------------------------------------------------------- internals
    def _speaker(self, name: str) -> _Speaker:
        spk = self.speakers.get(name)
        if spk is None:
            spk = self.speakers[name] = _Speaker(name)
        return spk

    def _transition(self, t_s: float, active: frozenset) -> None:
        previous = self._active
        for name in previous - active:
            spk = self.speakers[name]
            spk.speaking = False
            spk.floor_s += t_s - spk.seg_start_s
            spk.segments.append((spk.seg_start_s, t_s))
            spk.last_end_s = t_s
            self.emit({"kind": "speech_end", "t_s": t_s, "speaker": name, "start_s": spk.seg_start_s})
        for name in active - previous:
            spk = self._speaker(name)
            spk.speaking = True
            spk.seg_start_s = t_s
            self.emit({"kind": "speech_start", "t_s": t_s, "speaker": name})
            if spk.utt_start_s is None:
                spk.utt_start_s = t_s
                self._utterance_started(spk, t_s)
        self._active = active
        self._next_due_s = min(self._next_due_s, t_s)

    def _utterance_started(self, spk: _Speaker, t_s: float) -> None:
        if spk.name != self.holder:
            self._claims[spk.name] = _Claim(spk.name, self.holder, t_s)

    def _was_mid_utterance(self, claim: _Claim) -> bool:
        """Was the holder mid-utterance when the listener started?

        Yes if the holder's voice (not just the hangover the VAD adds) overlaps the start, or the
        holder had paused for less than ``interrupt_gap_s`` and went on talking afterwards.
        Asked once the listener has talked ≥ 1 s, when the holder's side of it is known.
        """
        if claim.whom is None:
            return False
        s = self.settings
        holder = self.speakers[claim.whom]
        hangover_s = s.hangover_ms / 1000.0
        t_s = claim.start_s
        segments = list(holder.segments)
        if holder.speaking:
            segments.append((holder.seg_start_s, INF))
        before = [(a, b) for a, b in segments if a < t_s]
        if not before:
            return False
        start, end = before[-1]
        voiced_end = end - hangover_s if end != INF else INF
        if voiced_end > t_s:
            return True
        if t_s - voiced_end >= s.interrupt_gap_s:
            return False
        return any(t_s < a <= end + s.bridge_s for a, _ in segments)

    def _holder_for(self, index: int) -> str:
        return self.order[index % len(self.order)]

    def _turn_floor(self, now_s: float) -> float:
        turn = self.turn
        return self.speakers[turn.holder].floor_at(now_s) - turn.holder_floor_base_s

    def _turn_left(self, now_s: float) -> float:
        return self.turn.allowance_s - self._turn_floor(now_s)

    def _start_turn(self, t_s: float, index: int, since_s: float | None = None) -> None:
        """Start turn ``index`` at ``t_s``; the holder's floor counts from ``since_s`` (default ``t_s``)."""
        holder = self._holder_for(index)
        spk = self._speaker(holder)
        base_s = spk.floor_at(t_s)
        if since_s is not None and since_s < t_s:
            base_s -= spk.speech_between(since_s, t_s, t_s)
        self.turn = _Turn(index, holder, t_s, self.settings.turn_s, base_s)
        previous, self.holder = self.holder, holder
        self.emit({"kind": "turn_start", "t_s": t_s, "index": index, "holder": holder,
                   "allowance_s": self.turn.allowance_s, "next": self._holder_for(index + 1)})
        if previous != holder:
            self.emit({"kind": "floor_change", "t_s": t_s, "holder": holder, "previous": previous})
        # utterances already under way now belong to listeners of the new holder
        for name, other in self.speakers.items():
            if name != holder and other.utt_start_s is not None and name not in self._claims:
                self._claims[name] = _Claim(name, holder, t_s, mid=False)
        self._claims.pop(holder, None)

    def _end_turn(self, t_s: float, reason: str) -> None:
        turn = self.turn
        self.emit({"kind": "turn_end", "t_s": t_s, "index": turn.index, "holder": turn.holder,
                   "floor_s": round(self._turn_floor(t_s), 3), "next": self._holder_for(turn.index + 1),
                   "reason": reason})
        self.turns_done += 1
        self.turn = None

    def _change_floor(self, t_s: float, holder: str) -> None:
        if self.round_robin or holder == self.holder:
            return
        previous, self.holder = self.holder, holder
        self.emit({"kind": "floor_change", "t_s": t_s, "holder": holder, "previous": previous})
        self._claims.pop(holder, None)
        # the old holder's ongoing speech is now a listener's
        if previous is not None:
            old = self.speakers[previous]
            if old.utt_start_s is not None:
                self._claims[previous] = _Claim(previous, holder, t_s, mid=False, decided=True)

    def _process(self, now_s: float, final: bool = False) -> None:
        """Make every decision the stream up to ``now_s`` allows; schedule the next check."""
        s = self.settings
        due = INF
        while now_s >= self._next_heartbeat_s and not final:
            self.emit({"kind": "heartbeat", "t_s": self._next_heartbeat_s})
            self._next_heartbeat_s += s.heartbeat_s
        due = min(due, self._next_heartbeat_s)

        # utterance ends (a pause reached bridge_s), or every utterance at the end of the stream
        for spk in self.speakers.values():
            if spk.utt_start_s is None or spk.speaking:
                continue
            end_due = spk.last_end_s + s.bridge_s
            if final or now_s >= end_due:
                self._utterance_ended(spk)
            else:
                due = min(due, end_due)

        for name in list(self._claims):
            claim = self._claims[name]
            due = min(due, self._advance_claim(claim, now_s, final))

        if self.turn is not None:
            due = min(due, self._advance_turn(now_s))
        self._next_due_s = due

    def _utterance_ended(self, spk: _Speaker) -> None:
        s = self.settings
        start_s, end_s = spk.utt_start_s, spk.last_end_s
        spk.utt_start_s = None
        claim = self._claims.get(spk.name)
        if claim is None:
            return
        claim.ended_s = end_s
        length_s = end_s - start_s
        if not claim.long and length_s >= s.backchannel_max_s:
            self._became_long(claim, start_s + s.backchannel_max_s)
        if length_s < s.backchannel_max_s and claim.whom is not None and claim.whom != spk.name:
            holder = self.speakers[claim.whom]
            if holder.speech_between(start_s - s.bridge_s, end_s + s.bridge_s, self.now_s) > 0:
                self.emit({"kind": "backchannel", "t_s": start_s, "who": spk.name, "whom": claim.whom})
        if s.auto_give_back and claim.turn_index is not None and self.turn is not None \
                and claim.turn_index == self.turn.index:
            self._last_turn_interruption = claim
            self.give_back()

    def _became_long(self, claim: _Claim, t_s: float) -> None:
        claim.long = True
        turn = self.turn
        if turn is None or claim.who == turn.holder or claim.turn_index is not None:
            return
        holder = self.speakers[turn.holder]
        if holder.speech_between(turn.start_s, claim.start_s, self.now_s) <= 0:
            return  # the holder has not begun: the last speaker finishing is no interruption
        if self._turn_left(t_s) <= self.settings.handover_grace_s and not holder.speaking:
            # time is (nearly) up and the holder has stopped: this is the hand-over
            index = turn.index
            self._end_turn(t_s, "time_up")
            self._start_turn(t_s, index + 1, since_s=claim.start_s)
            return
        claim.turn_index = turn.index
        turn.interruptions += 1
        self._last_turn_interruption = claim
        self.emit({"kind": "turn_interruption", "t_s": claim.start_s, "index": turn.index,
                   "who": claim.who, "whom": turn.holder,
                   "left_s": round(self._turn_left(t_s), 3), "detected_s": round(t_s, 3)})

    def _advance_claim(self, claim: _Claim, now_s: float, final: bool) -> float:
        """Move one listener utterance forward; return when it next needs a look."""
        s = self.settings
        spk = self.speakers[claim.who]
        in_utterance = spk.utt_start_s is not None
        if not claim.long and in_utterance:
            spoken_until = now_s if spk.speaking else spk.last_end_s
            if spoken_until - claim.start_s >= s.backchannel_max_s:
                self._became_long(claim, claim.start_s + s.backchannel_max_s)
        due = INF
        if not claim.long and in_utterance and spk.speaking:
            due = claim.start_s + s.backchannel_max_s

        if not claim.decided:
            if claim.long and claim.mid is None:
                claim.mid = self._was_mid_utterance(claim)
            if claim.mid and claim.whom is not None and claim.whom == self.holder:
                due = min(due, self._decide_interruption(claim, now_s, final))
            elif claim.long:
                # started in a real gap: the speaker takes the floor once the holder is silent
                holder = self.speakers[self.holder] if self.holder else None
                if holder is None or not holder.speaking and holder.utt_start_s is None:
                    self._change_floor(claim.start_s, claim.who)
                    claim.decided = True
                elif not in_utterance:
                    claim.decided = True
                else:
                    due = min(due, now_s + self.frame_s)
            elif not in_utterance:
                claim.decided = True
        if claim.decided and not in_utterance and self._claims.get(claim.who) is claim:
            del self._claims[claim.who]
        return due

    def _decide_interruption(self, claim: _Claim, now_s: float, final: bool) -> float:
        s = self.settings
        spk = self.speakers[claim.who]
        in_utterance = spk.utt_start_s is not None
        need_s = max(s.interrupt_min_s, s.backchannel_max_s)
        spoken_until = now_s if spk.speaking else spk.last_end_s
        long_enough = spoken_until - claim.start_s >= need_s
        if not long_enough:
            if not in_utterance or final:
                claim.decided = True  # too short: a backchannel or nothing
                return INF
            return claim.start_s + need_s if spk.speaking else INF
        decide_at = claim.start_s + max(s.success_window_s + s.bridge_s, need_s)
        if now_s < decide_at and not final:
            return decide_at
        holder = self.speakers[claim.whom]
        if s.interrupt_overlap_min_s > 0:
            overlap = holder.speech_between(claim.start_s, spoken_until, now_s)
            if overlap < s.interrupt_overlap_min_s:
                claim.decided = True
                return INF
        holder_stopped = (not holder.speaking
                          and holder.last_end_s <= claim.start_s + s.success_window_s)
        talks_on = spk.speaking or spk.last_end_s > holder.last_end_s
        successful = holder_stopped and talks_on
        claim.decided = True
        self.emit({"kind": "interruption", "t_s": claim.start_s, "who": claim.who,
                   "whom": claim.whom, "successful": successful, "detected_s": round(now_s, 3)})
        if successful:
            self._change_floor(claim.start_s, claim.who)
        return INF

    def _advance_turn(self, now_s: float) -> float:
        turn = self.turn
        holder = self.speakers[turn.holder]
        left_s = self._turn_left(now_s)
        for warn_s in self.settings.warnings_s:
            if left_s <= warn_s and warn_s not in turn.warned and turn.allowance_s > warn_s:
                turn.warned.add(warn_s)
                self.emit({"kind": "turn_warning", "t_s": now_s, "index": turn.index,
                           "holder": turn.holder, "left_s": warn_s})
        if left_s <= 0 and not turn.time_up:
            turn.time_up = True
            if self.settings.auto_advance:
                self._end_turn(now_s, "time_up")
                self._start_turn(now_s, turn.index + 1)
                return now_s  # look again at once for the new turn
            self.emit({"kind": "turn_warning", "t_s": now_s, "index": turn.index,
                       "holder": turn.holder, "left_s": 0})
        if not holder.speaking or turn.time_up:
            return INF
        pending = [w for w in self.settings.warnings_s if w not in turn.warned and left_s > w]
        next_threshold = max(pending) if pending else 0.0
        return now_s + max(left_s - next_threshold, 0.0)
