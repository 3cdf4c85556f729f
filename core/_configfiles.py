"""Reading covcore's configuration files (INI and TOML) and converting values.

Private helpers of :mod:`covcore.config`: parse one file into plain data,
find the sections that belong to covcore (or to coverage.py), expand
environment variables, and convert raw values to an option's type.  Every
problem is raised as :class:`~covcore.errors.ConfigError` with a one-line
message naming the file, the section and the option.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping

from .errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    import configparser
    import re
    from typing import Any

#: Files that other tools share: only sections marked as ours count in them.
SHARED_FILES = frozenset({"setup.cfg", "tox.ini", "pyproject.toml"})

#: The boolean spellings accepted in config files (the same as coverage.py's:
#: configparser's ``BOOLEAN_STATES``, which is imported only to read INI files).
BOOLEAN_WORDS: Mapping[str, bool] = {
    "1": True, "yes": True, "true": True, "on": True, "0": False, "no": False, "false": False, "off": False,
}

# A section name that no file uses, so that an INI file's ``[DEFAULT]`` is an
# ordinary section instead of leaking its options into every other section.
_NO_DEFAULT_SECTION = "\x00covcore-no-default-section"


class Where:
    """Where a value came from, to name it in error messages.

    :param label: leads the message, e.g. ``"Config option [run] branch"``.
    :param suffix: ends the message, e.g. ``" in 'setup.cfg'"``.
    """

    def __init__(self, label: str, suffix: str = "") -> None:
        self.label = label
        self.suffix = suffix

    def error(self, detail: str) -> ConfigError:
        """A :class:`ConfigError` reading ``<label>: <detail><suffix>``."""
        return ConfigError(f"{self.label}: {detail}{self.suffix}")

    def invalid(self, value: Any, expected: str) -> ConfigError:
        """A :class:`ConfigError` for a value that is not what was expected."""
        return self.error(f"invalid value {value!r} (expected {expected})")


def in_file(section: str, option: str, filename: str) -> Where:
    """The :class:`Where` of option `option` in `section` of file `filename`."""
    return Where(f"Config option [{section}] {option}", f" in {filename!r}")


# The same forms as coverage.py: $WORD, ${WORD}, ${WORD?} (strict),
# ${WORD-default}, and $$ for a dollar sign.  Anything else stays as it is.
_DOLLAR_RX = r"""(?x)
    \$ (?:
        (?P<dollar> \$ )
      | (?P<word1> \w+ )
      | \{ (?P<word2> \w+ ) (?: (?P<strict> \? ) | -(?P<defval> [^}]* ) )? \}
    )
    """


def substitute_variables(text: str, where: Where) -> str:
    """Expand environment variables in `text` as coverage.py does.

    ``$VAR`` and ``${VAR}`` become the value of ``VAR`` (empty if unset),
    ``${VAR-default}`` becomes ``default`` if ``VAR`` is unset, ``${VAR?}``
    is an error if ``VAR`` is unset, and ``$$`` is a single ``$``.

    :raises ConfigError: for ``${VAR?}`` when ``VAR`` is not set.
    """

    if "$" not in text:
        return text
    import re  # only here: `covcore run` without a config file needs no regex

    def replace(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        word = match["word1"] or match["word2"]
        if word in os.environ:
            return os.environ[word]
        if match["strict"]:
            raise where.error(f"environment variable {word} is not set")
        return match["defval"] or ""

    return re.sub(_DOLLAR_RX, replace, text)


def expand(value: Any, where: Where) -> Any:
    """Expand environment variables in a string or in a list's strings.

    :raises ConfigError: a string holding a null character (no option can
        use one, and file names with one make :func:`os.path.expanduser` fail).
    """
    if any("\0" in v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)):
        raise where.error(f"invalid value {value!r} (null characters are not allowed)")
    if isinstance(value, str):
        return substitute_variables(value, where)
    if isinstance(value, list):
        return [substitute_variables(v, where) if isinstance(v, str) else v for v in value]
    return value


def convert(
    value: Any,
    type_: str,
    where: Where,
    *,
    split: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Any:
    """Convert `value` to an option type, or raise :class:`ConfigError`.

    :param type_: ``"bool"``, ``"int"``, ``"float"``, ``"str"``, ``"file"``,
        ``"list"`` or ``"regexlist"``.
    :param split: `value` is INI text: a list is split on commas and newlines
        (stripped, empties dropped), a regex list on newlines.  Otherwise a
        string where a list is expected is a one-element list.
    :param minimum, maximum: the inclusive range of a number.
    """
    if type_ in ("list", "regexlist"):
        if isinstance(value, str):
            items = value.splitlines() if split else [value]
            if split and type_ == "list":
                items = [part.strip() for line in items for part in line.split(",")]
                items = [item for item in items if item]
        elif isinstance(value, Iterable) and not isinstance(value, (Mapping, bytes)):
            items = list(value)
            if not all(isinstance(item, str) for item in items):
                raise where.invalid(items, "a list of strings")
        else:
            raise where.invalid(value, "a list of strings")
        return check_regexes(items, where) if type_ == "regexlist" else items
    if type_ in ("str", "file"):
        if not isinstance(value, str):
            raise where.invalid(value, "a string")
        return value
    if type_ == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS:
            return BOOLEAN_WORDS[value.strip().lower()]
        raise where.invalid(value, "a boolean")
    assert type_ in ("int", "float"), type_
    number: float | None = None
    if isinstance(value, str):
        try:
            number = int(value) if type_ == "int" else float(value)
        except ValueError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value if type_ == "int" else float(value)
    elif isinstance(value, float) and type_ == "float":
        number = value
    in_range = number is not None and (
        (minimum is None or number >= minimum) and (maximum is None or number <= maximum)
    )
    if not in_range:
        expected = "an integer" if type_ == "int" else "a number"
        if minimum is not None and maximum is not None:
            expected += f" from {minimum} to {maximum}"
        raise where.invalid(value, expected)
    return number


def check_regexes(values: list[str], where: Where) -> list[str]:
    """Strip regexes, drop blank ones, and check that each one compiles."""
    import re

    regexes = []
    for value in values:
        value = value.strip()
        try:
            re.compile(value)
        except re.error as err:
            raise where.error(f"invalid regex {value!r} ({err})") from err
        if value:
            regexes.append(value)
    return regexes


def _one_line(err: Exception) -> str:
    return " ".join(line.strip() for line in str(err).splitlines() if line.strip())


def _ini_problem(err: configparser.Error) -> str:
    """One line saying where and what an INI parsing error is."""
    import ast
    import configparser

    bad_line: tuple[int, str] | None = None
    if isinstance(err, configparser.MissingSectionHeaderError):
        bad_line = (err.lineno, err.line)
    elif isinstance(err, configparser.ParsingError) and err.errors:
        lineno, line = err.errors[0]
        if sys.version_info < (3, 13):  # the line is kept as its repr()
            try:
                line = ast.literal_eval(line)
            except (ValueError, SyntaxError):
                pass
        bad_line = (lineno, line)
    if bad_line is not None:
        lineno, line = bad_line[0], str(bad_line[1]).strip()
        if line.startswith("[") and not line.rstrip().endswith("]"):
            return f"line {lineno}: unclosed section header {line!r}"
        if isinstance(err, configparser.MissingSectionHeaderError):
            return f"line {lineno}: {line!r} comes before any [section] header"
        return f"line {lineno}: can't parse {line!r}"
    if isinstance(err, configparser.DuplicateOptionError):
        return f"line {err.lineno}: option {err.option!r} is set twice in section [{err.section}]"
    if isinstance(err, configparser.DuplicateSectionError):
        return f"line {err.lineno}: section [{err.section}] appears twice"
    return _one_line(err)


def _malformed(filename: str, err: Exception) -> ConfigError:
    """The error for a file that isn't valid INI, TOML or UTF-8: the file, the
    parser's line and its complaint, on one line."""
    import configparser

    problem = _ini_problem(err) if isinstance(err, configparser.Error) else _one_line(err)
    return ConfigError(f"Couldn't read config file {filename!r}: {problem}")


if TYPE_CHECKING:
    #: A file's sections for one tool: logical name -> (real name, options).
    TSections = dict[str, tuple[str, Mapping[str, Any]]]


class ConfigFile:
    """One parsed configuration file.

    :param filename: the name as given (used in messages).
    :param data: INI: section -> {option: text}; TOML: the parsed document.
    """

    def __init__(self, filename: str, data: Mapping[str, Any], is_toml: bool) -> None:
        self.filename = filename
        self.path = os.path.abspath(filename)
        self.data = data
        self.is_toml = is_toml

    @property
    def shared(self) -> bool:
        """Is this a file other tools use too (setup.cfg, tox.ini, pyproject.toml)?"""
        return os.path.basename(self.filename) in SHARED_FILES

    def sections(self, tool: str | None) -> tuple[TSections, list[tuple[str, str]]] | None:
        """The sections of `tool` (``"covcore"``, ``"coverage"``, or None for
        unprefixed sections), or None if the file has none.

        Returns ``(sections, strays)``: `sections` maps a logical section
        name (``"run"``) to its real name (``"covcore:run"``,
        ``"tool.covcore.run"``) and options; `strays` are the TOML values
        that sit where a section was expected, as ``(table name, key)``
        (``("tool.covcore", "branch")``).
        """
        if not self.is_toml:
            prefix = "" if tool is None else tool + ":"
            found = {
                name[len(prefix):]: (name, options)
                for name, options in self.data.items()
                if name.startswith(prefix)
            }
            return (found, []) if (found or tool is None) else None
        table: Any = self.data
        name = ""
        if tool is not None:
            tools = self.data.get("tool")
            if not isinstance(tools, dict) or tool not in tools:
                return None
            table, name = tools[tool], f"tool.{tool}"
            if not isinstance(table, dict):
                raise ConfigError(f"Config section [{name}] is not a table in {self.filename!r}")
        sections: TSections = {}
        strays = []
        for key, value in table.items():
            if isinstance(value, dict):
                sections[key] = (f"{name}.{key}" if name else key, value)
            else:
                strays.append((name, key))
        return sections, strays


def _tomllib() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - depends on the Python version
        try:
            import tomli as tomllib
        except ImportError as err:
            raise ConfigError(
                "Reading TOML config files on Python < 3.11 needs the 'tomli' package"
            ) from err
    return tomllib


def _may_have_our_sections(text: str) -> bool:
    """Can `text`, a shared file's content, hold a covcore or coverage.py
    section?  Not without one of those names (or a TOML escape that could
    spell it in a quoted key)."""
    return "covcore" in text or "coverage" in text or "\\u" in text or "\\U" in text


def load(filename: str, searching: bool = False) -> ConfigFile | None:
    """Parse `filename` (TOML if it ends with ``.toml``, else INI).

    Returns None if the file cannot be opened.  With `searching` (the file
    was not named by the user but found by looking for config files), a
    shared file (setup.cfg, tox.ini, pyproject.toml) that can't hold our
    sections is not parsed: it is another tool's, and only our sections of it
    would be used.  That spares every ``covcore run`` in a project with a
    ``pyproject.toml`` importing ``tomllib`` (6 ms).

    :raises ConfigError: if the file is not valid UTF-8, INI or TOML.
    """
    try:
        with open(filename, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        lineno = raw.count(b"\n", 0, err.start) + 1
        raise ConfigError(
            f"Couldn't read config file {filename!r}: line {lineno}: "
            f"can't decode byte 0x{raw[err.start]:02x} as utf-8: {err.reason}"
        ) from err
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    is_toml = os.path.splitext(filename)[1] == ".toml"
    if searching and os.path.basename(filename) in SHARED_FILES and not _may_have_our_sections(text):
        return ConfigFile(filename, {}, is_toml=is_toml)
    if is_toml:
        tomllib = _tomllib()
        try:
            return ConfigFile(filename, tomllib.loads(text), is_toml=True)
        except tomllib.TOMLDecodeError as err:
            raise _malformed(filename, err) from err
    import configparser  # only here: 2 ms of every start when no INI file exists

    parser = configparser.ConfigParser(interpolation=None, default_section=_NO_DEFAULT_SECTION)
    try:
        parser.read_string(text, source=filename)
    except configparser.Error as err:
        raise _malformed(filename, err) from err
    data = {section: dict(parser.items(section, raw=True)) for section in parser.sections()}
    return ConfigFile(filename, data, is_toml=False)
