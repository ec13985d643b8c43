"""Benchmark: store 20 weekly sessions, then time the ``history`` queries (bar: < 200 ms each).

Run: ``python benchmarks/bench_history.py`` (uses a temporary FACILITATOR_HOME; prints a table and
exits 1 if any query misses the bar). Timings are the median of several runs, in-process (query +
rendering), plus the whole ``facilitator history`` command in a fresh interpreter.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BAR_S = 0.200
SESSIONS = 20


def timed(fn, repeat: int = 7) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="facilitator-bench-"))
    os.environ["FACILITATOR_HOME"] = str(home)
    from facilitator import cli
    from facilitator.history import compare, query, record_session
    from facilitator.history.render import history_text
    from facilitator.paths import database_path, sessions_dir
    from facilitator.report.synthetic import weekly_series

    dirs = weekly_series(sessions_dir(), SESSIONS, speakers=("Alex", "Sam", "Jo"))
    t0 = time.perf_counter()
    for d in dirs:
        record_session(d)
    store_s = (time.perf_counter() - t0) / SESSIONS

    def run_cli(*argv: str) -> None:
        with redirect_stdout(io.StringIO()):
            assert cli.main(list(argv)) == 0

    html = home / "history.html"
    results = {
        "history (query + table + charts)": timed(lambda: history_text(query())),
        "history --person alex": timed(lambda: history_text(query(person="alex"), person="alex")),
        "history --since 2026-08-01": timed(lambda: history_text(query(since="2026-08-01"))),
        "history --compare 5": timed(lambda: compare(query(), 5)),
        "cli: history": timed(lambda: run_cli("history")),
        "cli: history --person jo --compare 4": timed(lambda: run_cli("history", "--person", "jo", "--compare", "4")),
    }
    cold = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "facilitator.cli", "history"], check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
        cold.append(time.perf_counter() - t)
    results["new process: facilitator history"] = statistics.median(cold)
    html_s = timed(lambda: run_cli("history", "--html", str(html)), repeat=3)

    print(f"{SESSIONS} sessions stored, {store_s * 1000:.1f} ms per record_session; "
          f"database {database_path().stat().st_size / 1024:.0f} KiB")
    width = max(len(k) for k in results)
    failed = False
    for name, seconds in results.items():
        ok = seconds < BAR_S
        failed |= not ok
        print(f"{name.ljust(width)}  {seconds * 1000:7.1f} ms  {'ok' if ok else 'SLOW'}")
    print(f"{'history --html (matplotlib SVG; no bar)'.ljust(width)}  {html_s * 1000:7.1f} ms  "
          f"({html.stat().st_size / 1024:.0f} KiB)")
    shutil.rmtree(home, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
