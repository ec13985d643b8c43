"""The report's numbers and words, formatted once for every view.

The terminal summary, ``report.md``, ``report.html`` and the app's report screen all call these
functions, so a figure reads the same everywhere. Values come from ``session.json`` as written;
only figures the summary does not carry (the interruption matrix, rates per hour) are derived here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from facilitator.ledger import balance_index

UNKNOWN = "unknown"

# Columns of the per-speaker table: (session.json key, heading, formatter name).
SPEAKER_COLUMNS: list[tuple[str, str, str]] = [
    ("floor_s", "floor", "duration"),
    ("share", "share", "percent"),
    ("turns", "turns", "count"),
    ("longest_turn_s", "longest turn", "duration"),
    ("interruptions_made", "interrupted others", "count"),
    ("interruptions_received", "was interrupted", "count"),
    ("backchannels", "backchannels", "count"),
]

# Columns of the round-robin turn table.
TURN_COLUMNS: list[tuple[str, str, str]] = [
    ("index", "turn", "ordinal"),
    ("holder", "holder", "text"),
    ("floor_s", "floor", "duration"),
    ("allowance_s", "allowance", "duration"),
    ("given_back_s", "time given back", "duration"),
    ("interruptions", "interruptions", "count"),
]


def fmt_duration(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour), rounded to the nearest second."""
    if seconds is None:
        return "–"
    total = int(round(max(0.0, float(seconds))))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def fmt_percent(fraction: float | None) -> str:
    """A share as whole percent: ``0.584`` → ``58 %``."""
    if fraction is None:
        return "–"
    return f"{int(round(float(fraction) * 100))} %"


def fmt_count(value) -> str:
    return "–" if value is None else str(int(value))


def fmt_ordinal(index) -> str:
    """Turn indices are 0-based in the files and 1-based on screen."""
    return str(int(index) + 1)


def fmt_index(value: float | None) -> str:
    return "–" if value is None else f"{float(value):.2f}"


def fmt_rate(value: float | None) -> str:
    return "–" if value is None else f"{float(value):.1f}"


FORMATTERS = {
    "duration": fmt_duration,
    "percent": fmt_percent,
    "count": fmt_count,
    "ordinal": fmt_ordinal,
    "text": lambda v: "" if v is None else str(v),
    "index": fmt_index,
    "rate": fmt_rate,
}


def times(n: int) -> str:
    """``once``, ``twice``, ``7 times``."""
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


def name_key(name: str) -> str:
    """The form under which names are matched (case and whitespace do not matter)."""
    return " ".join(str(name).split()).casefold()


def named_speakers(session: dict) -> list[dict]:
    """Speakers with a name (the attributor's ``unknown`` excluded)."""
    return [s for s in session.get("speakers", []) if name_key(s.get("name", "")) != UNKNOWN]


def equal_share(session: dict) -> float | None:
    n = len(named_speakers(session))
    return 1.0 / n if n else None


def normalised_entropy(values: list[float]) -> float | None:
    """1.0 when all values are equal, 0.0 when one holds everything (None when undefined)."""
    return balance_index([max(0.0, float(v)) for v in values])


def verdict_for(index: float | None) -> str:
    """A fallback verdict when session.json carries none."""
    if index is None:
        return "not enough speech to judge the balance"
    if index >= 0.95:
        return "balanced"
    if index >= 0.80:
        return "somewhat unbalanced"
    return "unbalanced"


@dataclass
class Cell:
    """One figure: its raw value (as in session.json) and how it reads."""

    key: str
    value: object
    text: str


@dataclass
class Row:
    name: str
    cells: list[Cell] = field(default_factory=list)

    def text(self, key: str) -> str:
        return next(c.text for c in self.cells if c.key == key)


def speaker_rows(session: dict) -> list[Row]:
    """Per-speaker figures in session order."""
    rows = []
    for sp in session.get("speakers", []):
        row = Row(name=str(sp.get("name", "")))
        for key, _heading, kind in SPEAKER_COLUMNS:
            value = sp.get(key)
            row.cells.append(Cell(key, value, FORMATTERS[kind](value)))
        rows.append(row)
    return rows


def turn_rows(session: dict) -> list[Row]:
    """Round-robin protected turns (empty for an open conversation)."""
    rows = []
    for turn in session.get("turns", []) or []:
        row = Row(name=str(turn.get("holder", "")))
        for key, _heading, kind in TURN_COLUMNS:
            value = turn.get(key, 0.0 if key == "given_back_s" else None)
            row.cells.append(Cell(key, value, FORMATTERS[kind](value)))
        rows.append(row)
    return rows


def interruption_matrix(session: dict) -> tuple[list[str], list[list[int]]]:
    """``names, counts`` where ``counts[i][j]`` = times ``names[i]`` interrupted ``names[j]``."""
    names = [str(s.get("name", "")) for s in session.get("speakers", [])]
    for ev in session.get("interruptions", []) or []:
        for who in (ev.get("who"), ev.get("whom")):
            if who is not None and who not in names:
                names.append(str(who))
    pos = {n: i for i, n in enumerate(names)}
    counts = [[0] * len(names) for _ in names]
    for ev in session.get("interruptions", []) or []:
        counts[pos[str(ev["who"])]][pos[str(ev["whom"])]] += 1
    return names, counts


def per_hour(count: float, duration_s: float | None) -> float | None:
    if not duration_s or duration_s <= 0:
        return None
    return count * 3600.0 / duration_s


def balance_line(session: dict) -> str:
    """``Balance index 0.97 (1.00 = equal shares) — balanced: …``."""
    index = session.get("balance_index")
    verdict = session.get("balance_verdict") or verdict_for(index)
    return f"Balance index {fmt_index(index)} (1.00 = equal shares) — {verdict}"


def plain_words_reading(session: dict) -> str:
    """The session in one or two sentences, e.g.
    ``Alex held 68 % of the floor, Sam 32 %; Sam was interrupted 7 times, Alex twice.``"""
    speakers = sorted(
        session.get("speakers", []), key=lambda s: (-(s.get("share") or 0.0), str(s.get("name")))
    )
    if not speakers or not any((s.get("floor_s") or 0) > 0 for s in speakers):
        return "Nobody spoke long enough to measure."
    first, rest = speakers[0], speakers[1:]
    words = f"{first['name']} held {fmt_percent(first.get('share'))} of the floor"
    if rest:
        words += ", " + ", ".join(f"{s['name']} {fmt_percent(s.get('share'))}" for s in rest)
    eq = equal_share(session)
    if eq is not None and len(named_speakers(session)) > 1:
        words += f" (an equal share is {fmt_percent(eq)})"
    received = sorted(
        (s for s in speakers if (s.get("interruptions_received") or 0) > 0),
        key=lambda s: (-(s.get("interruptions_received") or 0), str(s.get("name"))),
    )
    if received:
        head, tail = received[0], received[1:]
        words += f"; {head['name']} was interrupted {times(int(head['interruptions_received']))}"
        if tail:
            words += ", " + ", ".join(
                f"{s['name']} {times(int(s['interruptions_received']))}" for s in tail
            )
    else:
        words += "; nobody was interrupted"
    return words + "."


def overview_lines(session: dict) -> list[tuple[str, str]]:
    """Label/value pairs for the session header (length, speech, overlap, silence, monologue)."""
    lines = [
        ("length", fmt_duration(session.get("duration_s"))),
        ("speech", fmt_duration(session.get("speech_s"))),
        ("overlap", fmt_duration(session.get("overlap_s"))),
        ("silence", fmt_duration(session.get("silence_s"))),
    ]
    mono = session.get("longest_monologue") or None
    if mono and mono.get("name"):
        lines.append(("longest monologue", monologue_text(mono)))
    return lines


def monologue_text(mono: dict) -> str:
    return (
        f"{mono['name']}, {fmt_duration(mono.get('duration_s'))} "
        f"({fmt_duration(mono.get('start_s'))}–{fmt_duration(mono.get('end_s'))})"
    )


def title(session: dict) -> str:
    kind = "round-robin turns" if is_round_robin(session) else "open conversation"
    when = str(session.get("started_at", ""))[:16].replace("T", " ")
    return f"Session {session.get('id', '?')} — {kind}, {when}".rstrip(", ")


def is_round_robin(session: dict) -> bool:
    """Round-robin protected turns (the pipeline writes ``round-robin``; ``round_robin`` is accepted)."""
    return bool(session.get("turns")) or str(session.get("protocol", "")).replace("_", "-") == "round-robin"
