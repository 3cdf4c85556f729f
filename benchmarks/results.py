"""The benchmark's data: workloads, configurations, measured cells, and their JSON form.

Used by run.py (which measures) and render.py (which prints tables); a
results-3.X.json written by to_json() is read back by from_json() for --from-json.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

#: What the tables compare: "wall" (wall time, the default), "cpu" (user+sys time) or
#: "instructions" (user-mode instructions counted by valgrind's callgrind: the same
#: count on every run of a deterministic program, however busy the machine).
#: Set by run.py from --metric (and by from_json from the file's "metric").
METRIC = "wall"


def metric_label() -> str:
    """How the tables name what they compare."""
    return {"wall": "wall seconds", "cpu": "CPU (user+sys) seconds",
            "instructions": "instructions counted by callgrind"}[METRIC]


@dataclass
class Workload:
    name: str
    kind: str  # "cpu", "suite", "import" or "startup"
    title: str
    argv: list  # what follows "python": a script and its arguments, or ["-m", "pytest", ...]
    cwd: Path
    source: Optional[str]  # --source for the tools; None: measure with --pylib (-L)
    slipcover_source: Optional[str]  # None: slipcover can't measure this (n/a)
    check_output: bool = True  # the RESULT lines must equal plain python's
    must_pass: bool = False  # plain python must succeed, or the run stops


@dataclass
class Config:
    key: str
    label: str
    tool: str  # "none", "covcore", "coverage", "slipcover"
    branch: bool = False
    env: dict = field(default_factory=dict)
    backend: Optional[str] = None
    # Decided per Python before measuring: None (ok), or a reason it is not measured.
    na: Optional[str] = None  # "n/a": the tool can't do this (not an error)
    failed: Optional[str] = None  # FAILED before measuring (install, probe)
    note: str = ""


@dataclass
class Cell:
    status: str = "ok"  # ok, FAILED, TIMEOUT, n/a
    times: list = field(default_factory=list)
    rss_kb: list = field(default_factory=list)
    cpu: list = field(default_factory=list)
    error: str = ""
    instructions: list = field(default_factory=list)  # --metric instructions only

    def values(self) -> list:
        """The measured runs of the metric, in round order."""
        return {"cpu": self.cpu, "instructions": self.instructions}.get(METRIC, self.times)

    def median(self) -> Optional[float]:
        values = self.values()
        return statistics.median(values) if self.status == "ok" and values else None

    def median_rss(self) -> Optional[float]:
        return statistics.median(self.rss_kb) if self.status == "ok" and self.rss_kb else None



@dataclass
class Env:
    """One Python's virtualenv and what's installed in it."""
    version: tuple
    version_str: str
    base_exe: str
    py: Path
    covcore_error: Optional[str] = None
    backends: list = field(default_factory=list)
    slipcover_error: Optional[str] = None
    tool_versions: dict = field(default_factory=dict)
    covcore_hash: Optional[str] = None  # hash of the covcore source installed
    #: The backend covcore chooses by itself on this Python, for "line" and "branch"
    #: (covcore.backend.choose_backend(branch=...)): the combined table's covcore column.
    default_backends: dict = field(default_factory=dict)



@dataclass
class PyResults:
    env: Env
    workloads: list
    configs: list
    cells: dict  # (workload name, config key) -> Cell
    repeat: int
    seconds: float = 0.0
    error: Optional[str] = None
    load_before: float = 0.0
    loads: list = field(default_factory=list)  # 1-minute load average after each round
    warmup: str = "every configuration"
    mode: str = "full"  # "full", "quick" or "smoke" (one run of each, tiny inputs)

    def busy(self) -> Optional[str]:
        """A warning if other processes competed for the CPUs while measuring (not
        with --metric instructions: the load changes no instruction count)."""
        if METRIC == "instructions":
            return None
        loads = [self.load_before] + self.loads
        # Our own runs account for about 1 (one process at a time, plus the harness).
        cores = os.cpu_count() or 1
        if max(loads) > max(1.5, cores * 0.75):
            return ("the machine was busy while measuring (1-minute load average up to %.1f "
                    "on %d cores, ~1 of it this benchmark): other processes competed for "
                    "the CPUs, so times are inflated and ratios noisier than usual"
                    % (max(loads), cores))
        return None



def ratio(cell: Cell, base: Cell) -> Optional[float]:
    """The overhead of `cell` over plain python's `base`: the median of the paired ratios
    (run i of each was measured in round i, one right after the other), the issue's "median
    of paired runs"; the ratio of the medians when the runs can't be paired."""
    if cell.status != "ok" or base.status != "ok":
        return None
    values, base_values = cell.values(), base.values()
    if values and len(values) == len(base_values) and all(base_values):
        return statistics.median(v / b for v, b in zip(values, base_values))
    m, b = cell.median(), base.median()
    return m / b if m is not None and b else None


def rss_ratio(cell: Cell, base: Cell) -> Optional[float]:
    m, b = cell.median_rss(), base.median_rss()
    return m / b if m is not None and b else None




def summary(res: PyResults, cfg: Config) -> dict:
    cpu = [ratio(res.cells[w.name, cfg.key], res.cells[w.name, "none"])
           for w in res.workloads if w.kind == "cpu"]
    cpu_statuses = [res.cells[w.name, cfg.key].status for w in res.workloads if w.kind == "cpu"]
    out = {"cpu_max_ratio": None, "cpu_status": "ok" if cpu_statuses else "-"}
    bad = [s for s in cpu_statuses if s != "ok"]
    if bad:
        out["cpu_status"] = bad[0]
    elif cpu and all(r is not None for r in cpu):
        out["cpu_max_ratio"] = max(cpu)
    for w in res.workloads:
        if w.kind == "suite":
            cell, base = res.cells[w.name, cfg.key], res.cells[w.name, "none"]
            out[w.name] = {"status": cell.status, "ratio": ratio(cell, base),
                           "rss_ratio": rss_ratio(cell, base),
                           "rss_mb": cell.median_rss() / 1024 if cell.median_rss() else None}
    return out


def machine_description() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores, %s" % (model, os.cpu_count() or 0, platform.system())


def to_json(res: PyResults) -> dict:
    env = res.env
    return {
        "python": env.version_str,
        "python_executable": env.base_exe,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_description(),
        "tools": env.tool_versions,
        "covcore_backends": env.backends,
        "covcore_default_backend": env.default_backends,
        "covcore_error": env.covcore_error,
        "covcore_source_hash": env.covcore_hash,
        "slipcover_error": env.slipcover_error,
        "repeat": res.repeat,
        "quick": res.mode == "quick",
        "mode": res.mode,
        "metric": METRIC,
        "seconds": round(res.seconds, 1),
        "warmup": res.warmup,
        "load_average": {"before": res.load_before, "after_each_round": res.loads},
        "error": res.error,
        "workloads": [{"name": w.name, "kind": w.kind, "title": w.title,
                       "command": w.argv} for w in res.workloads],
        "configs": [{"key": c.key, "label": c.label, "tool": c.tool, "branch": c.branch,
                     "env": c.env, "backend": c.backend, "note": c.note, "na": c.na,
                     "failed": c.failed}
                    for c in res.configs],
        "results": {
            w.name: {
                c.key: {
                    "status": res.cells[w.name, c.key].status,
                    "median_s": res.cells[w.name, c.key].median(),
                    "min_s": min(res.cells[w.name, c.key].times, default=None),
                    "ratio": ratio(res.cells[w.name, c.key], res.cells[w.name, "none"]),
                    "times_s": [round(t, 4) for t in res.cells[w.name, c.key].times],
                    "cpu_s": [round(t, 4) for t in res.cells[w.name, c.key].cpu],
                    "instructions": res.cells[w.name, c.key].instructions,
                    "peak_rss_kb": res.cells[w.name, c.key].rss_kb,
                    "rss_ratio": rss_ratio(res.cells[w.name, c.key], res.cells[w.name, "none"]),
                    "error": res.cells[w.name, c.key].error or None,
                } for c in res.configs
            } for w in res.workloads
        },
        "summary": {c.key: summary(res, c) for c in res.configs if c.key != "none"},
    }


def from_json(data: dict, workdir: Path) -> PyResults:
    """Rebuild results from a results-3.X.json (for --from-json); sets METRIC to the
    file's."""
    global METRIC
    METRIC = data.get("metric", "wall")
    version = tuple(int(p) for p in data["python"].split(".")[:2])
    env = Env(version, data["python"], data["python_executable"], Path("?"),
              data.get("covcore_error"), data.get("covcore_backends", []),
              data.get("slipcover_error"), data.get("tools", {}),
              data.get("covcore_source_hash"), data.get("covcore_default_backend") or {})
    wls = [Workload(w["name"], w["kind"], w["title"], w["command"], workdir, None, None)
           for w in data["workloads"]]
    cfgs = [Config(c["key"], c["label"], c["tool"], c["branch"], c["env"],
                   c.get("backend") or c["env"].get("COVCORE_CORE"), c["na"], c["failed"],
                   c["note"]) for c in data["configs"]]
    if not env.default_backends and not env.covcore_error:
        # Written before the default was recorded: covcore's rule of that time.
        name = "sysmon" if version >= (3, 12) else "ctrace"
        env.default_backends = {"line": name, "branch": name,
                                "note": "not recorded in the JSON, assumed"}
    cells = {}
    for w in wls:
        for c in cfgs:
            d = data["results"][w.name][c.key]
            cells[w.name, c.key] = Cell(d["status"], d["times_s"], d["peak_rss_kb"], d["cpu_s"],
                                        d["error"] or "", d.get("instructions", []))
    load = data.get("load_average", {})
    return PyResults(env, wls, cfgs, cells, data["repeat"], data["seconds"], data["error"],
                     load.get("before", 0.0), load.get("after_each_round", []),
                     data.get("warmup", "?"),
                     data.get("mode", "quick" if data.get("quick") else "full"))
