"""Crash recovery: rebuild a session from its event journal.

A session directory whose ``events.jsonl`` has no ``session.json`` beside it was cut short (killed,
power lost, a crash). Recovery folds the journal with the same :class:`~facilitator.ledger.Ledger`
the live session uses, so the recovered figures are the ones the session had reached, up to the last
journaled event (at most the last second is lost). The journal itself is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facilitator.errors import UserError
from facilitator.journal import journal_in_use, read_journal
from facilitator.ledger import Ledger

JOURNAL = "events.jsonl"
SUMMARY = "session.json"


@dataclass(frozen=True)
class Unfinished:
    """A session that was cut short and can be recovered."""

    path: Path
    session_id: str
    source: str
    started_at: str  # ISO 8601 wall time from session_start
    reached_s: float  # stream time of the last journaled event
    ended: bool  # the journal has session_end (only the summary files are missing)


def _report_files() -> list[str]:
    try:
        from facilitator.report import REPORT_FILES
    except ImportError:  # reports not installed: session.json is the end of a session
        return []
    return list(REPORT_FILES.values())


def _half_finished(session_dir: Path) -> bool:
    """The summary was written but the process died before the history row and reports."""
    return (session_dir / SUMMARY).exists() and \
        not all((session_dir / name).exists() for name in _report_files())


def _summary_complete(session_dir: Path) -> bool:
    """Is session.json the end of the session (not a "so far" summary kept after a device loss)?"""
    import json

    try:
        return json.loads((session_dir / SUMMARY).read_text(encoding="utf-8")).get("complete", True) is not False
    except (OSError, ValueError, AttributeError):
        return False  # damaged: rebuild it from the journal


def needs_recovery(session_dir: Path) -> bool:
    """A journal whose session was not finished (no ``session.json``, or no report after it), and
    that no running facilitator holds."""
    session_dir = Path(session_dir)
    journal = session_dir / JOURNAL
    if not journal.is_file():
        return False
    if (session_dir / SUMMARY).exists() and not _half_finished(session_dir):
        return False
    return not journal_in_use(journal)


def fold_journal(session_dir: Path) -> Ledger:
    """The ledger of a session's journal; one clear line if there is nothing to recover."""
    journal = Path(session_dir) / JOURNAL
    if not journal.is_file():
        raise UserError(f"{session_dir} has no event journal ({JOURNAL}); nothing to recover")
    ledger = Ledger()
    try:
        for event in read_journal(journal):
            try:
                ledger.apply(event)
            except (KeyError, TypeError, ValueError):
                continue  # a damaged line: keep everything else
    except OSError as exc:
        raise UserError(f"cannot read {journal}: {exc.strerror or exc}") from None
    if not ledger.meta:
        raise UserError(f"{journal} has no session_start line; the session cannot be recovered")
    return ledger


def find_unfinished(root: Path | None = None) -> list[Unfinished]:
    """Sessions under ``root`` (default: the user's sessions dir) that can be recovered, newest first.

    Cheap enough for application start-up: only directories without ``session.json`` are read.
    Sessions still being written by a running facilitator (journal locked) are left out.
    """
    if root is None:
        from facilitator.paths import sessions_dir

        root = sessions_dir()
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir()):
        if not path.is_dir() or not needs_recovery(path):
            continue
        try:
            ledger = fold_journal(path)
        except UserError:
            continue
        meta = ledger.meta
        found.append(Unfinished(path=path, session_id=str(meta.get("id") or path.name),
                                source=str(meta.get("source") or ""),
                                started_at=str(meta.get("started_at") or ""),
                                reached_s=round(ledger.last_t_s, 3), ended=ledger.ended))
    found.sort(key=lambda u: (u.started_at, u.session_id), reverse=True)
    return found


def recover(session_dir: Path, history: bool = True, force: bool = False) -> dict:
    """Write ``session.json``, ``segments.rttm``, the reports and the history row from the journal.

    Returns the summary. Refuses a session that a running facilitator still writes, and (unless
    ``force``) one that already has its summary.
    """
    from facilitator.session_files import close_session, finish_session
    from facilitator.sources import uri_of

    session_dir = Path(session_dir)
    if not session_dir.is_dir():
        raise UserError(f"no such session directory: {session_dir}")
    journal = session_dir / JOURNAL
    if journal.is_file() and journal_in_use(journal):
        raise UserError(f"{session_dir} is still being recorded by a running facilitator; "
                        "stop it there first")
    if (session_dir / SUMMARY).exists() and not force:
        if not _half_finished(session_dir):
            raise UserError(f"{session_dir} is already complete (it has {SUMMARY}); "
                            "use --force to rebuild it from the journal")
    if (session_dir / SUMMARY).exists() and not force and _summary_complete(session_dir):
        # the summary is the session's own; only the reports and the history row are missing
        from facilitator.report.load import load_session

        summary = load_session(session_dir)
        finish_session(session_dir, summary, history=history)
        return summary
    ledger = fold_journal(session_dir)
    uri = uri_of(ledger.meta.get("source") or session_dir.name) or session_dir.name
    # "complete": false unless the journal has session_end
    return close_session(session_dir, ledger, ledger.last_t_s, uri, history=history)


def save_so_far(pipeline, session_dir: Path, uri: str) -> dict:
    """Write session.json (``"complete": false``) and segments.rttm for the session so far.

    For a live session whose input was lost (``microphone.DeviceLost``): the user keeps the figures
    while the pipeline waits for :meth:`~facilitator.pipeline.Pipeline.resume`. The journal stays
    open; the end of the session (or ``recover``) writes the final summary over this one.
    """
    from facilitator.session_files import write_ledger
    from facilitator.settings import SAMPLE_RATE_HZ

    # the ledger has no session_end yet, so the summary says "complete": false
    return write_ledger(session_dir, pipeline.ledger, pipeline.samples_in / SAMPLE_RATE_HZ, uri)
