"""`reporter run` against a hand-written DuckDB reference on the same generated Parquet file.

    python bench/bench_run.py [--events 20000000] [--rounds 2]

Each round runs both as separate processes (so peak RSS is each one's own) and prints wall time,
events/s, peak RSS and the ratio reporter / reference. The machine is shared and noisy: compare
the two within a round. Inputs are generated once into bench/cache/ (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
REPORTER = [sys.executable, "-m", "reporter"]


def measure(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{command[:4]} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024


def prepare(events: int) -> tuple[Path, Path]:
    folder = CACHE / f"parquet-run-{events}"
    data = folder / "events.parquet"
    if not data.exists():
        print(f"generating {events:,} parquet events into {folder} ...", flush=True)
        subprocess.run(
            [
                *REPORTER,
                "generate",
                "--events",
                str(events),
                "--format",
                "parquet",
                "--out",
                str(folder),
                "--days",
                "3",
                "--seed",
                "3",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    codes = CACHE / "status_codes.parquet"
    subprocess.run([*REPORTER, "codes", "--format", "parquet", "--out", str(codes)], check=True)
    return data, codes


def reference(data: Path, codes: Path, out: Path) -> list[str]:
    return [sys.executable, str(HERE / "reference.py"), str(data), str(codes), str(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    data, codes = prepare(args.events)
    print(
        f"input: {data} ({args.events:,} events, {data.stat().st_size / 1e6:.0f} MB), {os.cpu_count()} cores"
    )
    header = ("round", "reference s", "ref MB", "reporter s", "rep MB", "events/s", "ratio")
    print("{:>5} {:>12} {:>8} {:>11} {:>8} {:>11} {:>6}".format(*header))
    for i in range(1, args.rounds + 1):
        for name in ("ref", "rep"):
            shutil.rmtree(CACHE / f"out-{name}", ignore_errors=True)
            (CACHE / f"out-{name}").mkdir(parents=True)
        ref_s, ref_mb = measure(reference(data, codes, CACHE / "out-ref"))
        rep_s, rep_mb = measure([*REPORTER, "run", str(data), "--out", str(CACHE / "out-rep")])
        print(
            f"{i:>5} {ref_s:12.1f} {ref_mb:8.0f} {rep_s:11.1f} {rep_mb:8.0f} {args.events / rep_s:11,.0f} "
            f"{rep_s / ref_s:6.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
