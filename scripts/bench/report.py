"""One table from the raw figures: printed, and written as JSON (everything) and markdown."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.bench.stack import ROOT

Row = tuple[str, str, str, str]
HEADER: Row = ("section", "figure", "value", "notes")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _mb(value: int | None) -> str:
    return "-" if not value else f"{value / 2**20:.0f} MB"


def growth(values: list[float], marks: list[int]) -> str:
    """flat / linear / superlinear, from the per-turn slope of the last span vs the first."""
    if len(values) < 3 or values[0] <= 0:
        return "n/a"
    if values[-1] <= values[-2] * 1.1:
        return "flat"
    early = (values[1] - values[0]) / (marks[1] - marks[0])
    late = (values[-1] - values[-2]) / (marks[-1] - marks[-2])
    return "linear" if late <= max(early, 1e-9) * 1.5 else "grows faster than linear"


def rows(results: dict[str, Any], options: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    for name, build in (
        ("ingest", _ingest),
        ("turn", _turn),
        ("burst", _burst),
        ("prompt", _prompt),
        ("checkpoint", _checkpoint),
        ("soak", _soak),
        ("commerce", _commerce),
        ("desk", _desk),
    ):
        result = results.get(name)
        if result is None:
            continue
        if "error" in result:
            out.append((name, "did not finish", "-", result["error"].splitlines()[0][:160]))
            continue
        out += build(result, options)
    return out


def _ingest(r: dict[str, Any], o: dict[str, Any]) -> list[Row]:
    note = (
        f"concurrency {r['concurrency']}, {len(r['rounds'])} round(s) x "
        f"{r['seconds_per_round']:g} s, {o['api_workers']} uvicorn worker(s)"
    )
    sb, tr, du = r["switchboard"], r["trivial"], r.get("durable")
    errors = sb["errors"] + sb["non_200"]
    return [
        (
            "ingest",
            "Switchboard POST /webhook",
            f"{sb['rps']:.0f} req/s",
            f"p50 {_ms(sb['p50_ms'])}, p99 {_ms(sb['p99_ms'])}"
            + (f", {errors} errors" if errors else ""),
        ),
        (
            "ingest",
            "trivial FastAPI endpoint",
            f"{tr['rps']:.0f} req/s",
            f"p50 {_ms(tr['p50_ms'])}, p99 {_ms(tr['p99_ms'])}",
        ),
        ("ingest", "ratio Switchboard / trivial", f"{r['ratio']:.3f}", note),
    ] + _durable_rows(r, du)


def _durable_rows(r: dict[str, Any], du: dict[str, Any] | None) -> list[Row]:
    if du is None:  # results written before the durable yardstick existed
        return []
    return [
        (
            "ingest",
            "minimal durable webhook",
            f"{du['rps']:.0f} req/s",
            f"p50 {_ms(du['p50_ms'])}, p99 {_ms(du['p99_ms'])}",
        ),
        ("ingest", "ratio Switchboard / durable", f"{r['ratio_durable']:.3f}", "target >= 0.6"),
        *_cpu_rows(r),
        *_mixed_rows(r.get("mixed")),
    ]


def _cpu_rows(r: dict[str, Any]) -> list[Row]:
    """API CPU per webhook (all API processes): the figure a noisy machine changes least."""
    per = {name: r[name].get("api_cpu_ms_per_request") for name in ("switchboard", "durable")}
    if per["switchboard"] is None or not per["durable"]:
        return []
    return [
        (
            "ingest",
            "API CPU per webhook",
            f"{per['switchboard']:.2f} ms",
            f"durable {per['durable']:.2f} ms, ratio {per['durable'] / per['switchboard']:.3f}",
        )
    ]


def _mixed_rows(m: dict[str, Any] | None) -> list[Row]:
    if m is None:
        return []
    bad = m["errors"] + sum(n for s, n in m["statuses"].items() if s != "200")
    latency = m["latency_s"]
    return [
        (
            "ingest",
            f"mixed open loop, {m['offered_rps']:g} req/s offered",
            f"{m['achieved_rps'] or 0:.0f} req/s",
            f"p50 {_ms(latency['p50'] and latency['p50'] * 1000)}, "
            f"p99 {_ms(latency['p99'] and latency['p99'] * 1000)} (target <= 100 ms), "
            f"{bad} non-200, {m['seconds']:g} s, 1 message + 3 statuses",
        ),
        *_drain_rows(m),
    ]


def _drain_rows(m: dict[str, Any]) -> list[Row]:
    """The drain's CPU per inbox row: the ingest work the webhook no longer does."""
    if m.get("drain_cpu_ms_per_row") is None:
        return []
    return [
        (
            "ingest",
            "drain CPU per inbox row (mixed run)",
            f"{m['drain_cpu_ms_per_row']:.2f} ms",
            f"{m['drained']} rows drained in the benchmark's process after the run",
        )
    ]


def _turn(r: dict[str, Any], o: dict[str, Any]) -> list[Row]:
    f = r["flush_to_send_ms"]
    return [
        (
            "turn",
            "buffer flush -> Graph API send",
            f"p50 {_ms(f['p50'])}, p99 {_ms(f['p99'])}",
            f"{r['conversations']} conversations at once, {r['workers']} worker processes, "
            f"LLM latency {o['llm_latency']:g} s",
        ),
        (
            "turn",
            "turns/s per worker process",
            f"{r['turns_per_second_per_worker']:.1f}",
            f"{r['turns_per_second']:.1f} turns/s in all",
        ),
    ]


def _burst(r: dict[str, Any], o: dict[str, Any]) -> list[Row]:
    out = []
    for k, b in r["by_size"].items():
        out.append(
            (
                "burst",
                f"{k} message(s) per burst",
                f"{b['llm_calls_per_burst']:.2f} LLM calls, {b['replies_per_burst']:.2f} replies",
                f"per burst, {b['bursts']} bursts, BUFFER_SECONDS={o['buffer']:g}",
            )
        )
    return out


def _prompt(r: dict[str, Any], o: dict[str, Any]) -> list[Row]:
    marks = [m for m in r["marks"] if str(m) in r["at"]]
    tokens = [r["at"][str(m)]["prompt_tokens"] for m in marks]
    fixed = [r["at"][str(m)].get("system_and_tools_tokens") for m in marks]
    turn = r["turn_ms"]
    at = " / ".join(_ms(r["turn_ms_at"].get(str(m))) for m in marks)
    return [
        (
            "prompt",
            f"input tokens at turn {' / '.join(map(str, marks))}",
            " / ".join(map(str, tokens)),
            f"{growth(tokens, marks)}; history budget CONTEXT_MAX_TOKENS=6000"
            + (f" + system prompt and tools {fixed[-1]}" if fixed[-1] else ""),
        ),
        (
            "turn",
            "one turn at a time (long conversation)",
            f"p50 {_ms(turn['p50'])}, p99 {_ms(turn['p99'])}",
            f"flush -> send; at those turns {at}",
        ),
    ]


def _checkpoint(r: dict[str, Any], o: dict[str, Any]) -> list[Row]:
    marks = [m for m in r["marks"] if str(m) in r["at"]]
    stored = [r["at"][str(m)]["checkpoint_bytes"] for m in marks]
    raw = [r["at"][str(m)]["checkpoint_raw_bytes"] for m in marks]
    rows_at = [sum(t["rows"] for t in r["at"][str(m)]["checkpoint"].values()) for m in marks]
    return [
        (
            "checkpoint",
            f"bytes per conversation at turn {' / '.join(map(str, marks))}",
            " / ".join(_kib(s) for s in stored),
            f"{growth([float(s) for s in stored], marks)}; as stored (compressed), "
            f"raw {' / '.join(_kib(s) for s in raw)}; rows {' / '.join(map(str, rows_at))}",
        ),
    ]


def _kib(value: int) -> str:
    return f"{value / 1024:.1f} KiB" if value < 10 * 1024 else f"{value / 1024:.0f} KiB"


def _soak(r: dict[str, Any], o: dict[str, Any]) -> list[Row]:
    before, after = r["worker_rss_before"], r["worker_rss_after"]
    status = "timed out: " + r["timed_out"] if r.get("timed_out") else "complete"
    return [
        (
            "soak",
            "messages / conversations",
            f"{r['messages']} / {r['conversations']}",
            f"{r['bursts']} bursts posted at concurrency {r['concurrency']}; {status}",
        ),
        (
            "soak",
            "lost / duplicated / in order",
            f"{r['lost']} / {r['duplicated_replies']} / {'yes' if r['in_order'] else 'NO'}",
            f"{r['replies_received']} replies for {r['turns']} turns; "
            f"{r['post_failures']} webhook posts failed",
        ),
        (
            "soak",
            "throughput",
            f"{r['messages_per_second']:.1f} messages/s, {r['turns_per_second']:.1f} turns/s",
            f"{r['seconds']:.0f} s first post -> last reply; webhook alone took them at "
            f"{r['ingest_messages_per_second'] or 0:.0f}/s",
        ),
        (
            "soak",
            "worker RSS before -> after",
            f"{_mb(before.get('total'))} -> {_mb(after.get('total'))}",
            f"largest pool process {_mb(before.get('child_max'))} -> "
            f"{_mb(after.get('child_max'))}, {after.get('children', 0)} pool processes",
        ),
    ]


def _commerce(r: dict[str, Any], o: dict[str, Any]) -> list[Row]:
    s, bound = r["search_ms"], r["shopify_bound_products_per_second"]
    catalog = f"{r['products']} products, {r['variants']} variants"
    return [
        ("commerce", "full sync, pages of 50 (products/s)",
         f"{r['sync_pages_products_per_second']:.0f}",
         f"{catalog}, {r['sync_pages_seconds']:.1f} s; Shopify's throttle alone allows "
         f"{bound['standard']:.0f}/s (standard), {bound['plus']:.0f}/s (Plus)"),
        ("commerce", "full sync, bulk operation (products/s)",
         f"{r['sync_bulk_products_per_second']:.0f}", f"{r['sync_bulk_seconds']:.1f} s"),
        ("commerce", "product search", f"p50 {_ms(s['p50'])}, p99 {_ms(s['p99'])}",
         f"{s['n']} searches with options and budgets, over {catalog}"),
    ]  # fmt: skip


def _desk(r: dict[str, Any], o: dict[str, Any]) -> list[Row]:
    scale = f"{r['conversations']} conversations, {r['messages']} messages, 2 merchants"
    names = {
        "inbox_default": "console inbox, default view",
        "inbox_filter_label": "console inbox, label filter",
        "inbox_search": "console inbox, text search",
        "reports_page": "console reports page (30 days)",
        "reports_api": "GET /api/v1/reports (30 days)",
    }
    return [
        ("desk", label, f"p50 {_ms(r['ms'][key]['p50'])}, p95 {_ms(r['ms'][key]['p95'])}",
         f"{r['ms'][key]['n']} requests; {scale}")
        for key, label in names.items()
    ]  # fmt: skip


def plain(table: list[Row]) -> str:
    widths = [max(len(r[i]) for r in [HEADER, *table]) for i in range(4)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [HEADER, *table]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(table: list[Row], meta: dict[str, Any], results: dict[str, Any]) -> str:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [
        f"# Switchboard benchmark ({meta['kind']})",
        "",
        f"{meta['finished_at']}, commit `{meta['git']['commit'][:12]}`"
        + (" (uncommitted changes)" if meta["git"]["dirty"] else "")
        + f", {meta['machine']['cpus']} CPUs ({meta['machine']['cpu_model']}), "
        f"Python {meta['python']}, took {meta['duration_seconds']:.0f} s. "
        f"Load average before/after: {meta['machine']['loadavg_start']} / "
        f"{meta['machine']['loadavg_end']}.",
        "",
        line(HEADER),
        line(("---",) * 4),
        *[line(row) for row in table],
        "",
        f"Command: `{meta['command']}`",
        "",
        "## Where the CPU went (CPU seconds per component during each section)",
        "",
    ]
    shown: set[int] = set()
    for name, result in results.items():
        cpu = result.get("cpu") if isinstance(result, dict) else None
        if not cpu or id(result) in shown:  # prompt and checkpoint share one run
            continue
        shown.add(id(result))
        name = " + ".join(n for n, r in results.items() if r is result)
        parts = ", ".join(f"{k} {v:g}" for k, v in cpu["cpu_seconds"].items() if v)
        out.append(
            f"- **{name}** ({cpu['wall_seconds']:g} s wall, {cpu['cores_busy']} of "
            f"{cpu['cores']} cores busy): {parts}"
        )
    return "\n".join(out) + "\n"


def meta(*, kind: str, started: float, command: str, loadavg_start: str, extra: dict) -> dict:
    import psutil

    return {
        "kind": kind,
        "started_at": _iso(started),
        "finished_at": _iso(time.time()),
        "duration_seconds": time.time() - started,
        "command": command,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": _git(),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "memory_bytes": psutil.virtual_memory().total,
            "loadavg_start": loadavg_start,
            "loadavg_end": loadavg(),
        },
        **extra,
    }


def loadavg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
            return done.stdout.strip()
        except OSError:
            return ""

    return {
        "commit": git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain")),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write(
    out_dir: Path, kind: str, document: dict[str, Any], md: str, *, prefix: str = ""
) -> list[Path]:
    """<prefix>latest.* is the last full run (kept in git); quick and partial runs have their
    own <prefix>latest-<kind>.*, and every run a timestamped copy."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    latest = "latest" if kind == "full" else f"latest-{kind}"
    written = []
    for stem in (f"{prefix}{latest}", f"{prefix}{stamp}-{kind}"):
        for suffix, content in (
            (".json", json.dumps(document, indent=2, default=str)),
            (".md", md),
        ):
            path = out_dir / f"{stem}{suffix}"
            path.write_text(content + ("\n" if suffix == ".json" else ""), encoding="utf-8")
            written.append(path)
    return written


def publish(
    out_dir: Path,
    *,
    prefix: str,
    table: list[Row],
    meta: dict[str, Any],
    result: dict[str, Any],
    md: str,
    problems: list[str],
    say: Callable[[str], None],
) -> int:
    """A soak's ending: the table printed and written with its raw result, what failed
    said; the exit status (1 when anything failed)."""
    document = {
        "meta": meta,
        "table": [dict(zip(HEADER, r, strict=True)) for r in table],
        "result": result,
    }
    written = write(out_dir.resolve(), meta["kind"], document, md, prefix=prefix)
    print(plain(table))
    say(f"took {meta['duration_seconds']:.0f} s; wrote {', '.join(str(p) for p in written)}")
    for problem in problems:
        say(f"FAILED {problem}")
    return 1 if problems else 0
