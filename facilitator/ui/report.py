"""The report screen: the session's figures (from session.json's own summary) and where the files are."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from facilitator.report import figures
from facilitator.ui.format import colour_of, mmss, share_bar


class ReportScreen(Screen):
    """What the session came to, to read together."""

    BINDINGS = [Binding("q", "app.quit", "quit"), Binding("escape", "app.quit", "quit", show=False)]

    DEFAULT_CSS = """
    ReportScreen { layout: vertical; }
    #report-title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    #report-body { padding: 0 1; }
    #report-body > Static { margin-bottom: 1; }
    #report-people { border: round $secondary; padding: 0 1; overflow: hidden; height: auto; }
    """

    def __init__(self, outcome):
        super().__init__()
        self.outcome = outcome
        self.summary = outcome.summary

    def compose(self) -> ComposeResult:
        summary = self.summary
        yield Static(f"Session report · {summary.get('id') or ''}", id="report-title")
        with VerticalScroll(id="report-body"):
            yield Static(self._overview(), id="report-overview")
            yield Static(self._people(), id="report-people")
            if summary.get("turns"):
                yield Static(self._turns(), id="report-turns")
            yield Static(self._events(), id="report-events")
            yield Static(self._files(), id="report-files")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#report-people", Static).border_title = "floor time · share (┃ = equal share)"

    def _overview(self) -> Text:
        """The same sentences as the terminal summary and report files (facilitator.report.figures)."""
        s = self.summary
        text = Text()
        text.append(figures.plain_words_reading(s), style="bold")
        text.append("\n" + figures.balance_line(s), style="dim")
        text.append("\n" + " · ".join(f"{label} {value}" for label, value in figures.overview_lines(s)))
        return text

    def _people(self) -> Table:
        speakers = self.summary["speakers"]
        rows = figures.speaker_rows(self.summary)
        names = [p["name"] for p in speakers]
        named = [n for n in names if n != "unknown"]
        equal = 1.0 / max(1, len(named))
        headings = ("floor", "share", "turns", "int ↑/↓", "bc")
        table = Table.grid(expand=True, padding=(0, 1))
        table.add_column(no_wrap=True, min_width=6, max_width=14)
        table.add_column(ratio=1, no_wrap=True)
        for width in (7, 5, 5, 8, 4):
            table.add_column(justify="right", width=width)
        table.add_row("", "", *[Text(h, style="dim") for h in headings])
        for p, row in zip(speakers, rows):
            colour = colour_of(names, p["name"])
            table.add_row(Text(p["name"], style=f"bold {colour}"),
                          share_bar(p["share"], equal, 30, colour), row.text("floor_s"),
                          row.text("share"), row.text("turns"),
                          f"{row.text('interruptions_made')}/{row.text('interruptions_received')}",
                          row.text("backchannels"))
        return table

    def _turns(self) -> Text:
        text = Text("Protected turns\n", style="bold")
        for t in self.summary["turns"]:
            extra = f", {t['interruptions']} interruption(s)" if t["interruptions"] else ", uninterrupted"
            given = f", {mmss(t['given_back_s'])} given back" if t.get("given_back_s") else ""
            text.append(f"  {t['index'] + 1}. {t['holder']}: {mmss(t['floor_s'])} of "
                        f"{mmss(t['allowance_s'])}{extra}{given}\n")
        text.rstrip()
        return text

    def _events(self) -> Text:
        s = self.summary
        text = Text("Interruptions\n", style="bold")
        if not s["interruptions"]:
            text.append("  none\n")
        for i in s["interruptions"]:
            how = "took the floor" if i["successful"] else "attempted"
            text.append(f"  {mmss(i['t_s'])}  {i['who']} → {i['whom']} ({how})\n")
        text.append(f"Backchannels: {len(s['backchannels'])}   Marked moments: {len(s['markers'])}")
        if s["markers"]:
            text.append(" at " + ", ".join(mmss(m["t_s"]) for m in s["markers"]))
        return text

    def _files(self) -> Text:
        text = Text("Report files written to\n", style="bold")
        text.append(f"  {self.outcome.session_dir}\n")
        text.append("  " + ", ".join(self.outcome.files), style="dim")
        if getattr(self.outcome, "overflows", 0):
            text.append(f"\n  the microphone dropped audio {self.outcome.overflows} time(s)", style="red")
        return text
