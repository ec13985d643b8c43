"""Peak memory of a 10-hour replay vs a 10-minute one (bar: ratio ≤ 1.2).

Each replay runs in its own child process; its peak resident set is read with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a wrapper process, so nothing else is counted.
The long file is generated on the fly (the two-microphone sample repeated, written to FLAC in
blocks) in a temporary directory and deleted afterwards.

    python benchmarks/bench_memory.py [--hours 10] [--short-min 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
MICS = REPO / "samples" / "open-2.mics.flac"

MEASURE = r'''
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
'''


def write_long(path: Path, minutes: float) -> Path:
    audio, rate = sf.read(MICS, dtype="int16")
    frames = int(minutes * 60 * rate)
    with sf.SoundFile(path, "w", samplerate=rate, channels=audio.shape[1], format="FLAC") as out:
        written = 0
        while written < frames:
            chunk = audio[: frames - written]
            out.write(chunk)
            written += len(chunk)
    return path


# the replay without the report step (facilitator.report made unimportable: finish_session skips it)
NO_REPORTS = ("import sys; sys.modules['facilitator.report'] = None; "
              "from facilitator.cli import main; sys.exit(main(sys.argv[1:]))")


def peak_rss_kib(audio: Path, out: Path, reports: bool = True) -> tuple[int, float]:
    run = ["-m", "facilitator.cli"] if reports else ["-c", NO_REPORTS]
    cmd = [sys.executable, "-c", MEASURE, sys.executable, *run, "replay", str(audio),
           "--speakers", "Alex,Sam", "--out", str(out), "-q", "--no-history"]
    t0 = time.monotonic()
    kib = int(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip())
    return kib, time.monotonic() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--short-min", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        short, short_s = peak_rss_kib(write_long(tmp / "short.mics.flac", args.short_min), tmp / "s")
        t0 = time.monotonic()
        long_file = write_long(tmp / "long.mics.flac", args.hours * 60)
        made_s = time.monotonic() - t0
        long, long_s = peak_rss_kib(long_file, tmp / "l")
        short_nr, _ = peak_rss_kib(tmp / "short.mics.flac", tmp / "s2", reports=False)
        long_nr, long_nr_s = peak_rss_kib(long_file, tmp / "l2", reports=False)
    print(f"without the report step: {short_nr / 1024:.1f} MiB vs {long_nr / 1024:.1f} MiB "
          f"({long_nr_s:.1f} s), ratio {long_nr / short_nr:.3f}")
    ratio = long / short
    print(f"{args.short_min:g}-minute replay: peak RSS {short / 1024:.1f} MiB ({short_s:.1f} s)")
    print(f"{args.hours:g}-hour replay:    peak RSS {long / 1024:.1f} MiB ({long_s:.1f} s; file made in {made_s:.1f} s)")
    print(f"ratio {ratio:.3f} (bar ≤ 1.2): {'ok' if ratio <= 1.2 else 'FAIL'}")
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
