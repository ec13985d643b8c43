"""``facilitator replay FILE``: run the whole pipeline over a recording and write a session."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from facilitator.errors import UserError
from facilitator.settings import PRESETS, settings_from

MODES = ("solo", "channels", "voices", "auto")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "replay", help="run a recording through the pipeline and write a session",
        description=("Run a recorded conversation (WAV/FLAC/OGG, any sample rate) through the same "
                     "pipeline as a live session. Prints a summary and writes session.json, "
                     "events.jsonl and segments.rttm to the session directory."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("file", help="the audio file to replay")
    p.add_argument("--mode", choices=MODES, default=None,
                   help="who is speaking: solo = one unnamed voice; channels = one microphone per "
                        "person (channel order = --speakers order). Default: channels for a "
                        "multi-channel file with as many --speakers, else solo")
    p.add_argument("--voice", action="append", default=[], metavar="NAME=FILE[,FILE…]",
                   help="voices mode: enroll NAME from these recordings for this session "
                        "(repeatable; stored profiles are used for other --speakers names)")
    p.add_argument("--speakers", metavar="A,B,...",
                   help="names of the people, comma-separated (round-robin order)")
    p.add_argument("--protocol", choices=("open", "round-robin"), default="open",
                   help="open conversation, or round-robin protected turns")
    p.add_argument("--turn-s", type=float, default=300.0, metavar="SECONDS",
                   help="round-robin: each holder's floor time per turn")
    p.add_argument("--preset", choices=tuple(PRESETS), default="default",
                   help="interruption rule: default (DESIGN.md) or riff (overlap > 1 s, talks > 5 s)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--fast", action="store_true", help="replay as fast as possible (the default)")
    pace.add_argument("--speed", type=float, metavar="X",
                      help="pace the replay at X × real time (1 = like a live session)")
    p.add_argument("--out", metavar="DIR",
                   help="session directory to write (default: a new one in the user data dir)")
    p.add_argument("--no-history", action="store_true",
                   help="do not add this session to the history database")
    p.add_argument("--quiet", "-q", action="store_true", help="print only where the files went")
    p.add_argument("--tui", action="store_true",
                   help="show the replay in the live app (paced at --speed, default 1× real time)")
    p.set_defaults(func=run)


def parse_names(text: str | None) -> list[str]:
    if not text:
        return []
    names = [n.strip() for n in text.split(",")]
    if any(not n for n in names):
        raise UserError(f"--speakers has an empty name: {text!r}")
    if len(set(n.casefold() for n in names)) != len(names):
        raise UserError(f"--speakers names must differ: {text!r}")
    if len(names) > 16:
        raise UserError("at most 16 speakers")
    return names


def build_attributor(mode: str, names: list[str], channels: int, args=None):
    """The attributor for ``mode``; modes from other modules plug in here."""
    from facilitator.attribution import ChannelAttributor, SoloAttributor

    if mode == "solo":
        if len(names) > 1:
            raise UserError("solo mode credits all speech to one voice and cannot tell people apart: "
                            "use --mode channels (one mic per person) or --mode voices (enrolled voices)")
        return SoloAttributor(names[0] if names else "speaker")
    if mode == "channels":
        if not names:
            names = [f"S{i + 1}" for i in range(channels)]
        if channels != len(names):
            raise UserError(f"channels mode needs one channel per person: the audio has {channels} "
                            f"channel(s) but {len(names)} names were given")
        return ChannelAttributor(names)
    if mode in ("voices", "auto"):
        from facilitator.voices import make_attributor, resolve_profiles

        voice_args = list(getattr(args, "voice", None) or [])
        names = names or [v.partition("=")[0].strip() for v in voice_args]
        profiles = resolve_profiles(names, voice_args) if mode == "voices" else {}
        return make_attributor(mode, names, profiles)
    raise UserError(f"unknown mode {mode!r}")


class ProgressBar:
    """A one-line progress bar on stderr, shown only when the work takes more than ``after_s``."""

    def __init__(self, total_s: float, after_s: float = 2.0, stream=sys.stderr):
        self.total_s = max(total_s, 1e-9)
        self.after_s = after_s
        self.stream = stream
        self.t0 = time.monotonic()
        self.shown = False
        self._last = 0.0

    def __call__(self, done_s: float) -> None:
        now = time.monotonic()
        if now - self.t0 < self.after_s or now - self._last < 0.1 or not self.stream.isatty():
            return
        self._last = now
        self.shown = True
        frac = min(1.0, done_s / self.total_s)
        bar = "█" * int(frac * 30) + "·" * (30 - int(frac * 30))
        speed = done_s / (now - self.t0)
        self.stream.write(f"\r  {bar} {frac:6.1%}  {done_s / 60:5.1f}/{self.total_s / 60:.1f} min  "
                          f"{speed:5.0f}× real time")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 78 + "\r")
            self.stream.flush()


def run(args) -> int:
    from facilitator.journal import JournalWriter
    from facilitator.pipeline import Pipeline
    from facilitator.session_files import close_session, make_session_dir, new_session_id
    from facilitator.sources import FileSource

    if getattr(args, "tui", False):
        from facilitator.commands.live import run_replay_tui

        return run_replay_tui(args)
    names = parse_names(args.speakers)
    settings = settings_from(args.preset, protocol=args.protocol, turn_s=args.turn_s)
    if args.speed is not None and args.speed <= 0:
        raise UserError(f"--speed must be positive, not {args.speed:g}")
    probe = FileSource(args.file)  # validates the file: one clear line if it is not audio
    mode = args.mode or ("voices" if getattr(args, "voice", None) else
                         "channels" if probe.input_channels > 1 and len(names) == probe.input_channels
                         else "solo")
    source = FileSource(args.file, speed=args.speed, mono=(mode != "channels"))
    attributor = build_attributor(mode, names, source.channels, args)
    if settings.protocol == "round-robin" and len(attributor.speakers) < 2:
        raise UserError("round-robin needs at least two people: give --speakers A,B "
                        "(and a mode that can tell them apart)")
    now = datetime.now(timezone.utc)
    session_id = new_session_id(source.name, now)
    session_dir = make_session_dir(args.out, session_id)
    journal = JournalWriter(session_dir / "events.jsonl")
    pipeline = Pipeline(source, attributor, settings, sinks=[journal], session_id=session_id,
                        mode=mode, crosstalk_rejection=(mode == "channels"),
                        source_label=str(args.file), clock_now=lambda: now)
    bar = ProgressBar(source.duration_s) if args.speed is None and not args.quiet else None
    try:
        result = pipeline.run(progress=bar)
    finally:
        if bar:
            bar.close()
        journal.close()
    summary = close_session(session_dir, result.ledger, result.duration_s, source.name,
                            history=not args.no_history)
    if not args.quiet:
        print(summary_text(summary))
    print(f"session written to {session_dir}")
    return 0


def summary_text(summary: dict) -> str:
    try:
        from facilitator.report import summary_table
    except ImportError:
        summary_table = None
    if summary_table is not None:
        return summary_table(summary)
    return basic_summary(summary)


def basic_summary(summary: dict) -> str:
    """A plain table of the per-speaker figures."""
    lines = [f"{'speaker':<12} {'floor':>7} {'share':>6} {'turns':>5} {'int.made':>8} "
             f"{'int.recv':>8} {'backch.':>7}"]
    for spk in summary["speakers"]:
        minutes, seconds = divmod(int(round(spk["floor_s"])), 60)
        lines.append(f"{spk['name']:<12} {minutes:4d}:{seconds:02d} {spk['share']:6.1%} "
                     f"{spk['turns']:5d} {spk['interruptions_made']:8d} "
                     f"{spk['interruptions_received']:8d} {spk['backchannels']:7d}")
    lines.append(f"balance {summary['balance_index']}: {summary['balance_verdict']}")
    lines.append(f"overlap {summary['overlap_s']:.1f} s, silence {summary['silence_s']:.1f} s, "
                 f"duration {summary['duration_s']:.1f} s")
    return "\n".join(lines)
