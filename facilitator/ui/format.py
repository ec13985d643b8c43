"""Small text helpers shared by the screens (no Textual here, only Rich text)."""

from __future__ import annotations

from rich.text import Text

# one colour per person, in turn order (readable on dark and light terminals)
PERSON_COLOURS = ["#4ea1ff", "#ffb347", "#7ddc7d", "#e88bd9", "#f0e36b", "#6fe0d8", "#ff8080",
                  "#b9a6ff"]


def mmss(seconds: float | None) -> str:
    """``75.4`` → ``1:15``; negative values count as zero; None → ``–``."""
    if seconds is None:
        return "–"
    whole = max(0, int(seconds + 1e-6))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def countdown(seconds: float) -> str:
    """Time left, rounded up so the display reaches 0:00 only when time is really up."""
    import math

    return mmss(math.ceil(max(0.0, seconds) - 1e-6))


def share_bar(share: float, equal: float, width: int, colour: str) -> Text:
    """A bar of ``share`` with a tick at the equal share (``┃``), ``width`` cells wide."""
    filled = int(round(max(0.0, min(1.0, share)) * width))
    mark = min(width - 1, int(round(equal * width)))
    text = Text()
    for cell in range(width):
        if cell == mark:
            text.append("┃", style="bold white" if cell < filled else "bold")
        elif cell < filled:
            text.append("█", style=colour)
        else:
            text.append("·", style="dim")
    return text


def colour_of(names: list[str], name: str) -> str:
    try:
        return PERSON_COLOURS[names.index(name) % len(PERSON_COLOURS)]
    except ValueError:
        return "grey70"
