"""Which files are measured: ``source``, ``include``, ``omit``, and the
standard-library / third-party / covcore rules.

:meth:`Selector.should_trace` is what tracers call (once per file name; they
cache the answer).  :meth:`Selector.explain` gives the reason too, which
``--debug=trace`` prints.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig

from covcore.files import GlobMatcher, TreeMatcher, abs_file, canonical_filename, known_dir_file_function, known_dirs

_POSIX = os.name == "posix"

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Callable, Iterable


def _install_vars() -> dict[str, str] | None:
    """The config variables that sysconfig's install-scheme templates use
    (``{base}``, ``{platlibdir}``, ``{py_version_short}``...), made from
    ``sys`` as ``sysconfig._init_config_vars`` makes them; None off POSIX.

    ``sysconfig.get_config_vars()`` would give them too, but it imports the
    build's ``_sysconfigdata`` module and copies its ~1,000 variables: 7 M
    instructions, most of what starting to measure cost.  A template naming
    a variable not made here is expanded with the full set (:func:`_expand`).
    """
    if os.name != "posix":
        return None
    major, minor = sys.version_info[:2]
    abiflags = getattr(sys, "abiflags", "")
    implementation = "Python" if sys.implementation.name == "cpython" else sys.implementation.name
    return {
        "prefix": os.path.normpath(sys.prefix),
        "exec_prefix": os.path.normpath(sys.exec_prefix),
        "base": os.path.normpath(sys.prefix),
        "platbase": os.path.normpath(sys.exec_prefix),
        "installed_base": os.path.normpath(sys.base_prefix),
        "installed_platbase": os.path.normpath(sys.base_exec_prefix),
        "py_version_short": f"{major}.{minor}",
        "py_version_nodot": f"{major}{minor}",
        "py_version_nodot_plat": "",
        "platlibdir": getattr(sys, "platlibdir", "lib"),
        "abiflags": abiflags,
        "abi_thread": "t" if "t" in abiflags else "",
        "implementation": implementation,
        "implementation_lower": implementation.lower(),
    }


def _expand(template: str, values: dict[str, str] | None) -> str | None:
    """An install-scheme path ``template`` expanded as
    ``sysconfig._expand_vars`` does (``~`` first, then the variables, then
    normalised), with ``values`` from :func:`_install_vars`.  ``{userbase}``
    is looked up only when used; a variable not in ``values`` (or ``values``
    None) means ``sysconfig.get_config_vars()``.  None if that fails too."""
    if os.name in ("posix", "nt"):
        template = os.path.expanduser(template)
    if values is not None:
        if "{userbase}" in template and "userbase" not in values:
            values["userbase"] = site.getuserbase()
        try:
            return os.path.normpath(template.format(**values))
        except (KeyError, IndexError, ValueError, TypeError):
            pass
    config_vars = sysconfig.get_config_vars()
    if os.name == "nt":
        config_vars = {**config_vars, "platlibdir": "lib"}
    try:
        return os.path.normpath(template.format(**config_vars))
    except (KeyError, IndexError, ValueError):
        return None


def _stdlib_dirs() -> set[str]:
    """The standard library's directories: the default install scheme's
    ``stdlib`` and ``platstdlib`` (what ``sysconfig.get_paths()`` gives),
    ``os``'s directory, and ``lib/pythonX.Y`` below both base prefixes."""
    values = _install_vars()
    try:
        templates = sysconfig.get_paths(sysconfig.get_default_scheme(), expand=False)
    except (KeyError, ValueError, AttributeError):
        templates = {}
    paths = {_expand(templates[name], values) for name in ("stdlib", "platstdlib") if templates.get(name)}
    paths.add(os.path.dirname(os.__file__))
    for base in {sys.base_prefix, sys.base_exec_prefix}:
        paths.add(os.path.join(base, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}"))
    return {abs_file(path) for path in paths if path}


def _scheme_site_dirs() -> set[str]:
    """The purelib and platlib directories of every sysconfig install scheme,
    as ``sysconfig.get_paths(scheme)`` expands them (coverage.py's list of
    third-party directories starts with these), through :func:`_expand`."""
    values = _install_vars()
    paths = set()
    for scheme in sysconfig.get_scheme_names():
        try:
            templates = sysconfig.get_paths(scheme, expand=False)
        except (KeyError, ValueError):
            continue
        for name in ("purelib", "platlib"):
            template = templates.get(name)
            value = _expand(template, values) if template else None
            if value:
                paths.add(value)
    return paths


def _third_party_dirs() -> set[str]:
    # The raw names first, then each distinct one resolved once: the nine
    # schemes repeat the same few directories, and resolving links costs a
    # system call per path component (20 names resolved: 1 ms of every start).
    paths = _scheme_site_dirs()
    try:
        paths.update(site.getsitepackages())
    except AttributeError:
        pass
    try:
        paths.add(site.getusersitepackages())
    except (AttributeError, TypeError):
        pass
    paths.update(p for p in sys.path if p and os.path.basename(p) in ("site-packages", "dist-packages"))
    return {abs_file(path) for path in paths if path}


def _package_locations(pkg: str) -> list[str] | None:
    """Directories (or the file) of an importable package/module, without running it if possible."""
    import importlib.util  # only for a --source that names a package

    try:
        spec = importlib.util.find_spec(pkg)
    except (ImportError, ValueError, AttributeError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return [abs_file(p) for p in spec.submodule_search_locations]
    if spec.origin in ("built-in", "frozen"):
        return [spec.origin]
    if spec.origin:
        return [abs_file(spec.origin)]
    return None


#: Files that are never measured: covcore's own entry points outside the
#: package (the ``covcore`` console script, which is on the stack when ``run``
#: starts measuring).  Add with :func:`never_measure`.
_NEVER_MEASURED: set[str] = set()


def never_measure(filename: str) -> None:
    """Never measure ``filename`` (a covcore entry point outside the package)."""
    _NEVER_MEASURED.add(canonical_filename(filename))


class Selector:
    """Decides whether a file is measured.

    :param source: directories or importable package names (``--source``);
        when given, only files below them are measured and ``include`` is ignored.
    :param source_pkgs: package names only.
    :param include: globs; when given (and no source), only matching files are measured.
    :param omit: globs of files never measured.
    :param cover_pylib: measure the standard library too.
    :param debug: ``debug(message)`` to print decisions (``--debug=trace``), or None.
    """

    def __init__(
        self,
        source: Iterable[str] = (),
        source_pkgs: Iterable[str] = (),
        include: Iterable[str] = (),
        omit: Iterable[str] = (),
        cover_pylib: bool = False,
        debug: Callable[[str], None] | None = None,
    ) -> None:
        self.debug = debug
        self.source_dirs: list[str] = []
        self.source_pkgs: list[str] = list(source_pkgs)
        for src in source:
            if os.path.isdir(src) or os.path.isfile(src):
                self.source_dirs.append(abs_file(src))
            else:
                self.source_pkgs.append(src)
        self.pkg_dirs: dict[str, list[str]] = {}
        self.pkgs_unfound: list[str] = []
        for pkg in self.source_pkgs:
            locs = _package_locations(pkg)
            if locs:
                self.pkg_dirs[pkg] = locs
            else:
                self.pkgs_unfound.append(pkg)
        self.pkgs_seen: set[str] = set()
        self.pkgs_preimported = {p for p in self.source_pkgs if p in sys.modules}
        self.has_source = bool(self.source_dirs or self.source_pkgs)
        self.source_match = TreeMatcher(self.source_dirs, "source") if self.source_dirs else None
        self.pkg_match = {pkg: TreeMatcher(dirs, pkg) for pkg, dirs in self.pkg_dirs.items()}
        self.include_match = GlobMatcher(include, "include") if include and not self.has_source else None
        self.include_ignored = bool(include) and self.has_source
        self.omit_match = GlobMatcher(omit, "omit") if omit else None
        self.cover_pylib = cover_pylib
        self.covcore_match = TreeMatcher(
            {abs_file(os.path.dirname(__file__)), os.path.dirname(abs_file(__file__))}, "covcore"
        )
        self.stdlib_match = TreeMatcher(_stdlib_dirs(), "pylib")
        self.third_match = TreeMatcher(_third_party_dirs(), "third")
        roots = self.source_dirs + [d for dirs in self.pkg_dirs.values() for d in dirs]
        self.source_in_third = TreeMatcher([r for r in roots if self.third_match.match(r)], "source_in_third")
        #: Real directory -> are its files measured, as far as the trees
        #: decide (should_trace's short way); None: always ask explain()
        #: (debug output wants every reason; --include globs see the name).
        self._by_dir: dict[str, bool] | None = None
        #: covcore.files' table of resolved directories, when the short way is on.
        self._known_dirs: dict[str, str] | None = None
        if debug is None and self.include_match is None:
            self._by_dir = {}
            self._known_dir_file = known_dir_file_function()
            self._known_dirs = known_dirs()
            #: Names a tree holds as such (a file given as --source, say): a
            #: file with one of these names is decided by explain().
            matchers = [self.covcore_match, self.stdlib_match, self.third_match, self.source_in_third,
                        *self.pkg_match.values()]
            if self.source_match is not None:
                matchers.append(self.source_match)
            self._file_entries = frozenset(p for m in matchers for p in m.paths)

    def should_trace(self, filename: str) -> str | None:
        """The canonical name to record code from ``filename`` under, or None.

        Most names take a short way: the directory rules (source, covcore,
        third-party and stdlib trees) give one answer for every file of a
        directory, so it is worked out once per real directory; only the
        file's own name is then looked at (:data:`_NEVER_MEASURED`, a tree
        entry that is this very file, ``omit``).  The answer is the one
        :meth:`explain` gives.
        """
        if self._by_dir is not None:
            found = self._known_dir_file(filename) if filename[-3:] == ".py" else None
            if found is not None:
                real_dir, canonical = found
                if canonical not in self._file_entries and canonical not in _NEVER_MEASURED:
                    measured = self._by_dir.get(real_dir)
                    if measured is None:
                        measured = self._decide_dir(real_dir)
                    if not measured or (self.omit_match is not None and self.omit_match.match(canonical)):
                        return None
                    return canonical
        canonical, reason = self.explain(filename)
        if self._known_dirs is not None and filename[-3:] == ".py" and filename[:1] == "/":
            # explain() resolved the file's directory: decide the directory
            # now, so that the next file there takes the short way (and the
            # compiled tracers' own, see fast_rules()).
            real_dir = self._known_dirs.get(filename.rpartition("/")[0])
            if real_dir is not None and real_dir not in self._by_dir:
                self._decide_dir(real_dir)
        if self.debug is not None:
            if canonical:
                self.debug(f"Tracing {filename!r}")
            else:
                self.debug(f"Not tracing {filename!r}: {reason}")
        return canonical

    def _decide_dir(self, real_dir: str) -> bool:
        """Are the files of real directory `real_dir` measured, as far as the
        trees decide?  Noted in ``_by_dir`` for should_trace's short way."""
        assert self._by_dir is not None
        # A name no file has: only the directory decides.
        measured = self._by_dir[real_dir] = self._tree_reason(real_dir + "/\0") is None
        return measured

    def fast_rules(self) -> tuple[dict[str, str], dict[str, bool], frozenset[str], bool] | None:
        """What a compiled tracer needs to take :meth:`should_trace`'s short
        way itself, without calling it (``set_fast_rules`` of the tracers in
        ``covcore._tracer``): ``(known directories, measured by real
        directory, names only should_trace decides, whether omit patterns
        are set)``.  The dicts are this selector's own, filled as
        should_trace decides new directories.  None when there is no short
        way (debug output wants every reason; ``--include`` globs)."""
        if self._known_dirs is None or self._by_dir is None:
            return None
        return self._known_dirs, self._by_dir, self._file_entries | _NEVER_MEASURED, self.omit_match is not None

    def explain(self, filename: str) -> tuple[str | None, str]:
        """``(canonical name or None, reason)`` for a code object's file name."""
        if not filename:
            return None, "empty string isn't a file name"
        if filename.startswith("<") and filename.endswith(">"):
            return None, "not a real file name"
        if filename.endswith(("$py.class", ".pyc", ".pyo")):
            filename = filename.rsplit(".", 1)[0] + ".py"
        canonical = canonical_filename(filename)
        if canonical in _NEVER_MEASURED:
            return None, "is part of covcore"
        reason = self._tree_reason(canonical)
        if reason is not None:
            return None, reason
        if self.omit_match is not None and self.omit_match.match(canonical):
            return None, "is inside an --omit pattern"
        return canonical, "measured"

    def _tree_reason(self, canonical: str) -> str | None:
        """Why the source, covcore, third-party and stdlib trees (and
        ``include``) leave ``canonical`` unmeasured, or None if they don't."""
        if self.has_source:
            in_source = self.source_match is not None and self.source_match.match(canonical)
            if not in_source:
                for pkg, matcher in self.pkg_match.items():
                    if matcher.match(canonical):
                        self.pkgs_seen.add(pkg)
                        in_source = True
                        break
            if not in_source:
                return "falls outside the --source spec"
            if self.covcore_match.match(canonical):
                return "is part of covcore"
            if self.third_match.match(canonical) and not self.source_in_third.match(canonical):
                return "inside --source, but is third-party"
            return None
        if self.covcore_match.match(canonical):
            return "is part of covcore"
        if self.include_match is not None:
            if not self.include_match.match(canonical):
                return "falls outside the --include trees"
            return None
        if self.third_match.match(canonical):
            return "is third-party"
        if not self.cover_pylib and self.stdlib_match.match(canonical):
            return "is in the stdlib"
        return None

    def source_warnings(self) -> list[tuple[str, str]]:
        """Warnings about ``--source`` packages that were never measured:
        ``[(message, slug)]`` with slugs ``module-not-imported``,
        ``module-not-measured``, ``module-not-python`` (coverage.py's)."""
        out = []
        for pkg in self.source_pkgs:
            if pkg in self.pkgs_seen:
                continue
            locs = self.pkg_dirs.get(pkg, [])
            if len(locs) == 1 and not locs[0].endswith((".py", ".pyw")) and not os.path.isdir(locs[0]):
                out.append((f"Module {pkg} has no Python source.", "module-not-python"))
                continue
            if pkg in self.pkgs_preimported:
                out.append((f"Module {pkg} was previously imported, but not measured", "module-not-measured"))
                continue
            out.append((f"Module {pkg} was never imported.", "module-not-imported"))
        return out

    def unexecuted_source_files(self) -> list[str]:
        """Python files below the source directories and packages, for
        reporting files that were never imported (as 0% covered)."""
        found = []
        roots = list(self.source_dirs)
        for dirs in self.pkg_dirs.values():
            roots.extend(dirs)
        for root in roots:
            if os.path.isfile(root):
                if root.endswith((".py", ".pyw")):
                    found.append(root)
                continue
            self._add_python_files(root, abs_file(root) if _POSIX else None, True, found)
        return found

    def _add_python_files(self, path: str, real: str | None, top: bool, found: list[str]) -> None:
        """Append to `found` the canonical names of the module files in
        directory `path` and its packages, as ``os.walk`` (not following
        links) would list them: this directory's files, sorted, then each
        subdirectory's; a subdirectory without ``__init__.py`` is skipped.

        `real` is the directory's real name (POSIX): a file in it that is not
        a link is then ``real/name`` without a system call (``DirEntry`` knows
        links), where ``canonical_filename`` costs ~25 K instructions a file.
        """
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError:
            return
        files: dict[str, os.DirEntry[str]] = {}
        dirs: dict[str, os.DirEntry[str]] = {}
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files)[entry.name] = entry
        if not top and "__init__.py" not in files:
            return
        omit = self.omit_match
        base = None if real is None else real if real.endswith("/") else real + "/"
        for name in sorted(files):
            if name.endswith((".py", ".pyw")) and _valid_module_file(name):
                if base is not None and not files[name].is_symlink():
                    canonical = base + name
                else:
                    canonical = canonical_filename(os.path.join(path, name))
                if omit is None or not omit.match(canonical):
                    found.append(canonical)
        for name in sorted(dirs):
            if name.startswith(".") or name == "__pycache__" or dirs[name].is_symlink():
                continue
            self._add_python_files(os.path.join(path, name), None if base is None else base + name, False, found)


#: Characters that keep a file from being an importable module (coverage.py's list).
_NOT_IN_MODULE_NAMES = frozenset(".#~!$@%^&*()+=,")


def _valid_module_file(name: str) -> bool:
    stem = name.rsplit(".", 1)[0]
    return bool(stem) and _NOT_IN_MODULE_NAMES.isdisjoint(stem)
