"""Shared fixtures: where the shared corpus and the bundled samples are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Every test gets its own data dir, so no test touches the user's sessions or history."""
    home = tmp_path / "facilitator-home"
    monkeypatch.setenv("FACILITATOR_HOME", str(home))
    return home


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "conversations" / "conversations.rttm").exists():
        pytest.skip(f"the shared speech corpus is not at {CORPUS} (it is beside the project in CI)")
    return CORPUS


# the fault suite's table (pytest -m faults): hooks and the ``observed`` fixture
from faults_table import (  # noqa: E402,F401
    observed,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)
