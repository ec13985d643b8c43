"""``facilitator enroll NAME --from FILE[,FILE…] | --mic``: store a voice profile (numbers, not audio)."""

from __future__ import annotations

import argparse

from facilitator.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "enroll", help="learn a person's voice for voices mode",
        description=("Learn a person's voice from 10–20 s of their speech, read from files or recorded "
                     "from the microphone, and store it as a voice profile (a small set of numbers; "
                     "no audio is kept) in your private data directory."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("name", help="the person's name, as used in --speakers")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="files", metavar="FILE[,FILE…]",
                     help="recordings of the person alone (any format soundfile reads)")
    src.add_argument("--mic", action="store_true", help="record from the microphone")
    p.add_argument("--seconds", type=float, default=20.0, help="--mic: how long to record")
    p.add_argument("--device", default=None, help="--mic: input device (see facilitator devices)")
    p.add_argument("--force", action="store_true", help="replace an existing profile of that name")
    p.set_defaults(func=run)


def _prompt() -> str:
    from facilitator.voices.recording import READ_ALOUD

    return f"Please read aloud, at your usual pace: \"{READ_ALOUD}\""


def record_mic(seconds: float, device=None):
    """Record ``seconds`` of 16 kHz mono through the project's microphone source."""
    from facilitator.microphone import MicrophoneSource
    from facilitator.voices.recording import record

    return record(MicrophoneSource(device=device), max_s=seconds)


def run(args) -> int:
    from facilitator.voices import profile

    name = profile.check_name(args.name)
    path = profile.profile_path(name)
    if path.exists() and not args.force:
        raise UserError(f"a voice profile {name!r} exists already: add --force to replace it, or "
                        f"facilitator voices --forget {name}")
    if args.mic:
        if not (3.0 <= args.seconds <= 120.0):
            raise UserError("--seconds must be between 3 and 120")
        print(_prompt())
        print(f"recording {args.seconds:.0f} s …")
        audio = [record_mic(args.seconds, args.device)]
    else:
        files = [f.strip() for f in args.files.split(",") if f.strip()]
        if not files:
            raise UserError("--from needs at least one file")
        audio = [profile.read_audio(f) for f in files]
    prof = profile.enroll(name, audio)
    out = profile.save(prof)
    print(f"enrolled {name}: {prof.speech_s:.1f} s of speech → {out}")
    if prof.speech_s < 8.0:
        print("note: less than 8 s of speech; 10–20 s identifies a voice more reliably")
    return 0
