"""The fault suite's table: every test marked ``fault(name, expected)`` becomes one row.

Run ``pytest -m faults``; at the end pytest prints ``fault | expected | result``. A test records what
it actually saw with the ``observed`` fixture (e.g. the error line and exit status), which becomes
the result column next to pass/FAIL/skip.

``tests/conftest.py`` imports the hooks below; a test module marks its tests with :func:`fault`
(any test with that mark also gets the ``faults`` mark, so ``-m faults`` selects it).
"""

from __future__ import annotations

import shutil
import textwrap

import pytest

_ROWS: list[dict] = []


def fault(name: str, expected: str):
    """Mark a test (or a ``pytest.param``) as one row of the fault table."""
    return pytest.mark.fault(name=name, expected=expected)


@pytest.fixture
def observed(record_property):
    """``observed("exit 2: facilitator: error: …")`` — what the test saw, for the result column."""
    def record(text: str) -> None:
        record_property("observed", str(text))
    return record


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "fault(name, expected): one row of the fault table")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.get_closest_marker("fault") is not None:
            item.add_marker(pytest.mark.faults)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    mark = item.get_closest_marker("fault")
    if mark is None:
        return
    failed_setup = report.when == "setup" and not report.passed
    if report.when != "call" and not failed_setup:
        if report.when == "teardown" and report.failed:
            for row in _ROWS:
                if row["nodeid"] == item.nodeid:
                    row["status"] = "FAIL (teardown)"
        return
    # dict.fromkeys: a property-based test records the same observation once per example
    seen = list(dict.fromkeys(v for k, v in report.user_properties if k == "observed"))
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        status = f"skip: {reason.removeprefix('Skipped: ')}"
    else:
        status = "pass" if report.passed else "FAIL"
    _ROWS.append({"nodeid": item.nodeid, "fault": mark.kwargs.get("name", item.name),
                  "expected": mark.kwargs.get("expected", ""), "status": status,
                  "seen": "; ".join(seen)})


def table_lines(rows: list[dict], width: int) -> list[str]:
    fault_w = min(44, max([len("fault")] + [len(r["fault"]) for r in rows]))
    exp_w = min(46, max([len("expected")] + [len(r["expected"]) for r in rows]))
    res_w = max(30, width - fault_w - exp_w - 7)
    lines = [f"{'fault':<{fault_w}} | {'expected':<{exp_w}} | result",
             f"{'-' * fault_w}-+-{'-' * exp_w}-+-{'-' * min(res_w, 40)}"]
    for row in rows:
        result = row["status"] + (f" — {row['seen']}" if row["seen"] else "")
        cols = [textwrap.wrap(row["fault"], fault_w) or [""], textwrap.wrap(row["expected"], exp_w) or [""],
                textwrap.wrap(result, res_w) or [""]]
        for i in range(max(len(c) for c in cols)):
            cells = [c[i] if i < len(c) else "" for c in cols]
            lines.append(f"{cells[0]:<{fault_w}} | {cells[1]:<{exp_w}} | {cells[2]}")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _ROWS:
        return
    width = shutil.get_terminal_size((160, 40)).columns
    failed = sum(1 for r in _ROWS if r["status"].startswith("FAIL"))
    terminalreporter.section(f"fault table: {len(_ROWS)} faults, {failed} failed")
    for line in table_lines(_ROWS, max(width, 140)):
        terminalreporter.write_line(line)
