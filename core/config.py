"""covcore's configuration: every option, and the loader that layers them.

Each option is declared once, in the body of :class:`CovcoreConfig`, with its
config-file section and name, type, default and description (coverage.py's
names throughout); :data:`OPTIONS` lists them.  :func:`read_config` builds a
configuration from four layers, each overriding the one before:

1. the defaults;
2. one configuration file (see :func:`read_config` for which);
3. the environment: ``COVCORE_FILE`` (data_file), ``COVCORE_CORE`` (core)
   and ``COVCORE_DEBUG`` (appended to debug, a comma-separated list);
4. explicit arguments (keyword arguments named like the attributes).

Option types: ``bool`` (true/false, yes/no, on/off, 1/0, any case), ``int``,
``float``, ``str``, ``file`` (a string, ``~`` expanded when read from a
file), ``list`` (in INI files split on commas and newlines), ``regexlist``
(in INI files split on newlines; each regex must compile), ``paths`` (the
``[paths]`` section: an ordered mapping of names to lists of paths) and
``thresholds`` (``[report] fail_under_files``: an ordered mapping of file
globs to percentages; in INI files lines of ``GLOB = PERCENT``, in TOML a
table).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from . import _configfiles
from ._configfiles import ConfigFile, Where, convert, expand, in_file
from .errors import ConfigError, CovcoreWarning

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "DEFAULT_EXCLUDE",
    "DEFAULT_PARTIAL",
    "DEFAULT_PARTIAL_ALWAYS",
    "OPTIONS",
    "CovcoreConfig",
    "Option",
    "read_config",
]

#: The default exclusion regexes (here rather than in :mod:`covcore.parser`,
#: which imports ast: every ``covcore run`` reads the option table) (coverage.py's ``[report] exclude_lines``):
#: pragma comments, bodies that are only ``...``, and ``if TYPE_CHECKING:``.
DEFAULT_EXCLUDE: list[str] = [
    r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)",
    r"^\s*(((async )?def .*?)?[\])]+(\s*->.*?)?:\s*)?\.\.\.\s*(#|$)",
    r"^\s*if (typing\.)?TYPE_CHECKING:",
]

#: The default regexes marking lines whose branches need not all be taken
#: (coverage.py's ``[report] partial_branches``).
DEFAULT_PARTIAL: list[str] = [
    r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(branch|BRANCH)",
]

#: Branching constructs that can never take all their branches (coverage.py's
#: ``partial_branches_always``); matched at the start of the statement.
DEFAULT_PARTIAL_ALWAYS: list[str] = [
    r"^\s*while (True|1|False|0):",
    r"^\s*if (True|1|False|0):",
]


#: Sections for covcore's own adapters' options (``[tool.covcore.tox]``,
#: ``[covcore:nox]``...): kept in ``plugin_options`` like a plugin's section.
ADAPTER_SECTIONS = ("tox", "nox", "setuptools")

#: The type of a warning callback: ``warn(message, slug)``.
TWarn = Callable[[str, str], None]


class Option:
    """One configuration option.

    :ivar attr: the :class:`CovcoreConfig` attribute and keyword-argument name.
    :ivar section: the config-file section (``"run"``, ``"report"``...).
    :ivar name: the option's name in the section (``""`` for ``paths``).
    :ivar key: ``"section:name"`` as used by ``get_option``/``set_option``
        (just ``"paths"`` for the ``[paths]`` section).
    :ivar type: ``"bool"``, ``"int"``, ``"float"``, ``"str"``, ``"file"``,
        ``"list"``, ``"regexlist"`` or ``"paths"``.
    :ivar default: the default value (copied for each configuration).
    :ivar description: one line for documentation and ``--help``.
    :ivar minimum, maximum: the inclusive range of a number, or None.
    """

    def __init__(
        self,
        key: str,
        type_: str,
        default: Any,
        description: str,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> None:
        self.key = key
        self.section, _, self.name = key.partition(":")
        self.type = type_
        self.default = default
        self.description = description
        self.minimum = minimum
        self.maximum = maximum
        self.attr = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = name

    def __repr__(self) -> str:
        return f"<Option {self.attr} [{self.key}] {self.type}>"


def _opt(
    key: str,
    type_: str,
    default: Any,
    description: str,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Any:
    # Typed as Any so that `branch: bool = _opt(...)` type-checks: instances
    # get a plain attribute holding the value; the class keeps the Option.
    return Option(key, type_, default, description, minimum, maximum)


class CovcoreConfig:
    """The settings that control covcore: one plain attribute per option.

    The class body below is the table of options (see :class:`Option`); on an
    instance each attribute holds the option's value, starting at the
    default.  Build one with :func:`read_config`.  Besides the options:

    :ivar config_file: the absolute path of the config file read, or None.
    :ivar config_files_attempted: absolute paths of the files looked for.
    :ivar config_files_read: absolute paths of the files that were parsed
        (a setup.cfg without covcore settings is read but not used).
    :ivar plugin_options: plugin name -> its section's options, for each
        plugin in ``plugins`` that has a section in the config file.
    :ivar covcore_config: True when the file read is covcore's own
        configuration (``.covcorerc``, ``[covcore:*]``, ``[tool.covcore.*]``,
        or a file named with ``--rcfile``/``COVCORE_RCFILE``), False when it
        is coverage.py's or there is none.  The tox adapter measures a
        project automatically only when it is True.
    """

    # [run]
    branch: bool = _opt("run:branch", "bool", False, "Measure branch coverage too.")
    command_line: str | None = _opt(
        "run:command_line", "str", None, "The command to run when none is given."
    )
    concurrency: list[str] = _opt(
        "run:concurrency", "list", [], "Concurrency libraries the program uses."
    )
    context: str | None = _opt("run:context", "str", None, "The static context to record.")
    core: str | None = _opt("run:core", "str", None, "The measurement core to use.")
    cover_pylib: bool = _opt(
        "run:cover_pylib", "bool", False, "Measure the standard library too."
    )
    data_file: str = _opt("run:data_file", "file", ".covcore", "The data file to write.")
    debug: list[str] = _opt("run:debug", "list", [], "Debug options to enable.")
    debug_file: str | None = _opt(
        "run:debug_file", "file", None, "Where to write debug output (default stderr)."
    )
    disable_warnings: list[str] = _opt(
        "run:disable_warnings", "list", [], "Slugs of warnings not to show."
    )
    dynamic_context: str | None = _opt(
        "run:dynamic_context", "str", None, "How to set dynamic contexts (e.g. test_function)."
    )
    run_include: list[str] = _opt(
        "run:include", "list", [], "File patterns to measure (when source is not set)."
    )
    run_omit: list[str] = _opt("run:omit", "list", [], "File patterns not to measure.")
    parallel: bool = _opt(
        "run:parallel", "bool", False, "Add machine, process and random suffixes to data_file."
    )
    gc_freeze: bool = _opt(
        "run:gc_freeze", "bool", True,
        "covcore run and measured subprocesses: gc.freeze() the objects that exist before the program starts.",
    )
    patch: list[str] = _opt("run:patch", "list", [], "Functions to patch (e.g. subprocess).")
    plugins: list[str] = _opt("run:plugins", "list", [], "Plugin modules to load.")
    remap_installed: bool = _opt(
        "run:remap_installed", "bool", True,
        "combine: map files measured in an installed copy (site-packages, .tox, .nox) back to the source tree.",
    )
    relative_files: bool = _opt(
        "run:relative_files", "bool", False, "Store file paths relative to the current directory."
    )
    sigterm: bool = _opt(
        "run:sigterm", "bool", False, "Save data when the process gets SIGTERM."
    )
    source: list[str] | None = _opt(
        "run:source", "list", None, "Packages or directories to measure."
    )
    source_pkgs: list[str] = _opt("run:source_pkgs", "list", [], "Packages to measure.")
    source_dirs: list[str] = _opt("run:source_dirs", "list", [], "Directories to measure.")
    timid: bool = _opt("run:timid", "bool", False, "Use the simpler, slower Python tracer.")

    # [report]
    exclude_list: list[str] = _opt(
        "report:exclude_lines", "regexlist", DEFAULT_EXCLUDE, "Regexes of lines to exclude."
    )
    exclude_also: list[str] = _opt(
        "report:exclude_also", "regexlist", [], "More regexes of lines to exclude."
    )
    fail_under: float = _opt(
        "report:fail_under", "float", 0.0, "Fail if total coverage is below this.", 0, 100
    )
    fail_under_files: dict[str, float] = _opt(
        "report:fail_under_files",
        "thresholds",
        {},
        "Per-file minimum percentages: file glob -> percent (first matching glob applies).",
    )
    format: str | None = _opt(
        "report:format", "str", None, "The report format (text, markdown...)."
    )
    ignore_errors: bool = _opt(
        "report:ignore_errors", "bool", False, "Skip source files that can't be read."
    )
    include_namespace_packages: bool = _opt(
        "report:include_namespace_packages",
        "bool",
        False,
        "Report unexecuted files in directories without __init__.py.",
    )
    partial_always_list: list[str] = _opt(
        "report:partial_branches_always",
        "regexlist",
        DEFAULT_PARTIAL_ALWAYS,
        "Regexes of branches that can never take every path.",
    )
    partial_list: list[str] = _opt(
        "report:partial_branches", "regexlist", DEFAULT_PARTIAL, "Regexes of partial branches."
    )
    partial_also: list[str] = _opt(
        "report:partial_also", "regexlist", [], "More regexes of partial branches."
    )
    precision: int = _opt(
        "report:precision", "int", 0, "Digits after the decimal point in percentages.", 0, 10
    )
    report_contexts: list[str] | None = _opt(
        "report:contexts", "list", None, "Regexes of contexts to report on."
    )
    report_include: list[str] | None = _opt(
        "report:include", "list", None, "File patterns to report on."
    )
    report_omit: list[str] | None = _opt(
        "report:omit", "list", None, "File patterns not to report on."
    )
    show_missing: bool = _opt(
        "report:show_missing", "bool", False, "Show the line numbers not executed."
    )
    skip_covered: bool = _opt(
        "report:skip_covered", "bool", False, "Leave fully covered files out of reports."
    )
    skip_empty: bool = _opt(
        "report:skip_empty", "bool", False, "Leave files without code out of reports."
    )
    sort: str | None = _opt("report:sort", "str", None, "The column to sort the report by.")

    # [html]
    extra_css: str | None = _opt("html:extra_css", "str", None, "A CSS file to add.")
    html_dir: str = _opt("html:directory", "file", "htmlcov", "Where to write the HTML report.")
    html_skip_covered: bool | None = _opt(
        "html:skip_covered", "bool", None, "skip_covered for HTML (None: as [report])."
    )
    html_skip_empty: bool | None = _opt(
        "html:skip_empty", "bool", None, "skip_empty for HTML (None: as [report])."
    )
    html_title: str = _opt("html:title", "str", "Coverage report", "The HTML report's title.")
    show_contexts: bool = _opt(
        "html:show_contexts", "bool", False, "Show contexts in the HTML report."
    )

    # [xml]
    xml_output: str = _opt("xml:output", "file", "coverage.xml", "Where to write the XML report.")
    xml_package_depth: int = _opt(
        "xml:package_depth", "int", 99, "How many directory levels make packages."
    )

    # [json]
    json_output: str = _opt(
        "json:output", "file", "coverage.json", "Where to write the JSON report."
    )
    json_pretty_print: bool = _opt(
        "json:pretty_print", "bool", False, "Indent the JSON report."
    )
    json_show_contexts: bool = _opt(
        "json:show_contexts", "bool", False, "Include contexts in the JSON report."
    )

    # [lcov]
    lcov_output: str = _opt(
        "lcov:output", "file", "coverage.lcov", "Where to write the LCOV report."
    )
    lcov_line_checksums: bool = _opt(
        "lcov:line_checksums", "bool", False, "Write line checksums in the LCOV report."
    )

    # [paths]
    paths: dict[str, list[str]] = _opt(
        "paths", "paths", {}, "Names -> equivalent paths, the first one canonical."
    )

    def __init__(self) -> None:
        """Make a configuration holding every option's default."""
        self.config_file: str | None = None
        self.config_files_attempted: list[str] = []
        self.config_files_read: list[str] = []
        self.plugin_options: dict[str, dict[str, Any]] = {}
        self.covcore_config = False
        for option in OPTIONS:
            setattr(self, option.attr, _fresh(option.default))

    def __repr__(self) -> str:
        return f"<CovcoreConfig from {self.config_file!r}>"

    def as_dict(self) -> dict[str, Any]:
        """Every option's value by attribute name, plus ``config_file``,
        ``config_files_read`` and ``plugin_options`` (for ``covcore debug
        config``)."""
        values = {option.attr: getattr(self, option.attr) for option in OPTIONS}
        values["config_file"] = self.config_file
        values["config_files_read"] = self.config_files_read
        values["plugin_options"] = self.plugin_options
        return values

    def get_option(self, option_name: str) -> Any:
        """The value of an option named as in config files.

        :param option_name: ``"section:option"`` (``"run:branch"``),
            ``"paths"``, or ``"plugin:option"`` for a plugin in ``plugins``.
        :raises ConfigError: ``No such option: 'run:brnch'``.
        """
        option = _BY_KEY.get(option_name)
        if option is not None:
            return getattr(self, option.attr)
        plugin, _, key = option_name.partition(":")
        if key and plugin in self.plugins:
            return self.plugin_options.get(plugin, {}).get(key)
        raise ConfigError(f"No such option: {option_name!r}")

    def set_option(self, option_name: str, value: Any) -> None:
        """Set an option named as in config files, checking the value.

        :param option_name: as for :meth:`get_option`.
        :param value: a value of the option's type; a string is accepted
            for a bool or number (parsed as in config files) and as a
            one-element list; None resets an option whose default is None.
            Setting ``report:exclude_lines`` sets ``exclude_list`` as it
            is (``exclude_also`` is only added when loading).
        :raises ConfigError: for an unknown option or a bad value.
        """
        option = _BY_KEY.get(option_name)
        if option is not None:
            if value is None and option.default is None:
                setattr(self, option.attr, None)
            else:
                self._set_from_value(option, value, Where(f"Option {option_name!r}"))
            return
        plugin, _, key = option_name.partition(":")
        if key and plugin in self.plugins:
            self.plugin_options.setdefault(plugin, {})[key] = value
            return
        raise ConfigError(f"No such option: {option_name!r}")

    def get_plugin_options(self, plugin: str) -> dict[str, Any]:
        """The options of plugin `plugin` from its config section ({} if none)."""
        return self.plugin_options.get(plugin, {})

    # Loading.  These are called by read_config, one layer after the other.

    def _set_from_value(
        self, option: Option, value: Any, where: Where, *, split: bool = False
    ) -> None:
        if option.type == "thresholds":
            from covcore.reporting.thresholds import parse_thresholds

            try:
                value = parse_thresholds(value, where.label)
            except ConfigError as exc:
                raise ConfigError(f"{exc}{where.suffix}") from None
        elif option.type == "paths":
            if not isinstance(value, Mapping):
                raise where.invalid(value, "a mapping of names to lists of paths")
            value = {
                name: convert(paths, "list", Where(f"{where.label} {name}", where.suffix))
                for name, paths in value.items()
            }
        else:
            value = convert(
                value, option.type, where, split=split,
                minimum=option.minimum, maximum=option.maximum,
            )
        setattr(self, option.attr, value)

    def _read_files(self, config_file: str | bool, warn: TWarn) -> None:
        """Layer 2: read the explicit file, or the first config file found."""
        if config_file is True:
            config_file = os.environ.get("COVCORE_RCFILE") or True
        if isinstance(config_file, str):
            cfile = self._load(config_file)
            if cfile is None:
                raise ConfigError(f"Couldn't read {config_file!r} as a config file")
            self._use_file(cfile, ("covcore", "coverage", None), warn, required=True)
            return
        loaded: dict[str, ConfigFile | None] = {}
        for filename, tools in _SEARCH:
            if filename not in loaded:
                loaded[filename] = self._load(filename, searching=True)
            cfile = loaded[filename]
            if cfile is not None and self._use_file(cfile, tools, warn):
                return

    def _load(self, filename: str, searching: bool = False) -> ConfigFile | None:
        self.config_files_attempted.append(os.path.abspath(filename))
        cfile = _configfiles.load(filename, searching)
        if cfile is not None:
            self.config_files_read.append(cfile.path)
        return cfile

    def _use_file(
        self, cfile: ConfigFile, tools: Iterable[str | None], warn: TWarn, required: bool = False
    ) -> bool:
        """Take settings from the first of `tools` whose sections `cfile` has.

        Returns whether the file is used: a shared file (setup.cfg, tox.ini,
        pyproject.toml) found by searching is used only if it has our sections.
        """
        ours = not cfile.shared
        for tool in tools:
            found = cfile.sections(tool)
            if found is None:
                continue
            sections, strays = found
            if tool is None and not (ours or sections.keys() & _BY_SECTION.keys()):
                continue
            # Every section is ours, unless these are unprefixed sections of a shared file.
            all_ours = ours or tool is not None
            for table, key in strays:
                if key in _BY_SECTION:
                    real = f"{table}.{key}" if table else key
                    raise ConfigError(
                        f"Config section [{real}] is not a table in {cfile.filename!r}"
                    )
                if all_ours:
                    _warn_unknown_option(warn, f"[{table}] {key}" if table else key, cfile)
            self._apply_sections(cfile, sections, warn, warn_sections=all_ours)
            self.covcore_config = required or tool == "covcore" or (
                tool is None and os.path.basename(cfile.filename).startswith(".covcorerc"))
            break
        else:
            if not (ours or required):
                return False
            self.covcore_config = required
        self.config_file = cfile.path
        return True

    def _apply_sections(
        self, cfile: ConfigFile, sections: _configfiles.TSections, warn: TWarn, warn_sections: bool
    ) -> None:
        split = not cfile.is_toml
        for section, (real, values) in sections.items():
            if section == "paths":
                self.paths = {}
                for name, value in values.items():
                    where = in_file(real, name, cfile.filename)
                    self.paths[name] = convert(expand(value, where), "list", where, split=split)
                continue
            options = _BY_SECTION.get(section)
            if options is None:
                continue
            for name, value in values.items():
                option = options.get(name)
                if option is None:
                    _warn_unknown_option(warn, f"[{real}] {name}", cfile)
                    continue
                where = in_file(real, name, cfile.filename)
                value = expand(value, where)
                self._set_from_value(option, value, where, split=split)
                if option.type == "file":
                    setattr(self, option.attr, os.path.expanduser(getattr(self, option.attr)))
        # Other sections: a plugin's options, or a mistake.
        for section, (real, values) in sections.items():
            if section in _BY_SECTION:
                continue
            if section in self.plugins or section in ADAPTER_SECTIONS:
                self.plugin_options[section] = {
                    name: expand(value, in_file(real, name, cfile.filename))
                    for name, value in values.items()
                }
            elif warn_sections:
                warn(
                    f"Unrecognized section '[{real}]' in config file {cfile.filename!r}",
                    "unknown-section",
                )

    def _apply_environment(self) -> None:
        """Layer 3: the COVCORE_* environment variables."""
        data_file = os.environ.get("COVCORE_FILE")
        if data_file:
            self.data_file = data_file
        core = os.environ.get("COVCORE_CORE")
        if core:
            self.core = core
        debugs = os.environ.get("COVCORE_DEBUG")
        if debugs:
            self.debug = self.debug + [d.strip() for d in debugs.split(",") if d.strip()]

    def _apply_arguments(self, kwargs: Mapping[str, Any]) -> None:
        """Layer 4: explicit arguments (None means "not given")."""
        for attr, value in kwargs.items():
            if value is not None:
                self._set_from_value(_BY_ATTR[attr], value, Where(f"Argument {attr}"))

    def _post_process(self) -> None:
        """Combine options once every layer is applied."""
        self.exclude_list = self.exclude_list + self.exclude_also
        self.partial_list = self.partial_list + self.partial_also
        self.paths = {
            name: [os.path.expanduser(p) for p in paths] for name, paths in self.paths.items()
        }
        if "subprocess" in self.patch:
            self.parallel = True  # as coverage.py: subprocesses need parallel data files


def _warn_unknown_option(warn: TWarn, option: str, cfile: ConfigFile) -> None:
    warn(f"Unrecognized option '{option}=' in config file {cfile.filename!r}", "unknown-option")


#: Every option, in declaration order.
OPTIONS: tuple[Option, ...] = tuple(
    value for value in vars(CovcoreConfig).values() if isinstance(value, Option)
)
_BY_ATTR = {option.attr: option for option in OPTIONS}
_BY_KEY = {option.key: option for option in OPTIONS}
_BY_SECTION: dict[str, dict[str, Option]] = {}
for _option in OPTIONS:
    if _option.type != "paths":
        _BY_SECTION.setdefault(_option.section, {})[_option.name] = _option
_BY_SECTION["paths"] = {}
del _option

# The files searched for, in order, each with the tools whose sections count:
# covcore's own configuration first, then coverage.py's.
_SEARCH: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    (".covcorerc", ("covcore", None)),
    (".covcorerc.toml", ("covcore", None)),
    ("setup.cfg", ("covcore",)),
    ("tox.ini", ("covcore",)),
    ("pyproject.toml", ("covcore",)),
    (".coveragerc", ("coverage", None)),
    (".coveragerc.toml", ("coverage", None)),
    ("setup.cfg", ("coverage",)),
    ("tox.ini", ("coverage",)),
    ("pyproject.toml", ("coverage",)),
)


def _fresh(default: Any) -> Any:
    """A copy of an option's default that a configuration may change in
    place: its lists, and dicts of lists (``[paths]``), are new; strings,
    numbers, booleans and None are immutable (``copy.deepcopy`` without
    importing :mod:`copy`)."""
    if isinstance(default, list):
        return list(default)
    if isinstance(default, dict):
        return {key: _fresh(value) for key, value in default.items()}
    return default


def _default_warn(message: str, slug: str) -> None:
    import warnings  # only when there is a warning to give

    warnings.warn(message, CovcoreWarning, stacklevel=2)


def read_config(
    config_file: str | bool | None = True,
    warn: TWarn | None = None,
    **kwargs: Any,
) -> CovcoreConfig:
    """Build covcore's configuration: defaults, file, environment, arguments.

    :param config_file: which configuration file to read.

        * ``True`` (the default; None means the same): the file named by
          ``$COVCORE_RCFILE`` if set, else the first of these in the current
          directory with covcore settings: ``.covcorerc``,
          ``.covcorerc.toml``, ``setup.cfg`` / ``tox.ini`` (sections
          ``[covcore:run]``...), ``pyproject.toml`` (``[tool.covcore.run]``...);
          and if none has any, coverage.py's: ``.coveragerc``,
          ``.coveragerc.toml``, ``setup.cfg`` / ``tox.ini``
          (``[coverage:run]``...), ``pyproject.toml`` (``[tool.coverage.run]``...).
        * ``False`` (or ``""``): read no file.
        * a file name: read exactly that file.  Its sections may be covcore's
          (``[covcore:run]``, ``[tool.covcore.run]``), else coverage.py's
          (``[coverage:run]``, ``[tool.coverage.run]``), else unprefixed
          (``[run]``).  A ``.toml`` name is read as TOML, any other as INI.

    :param warn: called as ``warn(message, slug)`` for each warning: slugs
        ``"unknown-option"`` and ``"unknown-section"``.  The default issues
        :class:`~covcore.errors.CovcoreWarning` with :func:`warnings.warn`.
    :param kwargs: explicit values, named like the attributes of
        :class:`CovcoreConfig` (``branch=True``, ``source=["pkg"]``,
        ``run_omit=[...]``).  None means "not given".  A string is accepted
        as a one-element list, and parsed for a bool or a number.
    :returns: the :class:`CovcoreConfig`, with ``exclude_also`` added to
        ``exclude_list`` and ``partial_also`` to ``partial_list``.
    :raises ConfigError: if the named file can't be read ("Couldn't read
        'x.cfg' as a config file"), a file is malformed, or a value has the
        wrong type or is out of range (``fail_under`` 0-100, ``precision``
        0-10); the message names the file, section and option.
    :raises TypeError: for a keyword argument that is not an option.
    """
    unknown = sorted(set(kwargs) - _BY_ATTR.keys())
    if unknown:
        raise TypeError(f"read_config() got an unexpected keyword argument {unknown[0]!r}")
    config = CovcoreConfig()
    if isinstance(config_file, os.PathLike):
        config_file = os.fspath(config_file)
    if config_file is None:
        config_file = True
    if config_file:
        config._read_files(config_file, _default_warn if warn is None else warn)
    config._apply_environment()
    config._apply_arguments(kwargs)
    config._post_process()
    return config
