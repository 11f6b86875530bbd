"""`reporter run` against a hand-written DuckDB reference on the same inputs; writes bench/RESULTS.md.

    python bench/bench_run.py                                  # the matrix of issue 7 (`make bench`)
    python bench/bench_run.py --only parquet-20000000,csv-10000000 --rounds 2 --memory-limit 3GB
    python bench/bench_run.py --events 2000000 --no-write      # one Parquet input, print only
    python bench/bench_run.py --only parquet-20000000@3GB      # one input under its own memory limit

An input is named <format>-<events> (any such name works) and generated on first use into
bench/cache/<name>/ (git-ignored). Each round runs the reference (reference.py) and `reporter run`
as separate processes, so peak RSS is each one's own; then reporter's ingest is timed against a bare
DuckDB read of the same file (bench_ingest.py). The machine is shared and noisy: the figures that
count are the ratios within a round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench_ingest import CACHE, FORMATS, REPORTER, Comparison, compare, prepare, warm

HERE = Path(__file__).resolve().parent
MATRIX = (
    "parquet-1000000",
    "parquet-10000000",
    "parquet-20000000",
    "csv-10000000",
    "ndjson-10000000",
    "webhook-10000000",
    # The 100M input runs under the bound issue 7 sets (peak RSS under 4 GB): its own memory limit.
    "parquet-100000000@3GB",
)
INGEST = ("csv-10000000", "ndjson-10000000", "parquet-20000000")
WHERE = "## Where the time goes"
PLACEHOLDER = "(filled in by hand from a profile)"
HOW_TO_READ = """\
The machine is shared and noisy: read the ratios, not the absolute times. Both sides of a ratio ran
in the same round, one right after the other, on the same file. **run / reference** is reporter's
wall time over the hand-written DuckDB reference's (bench/reference.sql: the same final status per
message and breakdown, without quarantine, reconciliation, duplicate removal or masking); below 1.2
on Parquet inputs of 20M events and more is the goal. **floor** is the same reference after one
materialised read of the input and a duplicate check over it (`reference.py --floor`): what any tool
pays that scans its input once and drops exact duplicates, as issues 3 and 7 require, before any
quarantine, masking or extract of its own; floor / reference is the best run / reference such a tool
could reach. Peak RSS is each process's own (`ru_maxrss`);
the reference runs with DuckDB's default memory limit; an input named `<input>@3GB` ran reporter with
`--memory-limit 3GB`. **bare / ingest** is a bare DuckDB read of the
file into a table over reporter's ingest of it (1.0 = as fast as the engine; the goal is 0.7 or more
for CSV and NDJSON); its **floor** is bare / (bare + a duplicate check over the bare table), the best
bare / ingest an ingest that drops exact duplicates can reach. The steps are reporter's own timings
from the run's manifest.json."""


def parse(name: str) -> tuple[str, int]:
    """(format, events) of an input name `<format>-<events>[@<memory limit>]`."""
    fmt, _, events = name.partition("@")[0].rpartition("-")
    if fmt not in FORMATS or not events.isdigit():
        raise SystemExit(
            f"bad input {name!r}: want <format>-<events>[@<memory limit>], format one of {', '.join(FORMATS)}"
        )
    return fmt, int(events)


def measure(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def run_round(name: str, files: list[Path], codes: Path, memory_limit: str | None) -> dict[str, Any]:
    fmt, events = parse(name)
    out = {side: CACHE / f"out-{side}" for side in ("ref", "floor", "rep")}
    for folder in out.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    paths = [str(p) for p in files]
    warm(files)  # the reference runs first: it would otherwise read a cold file
    reference = [sys.executable, str(HERE / "reference.py"), f"--format={fmt}", f"--codes={codes}"]
    ref = measure([*reference, f"--out={out['ref']}", *paths])
    floor = measure([*reference, "--floor", f"--out={out['floor']}", *paths])
    limit = ["--memory-limit", memory_limit] if memory_limit else []
    rep = measure([*REPORTER, "run", *paths, "--out", str(out["rep"]), *limit])
    manifest = out["rep"] / "manifest.json"
    timings = json.loads(manifest.read_text()).get("timings", {}) if rep[2] == 0 else {}
    return {
        "name": name,
        "events": events,
        "mb": sum(p.stat().st_size for p in files) / 1e6,
        "ref": ref,
        "floor": floor,
        "rep": rep,
        "timings": timings,
    }


def table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "(none in this run)"
    lines = [header, ["---:" if i else "---" for i in range(len(header))], *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def side(result: tuple[float, float, int], events: int) -> list[str]:
    seconds, mb, code = result
    return (
        [f"{seconds:.1f}", f"{events / seconds:,.0f}", f"{mb:,.0f}"]
        if code == 0
        else [f"exit {code}", "", ""]
    )


def run_table(runs: list[dict[str, Any]]) -> str:
    rows = []
    for r in runs:
        ok = r["ref"][2] == 0 and r["rep"][2] == 0 and r["floor"][2] == 0
        ratios = (
            [f"{r[k][0] / r['ref'][0]:.2f}" for k in ("floor", "rep")] + [f"{r['rep'][1] / r['ref'][1]:.2f}"]
            if ok
            else ["", "", ""]
        )
        rows.append(
            [
                r["name"],
                f"{r['mb']:,.0f}",
                str(r["round"]),
                *side(r["ref"], r["events"]),
                f"{r['floor'][0]:.1f}",
                *side(r["rep"], r["events"]),
                *ratios,
            ]
        )
    header = [
        *("input", "MB", "round"),
        *("reference s", "reference ev/s", "reference RSS MB", "floor s", "run s", "run ev/s", "run RSS MB"),
        *("floor / reference s", "run / reference s", "run / reference RSS"),
    ]
    return table(header, rows)


def steps_table(runs: list[dict[str, Any]]) -> str:
    names = list(dict.fromkeys(step for r in runs for step in r["timings"].get("steps", {})))
    rows = []
    for r in runs:
        steps, total = r["timings"].get("steps", {}), r["timings"].get("seconds")
        cells = [f"{steps[s]:.1f}" if s in steps else "" for s in names]
        rows.append(
            [r["name"], str(r["round"]), *cells, f"{total:.1f}" if total else "", f"{r['rep'][0]:.1f}"]
        )
    return table(["input", "round", *names, "manifest total", "wall (process)"], rows)


def ingest_table(ingests: list[tuple[str, Comparison]]) -> str:
    rows = [
        [
            name,
            f"{c.bare:.2f}",
            f"{c.ingest:.2f}",
            f"{c.written:.2f}",
            f"{c.events / c.ingest:,.0f}",
            f"{c.ratio:.2f}",
            f"{c.floor:.2f}",
        ]
        for name, c in ingests
    ]
    header = ["input", "bare read s", "ingest s", "ingest + write s", "ingest ev/s", "bare / ingest"]
    return table([*header, "floor"], rows)


def kept_section(path: Path) -> str:
    """The hand-written text of an existing RESULTS.md's WHERE section (kept on rewrite)."""
    if not path.exists():
        return PLACEHOLDER
    kept: list[str] = []
    inside = fenced = False
    for line in path.read_text().splitlines():
        if inside and not fenced and line.startswith("## "):
            break
        if inside:
            kept.append(line)
            fenced ^= line.lstrip().startswith("```")
        inside = inside or line.strip() == WHERE
    return "\n".join(kept).strip() or PLACEHOLDER


def render(
    command: str, started: dt.datetime, limit: str | None, runs: list[Any], ingests: list[Any], where: str
) -> str:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = ", ".join(f"{p} {version(p)}" for p in ("duckdb", "polars"))
    return f"""# Benchmark results

- Date: {started:%Y-%m-%d %H:%M} UTC
- Machine: {os.cpu_count()} cores, {ram:.1f} GiB RAM, {platform.system()} {platform.machine()}; \
Python {platform.python_version()}, {versions}
- Command: `{command}`
- reporter's memory limit: {limit or "its default (half the RAM)"}, unless the input's name gives one

## How to read this

{HOW_TO_READ}

## reporter run vs the reference

{run_table(runs)}

## Ingest vs a bare DuckDB read

{ingest_table(ingests)}

## reporter run, seconds per step

{steps_table(runs)}

{WHERE}

{where}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", help="comma-separated inputs, e.g. parquet-20000000,csv-10000000")
    parser.add_argument(
        "--events", type=int, help="one Parquet input of this many events (= --only parquet-N)"
    )
    parser.add_argument(
        "--ingest", help="inputs for the ingest comparison (default: those of the matrix selected)"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--memory-limit", help="passed to `reporter run --memory-limit`")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="only print")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else [f"parquet-{args.events}"] if args.events else list(MATRIX)
    ingest_names = args.ingest.split(",") if args.ingest is not None else [n for n in INGEST if n in names]
    ingest_names = [n for n in ingest_names if n]
    for name in (*names, *ingest_names):
        parse(name)
    command = shlex.join(["python", "bench/bench_run.py", *sys.argv[1:]])
    started, where = dt.datetime.now(dt.UTC), kept_section(args.results)
    files = {name: prepare(*parse(name)) for name in dict.fromkeys([*names, *ingest_names])}
    codes = CACHE / "status_codes.parquet"
    subprocess.run([*REPORTER, "codes", "--format", "parquet", "--out", str(codes)], check=True)
    runs: list[dict[str, Any]] = []
    ingests: list[tuple[str, Comparison]] = []

    def publish() -> str:
        text = render(command, started, args.memory_limit, runs, ingests, where)
        if not args.no_write:
            args.results.parent.mkdir(parents=True, exist_ok=True)
            partial = args.results.with_suffix(".tmp")
            partial.write_text(text)
            partial.replace(args.results)
        return text

    print(f"{os.cpu_count()} cores; inputs: {', '.join(names)}", flush=True)
    for rnd in range(1, args.rounds + 1):
        for name in names:
            limit = name.partition("@")[2] or args.memory_limit
            r = run_round(name, files[name], codes, limit) | {"round": rnd}
            runs.append(r)
            (ref_s, ref_mb, ref_code), (rep_s, rep_mb, rep_code) = r["ref"], r["rep"]
            floor_s, _, floor_code = r["floor"]
            ratio = (
                f"{rep_s / ref_s:.2f} (floor {floor_s / ref_s:.2f})"
                if ref_code == rep_code == floor_code == 0
                else f"failed (exit {ref_code}/{rep_code}/{floor_code})"
            )
            print(
                f"{name} round {rnd}: reference {ref_s:.1f} s {ref_mb:,.0f} MB, floor {floor_s:.1f} s, "
                f"run {rep_s:.1f} s {rep_mb:,.0f} MB, run / reference {ratio}",
                flush=True,
            )
            publish()
    for name in ingest_names:
        fmt, _ = parse(name)
        c = compare(fmt, files[name], args.rounds)
        ingests.append((name, c))
        print(
            f"{name}: bare read {c.bare:.2f} s, ingest {c.ingest:.2f} s, bare / ingest {c.ratio:.2f}, "
            f"floor {c.floor:.2f}",
            flush=True,
        )
        publish()
    print("\n" + publish())
    if not args.no_write:
        print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
