"""``facilitator live``: the facilitator app on the microphone (and ``replay FILE --tui`` on a file)."""

from __future__ import annotations

import argparse
import sys

from facilitator.errors import UserError
from facilitator.settings import PRESETS

PROTOCOLS = ("open", "round-robin", "speaker-listener")
MODES = ("channels", "voices", "manual")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "live", help="open the live facilitator on the microphone",
        description=("Open the facilitator app: set up the session (names, protocol, turn length, "
                     "who-is-speaking mode, microphone), then watch floor time, protected turns and "
                     "interruptions live; end with the report. No audio is kept unless --record."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--speakers", metavar="A,B,...", default="Alex,Sam",
                   help="names of the people, comma-separated, in turn order (2–8)")
    p.add_argument("--protocol", choices=PROTOCOLS, default="round-robin",
                   help="open conversation, round-robin protected turns, or speaker–listener "
                        "(a paraphrase step before the roles switch)")
    p.add_argument("--turn-s", type=float, default=300.0, metavar="SECONDS",
                   help="each holder's floor time per turn")
    p.add_argument("--mode", choices=MODES, default=None,
                   help="who is speaking: one mic per person (channels), one shared mic with enrolled "
                        "voices, or manual keys. Default: channels when the device has a channel per "
                        "person, else voices")
    p.add_argument("--device", metavar="INDEX|NAME", help="input device (see 'facilitator devices')")
    p.add_argument("--record", metavar="FILE",
                   help="keep the session's audio in FILE (WAV/FLAC) for later replay; off by default")
    p.add_argument("--preset", choices=tuple(PRESETS), default="default",
                   help="interruption rule: default (DESIGN.md) or riff")
    p.add_argument("--no-auto-advance", action="store_true",
                   help="at time-up wait for a key press (n) before the floor passes on")
    p.add_argument("--bell", action="store_true", help="ring the terminal bell on alerts")
    p.add_argument("--no-setup", action="store_true", help="start at once with these options")
    p.add_argument("--out", metavar="DIR", help="session directory (default: a new one in the user data dir)")
    p.add_argument("--no-history", action="store_true", help="do not add this session to the history")
    p.set_defaults(func=run)


def _names(text: str) -> list[str]:
    from facilitator.commands.replay import parse_names

    names = parse_names(text)
    if not 2 <= len(names) <= 8:
        raise UserError("the live app needs 2 to 8 names (--speakers A,B)")
    return names


def _default_mode(device, count: int) -> str:
    try:
        from facilitator.microphone import list_input_devices, resolve_device

        index = resolve_device(device)
        devices = list_input_devices()
    except UserError:
        return "manual"
    info = next((d for d in devices if d["index"] == index or (index is None and d["default"])), None)
    return "channels" if info and info["channels"] >= count else "voices"


def run(args) -> int:
    from facilitator.ui import SessionPlan, make_app

    names = _names(args.speakers)
    mode = args.mode or _default_mode(args.device, len(names))
    plan = SessionPlan(names=names, protocol=args.protocol, turn_s=args.turn_s, mode=mode,
                       preset=args.preset, auto_advance=not args.no_auto_advance, bell=args.bell,
                       device=args.device, record_path=args.record, out_dir=args.out,
                       history=not args.no_history, source_label="microphone")
    plan.settings()  # one clear line for an impossible turn length, before the screen opens
    _check_terminal()
    _check_input_device(args.device)
    return _run_app(make_app(plan, show_setup=not args.no_setup))


def _check_input_device(device) -> None:
    """PortAudio missing, no microphone at all, or an unknown --device: one line, before the screen."""
    from facilitator.microphone import list_input_devices, resolve_device

    if not list_input_devices():
        raise UserError("no audio input device found: connect a microphone (see 'facilitator devices')")
    resolve_device(device)


def _check_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the app needs a terminal; for a run without one use "
                        "'facilitator replay FILE' (it prints the summary)")


def run_replay_tui(args) -> int:
    """``facilitator replay FILE --tui``: the live screens, fed from a stored recording."""
    from facilitator.commands.replay import parse_names
    from facilitator.sources import FileSource
    from facilitator.ui import SessionPlan, make_app

    names = parse_names(args.speakers)
    probe = FileSource(args.file)
    mode = args.mode or ("channels" if probe.input_channels > 1 and len(names) == probe.input_channels
                         else "solo")
    if mode == "solo" and len(names) != 1:
        names = names[:1] or ["speaker"]
    protocol = args.protocol
    if protocol == "round-robin" and len(names) < 2:
        raise UserError("round-robin needs at least two people: give --speakers A,B "
                        "(and a mode that can tell them apart)")
    speed = None if args.fast else (args.speed if args.speed is not None else 1.0)
    plan = SessionPlan(names=names, protocol=protocol, turn_s=args.turn_s, mode=mode,
                       preset=args.preset, out_dir=args.out, history=not args.no_history,
                       source_label=probe.path.name, replay_file=str(args.file), speed=speed)
    plan.settings()
    _check_terminal()
    return _run_app(make_app(plan, show_setup=False))


def _run_app(app) -> int:
    try:
        app.run()
    finally:
        app.wait_for_sessions()
    for screen in app.live_screens:
        if screen.session is not None:
            print(f"session written to {screen.session.session_dir}")
    return 0
