"""The benchmark's tables: one per Python (every configuration), and one combined
table over every Python of an invocation (covcore's default backend, coverage.py and
slipcover, line and branch). Plain text, or markdown for benchmarks/README.md.
"""

from __future__ import annotations

import datetime
import textwrap

import results
from results import Cell, PyResults, machine_description, ratio, rss_ratio, summary


def fmt_cell(cell: Cell, base: Cell, is_base: bool) -> str:
    if cell.status != "ok":
        return cell.status
    m = cell.median()
    if m is None:
        return "-"
    value = "%.3gG" % (m / 1e9) if results.METRIC == "instructions" else "%.2fs" % m
    if is_base:
        return value
    r = ratio(cell, base)
    return "%s %s" % (value, "%.2fx" % r if r is not None else "?")




def render_table(res: PyResults, markdown: bool) -> str:
    wls, cfgs = res.workloads, res.configs
    suites = [w for w in wls if w.kind == "suite"]
    header = ["configuration"] + [w.name for w in wls] + ["CPU max"] + [
        "%s RSS" % w.name for w in suites]
    rows = []
    for cfg in cfgs:
        row = [cfg.label]
        for w in wls:
            row.append(fmt_cell(res.cells[w.name, cfg.key], res.cells[w.name, "none"],
                                cfg.key == "none"))
        s = summary(res, cfg)
        if cfg.key == "none":
            row.append("1.00x" if s["cpu_status"] == "ok" else "-")
        else:
            row.append("%.2fx" % s["cpu_max_ratio"] if s["cpu_max_ratio"] is not None
                       else s["cpu_status"] if s["cpu_status"] != "ok" else "-")
        for w in suites:
            cell, base = res.cells[w.name, cfg.key], res.cells[w.name, "none"]
            if cell.status != "ok" or not cell.rss_kb:
                row.append(cell.status if cell.status != "ok" else "-")
            elif cfg.key == "none":
                row.append("%.0f MB" % (cell.median_rss() / 1024))
            else:
                row.append("%.0f MB %.2fx" % (cell.median_rss() / 1024, rss_ratio(cell, base)))
        rows.append(row)
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    def line(r):
        return "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                         for i, c in enumerate(r))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def render(res: PyResults, markdown: bool) -> str:
    env = res.env
    out = []
    tools = ", ".join("%s %s" % kv for kv in sorted(env.tool_versions.items()))
    if env.covcore_hash and "covcore" in env.tool_versions:
        tools = tools.replace("covcore %s" % env.tool_versions["covcore"], "covcore %s (source "
                              "%s)" % (env.tool_versions["covcore"], env.covcore_hash[:8]))
    metric = results.metric_label()
    if res.mode == "smoke":
        title = ("Python %s: smoke run, one run of each on tiny inputs (%s; "
                 "not a measurement)" % (env.version_str, metric))
    else:
        title = "Python %s: median of %d runs (%s) and ratio to plain python" % (
            env.version_str, res.repeat, metric)
    if markdown:
        out.append("#### " + title)
        out.append("")
        out.append("Tools: %s. Measured %s on %s." % (
            tools, datetime.date.today().isoformat(), machine_description()))
        out.append("")
    else:
        out.append("=" * len(title))
        out.append(title)
        out.append("tools: " + tools)
    if res.error:
        out.append("ERROR: " + res.error)
        return "\n".join(out)
    if res.busy():
        out.append("WARNING: " + res.busy())
        if markdown:
            out.append("")
    out.append(render_table(res, markdown))
    out.append("")
    notes = []
    for cfg in res.configs:
        if cfg.note:
            notes.append("%s: %s" % (cfg.label, cfg.note))
        if cfg.na:
            notes.append("%s: n/a: %s" % (cfg.label, cfg.na))
        if cfg.failed:
            notes.append("%s: FAILED before measuring: %s" % (
                cfg.label, " ".join(cfg.failed.split())[:300]))
    if notes:
        out.append(("\n".join("- " + n for n in notes) if markdown else
                    "notes:\n" + "\n".join("  " + n for n in notes)))
        out.append("")
    if not markdown:
        out.append("summary (max ratio over the CPU workloads; ratio and peak-RSS ratio on "
                   "the real suites):")
        for cfg in res.configs:
            if cfg.key == "none":
                continue
            s = summary(res, cfg)
            parts = ["CPU max " + ("%.2fx" % s["cpu_max_ratio"] if s["cpu_max_ratio"]
                                   is not None else s["cpu_status"])] if s["cpu_status"] != "-" else []
            for w in res.workloads:
                if w.kind == "suite":
                    d = s[w.name]
                    if d["ratio"] is None:
                        text = d["status"]
                    elif d["rss_ratio"] is None:  # --metric instructions: no RSS
                        text = "%.2fx" % d["ratio"]
                    else:
                        text = "%.2fx (RSS %.2fx)" % (d["ratio"], d["rss_ratio"])
                    parts.append("%s %s" % (w.name, text))
            out.append("  %-26s %s" % (cfg.label, "   ".join(parts)))
        failures = [(w, c) for w in res.workloads for c in res.configs
                    if res.cells[w.name, c.key].status in ("FAILED", "TIMEOUT")]
        if failures:
            out.append("")
            out.append("failures (stderr tails):")
            # Configurations that failed before measuring fail every workload the same
            # way: one entry for each distinct error.
            before = {}
            for c in res.configs:
                if c.failed:
                    before.setdefault(c.failed, []).append(c.label)
            for err, labels in before.items():
                out.append("  all workloads / %s:" % ", ".join(labels))
                out.append(textwrap.indent(err.rstrip(), "    "))
            for w, c in failures:
                if not c.failed:
                    out.append("  %s / %s:" % (w.name, c.label))
                    out.append(textwrap.indent(res.cells[w.name, c.key].error.rstrip(), "    "))
        out.append("(took %.0f s)" % res.seconds)
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# The combined table: every Python of the invocation, one column per tool and mode

#: The combined table's tools: (name, key of its line configuration, of its branch one).
#: covcore's keys depend on the backend it chooses on each Python (see tool_keys()).
PEERS = ("covcore", "coverage.py", "slipcover")


def tool_keys(res: PyResults, tool: str) -> tuple:
    """The configuration keys of `tool`'s (line, branch) columns on this Python."""
    if tool == "coverage.py":
        return "coverage", "coverage-branch"
    if tool == "slipcover":
        return "slipcover", "slipcover-branch"
    default = res.env.default_backends
    if default.get("line") and default.get("branch"):
        return "covcore-%s" % default["line"], "covcore-%s-branch" % default["branch"]
    # Unknown (covcore did not install): its first configuration shows why.
    keys = [c.key for c in res.configs if c.tool == "covcore"]
    line = next((k for k in keys if not k.endswith("-branch")), "covcore")
    branch = next((k for k in keys if k.endswith("-branch")), "covcore-branch")
    return line, branch


def _value(res: PyResults, workload: str, key: str, rss: bool) -> tuple:
    """(number or None, text) of one cell of the combined table."""
    if key not in {c.key for c in res.configs}:
        return None, "-"  # not measured in this invocation (--only, --backends)
    cell, base = res.cells[workload, key], res.cells[workload, "none"]
    if cell.status != "ok":
        return None, cell.status
    value = rss_ratio(cell, base) if rss else ratio(cell, base)
    return (value, "%.2fx" % value) if value is not None else (None, "-")


def _cpu_max(res: PyResults, key: str) -> tuple:
    cpu = [w.name for w in res.workloads if w.kind == "cpu"]
    values = [_value(res, name, key, False) for name in cpu]
    bad = [text for value, text in values if value is None]
    if bad:
        return None, bad[0]
    top = max(value for value, _ in values)
    return top, "%.2fx" % top


def _mark(cells: list, markdown: bool) -> list:
    """Texts of (number, text) cells of the three tools, the lowest number marked if it
    is lower than every other tool's number (at least one other measured)."""
    numbers = [round(n, 2) if n is not None else None for n, _ in cells]  # as printed
    out = []
    for i, ((_, text), n) in enumerate(zip(cells, numbers)):
        others = [m for j, m in enumerate(numbers) if j != i and m is not None]
        if n is not None and others and all(n < m for m in others):
            text = "**%s**" % text if markdown else text + "*"
        out.append(text)
    return out


def combined_rows(all_results: list, markdown: bool) -> tuple:
    """(header, rows) of the combined table."""
    header = ["Python", "workload"] + [
        "%s %s" % (tool, mode) for tool in PEERS for mode in ("line", "branch")] + [
        "RSS %s" % tool for tool in PEERS]
    rows = []
    for res in all_results:
        if res.error:
            rows.append([res.env.version_str, "ERROR"] + [""] * (len(header) - 2))
            continue
        keys = [tool_keys(res, tool) for tool in PEERS]
        names = [w.name for w in res.workloads]
        if sum(w.kind == "cpu" for w in res.workloads) > 1:
            names.append("CPU max")
        for name in names:
            by_mode = [_mark([(_cpu_max(res, k[mode]) if name == "CPU max" else
                               _value(res, name, k[mode], False)) for k in keys], markdown)
                       for mode in (0, 1)]
            row = [res.env.version_str, name]
            for line, branch in zip(*by_mode):  # per tool: line, branch
                row += [line, branch]
            if name == "CPU max":
                row += [""] * len(PEERS)
            else:
                row += _mark([_value(res, name, k[0], True) for k in keys], markdown)
            rows.append(row)
    return header, rows


def _table(header: list, rows: list, markdown: bool, left: int) -> str:
    """A table with `left` left-aligned columns, the others right-aligned."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] * left + ["---:"] * (len(header) - left)) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def line(r):
        return "  ".join(c.ljust(widths[i]) if i < left else c.rjust(widths[i])
                         for i, c in enumerate(r)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def render_combined(all_results: list, markdown: bool) -> str:
    """The one table over every Python measured: each workload's ratio to plain python
    under covcore (the backend it chooses by default), coverage.py and slipcover, in line
    and branch mode, and the peak-RSS ratio of each (line mode)."""
    metric = results.metric_label()
    smoke = any(r.mode == "smoke" for r in all_results)
    title = ("All Pythons: ratio to plain python (%s%s), covcore with its default "
             "backend" % (metric, "; smoke run, not a measurement" if smoke else ""))
    header, rows = combined_rows(all_results, markdown)
    defaults = []
    for res in all_results:
        d = res.env.default_backends
        if d.get("line"):
            defaults.append("%s %s%s%s" % (
                res.env.version_str, d["line"],
                "" if d["branch"] == d["line"] else " (branch: %s)" % d["branch"],
                " [%s]" % d["note"] if d.get("note") else ""))
        else:
            defaults.append("%s unknown (%s)" % (
                res.env.version_str, "covcore did not install" if res.env.covcore_error
                else "not recorded"))
    legend = [
        "covcore's default backend (covcore.backend.choose_backend): " + ", ".join(defaults)
        + "; the other backends are in the per-Python tables.",
        "coverage.py: its default core (CTracer; coverage.py sysmon is in the per-Python "
        "tables). RSS: the peak-RSS ratio, line mode. CPU max: the largest ratio over the "
        "CPU workloads.",
        "%s: lower than both other tools (or the one other measured)." % (
            "**bold**" if markdown else "*"),
    ]
    if markdown:
        return "\n".join(["#### " + title, "", _table(header, rows, True, 2), ""]
                         + ["- " + line for line in legend])
    return "\n".join(["=" * len(title), title, _table(header, rows, False, 2)]
                     + textwrap.wrap(" ".join(legend), 100))
