"""A third-party covcore plugin: the 'demo' report, one line per file."""

from covcore.hookspecs import hookimpl
from covcore.reporting.registry import ReporterSpec


class DemoReporter:
    """Built by covcore with config= and branches=; report(analyses, outfile)."""

    def __init__(self, config, branches):
        self.branches = branches

    def report(self, analyses, outfile):
        total = None
        for name, analysis in analyses:
            nums = analysis.numbers
            outfile.write(f"{name}: {nums.n_statements} statements, {nums.n_missing} missing, "
                          f"missing lines {sorted(analysis.missing)}\n")
            total = nums if total is None else total + nums
        outfile.write(f"branches: {self.branches}\n")
        return total


@hookimpl
def covcore_register_reporters(registry):
    registry.register(ReporterSpec("demo", DemoReporter, "demo report", description="One line per file."))
