#!/usr/bin/env python3
"""Medians and ratios for tests/bench/run: reads RESULTS/runs.csv (and meta.json),
prints a Markdown table, writes RESULTS/summary.json and RESULTS/table.md.

    report.py RESULTS_DIR
"""
import csv
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

# Debian's certbot 2.1.0 and lego 4.9.1, then today's (tests/bench/current-peers.sh)
PEERS_ORDER = ["certagent", "uacme", "certbot", "certbot5", "lego", "lego5"]
METRICS = ["wall_s", "cpu_s", "maxrss_kib", "requests"]


def load_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def median(values):
    return statistics.median(values) if values else None


def summarize(rows):
    """(client, key, names) -> {runs, status, medians...}"""
    cells = defaultdict(list)
    for r in rows:
        cells[(r["client"], r["key"], int(r["names"]))].append(r)
    out = {}
    for cell, rs in cells.items():
        ok = [r for r in rs if r["status"] == "ok"]
        capped = [r for r in rs if r["status"] == "capped"]
        skipped = [r for r in rs if r["status"] == "skipped"]
        failed = [r for r in rs if r["status"] not in ("ok", "capped", "skipped")]
        entry = {"runs": len(ok), "capped": len(capped), "skipped": bool(skipped) and not ok,
                 "failed": [r["status"] for r in failed]}
        for m in METRICS:
            vals = [float(r[m]) for r in ok if r[m] != ""]
            entry[m] = median(vals)
        conns = [float(r["connections"]) for r in ok if r.get("connections")]
        entry["connections"] = median(conns)
        if capped:
            entry["capped_wall_s"] = max(float(r["wall_s"] or 0) for r in capped)
        out[cell] = entry
    return out


def fmt_num(v, digits=2):
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def cell_text(e, cap):
    """wall text for a cell: median, or why there is none"""
    if e is None:
        return "—"
    if e["runs"] == 0 and e["capped"]:
        return f"> {cap} s (killed)"
    if e["skipped"]:
        return "capped"
    if e["runs"] == 0:
        return "failed: " + ",".join(e["failed"])
    return fmt_num(e["wall_s"])


def table(summary, cap):
    keys = sorted({k for (_, k, _) in summary})
    names = sorted({n for (_, _, n) in summary})
    clients = [c for c in PEERS_ORDER if any(c == cl for (cl, _, _) in summary)]
    lines = []
    for key in keys:
        lines.append(f"\n**{key}** (medians; ratio = certagent ÷ peer, below 1 means certagent is better)\n")
        lines.append("| names | client | runs | wall s | CPU s | peak RSS MiB | requests | wall ratio | CPU ratio | RSS ratio | requests ratio |")
        lines.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in names:
            ca = summary.get(("certagent", key, n))
            for c in clients:
                e = summary.get((c, key, n))
                if e is None:
                    continue
                ok = e["runs"] > 0
                rss = e["maxrss_kib"] / 1024 if ok and e["maxrss_kib"] is not None else None
                row = [str(n), c, str(e["runs"]) + (" (+1 killed)" if e["capped"] and ok else ""),
                       cell_text(e, cap), fmt_num(e["cpu_s"] if ok else None), fmt_num(rss, 1),
                       f"{e['requests']:.0f}" if ok and e["requests"] is not None else "—"]
                if c == "certagent" or ca is None or not ca["runs"]:
                    row += [""] * 4
                elif not ok:
                    # a killed peer: certagent's time against the cap is an upper bound of the ratio
                    r = ratio(ca["wall_s"], float(cap)) if e["capped"] else None
                    row += [("< " + fmt_num(r, 3)) if r else "—", "—", "—", "—"]
                else:
                    row += [fmt_num(ratio(ca[m], e[m]), 3) for m in METRICS]
                lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def targets(summary):
    """The issue's targets that one comparison run can show (speed is never asserted in tests).
    The certbot targets are checked against each certbot measured: certbot5 (today's, the
    reference since issue 25) and Debian's 2.1.0 (for continuity with earlier runs)."""
    out = []
    for key in sorted({k for (_, k, _) in summary}):
        def get(c, n):
            e = summary.get((c, key, n))
            return e if e and e["runs"] else None
        ca1, ua1 = get("certagent", 1), get("uacme", 1)
        if ca1 and ua1:
            out.append((f"{key}: 1 name wall ≤ half of uacme's", ca1["wall_s"] * 2 <= ua1["wall_s"],
                        f"{ca1['wall_s']:.2f} s vs {ua1['wall_s']:.2f} s"))
        for cb in ("certbot5", "certbot"):
            cb1 = get(cb, 1)
            if ca1 and cb1:
                out.append((f"{key}: requests (1 name, new account) ≤ {cb}'s", ca1["requests"] <= cb1["requests"],
                            f"{ca1['requests']:.0f} vs {cb1['requests']:.0f}"))
        if ca1 and ua1:
            out.append((f"{key}: peak RSS of one issuance ≤ uacme's", ca1["maxrss_kib"] <= ua1["maxrss_kib"],
                        f"{ca1['maxrss_kib'] / 1024:.1f} MiB vs {ua1['maxrss_kib'] / 1024:.1f} MiB"))
        ca100 = get("certagent", 100)
        for cb in ("certbot5", "certbot"):
            cb100 = get(cb, 100)
            if ca100 and cb100:
                out.append((f"{key}: 100 names wall ≤ 1/10 of {cb}'s", ca100["wall_s"] * 10 <= cb100["wall_s"],
                            f"{ca100['wall_s']:.2f} s vs {cb100['wall_s']:.2f} s (÷{cb100['wall_s'] / ca100['wall_s']:.1f})"))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS_DIR")
    d = Path(sys.argv[1])
    meta = json.loads((d / "meta.json").read_text()) if (d / "meta.json").exists() else {}
    cap = meta.get("cap_seconds", "?")
    summary = summarize(load_rows(d / "runs.csv"))
    text = table(summary, cap)
    checks = targets(summary)
    if checks:
        text += "\n\nTargets (informational; measured, not asserted):\n\n"
        text += "\n".join(f"- {'met' if ok else 'MISSED'}: {name} — {detail}" for name, ok, detail in checks)
    print(text)
    (d / "table.md").write_text(text + "\n")
    json.dump({"meta": meta,
               "cells": [{"client": c, "key": k, "names": n, **e} for (c, k, n), e in sorted(summary.items())],
               "targets": [{"target": t, "met": ok, "detail": det} for t, ok, det in checks]},
              open(d / "summary.json", "w"), indent=1)


if __name__ == "__main__":
    main()
