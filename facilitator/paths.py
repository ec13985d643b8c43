"""Where facilitator keeps its data: one private directory per user (0700), files 0600.

``FACILITATOR_HOME`` overrides the platform's user data directory (tests use it).
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The user's private data directory, created 0700 if missing."""
    override = os.environ.get("FACILITATOR_HOME")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("facilitator", appauthor=False))
    return private_dir(path)


def sessions_dir() -> Path:
    return private_dir(data_dir() / "sessions")


def voices_dir() -> Path:
    return private_dir(data_dir() / "voices")


def database_path() -> Path:
    return data_dir() / "history.sqlite3"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the user only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def open_private(path: Path, mode: str = "w", **kwargs):
    """Open a file for writing, created 0600 from the first byte (no window where others can read)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.chmod(path, 0o600)
    return os.fdopen(fd, mode, **kwargs)
