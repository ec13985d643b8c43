"""Synthetic but self-consistent session directories, for tests, benchmarks and demos.

A seeded random conversation (utterances, pauses, backchannels, interruptions; open or round-robin
protected turns) is turned into the three documented files. The summary figures are computed from
the generated segments and events, so every number agrees with the timeline.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from facilitator.ledger import speech_and_overlap
from facilitator.report.figures import normalised_entropy, verdict_for

FRAME_S = 0.03


def _q(t: float) -> float:
    """Snap to the 30 ms frame grid, as the real pipeline's stream time is."""
    return round(round(t / FRAME_S) * FRAME_S, 2)


def make_session(
    speakers: tuple[str, ...] | list[str] = ("Alex", "Sam"),
    *,
    protocol: str = "open",
    duration_s: float = 240.0,
    turn_s: float = 60.0,
    seed: int = 0,
    weights: dict[str, float] | None = None,
    interrupter: str | None = None,
    started_at: datetime | None = None,
    session_id: str | None = None,
    source: str | None = None,
) -> tuple[dict, list[dict], list[tuple[str, float, float]]]:
    """Return ``(session, events, segments)`` for a generated conversation.

    ``weights`` makes some people talk longer (default: equal); ``interrupter`` interrupts
    five times as often as the others.
    """
    rng = random.Random(seed)
    protocol = protocol.replace("_", "-")  # the pipeline writes "round-robin"
    speakers = list(speakers)
    weights = {s: (weights or {}).get(s, 1.0) for s in speakers}
    started_at = started_at or datetime(2026, 11, 23, 18, 45, tzinfo=timezone.utc)
    slug = "rr" if protocol == "round-robin" else "open"
    session_id = session_id or f"{started_at:%Y%m%d-%H%M%S}-{slug}-{len(speakers)}"
    source = source or f"samples/{slug}-{len(speakers)}.wav"

    segments: list[tuple[str, float, float]] = []
    backchannels: list[dict] = []
    interruptions: list[dict] = []
    stretches: list[list] = []  # [holder, start, last_end]
    turns: list[dict] = []
    turn_events: list[dict] = []

    def listener(holder: str) -> str:
        others = [s for s in speakers if s != holder]
        if interrupter in others and rng.random() < 0.6:
            return interrupter
        return rng.choice(others)

    def int_prob(who: str) -> float:
        return 0.35 if who == interrupter else 0.10

    def speak_utterance(holder: str, start: float, protected: bool, turn: dict | None):
        """One utterance of the holder, with listeners' reactions; returns (end, new_holder)."""
        length = rng.uniform(1.5, 7.0) * weights[holder]
        end = start + length
        if length >= 3.0:
            who = listener(holder)
            roll = rng.random()
            if roll < int_prob(who):
                t_i = _q(rng.uniform(start + 1.0, end - 0.5))
                successful = (not protected) and rng.random() < 0.6
                if successful:
                    end = _q(t_i + rng.uniform(0.4, 1.2))
                    segments.append((holder, _q(start), end))
                    interruptions.append({"t_s": t_i, "who": who, "whom": holder, "successful": True})
                    return end, who, t_i
                talk = rng.uniform(1.1, 1.8)
                segments.append((who, t_i, _q(t_i + talk)))
                interruptions.append({"t_s": t_i, "who": who, "whom": holder, "successful": False})
                if turn is not None:
                    turn["interruptions"] += 1
                    turn_events.append({"kind": "turn_interruption", "t_s": t_i, "index": turn["index"],
                                        "who": who, "whom": holder,
                                        "left_s": round(max(0.0, turn["allowance_s"] - turn["floor_s"]), 2)})
                    given = round(_q(talk), 2)
                    turn["allowance_s"] = round(turn["allowance_s"] + given, 2)
                    turn["given_back_s"] = round(turn["given_back_s"] + given, 2)
                    turn_events.append({"kind": "time_given_back", "t_s": _q(t_i + talk), "index": turn["index"],
                                        "holder": holder, "given_s": given})
            elif roll < int_prob(who) + 0.25:
                t_b = _q(rng.uniform(start + 0.5, end - 1.0))
                segments.append((who, t_b, _q(t_b + rng.uniform(0.3, 0.8))))
                backchannels.append({"t_s": t_b, "who": who, "whom": holder})
        segments.append((holder, _q(start), _q(end)))
        return _q(end), holder, None

    t = 0.42
    if protocol == "round-robin":
        index = 0
        holder = speakers[0]
        while t < duration_s - 5:
            nxt = speakers[(speakers.index(holder) + 1) % len(speakers)]
            turn = {"index": index, "holder": holder, "start_s": _q(t), "end_s": None, "floor_s": 0.0,
                    "allowance_s": float(turn_s), "given_back_s": 0.0, "interruptions": 0}
            turn_events.append({"kind": "turn_start", "t_s": _q(t), "index": index, "holder": holder,
                                "allowance_s": float(turn_s), "next": nxt})
            stretch = [holder, _q(t), _q(t)]
            warned = set()
            while turn["floor_s"] < turn["allowance_s"] and t < duration_s - 2:
                end, _, _ = speak_utterance(holder, t, True, turn)
                over = turn["floor_s"] + (end - t) - turn["allowance_s"]
                if over > 0:  # time is up mid-utterance: the floor passes at the allowance
                    end = _q(end - over)
                    segments[-1] = (holder, segments[-1][1], end)
                turn["floor_s"] = round(turn["floor_s"] + (end - _q(t)), 2)
                for left in (60.0, 10.0):
                    left_now = turn["allowance_s"] - turn["floor_s"]
                    if left not in warned and left_now <= left and turn["allowance_s"] > left:
                        warned.add(left)
                        turn_events.append({"kind": "turn_warning", "t_s": end, "index": index,
                                            "holder": holder, "left_s": left})
                stretch[2] = end
                t = end + rng.uniform(0.6, 1.2)
            reason = "time_up" if turn["floor_s"] >= turn["allowance_s"] - 0.05 else "session_end"
            turn["end_s"] = stretch[2]
            turn["floor_s"] = round(turn["floor_s"], 2)
            turns.append(turn)
            stretches.append(stretch)
            turn_events.append({"kind": "turn_end", "t_s": stretch[2], "index": index, "holder": holder,
                                "floor_s": turn["floor_s"], "next": nxt, "reason": reason})
            index += 1
            holder = nxt
            t = stretch[2] + rng.uniform(0.5, 1.5)
        duration = _q(t + 1.0)
    else:
        holder = speakers[0]
        while t < duration_s - 3:
            stretch = [holder, _q(t), _q(t)]
            n_utt = max(1, int(rng.uniform(1, 5) * weights[holder]))
            new_holder = holder
            for _ in range(n_utt):
                if t >= duration_s - 3:
                    break
                end, new_holder, t_i = speak_utterance(holder, t, False, None)
                stretch[2] = end
                if new_holder != holder:
                    t = t_i
                    break
                t = end + rng.uniform(0.6, 1.2)
            stretches.append(stretch)
            if new_holder == holder:
                others = [s for s in speakers if s != holder]
                new_holder = rng.choices(others, [weights[s] for s in others])[0]
                t = stretch[2] + rng.uniform(0.2, 0.8)
            holder = new_holder
        duration = _q(max(duration_s, t))

    segments.sort(key=lambda s: (s[1], s[0]))
    duration = _q(max(duration, max(e for _, _, e in segments) + 0.5))
    session = summarise(
        session_id=session_id, source=source, started_at=started_at, protocol=protocol,
        turn_s=turn_s, duration=duration, speakers=speakers, segments=segments,
        backchannels=backchannels, interruptions=interruptions, stretches=stretches, turns=turns,
    )
    events = journal(session, segments, stretches, turn_events)
    return session, events, segments


def summarise(*, session_id, source, started_at, protocol, turn_s, duration, speakers, segments,
              backchannels, interruptions, stretches, turns) -> dict:
    floor = {s: 0.0 for s in speakers}
    utterances = {s: 0 for s in speakers}
    for who, start, end in segments:
        floor[who] += end - start
        utterances[who] += 1
    speech, overlap = speech_and_overlap([(a, b, who) for who, a, b in segments])
    total_floor = sum(floor.values())
    shares = {s: (floor[s] / total_floor if total_floor else 0.0) for s in speakers}
    index = normalised_entropy([floor[s] for s in speakers])
    index = round(index, 3) if index is not None else None
    longest = max(stretches, key=lambda st: st[2] - st[1])
    top = max(speakers, key=lambda s: shares[s])
    verdict = f"{verdict_for(index)}: {top} held {round(shares[top] * 100)} % (an equal share is {round(100 / len(speakers))} %)"

    def count(events, key, name):
        return sum(1 for e in events if e[key] == name)

    speaker_rows = []
    for s in speakers:
        own = [st for st in stretches if st[0] == s]
        speaker_rows.append({
            "name": s,
            "floor_s": round(floor[s], 2),
            "share": round(shares[s], 4),
            "utterances": utterances[s],
            "turns": len(own),
            "longest_turn_s": round(max((st[2] - st[1] for st in own), default=0.0), 2),
            "interruptions_made": count(interruptions, "who", s),
            "interruptions_received": count(interruptions, "whom", s),
            "backchannels": count(backchannels, "who", s),
            "backchannels_received": count(backchannels, "whom", s),
        })
    return {
        "format": "facilitator.session/1",
        "id": session_id,
        "source": source,
        "started_at": started_at.isoformat(),
        "mode": "channels",
        "protocol": protocol,
        "turn_s": float(turn_s),
        "duration_s": duration,
        "speech_s": round(speech, 2),
        "overlap_s": round(overlap, 2),
        "silence_s": round(duration - speech, 2),
        "balance_index": index,
        "balance_verdict": verdict,
        "speakers": speaker_rows,
        "interruptions": interruptions,
        "backchannels": backchannels,
        "longest_monologue": {"name": longest[0], "start_s": longest[1], "end_s": longest[2],
                              "duration_s": round(longest[2] - longest[1], 2)},
        "turns": turns,
        "markers": [{"t_s": _q(duration / 3), "note": "mark"}],
        "settings": {"frame_ms": 30, "sample_rate": 16000, "vad_mode": 1, "onset_ms": 90,
                     "offset_ms": 300, "bridge_s": 0.5, "backchannel_max_s": 1.0,
                     "interruption_min_s": 1.0},
    }


def journal(session: dict, segments, stretches, turn_events) -> list[dict]:
    """The events.jsonl lines the session would have produced, in stream-time order."""
    events = [{"kind": "session_start", "t_s": 0.0, "format": "facilitator.events/1", "id": session["id"],
               "source": session["source"], "mode": session["mode"], "protocol": session["protocol"],
               "speakers": [s["name"] for s in session["speakers"]], "started_at": session["started_at"],
               "settings": session["settings"]}]
    body = []
    for who, start, end in segments:
        body.append((start, 1, {"kind": "speech_start", "t_s": start, "speaker": who}))
        body.append((end, 0, {"kind": "speech_end", "t_s": end, "speaker": who, "start_s": start}))
    previous = None
    for holder, start, _ in stretches:
        if holder != previous:
            body.append((start, 2, {"kind": "floor_change", "t_s": start, "holder": holder, "previous": previous}))
        previous = holder
    for ev in session["interruptions"]:
        body.append((ev["t_s"], 3, {"kind": "interruption", **ev}))
    for ev in session["backchannels"]:
        body.append((ev["t_s"], 3, {"kind": "backchannel", **ev}))
    for ev in turn_events:
        body.append((ev["t_s"], 4, ev))
    for m in session["markers"]:
        body.append((m["t_s"], 5, {"kind": "marker", **m}))
    for sec in range(1, int(session["duration_s"]) + 1):
        body.append((float(sec), 6, {"kind": "heartbeat", "t_s": float(sec)}))
    body.sort(key=lambda item: (item[0], item[1]))
    events.extend(ev for _, _, ev in body)
    events.append({"kind": "session_end", "t_s": session["duration_s"], "duration_s": session["duration_s"]})
    return events


def write_session_dir(out_dir: Path, session: dict, events: list[dict], segments) -> Path:
    """Write the three documented files (0600) into ``out_dir`` (created 0700)."""
    from facilitator.paths import open_private, private_dir

    out_dir = private_dir(Path(out_dir))
    with open_private(out_dir / "events.jsonl", "w", encoding="utf-8") as fh:
        for ev in events:
            fh.write(json.dumps(ev, ensure_ascii=False) + "\n")
    with open_private(out_dir / "session.json", "w", encoding="utf-8") as fh:
        json.dump(session, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    uri = Path(session["source"]).name.split(".")[0]
    with open_private(out_dir / "segments.rttm", "w", encoding="utf-8") as fh:
        for who, start, end in segments:
            fh.write(f"SPEAKER {uri} 1 {start:.3f} {end - start:.3f} <NA> <NA> {who} <NA> <NA>\n")
    return out_dir


def write_synthetic_session(out_dir: Path, speakers=("Alex", "Sam"), **kwargs) -> Path:
    """Generate a conversation (see :func:`make_session`) and write it as a session directory."""
    session, events, segments = make_session(speakers, **kwargs)
    return write_session_dir(out_dir, session, events, segments)


def weekly_series(base_dir: Path, count: int = 20, speakers=("Alex", "Sam"), seed: int = 0,
                  start: datetime | None = None) -> list[Path]:
    """``count`` weekly check-ins in which the talkative first speaker slowly yields the floor."""
    start = start or datetime(2026, 6, 1, 19, 0, tzinfo=timezone.utc)
    dirs = []
    for i in range(count):
        when = start + timedelta(days=7 * i)
        lead = max(1.0, 2.2 - 1.2 * i / max(1, count - 1))
        protocol = "round-robin" if i % 2 else "open"
        sid = f"{when:%Y%m%d-%H%M%S}-{'rr' if i % 2 else 'open'}-{len(speakers)}"
        dirs.append(write_synthetic_session(
            Path(base_dir) / sid, speakers, protocol=protocol, seed=seed + i, started_at=when,
            session_id=sid, weights={speakers[0]: lead}, interrupter=speakers[0] if i < count // 2 else None,
            duration_s=180.0, turn_s=45.0))
    return dirs
