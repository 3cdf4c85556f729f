"""The :class:`Coverage` facade: the public Python API, shaped like coverage.py's.

It wires config, selection, collection, data and reporting together and
keeps no logic of its own beyond that wiring.
"""

from __future__ import annotations

import atexit
import os
import sys

# The WeakSet that weakref re-exports, from the module threading imports
# anyway: weakref itself would be one more module in every measured process.
from _weakrefset import WeakSet

from covcore import backend as _backend
from covcore.collector import Collector
from covcore.config import CovcoreConfig, read_config
from covcore.data import CoverageData
from covcore.errors import ConfigError, CovcoreError, one_line
from covcore.reporting.api import ReportMethods
from covcore.selection import Selector

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import IO, Any, Iterable, Mapping

    from covcore.analysis import Numbers

_DEFAULT = object()


def _opcode_tables_in_use() -> str:
    """Where the C tracer read its opcode numbers: a ``covcore._opcodes3XY``
    table (see ``covcore._tracer._opcode_tables``) or the ``opcode`` module."""
    if _backend.EXTENSION_ERROR is not None:
        return "-none- (no C extension)"
    from covcore import _tracer

    name = _tracer._opcode.__name__
    return name if name != "opcode" else "opcode (covcore has no table for this Python's bytecode)"


class Coverage(ReportMethods):
    """Measure code coverage; the shape of coverage.py's ``Coverage`` class.

    Arguments given here override the configuration file, which overrides
    the defaults (see :mod:`covcore.config`).

    :param data_file: the data file's name (str); None keeps data in memory
        only; omitted: ``[run] data_file`` (default ``.covcore``).
    :param data_suffix: True for a parallel-mode suffix, or a suffix string.
    :param cover_pylib: measure the standard library too.
    :param auto_data: load existing data at start and save at process exit.
    :param timid: use the pure-Python tracer.
    :param branch: measure branch coverage (arcs).
    :param config_file: True to search for config files, False for none, or a path.
    :param source: directories or package names to measure (list of str).
    :param source_pkgs: package names to measure (list of str).
    :param omit: file globs not to measure (list of str).
    :param include: file globs to measure (list of str), ignored with ``source``.
    :param debug: debug options (list of str), e.g. ``["trace", "sys"]``.
    :param concurrency: concurrency libraries in use (list of str); ``thread``.
    :raises ConfigError: for a bad configuration (when first used).
    """

    def __init__(
        self,
        data_file: Any = _DEFAULT,
        data_suffix: str | bool | None = None,
        cover_pylib: bool | None = None,
        auto_data: bool = False,
        timid: bool | None = None,
        branch: bool | None = None,
        config_file: str | bool = True,
        source: Iterable[str] | None = None,
        source_pkgs: Iterable[str] | None = None,
        omit: str | Iterable[str] | None = None,
        include: str | Iterable[str] | None = None,
        debug: Iterable[str] | None = None,
        concurrency: str | Iterable[str] | None = None,
        context: str | None = None,
        messages: bool = False,
        _settings: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(omit, str):
            omit = [omit]
        if isinstance(include, str):
            include = [include]
        if isinstance(concurrency, str):
            concurrency = [concurrency]
        self._no_disk = data_file is None
        self._warned: set[str] = set()
        self._messages = messages
        given = dict(
            data_file=None if data_file is _DEFAULT or data_file is None else os.fspath(data_file),
            cover_pylib=cover_pylib,
            timid=timid,
            branch=branch,
            source=list(source) if source is not None else None,
            source_pkgs=list(source_pkgs) if source_pkgs is not None else None,
            run_omit=list(omit) if omit is not None else None,
            run_include=list(include) if include is not None else None,
            debug=list(debug) if debug is not None else None,
            concurrency=list(concurrency) if concurrency is not None else None,
            context=context,
            parallel=bool(data_suffix) if data_suffix is not None else None,
        )
        # _settings: a serialized configuration handed to a child process
        # (covcore.process); explicit arguments still win over it.
        settings = dict(_settings or {})
        settings.update({k: v for k, v in given.items() if v is not None})
        self.config: CovcoreConfig = read_config(config_file=config_file, warn=self._warn, **settings)
        for conc in self.config.concurrency or []:
            if conc not in _CONCURRENCY:
                raise ConfigError(
                    f"Unsupported concurrency choice: {conc!r} (covcore supports {', '.join(_CONCURRENCY)})"
                )
            if conc in _GREEN_CONCURRENCY:
                # Measurement needs nothing special for them (line data is kept
                # per code object, not per stack), but the library must exist.
                import importlib.util

                if importlib.util.find_spec(conc) is None:
                    raise ConfigError(f"Couldn't trace with concurrency={conc}, the module isn't installed.")
        if "multiprocessing" in (self.config.concurrency or []):
            self.config.parallel = True  # the parent's data joins its children's at combine
        self._data_suffix = data_suffix if data_suffix is not None else (True if self.config.parallel else None)
        self._auto_data = auto_data
        self._selector: Selector | None = None
        self._collector: Collector | None = None
        self._data: CoverageData | None = None
        self._backend: _backend.Backend | None = None
        self._started = False
        self._atexit_registered = False
        self._debug_out: IO[str] | None = None
        self._debug_writer: Any = None
        self._startup_debugged = False
        # (report name, file name, Numbers) of each file in the latest report.
        self._reported: list[tuple[str, str, Numbers]] = []
        self._warn_no_data = True
        self._forgotten = False  # a copy inherited by a forked child that must not save
        self._start_pid = 0  # the process that started measuring
        self._dynamic_context: str | None = None
        self._detector: Any = None
        self._patched = False
        #: The covcore.measure.MeasuredSession this object works for, if any.
        self._measured_session: Any = None
        _INSTANCES.add(self)

    @classmethod
    def _instances(cls) -> list[Coverage]:
        """Every live Coverage object of this process."""
        return list(_INSTANCES)

    # -- plumbing -----------------------------------------------------------

    def _warn(self, message: str, slug: str, once: bool = False) -> None:
        """Show a warning unless ``[run] disable_warnings`` names its slug."""
        cfg = getattr(self, "config", None)
        if cfg is not None and slug in (cfg.disable_warnings or []):
            return
        if once and slug in self._warned:
            return
        self._warned.add(slug)
        sys.stderr.write(f"covcore: Warning: {one_line(message)} ({slug})\n")
        sys.stderr.flush()

    def _debug(self, message: str) -> None:
        self._debug_output().write(message)

    def _debug_output(self) -> Any:
        """The :class:`covcore.debug.DebugOutput` for this object's debug options."""
        if self._debug_writer is None:
            from covcore.debug import DebugOutput

            self._debug_writer = DebugOutput(self.config.debug or [], filename=self.config.debug_file)
        return self._debug_writer

    def _debug_startup(self) -> None:
        """``--debug=process`` and ``--debug=config`` output, once, when measuring or reporting starts."""
        if self._startup_debugged:
            return
        self._startup_debugged = True
        if self._debugging("process"):
            from covcore.debug import process_info

            self._debug(process_info())
        if self._debugging("config"):
            from covcore.debug import describe

            self._debug(describe("config", self))

    def _message(self, message: str) -> None:
        """A message for the user (``Wrote HTML report to ...``), when ``messages`` is on."""
        if self._messages:
            print(message)

    def _debugging(self, option: str) -> bool:
        return option in (self.config.debug or [])

    def _get_selector(self) -> Selector:
        if self._selector is None:
            if self.config.source and self.config.run_include:
                self._warn("--include is ignored because --source is set", "include-ignored")
            self._selector = Selector(
                source=self.config.source or (),
                source_pkgs=self.config.source_pkgs or (),
                include=self.config.run_include or (),
                omit=self.config.run_omit or (),
                cover_pylib=bool(self.config.cover_pylib),
                debug=self._debug if self._debugging("trace") else None,
            )
        return self._selector

    def get_data(self) -> CoverageData:
        """The collected data (including what the running tracers recorded so far)."""
        if self._data is None:
            self._data = CoverageData(
                basename=self.config.data_file,
                suffix=self._data_suffix,
                no_disk=self._no_disk,
                warn=self._warn,
            )
        if self._collector is not None:
            self._data.set_context(self._context_label())
            self._collector.flush_into(self._data)
        return self._data

    # -- measuring ----------------------------------------------------------

    def start(self) -> None:
        """Start measuring code (this thread, threads started later, and, with
        ``sys.monitoring``, every thread).

        :raises ConfigError: e.g. ``COVCORE_CORE`` names a backend that is not available.
        """
        if self._started:
            return
        self._debug_startup()
        if self._collector is None:
            self._backend = _backend.choose_backend(timid=bool(self.config.timid), branch=bool(self.config.branch))
            if self._backend.name == "python" and _backend.EXTENSION_ERROR and not self.config.timid:
                if not os.environ.get("COVCORE_CORE"):
                    self._warn(
                        f"covcore's C tracer is not available ({_backend.EXTENSION_ERROR}); "
                        "using the slower pure-Python tracer",
                        "no-ctracer",
                        once=True,
                    )
            selector = self._get_selector()
            self._backend = _backend.for_running_frames(self._backend, selector.should_trace)
            if self._debugging("sys"):
                for key, value in self.sys_info():
                    self._debug(f"{key:>20}: {value}")
            self._collector = Collector(
                self._backend,
                selector.should_trace,
                bool(self.config.branch),
                self._warn,
                selector.fast_rules(),
                frames_suspend=any(conc in _GREEN_CONCURRENCY for conc in self.config.concurrency or ()),
            )
            if self._auto_data and not self._data_suffix:
                self.load()
        if self._auto_data and not self._atexit_registered:
            atexit.register(self._atexit)
            self._atexit_registered = True
        if not self._patched:
            self._patched = True
            from covcore import process

            process.apply_patches(self, list(self.config.patch or []), self._warn)
            if "multiprocessing" in (self.config.concurrency or []):
                process.patch_multiprocessing(self.config)
            if self.config.sigterm:
                process.install_sigterm_handler()
        self._collector.start()
        self._started = True
        self._start_pid = os.getpid()
        if self._detector is None and self.config.dynamic_context:
            from covcore.dyncontext import make_detector

            self._detector = make_detector(self.config.dynamic_context, self._switch_dynamic)
        if self._detector is not None:
            self._detector.start()

    def _switch_dynamic(self, label: str | None) -> None:
        if self._started and self._collector is not None:
            data = self.get_data()
            self._dynamic_context = label
            self._collector.switch_context(data, self._context_label())

    def _after_fork_in_child(self) -> None:
        """In a forked child: from now on, data goes to a parallel-mode file of this process."""
        if self._no_disk or self._forgotten:
            return
        self._data_suffix = True
        if self._data is not None:
            self._data = None

    def _forget_in_child(self) -> None:
        """In a forked child that measures itself afresh: this copy of the
        parent's Coverage stops and never saves (the parent saves its data)."""
        self._forgotten = True
        self._auto_data = False
        if self._collector is not None:
            self._collector.stop()
        self._started = False

    def _context_label(self) -> str:
        """The context recorded now: the static context, the dynamic one, or ``static|dynamic``."""
        static, dynamic = self.config.context or "", self._dynamic_context or ""
        return f"{static}|{dynamic}" if static and dynamic else static or dynamic

    def switch_context(self, new_context: str) -> None:
        """Record what runs from now on under the dynamic context ``new_context``
        (combined with the static ``[run] context`` as ``static|dynamic``).

        Works under every tracer backend; measurement must have started.

        :raises CovcoreError: when measurement is not running.
        """
        if not self._started or self._collector is None:
            raise CovcoreError("Cannot switch context, coverage is not started")
        data = self.get_data()
        self._dynamic_context = new_context
        self._collector.switch_context(data, self._context_label())

    def stop(self) -> None:
        """Stop measuring.  Measurement can be started again with :meth:`start`."""
        self._stop(at_exit=False)

    def _stop(self, at_exit: bool) -> None:
        """:meth:`stop`; with `at_exit` (the process is ending: ``covcore
        run`` when the program is done, the ``atexit`` save) the tracers may
        leave behind what only matters to a process that goes on running."""
        if self._detector is not None:
            self._detector.stop()
        if self._started and self._collector is not None:
            self._collector.stop(at_exit=at_exit)
        self._started = False

    def _atexit(self) -> None:
        """At interpreter exit: stop and save (``auto_data``).  A save that
        fails is one line on stderr, never a traceback; the process keeps its
        own exit code (it can't be changed from an ``atexit`` function
        without skipping the program's other exit handlers)."""
        self._stop(at_exit=True)
        if self._auto_data:
            try:
                self.save()
            except CovcoreError as exc:
                from covcore.process import report_save_error

                report_save_error(exc)

    def __enter__(self) -> Coverage:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data ---------------------------------------------------------------

    def load(self) -> None:
        """Load the data file (replacing data in memory).

        :raises DataError: the data file is not readable covcore data.
        """
        self._debug_startup()
        self._data = None
        self._data_suffix = None  # reading is always from the data file itself, as coverage.py does
        data = self.get_data()
        if self._debugging("dataio"):
            self._debug(f"Reading data from {data.data_filename()!r}")
        data.read()
        if self._debugging("dataio"):
            self._debug(f"Read data from {data.data_filename()!r}: {_data_counts(data)}")

    def erase(self) -> None:
        """Erase collected data, in memory and on disk (in parallel mode, every
        parallel data file too)."""
        data = CoverageData(basename=self.config.data_file, no_disk=self._no_disk)
        if self._debugging("dataio") and not self._no_disk:
            self._debug(f"Erasing data file {data.data_filename()!r}" + (" and its parallel files" if self.config.parallel else ""))
        data.erase(parallel=bool(self.config.parallel))
        self._data = None
        if self._collector is not None:
            self._collector.data.clear()
            for tracer in self._collector.tracers:
                tracer.restart()

    def save(self) -> None:
        """Save collected data to the data file in one step.

        Files below ``source`` that were never imported are recorded as
        measured with nothing executed, so reports show them at 0%.

        :raises DataError: the data file can't be written (names the path).
        """
        if self._forgotten:
            return
        data = self.get_data()
        selector = self._get_selector()
        if self._collector is not None and self._warn_no_data:
            for message, slug in selector.source_warnings():
                self._warn(message, slug)
            if not data and not any(self._collector.data.values()):
                self._warn("No data was collected.", "no-data-collected", once=True)
        if selector.has_source:
            measured = data.measured_files()
            unexecuted = [f for f in selector.unexecuted_source_files() if f not in measured]
            data.touch_files(unexecuted)
        if self.config.relative_files:
            data = _relative_copy(data)
        data.meta["sys_argv"] = " ".join(sys.argv)
        if self._debugging("dataio") and not self._no_disk:
            self._debug(f"Writing data to {data.data_filename()!r}: {_data_counts(data)}")
        data.write()

    def combine(self, data_paths: Iterable[str] | None = None, strict: bool = False, keep: bool = False) -> int:
        """Merge parallel-mode (and other machines') data files into this data.

        Paths are remapped through ``[paths]`` and, unless ``[run]
        remap_installed = false``, from installed copies of the project back
        to the source checkout.  Call :meth:`save` to write the result.

        :param data_paths: files and directories to combine (default: the data
            file's directory, files named ``<data file>.*``).
        :param strict: raise NoDataError when there is nothing usable to combine.
        :param keep: keep the input files (default: remove them once merged).
        :returns: the number of files merged.
        :raises NoDataError: (strict) nothing to combine; a path that doesn't exist.
        :raises DataError: line data and branch data mixed.
        """
        from covcore.combine import combine_parallel_data
        from covcore.paths import InstalledCopyRule, PathAliases, make_remapper

        self._debug_startup()
        if self._data_suffix:
            self._data_suffix = None  # combine into the data file itself
            self._data = None
        data = self.get_data()
        pathmap = self._debug if self._debugging("pathmap") else None
        aliases = PathAliases.from_config(self.config.paths or {}, relative=bool(self.config.relative_files),
                                          debug=pathmap)
        installed = InstalledCopyRule(debug=pathmap) if self.config.remap_installed else None
        from covcore.plugins import configure

        pm = configure(self.config)
        for rules in pm.hook.covcore_path_aliases(config=self.config):
            for pattern, result in rules or []:
                aliases.add(pattern, result)
        merged = combine_parallel_data(
            data,
            make_remapper(aliases, installed),
            data_paths=data_paths,
            strict=strict,
            keep=keep,
            message=self._message,
            warn=self._warn,
            debug=self._debug if self._debugging("dataio") else None,
        )
        if merged:
            pm.hook.covcore_data_combined(data=data, session=self._measured_session)
        return merged

    # -- exclusions ---------------------------------------------------------

    def _exclude_attr(self, which: str) -> str:
        if which not in ("exclude", "partial"):
            raise ConfigError(f"Unknown exclusion kind: {which!r} (expected 'exclude' or 'partial')")
        return f"{which}_list"

    def exclude(self, regex: str, which: str = "exclude") -> None:
        """Add a regex to the lines excluded from reporting (``which="exclude"``)
        or to the partial-branch exclusions (``which="partial"``)."""
        attr = self._exclude_attr(which)
        setattr(self.config, attr, list(getattr(self.config, attr)) + [regex])

    def clear_exclude(self, which: str = "exclude") -> None:
        """Remove every exclusion regex of one kind (the defaults too)."""
        setattr(self.config, self._exclude_attr(which), [])

    def get_exclude_list(self, which: str = "exclude") -> list[str]:
        """The exclusion regexes of one kind, as a list of str."""
        return list(getattr(self.config, self._exclude_attr(which)))

    def _exclude_regex(self) -> str | None:
        from covcore.parser import join_regex

        return join_regex(self.config.exclude_list) if self.config.exclude_list else None

    # -- information --------------------------------------------------------

    def sys_info(self) -> list[tuple[str, Any]]:
        """Facts about this installation, as ``(name, value)`` pairs (``covcore debug sys``)."""
        from covcore import __version__
        from covcore.importcache import describe as run_cache_state

        chosen = self._backend
        if chosen is None:
            try:
                chosen = _backend.choose_backend(timid=bool(self.config.timid), branch=bool(self.config.branch))
            except CovcoreError as exc:
                chosen = None
                reason = str(exc)
        return [
            ("covcore_version", __version__),
            ("covcore_module", os.path.dirname(__file__)),
            ("tracer_backend", chosen.name if chosen else "none"),
            ("backend_reason", chosen.reason if chosen else reason),
            ("c_extension", "available" if _backend.EXTENSION_ERROR is None else f"missing ({_backend.EXTENSION_ERROR})"),
            ("available_backends", ", ".join(_backend.available_backends())),
            ("opcode_tables", _opcode_tables_in_use()),
            ("run_cache", run_cache_state()),
            ("config_files_read", ", ".join(self.config.config_files_read) or "-none-"),
            ("config_file", self.config.config_file or "-none-"),
            ("data_file", self.get_data().data_filename() if not self._no_disk else "-none- (in memory)"),
            ("python", sys.version.replace("\n", " ")),
            ("platform", sys.platform),
            ("executable", sys.executable),
            ("cwd", os.getcwd()),
            ("branch", bool(self.config.branch)),
            ("source", self.config.source or []),
            ("plugins", _plugin_lines(self.config)),
        ]

    def get_option(self, name: str) -> Any:
        """A configuration option by its ``section:name`` (e.g. ``"run:branch"``)."""
        return self.config.get_option(name)

    def set_option(self, name: str, value: Any) -> None:
        """Set a configuration option by its ``section:name``."""
        self.config.set_option(name, value)


#: The concurrency libraries whose frames are suspended out of every
#: thread's stack (greenlets).
_GREEN_CONCURRENCY = ("greenlet", "eventlet", "gevent")
_CONCURRENCY = ("thread", "multiprocessing") + _GREEN_CONCURRENCY

_INSTANCES: WeakSet[Coverage] = WeakSet()


def _after_fork_in_child() -> None:
    for cov in list(_INSTANCES):
        cov._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _relative_copy(data: CoverageData) -> CoverageData:
    """The same data with file names relative to the current directory
    (``[run] relative_files``), for data files used on other machines."""
    rel = CoverageData(basename=data.base_filename(), suffix=data._suffix, no_disk=data._no_disk)
    rel._filename = data.data_filename()
    rel.meta = dict(data.meta)
    cwd = os.getcwd()

    def relative(path: str) -> str:
        try:
            r = os.path.relpath(path, cwd)
        except ValueError:
            return path
        return path if r.startswith(os.pardir) else r

    rel.update(data, map_path=relative)
    return rel


def _plugin_lines(config: CovcoreConfig) -> list[str]:
    """The plugins loaded, one line each (or the error loading them)."""
    from covcore.plugins import configure, plugin_descriptions

    try:
        return plugin_descriptions(configure(config))
    except CovcoreError as exc:
        return [f"-error- {exc}"]


def _data_counts(data: CoverageData) -> str:
    files = data.measured_files()
    n = sum(len((data.arcs(f) if data.has_arcs() else data.lines(f)) or ()) for f in files)
    what = "arcs" if data.has_arcs() else "lines"
    contexts = len(data.measured_contexts())
    return f"{len(files)} files, {n} {what}, {contexts} contexts"
