"""LINE or INSTRUCTION events for long code objects: what each costs, counted.

CPython 3.12 and 3.13 look a "far" line up from the start of the line table on
every LINE event there (see ``_long_lines`` in ``core/_tracer_sysmon.pxi``).
covcore's sysmon tracer prices that walk against the extra INSTRUCTION events
it would take instead, with two constants counted by this script.  It runs a
generated module body of N statements of one kind once, under covcore line
mode with each policy (``auto``: the tracer decides; ``instruction``;
``line``) and without coverage, and prints the instructions callgrind counts
for that ``exec`` alone (between two ``os.getppid()`` markers: compiling,
starting and saving are outside them).

    python benchmarks/line_events.py                          # this Python
    python benchmarks/line_events.py --python .venvs/dev3.13/bin/python \\
        --kinds assign,call --sizes 100,200,400

The Python given must have covcore installed (its compiled tracer) and be
3.12 or 3.13; valgrind must be on PATH.  Needs only the standard library.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

#: One statement of each kind, for line i (all lines of a module body).
KINDS = {
    "assign": "v{i} = {i}",
    "call": "abs(-{i})",
    "dict": "d{i} = {{'a': {i}, 'b': [{i}, {i} + 1]}}",
}

POLICIES = {"none": None, "auto": 0, "instruction": 1, "line": 2}

DRIVER = r"""
import os, sys
mod_path, policy = sys.argv[1], sys.argv[2]
code = compile(open(mod_path).read(), mod_path, "exec")
cov = None
if policy != "none":
    import covcore, covcore._tracer as t
    t._set_long_lines_policy_for_tests(int(policy))
    cov = covcore.Coverage(data_file=os.path.join(os.path.dirname(mod_path), ".cov"),
                           source=[os.path.dirname(mod_path)], timid=False)
    cov.start()
os.getppid()
exec(code, {"__name__": "generated"})
os.getppid()
if cov is not None:
    cov.stop()
    if cov.get_data().lines(mod_path) is None:
        sys.exit("module not measured")
"""


def count(python: str, mod: Path, policy, scratch: Path) -> int:
    """Instructions callgrind counted between the two markers."""
    out = scratch / "cg.out"
    for old in scratch.glob("cg.out*"):
        old.unlink()
    driver = scratch / "driver.py"
    driver.write_text(DRIVER)
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--dump-before=os_getppid",
         "--callgrind-out-file=%s" % out, python, str(driver), str(mod),
         "none" if policy is None else str(policy)],
        check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Dump 1 ends at the first marker, dump 2 at the second: the exec.
    text = (scratch / "cg.out.2").read_text()
    m = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
    if m is None:
        raise SystemExit("no totals in %s" % (scratch / "cg.out.2"))
    return int(m.group(1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--sizes", default="100,150,200,400")
    args = ap.parse_args(argv)
    print("%-7s %5s %12s %12s %12s %12s   (instructions in the exec; covcore: minus none)"
          % ("kind", "lines", "none", "auto", "instruction", "line"))
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for kind in args.kinds.split(","):
            for n in map(int, args.sizes.split(",")):
                mod = scratch / ("gen_%s_%d.py" % (kind, n))
                mod.write_text("\n".join(KINDS[kind].format(i=i) for i in range(n)) + "\n")
                got = {name: count(args.python, mod, pol, scratch)
                       for name, pol in POLICIES.items()}
                base = got["none"]
                print("%-7s %5d %12d %12d %12d %12d" % (
                    kind, n, base, got["auto"] - base, got["instruction"] - base,
                    got["line"] - base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
