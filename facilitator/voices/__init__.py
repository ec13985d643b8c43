"""Who is speaking on one shared microphone: enrolled voices (``voices``) and blind clustering (``auto``).

Numpy only: MFCC features, Gaussian mixture voice models adapted from a background model, an HMM
decoder with a fixed lag. ``make_attributor`` is the one entry point the pipeline needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from facilitator.errors import UserError

__all__ = ["make_attributor", "resolve_profiles"]


def make_attributor(mode: str, speakers: Sequence[str], voice_profiles: Mapping | None = None,
                    settings=None, background=None, voice_settings=None):
    """The attributor for ``mode`` (``voices`` or ``auto``).

    ``voices``: ``voice_profiles`` maps names to :class:`VoiceProfile` (see :func:`resolve_profiles`);
    ``speakers`` (the round-robin order) defaults to the profiles' names; a speaker without a
    profile is learnt from their protected turns. ``background`` is a background profile, or
    ``None`` to use the stored one if any. ``auto``: ``speakers`` gives the count (empty = estimate).
    """
    frame_s = getattr(settings, "frame_s", 0.03)
    if mode == "auto":
        from facilitator.voices.cluster import AutoAttributor

        return AutoAttributor(list(speakers), frame_s=frame_s)
    if mode != "voices":
        raise UserError(f"unknown voice mode {mode!r}")
    from facilitator.voices.attributor import VoiceAttributor
    from facilitator.voices.models import SessionModels

    profiles = dict(voice_profiles or {})
    names = list(speakers) or list(profiles)
    if not names:
        raise UserError("voices mode needs enrolled voices: --voice NAME=FILE, or names of stored "
                        "profiles in --speakers (facilitator voices lists them)")
    if not any(n in profiles for n in names):
        if background is None:
            background = stored_background()
        if background is None:
            raise UserError("voices mode needs at least one enrolled voice among --speakers "
                            "(facilitator enroll NAME --from FILE)")
    if background is None:
        background = stored_background()
    models = SessionModels(names, profiles, background)
    return VoiceAttributor(models, voice_settings, frame_s=frame_s)


def stored_background():
    from facilitator.paths import voices_dir
    from facilitator.voices import profile

    path = Path(voices_dir()) / f"{profile.BACKGROUND_NAME}.npz"
    return profile.load(path) if path.exists() else None


def resolve_profiles(names: Sequence[str], voice_args: Sequence[str] = ()) -> dict:
    """Profiles for a session: ``--voice NAME=FILE[,FILE…]`` enrolls from audio on the spot;
    other ``names`` are looked up among the stored profiles (missing ones are learnt from turns)."""
    from facilitator.voices import profile

    out = {}
    for spec in voice_args:
        name, sep, files = spec.partition("=")
        if not sep or not files.strip():
            raise UserError(f"--voice wants NAME=FILE[,FILE…], not {spec!r}")
        name = profile.check_name(name)
        audio = [profile.read_audio(f.strip()) for f in files.split(",") if f.strip()]
        out[name] = profile.enroll(name, audio)
    for name in names:
        if name not in out and profile.profile_path(name).exists():
            out[name] = profile.load(profile.profile_path(name))
    return out
