"""`reporter run` against a hand-written DuckDB reference on the same inputs; writes bench/RESULTS.md.

    python bench/bench_run.py                                  # the matrix of issue 7 (`make bench`)
    python bench/bench_run.py --only parquet-20000000,csv-10000000 --rounds 2 --memory-limit 3GB
    python bench/bench_run.py --events 2000000 --no-write      # one Parquet input, print only
    python bench/bench_run.py --only parquet-20000000@3GB      # one input under its own memory limit
    python bench/bench_run.py --only parquet-10000000 --rounds 3 --sides same_work,run  # paired rounds

Inputs of ONCE_FROM events or more (the 100M one) run in the first round only: one of its rounds takes
longer than all the 10M-20M rounds together.

The yardstick is `same_work.py` from `shared/bench/` beside the repository (the same extracts as
`reporter run`, hand-written in DuckDB; used as it is, never copied): each round runs it and
`reporter run` back to back, alternating which goes first, and the table reports run / same_work per
round and its median. same_work reads Parquet only: for a CSV or NDJSON input it reads the Parquet
input of the same events (same generator seed), so the ratio shows what the format costs. Every
process gets REPORTER_HMAC_KEY (a fixed bench key unless the environment sets one), so the keyed
hash is paid as users pay it.

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
SAME_WORK = HERE.parent.parent / "shared" / "bench" / "same_work.py"
SIDES = ("ref", "floor", "same", "rep")  # reference, floor, same_work, reporter run
SIDE_NAMES = {"reference": "ref", "floor": "floor", "same_work": "same", "run": "rep"}
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
ONCE_FROM = 50_000_000  # events: such inputs run in round 1 only
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


def measure(command: list[str]) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS in MB, exit code, CPU seconds) of one child process.

    CPU seconds (user + system, all threads) move less than wall time when other work shares the cores.
    """
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), cpu


def run_round(
    name: str, files: list[Path], codes: Path, memory_limit: str | None, sides: list[str], rnd: int
) -> dict[str, Any]:
    """One round: reference and floor (if asked), then same_work and reporter run back to back,
    same_work first in odd rounds and second in even ones."""
    fmt, events = parse(name)
    out = {side: CACHE / f"out-{side}" for side in SIDES}
    for folder in out.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    paths = [str(p) for p in files]
    warm(files)  # the first side would otherwise read a cold file
    reference = [sys.executable, str(HERE / "reference.py"), f"--format={fmt}", f"--codes={codes}"]
    limit = ["--memory-limit", memory_limit] if memory_limit else []
    parquet = files if fmt == "parquet" else prepare("parquet", events)
    commands = {
        "ref": [*reference, f"--out={out['ref']}", *paths],
        "floor": [*reference, "--floor", f"--out={out['floor']}", *paths],
        "same": [sys.executable, str(SAME_WORK), str(parquet[0]), str(codes), str(out["same"]), *limit],
        "rep": [*REPORTER, "run", *paths, "--out", str(out["rep"]), *limit],
    }
    order = [s for s in ("ref", "floor") if s in sides]
    pair = [s for s in ("same", "rep") if s in sides]
    order += pair if rnd % 2 else pair[::-1]
    if "same" in sides:
        warm(parquet)
    measured = {side: measure(commands[side]) for side in order}
    manifest = out["rep"] / "manifest.json"
    timings = {}
    if measured.get("rep", (0, 0, 1))[2] == 0:
        timings = json.loads(manifest.read_text()).get("timings", {})
    return {
        "name": name,
        "events": events,
        "mb": sum(p.stat().st_size for p in files) / 1e6,
        **{side: measured.get(side, (0.0, 0.0, -1, 0.0)) for side in SIDES},
        "first": order[len(order) - len(pair)] if pair else "",
        "timings": timings,
    }


def table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "(none in this run)"
    lines = [header, ["---:" if i else "---" for i in range(len(header))], *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def side(result: tuple[float, float, int, float], events: int) -> list[str]:
    seconds, mb, code, _ = result
    if code == -1:  # not run this time (--sides)
        return ["", "", ""]
    return (
        [f"{seconds:.1f}", f"{events / seconds:,.0f}", f"{mb:,.0f}"]
        if code == 0
        else [f"exit {code}", "", ""]
    )


def run_table(runs: list[dict[str, Any]]) -> str:
    rows = []
    for r in (r for r in runs if r["ref"][2] != -1):
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


def paired(r: dict[str, Any]) -> float | None:
    """run / same_work of one round, if both ran and succeeded."""
    return r["rep"][0] / r["same"][0] if r["rep"][2] == 0 and r["same"][2] == 0 else None


def same_work_table(runs: list[dict[str, Any]]) -> str:
    rows = [
        [
            r["name"],
            str(r["round"]),
            {"same": "same_work", "rep": "run"}.get(r["first"], ""),
            *side(r["same"], r["events"]),
            *side(r["rep"], r["events"]),
            f"{ratio:.2f}" if (ratio := paired(r)) else "",
            f"{r['rep'][1] / r['same'][1]:.2f}" if ratio else "",
            f"{r['rep'][3]:.0f} / {r['same'][3]:.0f} = {r['rep'][3] / r['same'][3]:.2f}" if ratio else "",
        ]
        for r in runs
        if r["same"][2] != -1
    ]
    header = ["input", "round", "first", "same_work s", "same_work ev/s", "same_work RSS MB"]
    header += ["run s", "run ev/s", "run RSS MB", "run / same_work s", "run / same_work RSS"]
    return table([*header, "CPU s: run / same_work"], rows)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def summary_table(runs: list[dict[str, Any]]) -> str:
    """Per input: the median of the paired run / same_work ratios, peak RSS, and time over the 10M run's."""
    names = list(dict.fromkeys(r["name"] for r in runs))
    ok = {n: [r for r in runs if r["name"] == n and r["rep"][2] == 0] for n in names}
    base = [r["rep"][0] for r in ok.get("parquet-10000000", [])]
    base_same = [r["same"][0] for r in ok.get("parquet-10000000", []) if r["same"][2] == 0]
    rows = []
    for n in names:
        ratios = [x for r in ok[n] if (x := paired(r))]
        cpu = [r["rep"][3] / r["same"][3] for r in ok[n] if paired(r)]
        same = [r["same"][0] for r in ok[n] if r["same"][2] == 0]
        rows.append(
            [
                n,
                str(len(ratios)),
                f"{median(ratios):.2f}" if ratios else "",
                ", ".join(f"{x:.2f}" for x in ratios),
                f"{median(cpu):.2f}" if cpu else "",
                f"{max(r['rep'][1] for r in ok[n]):,.0f}" if ok[n] else "",
                f"{median([r['rep'][0] for r in ok[n]]) / median(base):.1f}x" if base and ok[n] else "",
                f"{median(same) / median(base_same):.1f}x" if base_same and same else "",
            ]
        )
    header = ["input", "pairs", "run / same_work (median)", "each pair", "CPU s ratio (median)"]
    header.append("run peak RSS MB")
    return table([*header, "run s / parquet-10M run s", "same_work s / parquet-10M same_work s"], rows)


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

## reporter run vs the same work written by hand (same_work.py)

{summary_table(runs)}

Each round:

{same_work_table(runs)}

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
    parser.add_argument(
        "--sides",
        default="reference,floor,same_work,run",
        help="which processes each round runs (reference, floor, same_work, run)",
    )
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="only print")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else [f"parquet-{args.events}"] if args.events else list(MATRIX)
    ingest_names = args.ingest.split(",") if args.ingest is not None else [n for n in INGEST if n in names]
    ingest_names = [n for n in ingest_names if n]
    for name in (*names, *ingest_names):
        parse(name)
    sides = [SIDE_NAMES[s] for s in args.sides.split(",") if s]
    if "same" in sides and not SAME_WORK.is_file():
        raise SystemExit(f"the yardstick {SAME_WORK} is missing: check out shared/ beside the repository")
    os.environ.setdefault("REPORTER_HMAC_KEY", "bench key: destinations are hashed as in production")
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
            if rnd > 1 and parse(name)[1] >= ONCE_FROM:
                continue
            limit = name.partition("@")[2] or args.memory_limit
            r = run_round(name, files[name], codes, limit, sides, rnd) | {"round": rnd}
            runs.append(r)
            figures = [
                f"{label} {r[k][0]:.1f} s {r[k][1]:,.0f} MB" + (f" (exit {r[k][2]})" if r[k][2] else "")
                for label, k in SIDE_NAMES.items()
                if r[k][2] != -1
            ]
            ratio = f", run / same_work {x:.2f}" if (x := paired(r)) else ""
            print(f"{name} round {rnd}: {', '.join(figures)}{ratio}", flush=True)
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
