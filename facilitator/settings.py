"""Every number of the measure is a setting (DESIGN.md, "The measure"); defaults are the design's."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from facilitator.errors import UserError

SAMPLE_RATE_HZ = 16000


@dataclass(frozen=True)
class Settings:
    # framing and voice activity
    frame_ms: int = 30
    vad_mode: int = 1  # webrtcvad aggressiveness 0..3; mode 1 had the lowest error on real speech here
    onset_ms: int = 90  # voiced frames needed before speech starts
    offset_ms: int = 600  # unvoiced frames needed before speech stops (shorter pauses are bridged)
    hangover_ms: int = 120  # speech is held this long past its last voiced frame (soft word endings)
    gate_db: float = 8.0  # a frame must be this far above the running noise floor to count as voiced
    noise_window_s: float = 5.0  # the noise floor is the quietest frame energy over this window
    min_level_dbfs: float = -60.0  # below this a frame is never speech (digital silence, hum)
    crosstalk_db: float = 14.0  # channels mode: a channel counts when within this many dB of the loudest

    # utterances, backchannels, interruptions
    bridge_s: float = 0.5  # pauses shorter than this stay inside one utterance
    backchannel_max_s: float = 1.0  # a listener utterance shorter than this is a backchannel
    interrupt_min_s: float = 1.0  # an interrupter keeps talking at least this long
    interrupt_gap_s: float = 0.2  # starting within this gap of the holder's speech counts as mid-utterance
    interrupt_overlap_min_s: float = 0.0  # minimum overlap with the holder (Riff preset: 1.0)
    success_window_s: float = 2.0  # holder stops within this long → a successful interruption
    take_floor_s: float = 1.0  # speech this long with the holder silent takes the floor

    # protected turns
    protocol: str = "open"  # open | round-robin
    turn_s: float = 300.0
    warnings_s: tuple = (60.0, 10.0)
    auto_advance: bool = True
    handover_grace_s: float = 3.0  # with this little left, the holder falling silent and the next
    #   person talking ≥ backchannel_max_s ends the turn (measurement is never exact to the second)
    auto_give_back: bool = False  # give the holder back the time lost to each interruption

    heartbeat_s: float = 1.0

    @property
    def frame_s(self) -> float:
        return self.frame_ms / 1000.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["warnings_s"] = list(self.warnings_s)
        return data

    def with_changes(self, **changes) -> "Settings":
        return validated(replace(self, **changes))


PRESETS = {
    "default": {},
    # Riff's stricter published rule: overlap > 1 s, interrupter talks > 5 s, holder stops first.
    "riff": {"interrupt_overlap_min_s": 1.0, "interrupt_min_s": 5.0},
}


def validated(settings: Settings) -> Settings:
    """Reject impossible settings with one clear line each."""
    if settings.frame_ms not in (10, 20, 30):
        raise UserError(f"frame length must be 10, 20 or 30 ms (webrtcvad), not {settings.frame_ms}")
    if settings.vad_mode not in (0, 1, 2, 3):
        raise UserError(f"VAD mode must be 0..3, not {settings.vad_mode}")
    if settings.protocol not in ("open", "round-robin"):
        raise UserError(f"unknown protocol {settings.protocol!r}: use open or round-robin")
    if not (10.0 <= settings.turn_s <= 4 * 3600.0):
        raise UserError(f"turn length must be between 10 s and 4 h, not {settings.turn_s:g} s")
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value != value or (value < 0 and f.name not in ("min_level_dbfs",)):
                raise UserError(f"setting {f.name} must be a non-negative number, not {value}")
    return settings


def settings_from(preset: str = "default", **changes) -> Settings:
    if preset not in PRESETS:
        raise UserError(f"unknown preset {preset!r}: choose from {', '.join(PRESETS)}")
    merged = {**PRESETS[preset], **{k: v for k, v in changes.items() if v is not None}}
    return validated(Settings(**merged))
