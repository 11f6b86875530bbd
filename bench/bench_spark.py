"""`reporter run` on DuckDB and on Spark (local[2]) over the same input; writes bench/RESULTS-spark.md.

    python bench/bench_spark.py                         # /work/gen/10m.parquet, else 10M events generated
    python bench/bench_spark.py --events 200000         # a small check (generated, then reused)
    python bench/bench_spark.py --input big/ --no-write

Each engine runs as its own process (`reporter run --engine ...`); wall seconds and the peak RSS of
the whole process tree (Python, the Spark JVM and its Python workers) are sampled from /proc. The
machine is shared and noisy: read the two rows of one run side by side, not against other runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORTER = str(Path(sys.executable).with_name("reporter"))
SHARED_INPUT = Path("/work/gen/10m.parquet")  # written by the speed bench (issue 16), when present


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            pages = int((Path("/proc") / str(current) / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += pages * os.sysconf("SC_PAGE_SIZE")
    return total


def measure(command: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak tree RSS in bytes, exit code) of one command."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.5)
    if process.returncode:
        sys.stderr.write(process.stderr.read().decode(errors="replace")[-2000:] if process.stderr else "")
    return time.monotonic() - started, peak, process.returncode


def input_path(events: int) -> Path:
    if SHARED_INPUT.exists() and events == 10_000_000:
        return SHARED_INPUT
    folder = Path(tempfile.gettempdir()) / f"reporter-bench-spark-{events}"
    if not folder.exists():
        subprocess.run([REPORTER, "generate", "--events", str(events), "--format", "parquet",
                        "--out", str(folder), "--days", "3", "--seed", "7"], check=True)  # fmt: skip
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="input file or folder (default: 10M Parquet events)")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS-spark.md alone")
    args = parser.parse_args()
    source = args.input or input_path(args.events)
    rows = []
    with tempfile.TemporaryDirectory(prefix="reporter-bench-spark-") as tmp:
        for engine in ("duckdb", "spark"):
            command = [REPORTER, "run", str(source), "--out", f"{tmp}/{engine}", "--engine", engine]
            command += ["--master", args.master] if engine == "spark" else ["--memory-limit", "3GB"]
            seconds, peak, code = measure(command)
            label = f"spark {args.master}" if engine == "spark" else "duckdb (memory_limit 3GB)"
            rows.append(f"| {label} | {source} | {seconds:.1f} | {peak / 1e9:.2f} | {code} |")
            print(rows[-1], flush=True)
    if not args.no_write:
        command_line = " ".join(["python bench/bench_spark.py", *sys.argv[1:]])
        header = (
            f"# reporter run: DuckDB and Spark side by side\n\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} cores, `{command_line}`\n\n"
            "| engine | input | seconds | peak RSS GB (process tree) | exit |\n|---|---|---|---|---|\n"
        )
        (HERE / "RESULTS-spark.md").write_text(header + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
