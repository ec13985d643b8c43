"""``facilitator voices``: list stored voice profiles; ``--forget NAME`` deletes one."""

from __future__ import annotations

import argparse

from facilitator.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "voices", help="list or forget enrolled voices",
        description="List the stored voice profiles, forget one, or build a background model.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--forget", metavar="NAME", help="delete this person's voice profile")
    p.add_argument("--background", metavar="FILE[,FILE…]|DIR",
                   help="build the optional background model from recordings of many other people "
                        "(sharper identification and 'unknown' decisions); stored as numbers only")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from facilitator.voices import profile

    if args.forget:
        name = args.forget.strip()
        path = profile.profile_path(name)
        if name == profile.BACKGROUND_NAME or not path.exists():
            raise UserError(f"no voice profile {name!r} (facilitator voices lists them)")
        path.unlink()
        print(f"forgot the voice of {name}")
        return 0
    if args.background:
        spec = args.background
        p = Path(spec)
        files = sorted(q for q in p.rglob("*") if q.suffix.lower() in (".wav", ".flac", ".ogg")) \
            if p.is_dir() else [Path(f.strip()) for f in spec.split(",") if f.strip()]
        if len(files) < 10:
            raise UserError(f"a background model needs recordings of many people (≥ 10 files), got {len(files)}")
        bg = profile.build_background([profile.read_audio(f) for f in files])
        out = profile.save(bg)
        print(f"background model from {len(files)} recordings → {out}")
        return 0
    names = profile.stored_names()
    if not names:
        print("no voices enrolled (facilitator enroll NAME --from FILE)")
    for name in names:
        prof = profile.load(profile.profile_path(name))
        print(f"{name:<20} {prof.speech_s:5.1f} s of speech")
    bg = profile.profile_path(profile.BACKGROUND_NAME)
    print(f"background model: {'yes' if bg.exists() else 'none (optional: facilitator voices --background DIR)'}")
    return 0
