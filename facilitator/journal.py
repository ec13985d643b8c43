"""The event journal: every event appended to ``events.jsonl`` as it happens.

Each line is flushed at once and the file is fsync'd at least once a second, so a killed process
loses at most the last second (and a crash loses nothing the OS already has).
"""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path
from typing import Callable, Iterator

from facilitator.errors import UserError
from facilitator.paths import open_private


def _clean(value):
    if isinstance(value, float):
        return round(value, 3)
    return value


class JournalWriter:
    """Appends events as JSON lines; callable, so it can be used as an event sink."""

    def __init__(self, path: Path, fsync_every_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.path = Path(path)
        self.fsync_every_s = fsync_every_s
        self.clock = clock
        try:
            self._file = open_private(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write the event journal {self.path}: {exc.strerror}") from None
        _lock(self._file)  # held until close or death: recovery leaves a running session alone
        self._last_sync = clock()
        self._dirty = False

    def __call__(self, event: dict) -> None:
        line = json.dumps({k: _clean(v) for k, v in event.items()}, ensure_ascii=False,
                          separators=(",", ":"))
        try:
            self._file.write(line + "\n")
            self._file.flush()
            self._dirty = True
            now = self.clock()
            if now - self._last_sync >= self.fsync_every_s:
                os.fsync(self._file.fileno())
                self._last_sync = now
                self._dirty = False
        except OSError as exc:
            raise UserError(_disk_message(self.path, exc)) from None

    def close(self) -> None:
        if self._file.closed:
            return
        try:
            self._file.flush()
            if self._dirty:
                os.fsync(self._file.fileno())
        except OSError as exc:
            raise UserError(_disk_message(self.path, exc)) from None
        finally:
            try:
                self._file.close()
            except OSError:
                pass


def _lock(handle) -> None:
    """An advisory lock on the open journal; the OS drops it when the process dies (even kill -9)."""
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):  # no fcntl (Windows) or a file system without locks
        pass


def journal_in_use(path: Path) -> bool:
    """Is a running facilitator still writing this journal?"""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        with open(path, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            except OSError:
                return False
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError:
        return False
    return False


def _disk_message(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"the disk is full while writing {path}; the events written so far are kept"
    return f"cannot write {path}: {exc.strerror or exc}"


def read_journal(path: Path) -> Iterator[dict]:
    """Events of a journal; a torn last line (a crash mid-write) is skipped."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and "kind" in event:
                yield event
