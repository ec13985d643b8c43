"""Read a session directory (``session.json``, ``segments.rttm``, ``events.jsonl``).

Speech segments come from the RTTM when present, else from the journal's ``speech_end`` events;
a damaged or missing summary is one clear :class:`UserError`, never a traceback.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from facilitator.errors import UserError

SESSION_FORMAT = "facilitator.session/"


@dataclass(frozen=True)
class Segment:
    """One speaker's speech from ``start_s`` to ``end_s`` (stream seconds)."""

    speaker: str
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def load_session(session_dir: Path) -> dict:
    """The parsed ``session.json`` of ``session_dir``."""
    path = Path(session_dir) / "session.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{session_dir} has no session.json (not a finished session directory)") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    try:
        session = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is damaged (not valid JSON at line {exc.lineno})") from None
    if not isinstance(session, dict) or not str(session.get("format", "")).startswith(SESSION_FORMAT):
        raise UserError(f"{path} is not a facilitator session summary (format {SESSION_FORMAT}N)")
    for key in ("id", "speakers"):
        if key not in session:
            raise UserError(f"{path} lacks '{key}'")
    return session


def load_segments(session_dir: Path) -> list[Segment]:
    """Speech segments, in time order, from ``segments.rttm`` or else ``events.jsonl``."""
    session_dir = Path(session_dir)
    rttm = session_dir / "segments.rttm"
    if rttm.exists():
        return sorted(parse_rttm(rttm.read_text(encoding="utf-8")), key=lambda s: (s.start_s, s.speaker))
    segments = []
    for event in read_events(session_dir):
        if event.get("kind") == "speech_end" and "start_s" in event:
            segments.append(Segment(str(event["speaker"]), float(event["start_s"]), float(event["t_s"])))
    return sorted(segments, key=lambda s: (s.start_s, s.speaker))


def parse_rttm(text: str) -> list[Segment]:
    segments = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 8 or fields[0] != "SPEAKER":
            continue
        start, duration = float(fields[3]), float(fields[4])
        segments.append(Segment(fields[7], start, start + duration))
    return segments


def read_events(session_dir: Path) -> list[dict]:
    """The journal's events; a torn last line (a crash mid-write) is skipped."""
    path = Path(session_dir) / "events.jsonl"
    if not path.exists():
        return []
    events = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict):
                events.append(event)
    return events


def resolve_session(arg: str | os.PathLike) -> Path:
    """A session directory from a path or a session id (or unique id prefix) under sessions_dir()."""
    from facilitator.paths import sessions_dir

    path = Path(arg).expanduser()
    if path.is_dir() and (path / "session.json").exists():
        return path
    if path.is_file() and path.name == "session.json":
        return path.parent
    base = sessions_dir()
    text = str(arg)
    if os.sep not in text and (base / text).is_dir():
        return base / text
    matches = sorted(p for p in base.iterdir() if p.is_dir() and p.name.startswith(text)) if os.sep not in text else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(p.name for p in matches[:5])
        raise UserError(f"'{arg}' matches {len(matches)} sessions ({names}…); give more of the id")
    if path.is_dir():
        raise UserError(f"{path} has no session.json (not a finished session directory)")
    raise UserError(f"no session '{arg}' (neither a directory nor a session id under {base})")


def write_private_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (0600) through a temporary file, so a crash leaves no torn file."""
    from facilitator.paths import open_private

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open_private(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
