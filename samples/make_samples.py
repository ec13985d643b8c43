#!/usr/bin/env python3
"""Build the bundled demo conversations in samples/ from Debian TTS voices, with exact truth.

Every utterance is synthesised on its own (espeak-ng or festival), trimmed to its active region with
an energy threshold, and placed on a timeline by a small scripted conversation: normal turns follow
after a short gap, backchannels sit inside the holder's utterance, and an interrupter starts
mid-sentence while the holder stops a moment later. Because the script places every clip it
writes the truth (RTTM, events) exactly as placed.

Run from the repository root:  python samples/make_samples.py
Needs espeak-ng, festival (text2wave, voice kal_diphone), numpy, soundfile and soxr. The output is
deterministic (fixed seed; TTS engines are deterministic).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

SR = 16000
FRAME_N = 160  # 10 ms analysis frames for the active-region trim
ACTIVE_DB = -40.0  # a frame is speech if its RMS is within 40 dB of the clip's loudest frame
DIP_DB = -20.0  # a "quiet point" (word boundary) for cutting a turn's last clip
SPEECH_RMS_DBFS = -26.0  # every clip is levelled to this RMS over its active frames
SPEECH_BAND_HZ = 6000
NOISE_DBFS = -50.0  # low-level background noise, so gaps are not digital silence
NOISE_BAND_HZ = 1500
CROSSTALK_DB = -18.0  # the other person on a per-person microphone
CROSSTALK_DELAY_S = 0.0015
SEED = 20261123

GAP_S = (0.25, 0.6)  # silence between two people's turns
PAUSE_S = (0.2, 0.45)  # silence between one person's consecutive sentences
INT_STOP_S = (0.25, 0.5)  # the interrupted holder stops this long after the interrupter starts
TURN_GAP_S = (0.8, 1.2)  # round-robin: between two protected turns
RR_TURN_S = 30.0

OUT = Path(__file__).resolve().parent

VOICES = {
    "Alex": {"engine": "espeak-ng", "voice": "en-us+f3", "gender": "female", "accent": "US"},
    "Sam": {"engine": "festival", "voice": "kal_diphone", "gender": "male", "accent": "US"},
    "Kim": {"engine": "espeak-ng", "voice": "en-gb-x-rp+f2", "gender": "female", "accent": "British RP"},
}


# --------------------------------------------------------------------------------------------- TTS
_cache: dict[tuple[str, str], np.ndarray] = {}


def synthesise(name: str, text: str) -> np.ndarray:
    """The trimmed, levelled clip (float64, 16 kHz) of `name` saying `text`."""
    key = (name, text)
    if key in _cache:
        return _cache[key]
    v = VOICES[name]
    if v["engine"] == "espeak-ng":
        wav = subprocess.run(["espeak-ng", "-v", v["voice"], "--stdout", text],
                             capture_output=True, check=True).stdout
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "clip.wav")
            subprocess.run(["text2wave", "-eval", f"(voice_{v['voice']})", "-o", path],
                           input=text.encode(), capture_output=True, check=True)
            wav = Path(path).read_bytes()
    x, sr = sf.read(io.BytesIO(wav), dtype="float64")
    if x.ndim > 1:
        x = x.mean(axis=1)
    # band-limit to 6 kHz on the way to 16 kHz, like a laptop microphone (and ~12 % smaller FLAC)
    x = soxr.resample(soxr.resample(x, sr, 2 * SPEECH_BAND_HZ, quality="HQ"), 2 * SPEECH_BAND_HZ, SR, quality="HQ")
    rms = frame_rms(x)
    active = rms > rms.max() * 10 ** (ACTIVE_DB / 20)
    idx = np.flatnonzero(active)
    x = x[idx[0] * FRAME_N:(idx[-1] + 1) * FRAME_N]
    rms = frame_rms(x)
    active = rms > rms.max() * 10 ** (ACTIVE_DB / 20)
    level = np.sqrt(np.mean(rms[active] ** 2))
    x = x * (10 ** (SPEECH_RMS_DBFS / 20) / level)
    # one clip = one stretch of speech: no inner silence a VAD would split on
    longest = longest_false_run(active) * FRAME_N / SR
    if longest >= 0.4:
        raise SystemExit(f"{name}: {text!r} has an inner pause of {longest:.2f} s; split the text")
    _cache[key] = x
    return x


def frame_rms(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME_N
    return np.sqrt(np.mean(x[:n * FRAME_N].reshape(n, FRAME_N) ** 2, axis=1) + 1e-20)


def longest_false_run(flags: np.ndarray) -> int:
    best = run = 0
    for f in flags:
        run = 0 if f else run + 1
        best = max(best, run)
    return best


def active_frames(x: np.ndarray) -> np.ndarray:
    rms = frame_rms(x)
    return rms > rms.max() * 10 ** (ACTIVE_DB / 20)


# ---------------------------------------------------------------------------------------- timeline
@dataclass
class Clip:
    who: str
    start: int  # samples
    audio: np.ndarray

    @property
    def end(self) -> int:
        return self.start + len(self.audio)


def cut(audio: np.ndarray, n: int) -> np.ndarray:
    """The first `n` samples, with a 10 ms fade-out, trimmed back to the last active frame."""
    n -= n % FRAME_N
    y = audio[:n].copy()
    act = active_frames(audio)[: n // FRAME_N]
    last = np.flatnonzero(act)[-1] + 1
    y = y[: last * FRAME_N]
    fade = min(FRAME_N, len(y))
    y[-fade:] *= np.linspace(1.0, 0.0, fade)
    return y


class Timeline:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.clips: list[Clip] = []
        self.events: list[tuple[str, float, str, str]] = []  # kind, time_s, who, whom
        self.floor: Clip | None = None  # the last clip that held the floor (not a backchannel)

    def s(self, lo_hi: tuple[float, float]) -> int:
        return int(round(self.rng.uniform(*lo_hi) * SR))

    def latest_end(self) -> int:
        return max((c.end for c in self.clips), default=0)

    def say(self, who: str, text: str, after_s: tuple[float, float] | None = None) -> Clip:
        """A normal turn or continuation: after a pause (same person) or a gap (someone else)."""
        audio = synthesise(who, text)
        if self.floor is None:
            start = int(0.6 * SR)
        elif after_s is not None:
            start = self.latest_end() + self.s(after_s)
        elif self.floor.who == who:
            start = self.latest_end() + self.s(PAUSE_S)
        else:
            start = self.latest_end() + self.s(GAP_S)
        clip = Clip(who, start, audio)
        self.clips.append(clip)
        self.floor = clip
        return clip

    def backchannel(self, who: str, text: str) -> Clip:
        """A short listener utterance inside the holder's current clip; the holder keeps talking."""
        holder = self.floor
        assert holder is not None and holder.who != who
        audio = synthesise(who, text)
        if len(audio) >= 0.9 * SR:
            raise SystemExit(f"backchannel {text!r} by {who} is {len(audio) / SR:.2f} s (< 0.9 s needed)")
        lo = holder.start + int(0.8 * SR)
        hi = holder.end - int(0.6 * SR) - len(audio)
        if hi <= lo:
            raise SystemExit(f"{holder.who}'s clip is too short for a backchannel by {who}")
        start = int(self.rng.integers(lo, hi))
        clip = Clip(who, start, audio)
        self.clips.append(clip)
        self.events.append(("backchannel", start / SR, who, holder.who))
        return clip

    def interrupt(self, who: str, text: str, min_talk_s: float = 1.5, max_talk_s: float | None = None) -> Clip:
        """`who` starts mid-sentence in the holder's clip; the holder stops within ~0.5 s."""
        holder = self.floor
        assert holder is not None and holder.who != who
        audio = synthesise(who, text)
        talk_s = len(audio) / SR
        if talk_s < min_talk_s or (max_talk_s is not None and talk_s > max_talk_s):
            raise SystemExit(f"interruption {text!r} by {who} lasts {talk_s:.2f} s, "
                             f"outside [{min_talk_s}, {max_talk_s}]")
        act = active_frames(holder.audio)
        n_frames = len(act)
        for _ in range(200):
            f = int(self.rng.integers(int(0.45 * n_frames), int(0.7 * n_frames)))
            if not (act[f] and act[f + 1]):
                continue  # start while the holder is actually voicing a word
            onset = f * FRAME_N
            if len(holder.audio) - onset < 0.8 * SR:
                continue  # truly mid-sentence: the holder had more to say
            stop = onset + self.s(INT_STOP_S)
            truncated = cut(holder.audio, stop)
            if len(truncated) - onset >= 0.15 * SR:  # a real overlap
                break
        else:
            raise SystemExit(f"no interruption point found in {holder.who}'s clip")
        holder.audio = truncated
        start = holder.start + onset
        clip = Clip(who, start, audio)
        self.clips.append(clip)
        self.events.append(("interruption", start / SR, who, holder.who))
        self.floor = clip
        return clip


def conversation(lines: list[tuple], rng: np.random.Generator) -> Timeline:
    """Lines are (who, text) for a turn, (who, text, "bc") or (who, text, "int")."""
    tl = Timeline(rng)
    for line in lines:
        who, text, *kind = line
        if not kind:
            tl.say(who, text)
        elif kind[0] == "bc":
            tl.backchannel(who, text)
        elif kind[0] == "int":
            tl.interrupt(who, text)
        else:
            raise ValueError(kind)
    return tl


def round_robin(turns: list[tuple[str, list]], rng: np.random.Generator, turn_s: float) -> tuple[Timeline, list[dict]]:
    """Each turn: the holder speaks sentences until their own speech reaches `turn_s` seconds.

    A turn's item is a sentence, or ("bc"/"int", who, text) placed against the holder's last
    sentence. The last sentence is cut at the first quiet point after `turn_s` is reached.
    """
    tl = Timeline(rng)
    info = []
    need = int(round(turn_s * SR))
    for index, (holder, items) in enumerate(turns):
        first = None
        for item in items:
            if isinstance(item, tuple):
                kind, who, text = item
                if kind == "bc":
                    tl.backchannel(who, text)
                else:
                    tl.interrupt(who, text, min_talk_s=1.5, max_talk_s=3.0)
                continue
            gap = TURN_GAP_S if first is None and tl.clips else None
            clip = tl.say(holder, item, after_s=gap)
            first = first if first is not None else clip.start
            spoken = holder_speech(tl, holder, first)
            if spoken >= need:
                over = spoken - need  # samples of this clip beyond the allowance
                clip.audio = cut_at_quiet_point(clip.audio, len(clip.audio) - over)
                break
        else:
            raise SystemExit(f"turn {index} ({holder}) ran out of text before {turn_s} s of speech")
        end = clip.end
        floor = holder_speech(tl, holder, first)
        assert floor >= need, (floor, need)
        tl.events.append(("turn_end", end / SR, holder, ""))
        info.append({"index": index, "holder": holder, "start_s": round(first / SR, 3),
                     "end_s": round(end / SR, 3), "floor_s": round(floor / SR, 3)})
    return tl, info


def holder_speech(tl: Timeline, holder: str, since: int) -> int:
    return sum(len(c.audio) for c in tl.clips if c.who == holder and c.start >= since)


def cut_at_quiet_point(audio: np.ndarray, n: int) -> np.ndarray:
    """Cut at the first word boundary (energy dip) at or after sample `n`; never before `n`."""
    rms = frame_rms(audio)
    act = rms > rms.max() * 10 ** (ACTIVE_DB / 20)
    dip = rms < rms.max() * 10 ** (DIP_DB / 20)
    f0 = -(-n // FRAME_N)
    for f in range(max(f0, 1), len(rms)):
        if dip[f] and act[f - 1]:
            break
    else:
        return audio
    y = audio[: f * FRAME_N].copy()
    y[-FRAME_N:] *= np.linspace(1.0, 0.0, FRAME_N)
    return y


# ------------------------------------------------------------------------------------------ render
def render(tl: Timeline, speakers: list[str], tail_s: float = 0.8) -> tuple[np.ndarray, int]:
    """Per-speaker tracks (speakers × samples) of clean speech."""
    n = tl.latest_end() + int(tail_s * SR)
    tracks = np.zeros((len(speakers), n))
    for c in tl.clips:
        tracks[speakers.index(c.who), c.start:c.end] += c.audio
    return tracks, n


def noise(rng: np.random.Generator, shape) -> np.ndarray:
    """Soft room noise at NOISE_DBFS RMS, band-limited to NOISE_BAND_HZ (white noise costs FLAC ~4x the bytes)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    low_sr = 2 * NOISE_BAND_HZ
    n_low = shape[-1] * low_sr // SR + 64
    w = rng.standard_normal(shape[:-1] + (n_low,))
    w = soxr.resample(w.T, low_sr, SR, quality="HQ").T[..., 32 * SR // low_sr:][..., :shape[-1]]
    return w * (10 ** (NOISE_DBFS / 20) / w.std())


def write_flac(path: Path, audio: np.ndarray) -> None:
    peak = np.abs(audio).max()
    if peak > 0.99:
        raise SystemExit(f"{path.name}: peak {peak:.2f} would clip")
    sf.write(path, audio, SR, subtype="PCM_16", format="FLAC", compression_level=1.0)


def mix_mono(tracks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return tracks.sum(axis=0) + noise(rng, tracks.shape[1])


def mix_mics(tracks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One channel per person: own voice plus each other voice at CROSSTALK_DB, CROSSTALK_DELAY_S late."""
    delay = int(round(CROSSTALK_DELAY_S * SR))
    g = 10 ** (CROSSTALK_DB / 20)
    late = np.zeros_like(tracks)
    late[:, delay:] = tracks[:, :-delay]
    out = np.empty_like(tracks)
    for c in range(len(tracks)):
        out[c] = tracks[c] + g * (late.sum(axis=0) - late[c])
    return (out + noise(rng, out.shape)).T


# ------------------------------------------------------------------------------------------- texts
OPEN_2 = [
    ("Alex", "So, did you see the note from the landlord about the boiler?"),
    ("Sam", "I did, they want to send someone round on Thursday morning."),
    ("Alex", "Thursday is tricky for me, I have the dentist at ten and then work straight after."),
    ("Sam", "I can stay in, I'm working from home that day anyway.", "int"),
    ("Alex", "While we're at it, we should sort out the washing, because the basket has been full since Sunday and I keep meaning to do it."),
    ("Sam", "Uh-huh.", "bc"),
    ("Sam", "I'll put a load on tonight, and then I can cook, maybe a stir fry with those peppers."),
    ("Sam", "I can pick up some tofu on the way home, unless you think we need something else."),
    ("Alex", "Actually, we have tofu already, it's at the back of the fridge.", "int"),
    ("Alex", "The other thing is the weekend, my sister asked if we want to come for lunch on Sunday."),
    ("Sam", "Right.", "bc"),
    ("Sam", "I'd like that, but we also promised to help Jo move the sofa on Saturday afternoon, and I don't know how long that takes."),
    ("Alex", "Yeah.", "bc"),
    ("Sam", "And moving a sofa always takes until the evening, because somebody forgets the straps."),
    ("Alex", "Okay, okay, fair point, let's say Sunday lunch is a maybe.", "int"),
    ("Alex", "My plan for Saturday morning is to clean the bathroom and then go for a run along the river, if the weather holds."),
    ("Sam", "Wait, wasn't it supposed to rain all weekend?", "int"),
    ("Sam", "Fine, I'll text your sister and tell her we'll confirm on Saturday night."),
    ("Sam", "One more thing, the recycling goes out on Tuesday, so please remind me on Monday evening."),
    ("Alex", "Uh-huh.", "bc"),
    ("Alex", "I will, I'll put it in the calendar right now."),
]

RR_2 = [
    ("Alex", [
        "Okay, my turn first, and I want to talk about how the housework is split at the moment.",
        "I feel like I do most of the small daily things, like the dishes, wiping the counters, and feeding the cat.",
        "None of those take long on their own, but together they fill up every evening.",
        ("bc", "Sam", "Mm."),
        "And because they are small, I don't think anyone notices when they get done.",
        "What I would like is a simple list on the fridge, so we can both see who did what this week.",
        "I'm not trying to keep score, I just want it to be visible.",
        ("int", "Sam", "But I do the bins and the shopping every week."),
        "I know you do, and I'm grateful for that, really.",
        "My point is only that the daily things add up to more time than the weekly things.",
        "Maybe we could swap some jobs, so that you do the dishes on weekdays and I do the big shop.",
        "I actually like going to the market on Saturday, so that would suit me.",
        "And I would like us to agree on one evening a week when nobody does any chores at all.",
        "That's most of what I wanted to say.",
        "Oh, and one more thing, the cat's litter tray needs cleaning more often than it gets done.",
        "I'd be happy to take that on if you take the laundry.",
    ]),
    ("Sam", [
        "Thanks, that's helpful, and I think the list on the fridge is a good idea.",
        "I didn't realise how much time the dishes were taking you.",
        "From my side, I feel the weekly jobs are bigger than they look.",
        "The shopping takes me almost two hours, with the drive and the queue at the till.",
        ("bc", "Alex", "Right."),
        "But I'm happy to swap, and I'll do the dishes on weekdays from now on.",
        "I would ask one thing in return, which is that we plan the meals together on Sunday.",
        "Then the shopping list is ready and I don't have to guess what we need.",
        "About the free evening, I really like that, let's make it Wednesday.",
        "I also want to say that I'm sorry if it felt like I wasn't noticing.",
        "I do notice, I just don't always say it.",
        "The laundry is fine for me, I can do it on Sunday mornings.",
        "And if the list gets uneven, we talk about it instead of getting annoyed.",
        "That's all from me for now.",
        "Actually, one last thing, can we get a second laundry basket for the bedroom?",
    ]),
    ("Alex", [
        "Yes, a second basket is a good idea, I'll order one this week.",
        "I like Wednesday as the free evening too, it breaks up the week nicely.",
        "Planning meals on Sunday works for me, as long as we keep it short.",
        ("bc", "Sam", "Yeah."),
        "Maybe ten minutes with a cup of tea, and we write the list on the phone.",
        "I also want to thank you for saying sorry, that means a lot to me.",
        "For the cat, I'll clean the tray every second day and you feed her in the mornings.",
        "She wakes you up anyway, so you might as well be the one with the food.",
        "If something comes up, like work trips, we just swap that week.",
        "I think we should try this for a month and then look at it again.",
        "And let's put the list somewhere we both walk past every day.",
        "The fridge door is probably the best place for it.",
        "That's it from me for this round.",
        "Oh, and we should water the plants on Fridays, they look a bit sad.",
    ]),
    ("Sam", [
        "A month sounds fair, and I agree the fridge door is the right place.",
        "Feeding the cat in the mornings is fine, she's up at six anyway.",
        "I can take the plants too, I like doing that.",
        "The only worry I have is my late shifts in the second half of the month.",
        "On those days I won't be home before nine, so the dishes might wait until morning.",
        ("int", "Alex", "That's fine, just soak the pans overnight."),
        "Yes, I'll soak them, and I'll do them before work the next day.",
        "I think we should also write down the bigger jobs, like cleaning the oven.",
        "Those are easy to forget until something starts to smell.",
        "Maybe we pick one big job each weekend and do it together.",
        "That could even be nice, with some music on.",
        "So, to sum up, I do dishes, laundry, cat food and plants, and you do shopping, the tray and the big list.",
        "And on Wednesdays nobody lifts a finger.",
        "I'm happy with that plan.",
    ]),
]

MEETING_3 = [
    ("Kim", "Okay, let's start, we only have the room until half past."),
    ("Kim", "First thing is the kitchen rota, because the sink was full again on Friday."),
    ("Alex", "I saw that, and nobody had emptied the dishwasher either."),
    ("Sam", "I think the problem is that the rota on the wall is from last year and half the names are gone."),
    ("Kim", "Right.", "bc"),
    ("Sam", "If we print a new one with the three of us and the two new people, it should work again."),
    ("Kim", "Good, can you make the new rota, Sam?"),
    ("Sam", "Sure, I'll have it up by Wednesday."),
    ("Alex", "Next is the team lunch, we said we would do something before the holidays."),
    ("Kim", "I was thinking about the Italian place near the station, they have a big table in the back room."),
    ("Alex", "Mm-hm.", "bc"),
    ("Kim", "They also do a good set lunch, so it would not cost too much for everyone."),
    ("Sam", "The last time we went there it took forever to get the food.", "int"),
    ("Kim", "That was a Friday, on a Tuesday it is much quieter."),
    ("Alex", "Tuesday is fine for me, but not the week after next, because I am away at the training course in Leeds."),
    ("Kim", "Then let's say next Tuesday at one, and I'll book the table.", "int"),
    ("Sam", "Yeah.", "bc"),
    ("Kim", "Last point, the plants by the window keep dying because nobody waters them."),
    ("Alex", "I can take the plants, I'm in early on Mondays anyway."),
    ("Sam", "And maybe we move them away from the radiator, it gets really hot there in the afternoon."),
    ("Kim", "Good idea, we can do that right after the meeting.", "int"),
    ("Alex", "Great, so Sam does the rota, Kim books lunch, and I look after the plants."),
    ("Kim", "Perfect, thanks everyone, that was quick."),
]


# -------------------------------------------------------------------------------------------- main
def segments(tl: Timeline) -> list[tuple[str, float, float]]:
    return sorted(((c.who, c.start / SR, c.end / SR) for c in tl.clips), key=lambda s: (s[1], s[0]))


def stats(tl: Timeline, speakers: list[str], n: int) -> dict:
    talking = np.zeros((len(speakers), n), dtype=bool)
    for c in tl.clips:
        talking[speakers.index(c.who), c.start:c.end] = True
    count = talking.sum(axis=0)
    return {
        "duration_s": round(n / SR, 3),
        "speech_s": {s: round(talking[i].sum() / SR, 3) for i, s in enumerate(speakers)},
        "overlap_s": round(float((count > 1).sum()) / SR, 3),
        "silence_s": round(float((count == 0).sum()) / SR, 3),
        "interruptions": sum(e[0] == "interruption" for e in tl.events),
        "backchannels": sum(e[0] == "backchannel" for e in tl.events),
    }


def main() -> int:
    for tool in ("espeak-ng", "text2wave"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install espeak-ng festival")
    rng = np.random.default_rng(SEED)
    rttm: list[str] = []
    events: list[str] = []
    spec: list[dict] = []

    def voices(speakers):
        return {s: VOICES[s] for s in speakers}

    def record(uri: str, tl: Timeline):
        for who, start, end in segments(tl):
            rttm.append(f"SPEAKER {uri} 1 {start:.3f} {end - start:.3f} <NA> <NA> {who} <NA> <NA>")
        for kind, t, who, whom in sorted(tl.events, key=lambda e: e[1]):
            events.append(f"{uri}\t{kind}\t{t:.3f}\t{who}\t{whom}")

    # 1 + 2: open two-person conversation, mixed and per-person mics
    speakers = ["Alex", "Sam"]
    tl = conversation(OPEN_2, rng)
    tracks, n = render(tl, speakers)
    write_flac(OUT / "open-2.flac", mix_mono(tracks, rng))
    write_flac(OUT / "open-2.mics.flac", mix_mics(tracks, rng))
    record("open-2", tl)
    common = {"speakers": speakers, "protocol": "open", "turn_s": None, "voices": voices(speakers)}
    spec.append({"id": "open-2", "file": "open-2.flac", "uri": "open-2", "channels": 1,
                 "mode": "voices", **common, **stats(tl, speakers, n)})
    spec.append({"id": "open-2.mics", "file": "open-2.mics.flac", "uri": "open-2", "channels": 2,
                 "mode": "channels", "crosstalk_db": CROSSTALK_DB, "crosstalk_delay_s": CROSSTALK_DELAY_S,
                 **common, **stats(tl, speakers, n)})

    # 3: round-robin, four protected turns of 30 s of the holder's speech
    speakers = ["Alex", "Sam"]
    tl, turns = round_robin(RR_2, rng, RR_TURN_S)
    tracks, n = render(tl, speakers)
    write_flac(OUT / "rr-2.flac", mix_mono(tracks, rng))
    record("rr-2", tl)
    spec.append({"id": "rr-2", "file": "rr-2.flac", "uri": "rr-2", "channels": 1, "mode": "voices",
                 "speakers": speakers, "protocol": "round-robin", "turn_s": RR_TURN_S,
                 "voices": voices(speakers), **stats(tl, speakers, n), "turns": turns})

    # 4: three-person meeting
    speakers = ["Kim", "Alex", "Sam"]
    tl = conversation(MEETING_3, rng)
    tracks, n = render(tl, speakers)
    write_flac(OUT / "meeting-3.flac", mix_mono(tracks, rng))
    record("meeting-3", tl)
    spec.append({"id": "meeting-3", "file": "meeting-3.flac", "uri": "meeting-3", "channels": 1,
                 "mode": "voices", "speakers": speakers, "protocol": "open", "turn_s": None,
                 "voices": voices(speakers), **stats(tl, speakers, n)})

    (OUT / "samples.rttm").write_text("\n".join(rttm) + "\n")
    (OUT / "events.tsv").write_text("conversation\tkind\ttime_s\twho\twhom\n" + "\n".join(events) + "\n")
    doc = {"format": "facilitator.samples/1", "sample_rate": SR, "seed": SEED,
           "made_by": "python samples/make_samples.py", "samples": spec}
    (OUT / "spec.json").write_text(json.dumps(doc, indent=2) + "\n")
    for s in spec:
        size = (OUT / s["file"]).stat().st_size
        print(f"{s['file']:18} {s['duration_s']:7.2f} s  {size / 1e6:5.2f} MB  "
              f"interruptions {s['interruptions']}  backchannels {s['backchannels']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
