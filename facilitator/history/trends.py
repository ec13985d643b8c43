"""Reading the history back: sessions with per-person figures, trends, and a comparison in words.

People are matched across sessions by their folded name (``Alex``, `` alex `` and ``ALEX`` are one
person), and shown under the spelling seen most recently.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from facilitator.errors import UserError
from facilitator.report.figures import (
    UNKNOWN,
    fmt_index,
    fmt_percent,
    fmt_rate,
    name_key,
    normalised_entropy,
    per_hour,
)


@dataclass
class StoredSession:
    """One session as the history sees it."""

    id: str
    started_at: str
    started_utc: str
    protocol: str
    duration_s: float
    balance_index: float | None
    interruptions: int
    people: dict[str, dict] = field(default_factory=dict)  # display name → per-person figures

    @property
    def date(self) -> str:
        return self.started_at[:10]

    @property
    def shares(self) -> dict[str, float]:
        return {n: float(p["share"] or 0.0) for n, p in self.people.items()}

    @property
    def interruptions_per_hour(self) -> float | None:
        return per_hour(self.interruptions, self.duration_s)

    @property
    def turn_balance(self) -> float | None:
        """Normalised entropy of how often each named person held the floor (1.0 = equally often)."""
        return normalised_entropy([p["turns"] or 0 for n, p in self.people.items() if name_key(n) != UNKNOWN])

    def as_dict(self) -> dict:
        return {"id": self.id, "date": self.date, "started_at": self.started_at, "protocol": self.protocol,
                "duration_s": self.duration_s, "balance_index": self.balance_index,
                "interruptions": self.interruptions, "interruptions_per_hour": self.interruptions_per_hour,
                "turn_balance": self.turn_balance, "shares": self.shares, "people": self.people}


def parse_since(text: str | None) -> str | None:
    """``--since``: a date (``2026-09-01``), a date and time, or a span back from now (``30d``, ``12w``).

    Returns the UTC instant as a sortable string."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([dw])\s*", text)
    if m:
        days = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
        return (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--since {text!r}: give a date like 2026-09-01, or a span like 30d or 12w") from None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def load(conn: sqlite3.Connection, *, person: str | None = None, since: str | None = None) -> list[StoredSession]:
    """Stored sessions, oldest first; only those with ``person`` and/or from ``since`` (UTC string) on."""
    where, args = [], []
    if since:
        where.append("s.started_utc >= ?")
        args.append(since)
    if person:
        where.append("s.id IN (SELECT pa.session_id FROM participation pa JOIN people pe ON pe.id = pa.person_id"
                     " WHERE pe.key = ?)")
        args.append(name_key(person))
    sql = (
        "SELECT s.id, s.started_at, s.started_utc, s.protocol, s.duration_s, s.balance_index,"
        " (SELECT COUNT(*) FROM interruptions i WHERE i.session_id = s.id) AS n_int,"
        " pe.name AS person, pa.* FROM sessions s"
        " JOIN participation pa ON pa.session_id = s.id JOIN people pe ON pe.id = pa.person_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY s.started_utc, s.id, pa.position"
    )
    sessions: dict[str, StoredSession] = {}
    for row in conn.execute(sql, args):
        s = sessions.get(row["id"])
        if s is None:
            s = sessions[row["id"]] = StoredSession(
                row["id"], row["started_at"], row["started_utc"], row["protocol"] or "open",
                float(row["duration_s"] or 0.0), row["balance_index"], int(row["n_int"]))
        s.people[row["person"]] = {k: row[k] for k in (
            "name", "floor_s", "share", "utterances", "turns", "longest_turn_s", "interruptions_made",
            "interruptions_received", "backchannels", "backchannels_received")}
    return list(sessions.values())


def known_people(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM people ORDER BY name COLLATE NOCASE")]


def people_in(sessions: list[StoredSession]) -> list[str]:
    """Everyone who appears, by total floor time (most first), ``unknown`` last."""
    floor: dict[str, float] = {}
    for s in sessions:
        for n, p in s.people.items():
            floor[n] = floor.get(n, 0.0) + float(p["floor_s"] or 0.0)
    return sorted(floor, key=lambda n: (name_key(n) == UNKNOWN, -floor[n], n))


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


@dataclass
class Period:
    """Averages over a run of sessions."""

    sessions: list[StoredSession]

    def share(self, person: str) -> float | None:
        return _mean([s.shares[person] for s in self.sessions if person in s.shares])

    def received_per_hour(self, person: str) -> float | None:
        rows = [(s.people[person]["interruptions_received"] or 0, s.duration_s) for s in self.sessions
                if person in s.people]
        hours = sum(d for _, d in rows) / 3600.0
        return sum(n for n, _ in rows) / hours if hours > 0 else None

    def made_per_hour(self, person: str) -> float | None:
        rows = [(s.people[person]["interruptions_made"] or 0, s.duration_s) for s in self.sessions
                if person in s.people]
        hours = sum(d for _, d in rows) / 3600.0
        return sum(n for n, _ in rows) / hours if hours > 0 else None

    @property
    def interruptions_per_hour(self) -> float | None:
        hours = sum(s.duration_s for s in self.sessions) / 3600.0
        return sum(s.interruptions for s in self.sessions) / hours if hours > 0 else None

    @property
    def balance(self) -> float | None:
        return _mean([s.balance_index for s in self.sessions])

    @property
    def turn_balance(self) -> float | None:
        return _mean([s.turn_balance for s in self.sessions])


def _change(before: float | None, after: float | None, fmt, *, tolerance: float) -> str:
    if before is None or after is None:
        return f"{fmt(after)}" if after is not None else "–"
    if abs(after - before) < tolerance:
        return f"stayed at {fmt(after)}"
    return f"{'rose' if after > before else 'fell'} from {fmt(before)} to {fmt(after)}"


def compare(sessions: list[StoredSession], last_n: int) -> str:
    """What changed between the last ``last_n`` sessions and the ``last_n`` before them, in words."""
    if last_n < 1:
        raise UserError("--compare needs a number of sessions of 1 or more")
    if len(sessions) < 2:
        return (f"Only {len(sessions)} session stored{' in this selection' if sessions else ''}; "
                "comparing needs at least two.")
    last_n = min(last_n, len(sessions) - 1)
    recent = Period(sessions[-last_n:])
    earlier = Period(sessions[-2 * last_n:-last_n])
    span = lambda p: f"{p.sessions[0].date}…{p.sessions[-1].date}" if len(p.sessions) > 1 else p.sessions[0].date
    head = (f"The last {last_n} session{'s' if last_n > 1 else ''} ({span(recent)}) against the "
            f"{len(earlier.sessions)} before ({span(earlier)}):")
    lines = [head]
    pct = lambda v: fmt_percent(v)
    for person in people_in(recent.sessions + earlier.sessions):
        if name_key(person) == UNKNOWN:
            continue
        b, a = earlier.share(person), recent.share(person)
        if a is None:
            lines.append(f"- {person} took part only before ({pct(b)} of the floor then).")
            continue
        if b is None:
            lines.append(f"- {person} joined recently ({pct(a)} of the floor).")
            continue
        words = f"- {person}'s share of the floor {_change(b, a, pct, tolerance=0.005)}"
        rb, ra = earlier.received_per_hour(person), recent.received_per_hour(person)
        mb, ma = earlier.made_per_hour(person), recent.made_per_hour(person)
        words += f"; interruptions of {person} {_change(rb, ra, fmt_rate, tolerance=0.05)} an hour"
        words += f", by {person} {_change(mb, ma, fmt_rate, tolerance=0.05)} an hour."
        lines.append(words)
    overall = _change(earlier.interruptions_per_hour, recent.interruptions_per_hour, fmt_rate, tolerance=0.05)
    lines.append(f"- Interruptions overall {overall} an hour.")
    lines.append(f"- The balance index {_change(earlier.balance, recent.balance, fmt_index, tolerance=0.005)} "
                 "(1.00 = equal shares).")
    if recent.turn_balance is not None and earlier.turn_balance is not None:
        lines.append(f"- Turn balance (who gets the floor how often) "
                     f"{_change(earlier.turn_balance, recent.turn_balance, fmt_index, tolerance=0.005)}.")
    verdict = _overall(earlier.balance, recent.balance)
    if verdict:
        lines.append(verdict)
    return "\n".join(lines)


def _overall(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return ""
    if after - before >= 0.02:
        return "Overall: the floor is shared more evenly than before."
    if before - after >= 0.02:
        return "Overall: the floor is shared less evenly than before."
    return "Overall: about as balanced as before."
