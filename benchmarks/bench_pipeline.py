"""Speed and accuracy of the replay pipeline on the shared corpus (not a test: prints tables).

    python benchmarks/bench_pipeline.py [--corpus ../shared/corpus] [--repeat 3]

Speed: real-time factor (audio seconds ÷ processing seconds) of the whole pipeline — file reading,
VAD, attribution, tracking and the event journal — pinned to one CPU core, per mode, best of
``--repeat`` runs. Accuracy: ``facilitator evaluate`` of replays written through the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from facilitator.attribution import ChannelAttributor, SoloAttributor  # noqa: E402
from facilitator.cli import main as cli  # noqa: E402
from facilitator.evaluate import detection_error, evaluate, read_rttm  # noqa: E402
from facilitator.journal import JournalWriter  # noqa: E402
from facilitator.pipeline import Pipeline  # noqa: E402
from facilitator.settings import Settings  # noqa: E402
from facilitator.sources import FileSource  # noqa: E402

CONVERSATIONS = ("open-2a", "open-2b", "open-3a", "open-4a", "rr-2a", "rr-2q")
MICS = ("open-2a", "open-3a", "rr-2a")
AMI = ("dev00", "dev01", "trn00", "trn01", "trn02", "trn03", "trn04", "trn05", "trn06", "trn07",
       "trn08", "trn09", "tst00", "tst01")


def speakers_of(corpus: Path, conversation: str) -> list[str]:
    spec = json.loads((corpus / "conversations" / "spec.json").read_text())
    return next(c["speakers"] for c in spec if c["id"] == conversation)


def timed_run(path: Path, mode: str, names: list[str], tmp: Path) -> tuple[float, float]:
    source = FileSource(path, mono=(mode == "solo"))
    attributor = SoloAttributor() if mode == "solo" else ChannelAttributor(names)
    journal = JournalWriter(tmp / f"{path.stem}-{mode}.jsonl")
    pipe = Pipeline(source, attributor, Settings(), sinks=[journal], mode=mode,
                    crosstalk_rejection=(mode == "channels"))
    t0 = time.perf_counter()
    result = pipe.run()
    elapsed = time.perf_counter() - t0
    journal.close()
    return result.duration_s, elapsed


def speed_table(corpus: Path, repeat: int, tmp: Path) -> None:
    print("\n## Speed (one core, whole pipeline incl. file reading and journal)")
    print(f"{'mode':<10} {'files':>5} {'audio s':>8} {'best s':>8} {'× real time':>12}")
    for mode, files in (("solo", [(corpus / "conversations" / f"{c}.flac", []) for c in CONVERSATIONS]),
                        ("channels", [(corpus / "conversations" / f"{c}.mics.flac",
                                       speakers_of(corpus, c)) for c in MICS])):
        audio_s = 0.0
        best_s = 0.0
        for path, names in files:
            runs = [timed_run(path, mode, names, tmp) for _ in range(repeat)]
            audio_s += runs[0][0]
            best_s += min(r[1] for r in runs)
        print(f"{mode:<10} {len(files):>5} {audio_s:8.1f} {best_s:8.3f} {audio_s / best_s:12.0f}")


def replay(path: Path, out: Path, *args: str) -> Path:
    code = cli(["replay", str(path), "--out", str(out), "-q", "--no-history", *args])
    if code != 0:
        raise SystemExit(f"replay of {path} failed")
    return out


def accuracy_tables(corpus: Path, tmp: Path) -> None:
    conv = corpus / "conversations"
    print("\n## Speech detection (solo mode) — detection error, collar 0.25 s")
    missed = fa = total = 0.0
    print(f"{'set':<15} {'files':>5} {'error %':>8} {'miss %':>7} {'FA %':>6}")
    for label, rttm, folder, names in (("AMI", corpus / "ami" / "ami.rttm", corpus / "ami", AMI),
                                       ("conversations", conv / "conversations.rttm", conv,
                                        CONVERSATIONS)):
        ref = read_rttm(rttm)
        m = f = t = 0.0
        for name in names:
            out = replay(folder / f"{name}.flac", tmp / f"vad-{name}", "--mode", "solo")
            score = detection_error(ref[name], read_rttm(out / "segments.rttm").get(name, []), 0.25)
            m, f, t = m + score["missed"], f + score["false_alarm"], t + score["total"]
        print(f"{label:<15} {len(names):>5} {100 * (m + f) / t:8.2f} {100 * m / t:7.2f} {100 * f / t:6.2f}")
        missed, fa, total = missed + m, fa + f, total + t
    print(f"{'all':<15} {len(AMI) + len(CONVERSATIONS):>5} {100 * (missed + fa) / total:8.2f} "
          f"{100 * missed / total:7.2f} {100 * fa / total:6.2f}")

    print("\n## Channels mode (one mic per person) — facilitator evaluate")
    dirs = [replay(conv / f"{c}.mics.flac", tmp / f"ch-{c}", "--mode", "channels",
                   "--speakers", ",".join(speakers_of(corpus, c))) for c in MICS]
    cli(["evaluate", "--ref", str(conv / "conversations.rttm"), "--events", str(conv / "events.tsv"),
         *map(str, dirs)])

    print("\n## Round-robin on rr-2a.mics (--turn-s 60)")
    out = replay(conv / "rr-2a.mics.flac", tmp / "rr", "--mode", "channels", "--speakers",
                 ",".join(speakers_of(corpus, "rr-2a")), "--protocol", "round-robin", "--turn-s", "60")
    summary = json.loads((out / "session.json").read_text())
    for turn in summary["turns"]:
        print(f"turn {turn['index'] + 1}: {turn['holder']:>6}  floor {turn['floor_s']:6.2f} s  "
              f"{turn['start_s']:7.2f}–{turn['end_s']:7.2f} s  interruptions {turn['interruptions']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    if not (args.corpus / "conversations").exists():
        raise SystemExit(f"no corpus at {args.corpus}")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    os.environ.setdefault("FACILITATOR_HOME", tempfile.mkdtemp(prefix="facilitator-bench-"))
    with tempfile.TemporaryDirectory() as tmp:
        speed_table(args.corpus, args.repeat, Path(tmp))
        if not args.speed_only:
            accuracy_tables(args.corpus, Path(tmp))


if __name__ == "__main__":
    main()
