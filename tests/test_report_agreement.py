"""The same figures everywhere: session.json, report.html, report.md, the terminal summary, the database."""

from __future__ import annotations

import json
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest

from facilitator.history import record_session
from facilitator.report import load_session, summary_table, write_reports
from facilitator.report.figures import (
    FORMATTERS,
    SPEAKER_COLUMNS,
    TURN_COLUMNS,
    balance_line,
    interruption_matrix,
    plain_words_reading,
)
from facilitator.report.synthetic import write_synthetic_session


class Figures(HTMLParser):
    """Collects every ``data-key``/``data-value`` cell of report.html, with the text shown."""

    def __init__(self):
        super().__init__()
        self.table = None
        self.row = None
        self.rows: dict[str, list[dict]] = {}
        self.cell = None
        self.by_id: dict[str, dict] = {}
        self.text_of: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
            self.rows[self.table] = []
        elif tag == "tr" and self.table:
            self.row = {"name": a.get("data-name"), "cells": {}, "matrix": []}
            self.rows[self.table].append(self.row)
        elif tag in ("td", "th") and self.row is not None and ("data-key" in a or "data-who" in a):
            self.cell = {"attrs": a, "text": ""}
        if tag == "p" and a.get("id"):
            self.text_of = a["id"]
            self.by_id[a["id"]] = {"attrs": a, "text": ""}

    def data_rows(self, table: str) -> list[dict]:
        return [r for r in self.rows[table] if r["cells"] or r["matrix"]]

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data
        if self.text_of:
            self.by_id[self.text_of]["text"] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            a = self.cell["attrs"]
            if "data-key" in a:
                self.row["cells"][a["data-key"]] = (json.loads(a["data-value"]), self.cell["text"])
            else:
                self.row["matrix"].append((a["data-who"], a["data-whom"], int(a["data-value"]), self.cell["text"]))
            self.cell = None
        elif tag == "table":
            self.table = None
        elif tag == "p":
            self.text_of = None


def md_table(md: str, heading: str) -> list[list[str]]:
    """The first table after ``heading`` (or the first table when heading is empty), as cell lists."""
    lines = md.splitlines()
    start = lines.index(heading) if heading else 0
    rows, inside = [], False
    for line in lines[start:]:
        if line.startswith("|"):
            inside = True
            rows.append([c.strip() for c in line.strip("|").split(" | ")])
        elif inside:
            break
    return [rows[0]] + rows[2:]  # drop the alignment row


@pytest.fixture(params=["open", "round-robin"])
def session_dir(request, tmp_path) -> Path:
    return write_synthetic_session(tmp_path / request.param, ("Alex", "Sam", "Jo"), protocol=request.param,
                                   seed=11, weights={"Alex": 1.6}, interrupter="Sam", turn_s=50.0)


def test_html_markdown_terminal_json_and_database_agree(session_dir, tmp_path):
    session = load_session(session_dir)
    paths = write_reports(session_dir)
    html = Figures()
    html.feed(paths["html"].read_text(encoding="utf-8"))
    md = paths["md"].read_text(encoding="utf-8")
    terminal = summary_table(session)

    # the words
    assert html.by_id["reading"]["text"] == plain_words_reading(session)
    assert f"**In plain words:** {plain_words_reading(session)}" in md
    assert plain_words_reading(session) in terminal
    assert json.loads(html.by_id["balance"]["attrs"]["data-value"]) == session["balance_index"]
    assert html.by_id["balance"]["text"] == balance_line(session)
    assert f"**{balance_line(session)}**" in md and balance_line(session) in terminal

    # per-speaker figures: exact raw values in HTML, the same text in HTML, Markdown and terminal
    md_rows = md_table(md, "## Floor per person")
    assert md_rows[0] == ["person"] + [h for _, h, _ in SPEAKER_COLUMNS]
    html_rows = html.data_rows("speakers")
    assert [r["name"] for r in html_rows] == [s["name"] for s in session["speakers"]] == [r[0] for r in md_rows[1:]]
    for sp, hrow, mrow in zip(session["speakers"], html_rows, md_rows[1:]):
        term_line = next(l for l in terminal.splitlines() if l.split()[:1] == [sp["name"]])
        assert term_line.split("  ")[0] == sp["name"]
        term_cells = term_line[len(sp["name"]):].split()
        shown = []
        for (key, _, kind), md_text in zip(SPEAKER_COLUMNS, mrow[1:]):
            value, text = hrow["cells"][key]
            assert value == sp[key], key
            assert text == md_text == FORMATTERS[kind](sp[key]), key
            shown += text.split()
        assert term_cells == shown

    # overview (length, speech, overlap, silence, longest monologue)
    ov = html.data_rows("overview")[0]["cells"]
    md_ov = md_table(md, "")
    for (key, (value, text)), md_text in zip(ov.items(), md_ov[1]):
        assert value == session[key] and text == md_text

    # round-robin turns
    if session["turns"]:
        md_turns = md_table(md, "## Round-robin turns")
        for turn, hrow, mrow in zip(session["turns"], html.data_rows("turns"), md_turns[1:], strict=True):
            for (key, _, kind), md_text in zip(TURN_COLUMNS, mrow):
                value, text = hrow["cells"][key]
                assert value == turn.get(key, 0.0) and text == md_text == FORMATTERS[kind](value)
    else:
        assert "turns" not in html.rows and "## Round-robin turns" not in md

    # interruption matrix
    names, counts = interruption_matrix(session)
    md_matrix = md_table(md, "## Interruptions (rows interrupted columns)")
    assert md_matrix[0][1:] == names
    assert len(html.data_rows("interruption-matrix")) == len(names)
    for hrow in html.data_rows("interruption-matrix"):
        for who, whom, n, text in hrow["matrix"]:
            assert n == counts[names.index(who)][names.index(whom)] == int(text)
            assert md_matrix[1 + names.index(who)][1 + names.index(whom)] == str(n)

    # the database holds exactly the session.json values
    db = tmp_path / "history.sqlite3"
    record_session(session_dir, db)
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT * FROM sessions WHERE id=?", (session["id"],)).fetchone()
    for key in ("duration_s", "speech_s", "overlap_s", "silence_s", "balance_index", "balance_verdict", "protocol",
                "turn_s", "started_at"):
        assert row[key] == session[key], key
    stored = conn.execute("SELECT * FROM participation WHERE session_id=? ORDER BY position",
                          (session["id"],)).fetchall()
    assert [r["name"] for r in stored] == [s["name"] for s in session["speakers"]]
    for r, sp in zip(stored, session["speakers"]):
        for key, _, _ in SPEAKER_COLUMNS:
            assert r[key] == sp[key], key
        for key in ("floor_s", "utterances", "backchannels_received"):
            assert r[key] == sp[key]
    ints = conn.execute("SELECT i.t_s, a.name AS who, b.name AS whom, i.successful FROM interruptions i"
                        " JOIN people a ON a.id=i.who_id JOIN people b ON b.id=i.whom_id WHERE session_id=?"
                        " ORDER BY i.rowid", (session["id"],)).fetchall()
    assert [(r["t_s"], r["who"], r["whom"], bool(r["successful"])) for r in ints] == \
        [(e["t_s"], e["who"], e["whom"], e["successful"]) for e in session["interruptions"]]
    turns = conn.execute("SELECT * FROM turns WHERE session_id=? ORDER BY idx", (session["id"],)).fetchall()
    assert [(t["idx"], t["floor_s"], t["given_back_s"], t["interruptions"]) for t in turns] == \
        [(t["index"], t["floor_s"], t["given_back_s"], t["interruptions"]) for t in session["turns"]]
    conn.close()
