"""The session ledger: folds events into the figures of ``session.json``.

The same fold serves the end of a replay, the live display and ``recover`` (which replays the
journal), so every place shows the same numbers.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field

SESSION_FORMAT = "facilitator.session/1"
EVENTS_FORMAT = "facilitator.events/1"


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def balance_index(floors: list[float]) -> float | None:
    """Normalised entropy of floor shares: 1.0 equal, 0.0 one person held all the floor."""
    if len(floors) < 2:
        return None
    total = sum(floors)
    if total <= 0:
        return None
    entropy = -sum((f / total) * math.log(f / total) for f in floors if f > 0)
    return entropy / math.log(len(floors))


def balance_verdict(shares: dict[str, float], index: float | None) -> str:
    """One plain-words line about the balance."""
    if index is None or not shares:
        return "not enough speech to judge the balance"
    top, top_share = max(shares.items(), key=lambda kv: kv[1])
    equal = 1.0 / len(shares)
    pct = round(100 * top_share)
    if top_share - equal <= 0.10:
        return f"balanced: nobody held much more than an equal share ({round(100 * equal)} %)"
    if top_share - equal <= 0.20:
        return f"somewhat unbalanced: {top} held {pct} % of the floor (equal share {round(100 * equal)} %)"
    return f"unbalanced: {top} held {pct} % of the floor (equal share {round(100 * equal)} %)"


@dataclass
class Ledger:
    """Accumulates events; ``summary()`` gives the session.json dictionary."""

    meta: dict = field(default_factory=dict)
    speakers: list[str] = field(default_factory=list)
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    open_segments: dict[str, float] = field(default_factory=dict)
    interruptions: list[dict] = field(default_factory=list)
    backchannels: list[dict] = field(default_factory=list)
    floor_changes: list[tuple[float, str]] = field(default_factory=list)
    turns: list[dict] = field(default_factory=list)
    markers: list[dict] = field(default_factory=list)
    input_events: list[dict] = field(default_factory=list)  # the microphone lost / resumed
    last_t_s: float = 0.0
    ended: bool = False

    def apply(self, event: dict) -> None:
        kind = event["kind"]
        t_s = float(event.get("t_s", 0.0))
        self.last_t_s = max(self.last_t_s, t_s)
        if kind == "speech_start":
            self._know(event["speaker"])
            self.open_segments[event["speaker"]] = t_s
        elif kind == "speech_end":
            start = self.open_segments.pop(event["speaker"], event.get("start_s", t_s))
            if t_s > start:
                self.segments.append((start, t_s, event["speaker"]))
        elif kind == "interruption":
            self.interruptions.append({"t_s": _r(t_s), "who": event["who"], "whom": event["whom"],
                                       "successful": bool(event["successful"])})
        elif kind == "backchannel":
            self.backchannels.append({"t_s": _r(t_s), "who": event["who"], "whom": event["whom"]})
        elif kind == "floor_change":
            self.floor_changes.append((t_s, event["holder"]))
        elif kind == "turn_start":
            self.turns.append({"index": event["index"], "holder": event["holder"], "start_s": _r(t_s),
                               "end_s": None, "floor_s": 0.0, "allowance_s": event["allowance_s"],
                               "given_back_s": 0.0, "interruptions": 0})
        elif kind == "turn_interruption":
            turn = self._turn(event["index"])
            if turn:
                turn["interruptions"] += 1
        elif kind == "time_given_back":
            turn = self._turn(event["index"])
            if turn:
                turn["given_back_s"] = _r(turn["given_back_s"] + event["given_s"])
                turn["allowance_s"] = _r(turn["allowance_s"] + event["given_s"])
        elif kind == "turn_end":
            turn = self._turn(event["index"])
            if turn:
                turn["end_s"] = _r(t_s)
                turn["floor_s"] = _r(event["floor_s"])
        elif kind == "marker":
            self.markers.append({"t_s": _r(t_s), "note": event.get("note", "")})
        elif kind in ("input_lost", "input_resumed"):
            self.input_events.append({"t_s": _r(t_s), "kind": kind, "note": event.get("note", "")})
        elif kind == "session_start":
            self.meta = {k: v for k, v in event.items() if k not in ("kind", "t_s")}
            for name in event.get("speakers", []):
                self._know(name)
        elif kind == "session_end":
            self.ended = True

    def _know(self, name: str) -> None:
        if name not in self.speakers:
            self.speakers.append(name)

    def _turn(self, index: int) -> dict | None:
        for turn in reversed(self.turns):
            if turn["index"] == index:
                return turn
        return None

    def closed_segments(self, now_s: float | None = None) -> list[tuple[float, float, str]]:
        """Segments so far; open ones end at ``now_s`` (the last time heard, by default)."""
        end = self.last_t_s if now_s is None else now_s
        extra = [(start, end, name) for name, start in self.open_segments.items() if end > start]
        return sorted(self.segments + extra)

    def summary(self, duration_s: float | None = None) -> dict:
        duration_s = self.last_t_s if duration_s is None else duration_s
        segments = self.closed_segments(duration_s)
        floor = {name: 0.0 for name in self.speakers}
        utterances = {name: 0 for name in self.speakers}
        for start, end, name in segments:
            floor[name] = floor.get(name, 0.0) + (end - start)
            utterances[name] = utterances.get(name, 0) + 1
        names = list(floor)
        total_floor = sum(floor.values())
        speech_s, overlap_s = speech_and_overlap(segments)
        turn_stats, monologue = self._open_turns(segments, duration_s)
        shares = {n: (floor[n] / total_floor if total_floor > 0 else 0.0) for n in names}
        named = [n for n in names if n != "unknown"]
        index = balance_index([floor[n] for n in named])
        speakers = []
        for name in names:
            speakers.append({
                "name": name,
                "floor_s": _r(floor[name]),
                "share": _r(shares[name], 4),
                "utterances": utterances.get(name, 0),
                "turns": turn_stats.get(name, (0, 0.0))[0],
                "longest_turn_s": _r(turn_stats.get(name, (0, 0.0))[1]),
                "interruptions_made": sum(1 for i in self.interruptions if i["who"] == name),
                "interruptions_received": sum(1 for i in self.interruptions if i["whom"] == name),
                "backchannels": sum(1 for b in self.backchannels if b["who"] == name),
                "backchannels_received": sum(1 for b in self.backchannels if b["whom"] == name),
            })
        meta = self.meta
        settings = meta.get("settings", {})
        return {
            "format": SESSION_FORMAT,
            "id": meta.get("id"),
            "source": meta.get("source"),
            "started_at": meta.get("started_at"),
            "mode": meta.get("mode"),
            "protocol": meta.get("protocol", settings.get("protocol", "open")),
            "turn_s": settings.get("turn_s"),
            "duration_s": _r(duration_s),
            "speech_s": _r(speech_s),
            "overlap_s": _r(overlap_s),
            "silence_s": _r(max(0.0, duration_s - speech_s)),
            "balance_index": None if index is None else _r(index, 4),
            "balance_verdict": balance_verdict({n: shares[n] for n in named}, index),
            "speakers": speakers,
            "interruptions": sorted(self.interruptions, key=lambda e: e["t_s"]),
            "backchannels": sorted(self.backchannels, key=lambda e: e["t_s"]),
            "longest_monologue": monologue,
            "turns": self._turn_rows(duration_s),
            "markers": self.markers,
            "input_events": self.input_events,
            "complete": self.ended,
            "settings": settings,
        }

    def _turn_rows(self, duration_s: float) -> list[dict]:
        rows = [dict(t, end_s=t["end_s"] if t["end_s"] is not None else _r(duration_s)) for t in self.turns]
        # a last turn whose holder never spoke before the session ended never really began
        if rows and rows[-1]["floor_s"] == 0 and rows[-1]["interruptions"] == 0 and len(rows) > 1:
            rows.pop()
        return rows

    def _open_turns(self, segments, duration_s):
        """Turns from floor changes: per speaker (count, longest), and the longest one overall.

        A turn runs from a floor change to the holder's last speech before the next change.
        """
        ends_by_speaker: dict[str, list[float]] = {}
        starts_by_speaker: dict[str, list[float]] = {}
        for start, end, name in sorted(segments):
            starts_by_speaker.setdefault(name, []).append(start)
            ends_by_speaker.setdefault(name, []).append(end)
        stats: dict[str, tuple[int, float]] = {}
        best = None
        changes = sorted(self.floor_changes)
        for i, (start, holder) in enumerate(changes):
            stop = changes[i + 1][0] if i + 1 < len(changes) else duration_s
            starts = starts_by_speaker.get(holder, [])
            # the holder's last segment that begins before the next change
            k = bisect_left(starts, stop) - 1
            last_end = start
            if k >= 0 and ends_by_speaker[holder][k] > start:
                last_end = min(ends_by_speaker[holder][k], stop)
            length = max(0.0, last_end - start)
            count, longest = stats.get(holder, (0, 0.0))
            stats[holder] = (count + 1, max(longest, length))
            if best is None or length > best["duration_s"]:
                best = {"name": holder, "start_s": _r(start), "end_s": _r(last_end), "duration_s": _r(length)}
        return stats, best


def speech_and_overlap(segments) -> tuple[float, float]:
    """Seconds with anyone speaking, and seconds with two or more speaking."""
    points = []
    for start, end, _ in segments:
        points.append((start, 1))
        points.append((end, -1))
    points.sort()
    speech = overlap = 0.0
    depth = 0
    last = None
    for t, delta in points:
        if last is not None:
            if depth >= 1:
                speech += t - last
            if depth >= 2:
                overlap += t - last
        depth += delta
        last = t
    return speech, overlap


def rttm_lines(uri: str, segments) -> list[str]:
    return [f"SPEAKER {uri} 1 {start:.3f} {end - start:.3f} <NA> <NA> {name} <NA> <NA>"
            for start, end, name in sorted(segments)]
