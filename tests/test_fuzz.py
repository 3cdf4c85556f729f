"""Property-based tests (hypothesis): config loader, packed line sets, path
remapping and the data-file reader, each given generated input.

Every test runs under the ``covcore-fuzz`` settings profile registered here:
at most ``COVCORE_FUZZ_EXAMPLES`` examples (default 200), no deadline, no
example database, and derandomized, so that a run is reproducible (set
``COVCORE_FUZZ_RANDOM=1`` to explore with fresh random examples).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import string
import tempfile

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from covcore.combine import combine_parallel_data  # noqa: E402
from covcore.config import OPTIONS, CovcoreConfig, read_config  # noqa: E402
from covcore.data import CoverageData  # noqa: E402
from covcore.dataread import read_data_file  # noqa: E402
from covcore.errors import ConfigError, DataError  # noqa: E402
from covcore.numbits import (  # noqa: E402
    num_in_numbits,
    numbits_any_intersection,
    numbits_intersection,
    numbits_to_nums,
    numbits_union,
    nums_to_numbits,
)
from covcore.paths import InstalledCopyRule, PathAliases, make_remapper  # noqa: E402

settings.register_profile(
    "covcore-fuzz",
    max_examples=int(os.environ.get("COVCORE_FUZZ_EXAMPLES", "200")),
    deadline=None,
    database=None,
    derandomize=os.environ.get("COVCORE_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FUZZ = settings.get_profile("covcore-fuzz")


@pytest.fixture(autouse=True)
def no_covcore_env(monkeypatch):
    """Run without the environment variables that would change the config."""
    for name in ("COVCORE_RCFILE", "COVCORE_FILE", "COVCORE_CORE", "COVCORE_DEBUG"):
        monkeypatch.delenv(name, raising=False)


@contextlib.contextmanager
def in_empty_dir():
    """A fresh temporary directory, made the current one (one per example)."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="covcore-fuzz-") as tmp:
        os.chdir(tmp)
        try:
            yield pathlib.Path(os.path.realpath(tmp))
        finally:
            os.chdir(old)


# -- config files ---------------------------------------------------------------

#: (file name, format, how a logical section is spelled in it).
CONFIG_LAYOUTS = [
    (".covcorerc", "ini", "{}"),
    (".covcorerc", "ini", "covcore:{}"),
    ("setup.cfg", "ini", "covcore:{}"),
    ("tox.ini", "ini", "covcore:{}"),
    ("setup.cfg", "ini", "coverage:{}"),
    (".coveragerc", "ini", "{}"),
    ("pyproject.toml", "toml", "tool.covcore.{}"),
    ("pyproject.toml", "toml", "tool.coverage.{}"),
    (".covcorerc.toml", "toml", "{}"),
]

KNOWN_SECTIONS = sorted({o.section for o in OPTIONS} | {"paths", "tox", "unknown"})
KNOWN_NAMES = sorted({o.name for o in OPTIONS if o.name} | {"nonsense"})

section_names = st.one_of(
    st.sampled_from(KNOWN_SECTIONS),
    st.sampled_from(KNOWN_SECTIONS).map(lambda s: "covcore:" + s),
    st.sampled_from(KNOWN_SECTIONS).map(lambda s: "coverage:" + s),
    st.sampled_from(KNOWN_SECTIONS).map(lambda s: "tool.covcore." + s),
    st.sampled_from(KNOWN_SECTIONS).map(lambda s: "tool.coverage." + s),
    st.sampled_from(["tool", "tool.covcore", "tool.coverage", "DEFAULT", "covcore", ""]),
    st.text(max_size=12),
)
option_names = st.one_of(st.sampled_from(KNOWN_NAMES), st.text(max_size=10))
raw_values = st.one_of(
    st.sampled_from(["true", "no", "On", "0", "1", "-3", "1e400", "nan", "50.5", "101", "", "~", "~x",
                     "$HOME", "${UNSET_COVCORE_FUZZ?}", "${X-d}", "$$", "[z-a]", "(", "*/x/*", "a = 1"]),
    st.integers().map(str),
    st.floats().map(repr),
    st.text(max_size=20),
)


def toml_string(text: str) -> str:
    """A TOML basic string holding exactly `text` (no surrogates)."""
    out = []
    for ch in text:
        if ch in '"\\' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


toml_values = st.recursive(
    st.one_of(
        st.booleans().map(lambda b: "true" if b else "false"),
        st.integers(-(2**63), 2**63 - 1).map(str),
        st.floats(allow_nan=True).map(lambda f: "nan" if f != f else ("inf" if f == float("inf") else "-inf" if f == float("-inf") else repr(f))),
        st.text(max_size=15).map(toml_string),
        st.sampled_from(["{}", "{a = 1}", '{"*.py" = 90}', '"$HOME"', '"~\\u0000"', '"${NOPE?}"']),
    ),
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    max_leaves=6,
)

ini_lines = st.one_of(
    section_names.map(lambda s: f"[{s}]"),
    st.builds(lambda k, v: f"{k} = {v}", option_names, raw_values),
    raw_values.map(lambda v: "    " + v),
    st.sampled_from(["", "# comment", "; comment", "[", "]", "=", "key", "  = x", "[run", "\t", "x: y"]),
    st.text(max_size=30),
)
toml_lines = st.one_of(
    section_names.map(lambda s: f"[{s}]"),
    section_names.map(lambda s: f"[[{s}]]"),
    st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(KNOWN_NAMES), toml_values),
    st.builds(lambda k, v: f"{toml_string(k)} = {v}", option_names, toml_values),
    st.builds(lambda s, k, v: f"{s}.{k} = {v}", st.sampled_from(["tool.covcore", "run", "report"]),
              st.sampled_from(KNOWN_NAMES), toml_values),
    st.sampled_from(["", "# comment", "[", "a = ", "= 1", "[tool]", "covcore = 1", "tool.covcore = 3"]),
    st.text(max_size=30),
)


def check_config_outcome(name: str, config_file, warned: list) -> None:
    """read_config gives a config, or a ConfigError naming the file, nothing else."""
    try:
        config = read_config(config_file, warn=lambda msg, slug: warned.append((msg, slug)))
    except ConfigError as exc:
        message = str(exc)
        assert repr(name) in message, message
        assert "\n" not in message, message
    else:
        assert isinstance(config, CovcoreConfig)
    for msg, slug in warned:
        assert slug in ("unknown-option", "unknown-section"), (msg, slug)


@FUZZ
@given(layout=st.sampled_from(CONFIG_LAYOUTS + [("custom.cfg", "ini", "{}"), ("custom.toml", "toml", "{}")]),
       explicit=st.booleans(), data=st.data())
def test_config_files_give_a_config_or_a_config_error(layout, explicit, data):
    """Generated INI/TOML text, structured or arbitrary (text or bytes), in
    every file covcore reads: a config, or a ConfigError naming the file."""
    name, fmt, _ = layout
    lines = ini_lines if fmt == "ini" else toml_lines
    content = data.draw(st.one_of(
        st.lists(lines, max_size=12).map("\n".join),
        st.text(max_size=200),
        st.binary(max_size=100),
    ))
    with in_empty_dir():
        if isinstance(content, bytes):
            pathlib.Path(name).write_bytes(content)
        else:
            pathlib.Path(name).write_text(content, encoding="utf-8", errors="surrogatepass")
        check_config_outcome(name, name if explicit else True, [])


def _value_for(option):
    """A strategy of values of `option`'s type that it accepts."""
    if option.type == "bool":
        return st.booleans()
    if option.type == "int":
        lo = int(option.minimum) if option.minimum is not None else -(2**63)
        hi = int(option.maximum) if option.maximum is not None else 2**63 - 1
        return st.integers(lo, hi)
    if option.type == "float":
        return st.floats(option.minimum, option.maximum, allow_nan=False)
    if option.type == "list":
        return st.lists(ITEM_TEXT, min_size=1, max_size=5)
    assert option.type in ("str", "file")
    return ITEM_TEXT


#: Text an INI list item can hold: no separators (commas, line breaks), no
#: leading or trailing space, not a comment.
ITEM_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=",\x85"),
    min_size=1, max_size=12,
).map(str.strip).filter(lambda s: s and s[0] not in "#;~")

ROUND_TRIP_OPTIONS = [o for o in OPTIONS if o.type in ("bool", "int", "float", "list", "str", "file")]


def ini_value(value, draw) -> str:
    if isinstance(value, bool):
        words = [w for w, b in configparser_words().items() if b is value]
        word = draw(st.sampled_from(words))
        return draw(st.sampled_from([word, word.upper(), word.title()]))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        items = [v.replace("$", "$$") for v in value]
        if draw(st.booleans()):
            return ", ".join(items)
        return "\n" + "".join(f"    {item}\n" for item in items).rstrip("\n")
    return value.replace("$", "$$")


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_string(v.replace("$", "$$")) for v in value) + "]"
    return toml_string(value.replace("$", "$$"))


def configparser_words():
    from covcore._configfiles import BOOLEAN_WORDS

    return BOOLEAN_WORDS


@FUZZ
@given(layout=st.sampled_from(CONFIG_LAYOUTS), data=st.data())
def test_config_values_round_trip(layout, data):
    """Typed values written to a config file are read back equal (bools in
    any spelling, ints, floats, lists, strings), INI and TOML."""
    name, fmt, spelling = layout
    options = data.draw(st.lists(st.sampled_from(ROUND_TRIP_OPTIONS), min_size=1, max_size=6,
                                 unique_by=lambda o: o.key))
    values = {o.key: data.draw(_value_for(o)) for o in options}
    by_section: dict[str, list] = {}
    for o in options:
        by_section.setdefault(o.section, []).append(o)
    out = []
    for section, opts in by_section.items():
        out.append(f"[{spelling.format(section)}]")
        for o in opts:
            v = values[o.key]
            text = ini_value(v, data.draw) if fmt == "ini" else toml_value(v)
            out.append(f"{o.name} = {text}")
    with in_empty_dir():
        pathlib.Path(name).write_text("\n".join(out) + "\n", encoding="utf-8")
        config = read_config(True, warn=lambda m, s: pytest.fail(f"unexpected warning {m}"))
        assert config.config_file == os.path.abspath(name)
        for o in options:
            got = getattr(config, o.attr)
            if o.attr == "exclude_list":  # never chosen (a regexlist), but be explicit
                continue
            assert got == values[o.key], (o.key, got, values[o.key])
            assert type(got) is type(values[o.key]) or (o.type == "float" and isinstance(got, float))


@pytest.mark.parametrize("text, fragment", [
    ("[run]\ndata_file = ~a\0b\n", "[run] data_file"),
    ("[paths]\nsrc =\n    src/\n    ~\0x/\n", "[paths] src"),
    ("[html]\ndirectory = ~user\0name\n", "[html] directory"),
])
def test_config_null_characters_are_config_errors(tmp_path, monkeypatch, text, fragment):
    """Found by fuzzing: a NUL in a file option or in [paths] made
    os.path.expanduser raise ValueError (a traceback)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".covcorerc").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_config(True)
    assert str(info.value).startswith(f"Config option {fragment}: ")
    assert str(info.value).endswith(" in '.covcorerc'")
    assert "null character" in str(info.value)


def test_config_null_character_on_the_command_line(tmp_path):
    from cmdhelpers import covcore

    (tmp_path / ".covcorerc").write_text("[run]\ndata_file = ~x\0y\n", encoding="utf-8")
    (tmp_path / "prog.py").write_text("print('hi')\n", encoding="utf-8")
    result = covcore("run", "prog.py", cwd=tmp_path)
    assert result.rc == 1, result
    assert result.out == ""
    assert result.err == (
        "covcore: Config option [run] data_file: invalid value '~x\\x00y' "
        "(null characters are not allowed) in '.covcorerc'\n"
    )


# -- packed line sets -------------------------------------------------------------

line_sets = st.one_of(
    st.sets(st.integers(1, 10**6), max_size=300),
    st.sets(st.integers(1, 2000), max_size=300),
    st.builds(lambda a, n: set(range(a, a + n)), st.integers(1, 10**6), st.integers(0, 3000)),
)


def canonical(bits: bytes) -> bool:
    return bits == b"" or bits[-1] != 0


@FUZZ
@given(nums=line_sets)
def test_numbits_round_trip_and_canonical_form(nums):
    bits = nums_to_numbits(nums)
    assert isinstance(bits, bytes)
    assert numbits_to_nums(bits) == sorted(nums)
    assert canonical(bits)
    assert len(bits) == (max(nums) // 8 + 1 if nums else 0)
    # The same bytes as coverage.py's numbits (the module claims compatibility).
    cov_numbits = pytest.importorskip("coverage.numbits")
    assert cov_numbits.nums_to_numbits(nums) == bits
    assert cov_numbits.numbits_to_nums(bits) == sorted(nums)


@FUZZ
@given(a=line_sets, b=line_sets, pad1=st.integers(0, 3), pad2=st.integers(0, 3),
       probes=st.lists(st.integers(0, 10**6 + 5000), max_size=20))
def test_numbits_set_operations(a, b, pad1, pad2, probes):
    """Union, intersection, any-intersection and membership are the set
    operations, give canonical numbits even for inputs with trailing zero
    bytes, and agree with coverage.py's."""
    bits_a, bits_b = nums_to_numbits(a), nums_to_numbits(b)
    padded_a, padded_b = bits_a + b"\0" * pad1, bits_b + b"\0" * pad2
    for x, y in [(bits_a, bits_b), (padded_a, padded_b)]:
        union = numbits_union(x, y)
        inter = numbits_intersection(x, y)
        assert numbits_to_nums(union) == sorted(a | b)
        assert numbits_to_nums(inter) == sorted(a & b)
        assert canonical(union) and canonical(inter)
        assert union == nums_to_numbits(a | b)
        assert inter == nums_to_numbits(a & b)
        assert numbits_any_intersection(x, y) is bool(a & b)
    for n in probes + sorted(a)[:20]:
        assert num_in_numbits(n, bits_a) is (n in a)
        assert num_in_numbits(n, padded_a) is (n in a)
    cov_numbits = pytest.importorskip("coverage.numbits")
    assert cov_numbits.numbits_union(bits_a, bits_b) == numbits_union(bits_a, bits_b)
    assert cov_numbits.numbits_intersection(bits_a, bits_b) == numbits_intersection(bits_a, bits_b)
    assert cov_numbits.numbits_any_intersection(bits_a, bits_b) == numbits_any_intersection(bits_a, bits_b)


@FUZZ
@given(nums=st.sets(st.integers(-10**6, 10**6), min_size=1, max_size=50).filter(lambda s: min(s) < 0))
def test_numbits_reject_negative_numbers(nums):
    with pytest.raises(ValueError, match="^numbits cannot hold negative numbers$"):
        nums_to_numbits(nums)


# -- path remapping -----------------------------------------------------------------

SEGMENT = st.text(string.ascii_letters + string.digits + "_-.", min_size=1, max_size=6).filter(
    lambda s: s not in (".", ".."))
UNICODE_SEGMENT = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd")), min_size=1, max_size=5)


def _flip_case(text: str, flips: list[bool]) -> str:
    """ASCII letters of `text` with their case flipped where `flips` says."""
    return "".join(c.swapcase() if c.isascii() and f else c for c, f in zip(text, flips + [False] * len(text)))


@st.composite
def alias_cases(draw, absolute_root=None):
    """(pattern, result, path, rest, sep) where `path` matches `pattern`.

    The pattern is a glob of literal segments, ``*`` segments and ``**``
    segments (maybe with a leading ``*/``), in POSIX or Windows spelling;
    `path` is a concrete path it matches followed by `rest`.
    """
    sep = draw(st.sampled_from(["/", "\\"]))
    n = draw(st.integers(1, 4))
    kinds = draw(st.lists(st.sampled_from(["lit", "lit", "star", "stars"]), min_size=n, max_size=n))
    kinds[-1] = "lit"  # a pattern must not end with a wildcard
    leading_star = draw(st.booleans())
    if leading_star and kinds[0] == "stars":
        kinds[0] = "lit"
    pat_parts, path_parts = [], []
    for i, kind in enumerate(kinds):
        if kind == "lit":
            seg = draw(st.one_of(SEGMENT, UNICODE_SEGMENT))
            pat_parts.append(seg)
            path_parts.append(_flip_case(seg, draw(st.lists(st.booleans(), max_size=len(seg)))))
        elif kind == "star":
            pat_parts.append("*")
            path_parts.append(draw(SEGMENT))
        else:
            if i and pat_parts[-1] == "**":
                pat_parts.append("x")
                path_parts.append("X")
            pat_parts.append("**")
            path_parts.extend(draw(st.lists(SEGMENT, max_size=3)))
    if leading_star:
        pattern = "*" + sep + sep.join(pat_parts)
        prefix = draw(st.lists(SEGMENT, max_size=3))
        path = sep.join([""] + prefix + path_parts) if draw(st.booleans()) else sep.join(prefix + path_parts)
    else:
        root = "C:" if sep == "\\" else ""
        pattern = root + sep + sep.join(pat_parts)
        path = root + sep + sep.join(path_parts)
    if draw(st.booleans()):
        pattern += sep
    # "=" is in no pattern segment, so no part of the rest can match the
    # pattern too (a leading "*/" matches greedily, as in coverage.py).
    rest = draw(st.lists(SEGMENT.map(lambda s: "=" + s), min_size=1, max_size=4))
    result_sep = draw(st.sampled_from(["/", "\\"])) if absolute_root is None else os.sep
    if absolute_root is None:
        prefix = draw(st.sampled_from(["", ".", "C:", "/"]))
        result = (prefix and prefix.rstrip("/") + result_sep) + result_sep.join(
            "~" + s for s in draw(st.lists(SEGMENT, min_size=1, max_size=3)))
    else:
        result = absolute_root + os.sep + os.sep.join("~" + s for s in draw(st.lists(SEGMENT, min_size=1, max_size=3)))
    return pattern, result, path + sep + sep.join(rest), rest, result_sep


def always(_path: str) -> bool:
    return True


@FUZZ
@given(case=alias_cases(), relative=st.booleans())
def test_paths_matching_path_is_remapped_with_rest_kept(case, relative):
    """A path matching a pattern maps to the canonical entry plus the rest
    of the path (in the canonical entry's separators); mapping again changes
    nothing; the same answer as coverage.py's PathAliases."""
    pattern, result, path, rest, _ = case
    # The canonical entry's separator: its first one, or the system's if none.
    result_sep = next((c for c in result if c in "\\/"), os.sep)
    if not relative:
        assume(result.startswith(("/", "C:")))
    aliases = PathAliases.from_config({"src": [result, pattern]}, relative=True)
    mapped = aliases.map(path, exists=always)
    expected = result.rstrip("\\/") + result_sep + result_sep.join(rest)
    if expected.startswith("./") and not (result.startswith("./") and len(result.rstrip("\\/") + result_sep) > 2):
        expected = expected[2:]
    assert mapped == expected, (pattern, path)
    assert aliases.map(mapped, exists=always) == mapped
    cov_files = pytest.importorskip("coverage.files")
    theirs = cov_files.PathAliases(relative=True)
    theirs.add(pattern, result)
    assert theirs.map(path, exists=always) == mapped


@FUZZ
@given(data=st.data())
def test_paths_absolute_mode_remaps_to_real_files(data):
    """Not relative: the result is canonical (absolute) and used only when
    the file exists; otherwise the path is unchanged."""
    with in_empty_dir() as root:
        pattern, result, path, rest, _ = data.draw(alias_cases(absolute_root=str(root)))
        aliases = PathAliases.from_config({"src": [result, pattern]})
        target = pathlib.Path(result, *rest)
        assert aliases.map(path) == path  # nothing there yet
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("")
        assert aliases.map(path) == str(target)
        assert aliases.map(str(target)) == str(target)
        remap = make_remapper(aliases, InstalledCopyRule(roots=[str(root)]))
        assert remap(path) == str(target)


@FUZZ
@given(case=alias_cases(), other=st.lists(SEGMENT, min_size=1, max_size=5), sep=st.sampled_from(["/", "\\"]))
def test_paths_unmatched_path_is_unchanged(case, other, sep):
    pattern, result, _, _, _ = case
    # Patterns here are anchored at "/", "\\" or "C:": a D: drive can't match.
    path = "D:" + sep + "unmatched" + sep + sep.join(other)
    assume(not pattern.startswith("*"))
    for relative in (True, False):
        aliases = PathAliases.from_config({"src": [result, pattern]}, relative=relative)
        assert aliases.map(path, exists=always) == path


any_text = st.one_of(
    st.text(max_size=30),
    st.text(st.sampled_from("/\\*?[]!.:~aZ\0é$"), max_size=20),
    st.sampled_from(["", "/", "\\", "*", "**", "*/", "/**/", "[z-a]", "C:", "\0", "~", ".", "./", "..\\"]),
)


@FUZZ
@given(config=st.dictionaries(st.text(max_size=5), st.lists(any_text, max_size=4), max_size=3),
       paths=st.lists(any_text, max_size=8), relative=st.booleans())
def test_paths_never_raise_on_arbitrary_strings(config, paths, relative):
    """Arbitrary patterns: built, or a ConfigError; arbitrary paths (NUL,
    unicode, empty): mapped to a string, never an exception."""
    try:
        aliases = PathAliases.from_config(config, relative=relative)
    except ConfigError as exc:
        assert "[paths]" in str(exc) or "pattern" in str(exc).lower(), str(exc)
        aliases = PathAliases(relative=relative)
    aliases.add("/fuzz", "/canonical")  # so that some paths do match
    rule = InstalledCopyRule(roots=["/nonexistent-covcore-fuzz"])
    remap = make_remapper(aliases, rule)
    for path in paths + [prefix + p for p in paths for prefix in ("/fuzz/", "/v/lib/python3.12/site-packages/")]:
        assert isinstance(aliases.map(path), str)
        assert isinstance(remap(path), str)
        assert rule.map(path) is None


@pytest.mark.parametrize("relative", [False, True])
def test_paths_null_character_in_measured_path(relative):
    """Found by fuzzing: a measured path with a NUL (a data file can hold
    one) made canonical_filename raise ValueError during combine."""
    aliases = PathAliases.from_config({"src": ["/canonical", "/ci/*/src"]}, relative=relative)
    assert aliases.map("/ci/job/src/a\0b.py", exists=always) == "/ci/job/src/a\0b.py"
    assert aliases.map("/ci/job/src/ab.py", exists=always) == "/canonical/ab.py"


@pytest.mark.parametrize("pattern", ["/ci/[z-a]/src", "*/[b-a]x/lib", "/x/[\\d-a]/y"])
def test_paths_bad_bracket_pattern_is_a_config_error(pattern):
    """Found by fuzzing: a glob with an invalid character range raised re.error."""
    with pytest.raises(ConfigError) as info:
        PathAliases().add(pattern, "/src")
    # (The pattern as [paths] completes it, with a trailing separator.)
    assert str(info.value).startswith(f"File pattern {pattern + '/'!r} is invalid: bad character range ")


def test_omit_bad_bracket_pattern_on_the_command_line(tmp_path):
    from cmdhelpers import covcore

    (tmp_path / "prog.py").write_text("x = 1\n", encoding="utf-8")
    assert covcore("run", "prog.py", cwd=tmp_path).rc == 0
    result = covcore("report", "--omit=*/[z-a]/*", cwd=tmp_path)
    assert result.rc == 1, result
    assert result.out == ""
    assert result.err == (
        "covcore: File pattern '*/[z-a]/*' is invalid: bad character range z-a\n"
    )


# -- data files ---------------------------------------------------------------------

path_names = st.one_of(
    st.text(min_size=1, max_size=20),
    st.text(min_size=1, max_size=8).map(lambda s: "/src/" + s + "\udcff.py"),  # a non-UTF-8 file name
    st.sampled_from(["/a/b.py", "C:\\x\\y.py", "rel.py", "/ü/ñ.py"]),
)
contexts = st.one_of(st.just(""), st.text(max_size=10))
lines_by_ctx = st.dictionaries(contexts, st.sets(st.integers(1, 10**6), min_size=1, max_size=50), max_size=3)
INT32 = st.integers(-(2**31), 2**31 - 1)
arcs_by_ctx = st.dictionaries(contexts, st.sets(st.tuples(INT32, INT32), min_size=1, max_size=50), max_size=3)


@st.composite
def datasets(draw, arcs=None):
    """(has_arcs, {file: {context: lines or arcs}}, {file: tracer})."""
    if arcs is None:
        arcs = draw(st.booleans())
    measured = draw(st.dictionaries(path_names, arcs_by_ctx if arcs else lines_by_ctx, max_size=5))
    tracers = {f: draw(st.sampled_from(["", "plugin.Tracer"])) for f in measured}
    return arcs, measured, {f: t for f, t in tracers.items() if t}


def build(dataset, basename: str, suffix=None) -> CoverageData:
    arcs, measured, tracers = dataset
    data = CoverageData(basename, suffix=suffix)
    data.set_kind(arcs=arcs)
    for filename, by_ctx in measured.items():
        data.touch_files([filename])
        for ctx, items in by_ctx.items():
            data.set_context(ctx)
            (data.add_arcs if arcs else data.add_lines)({filename: items})
    data.add_file_tracers(tracers)
    data.set_context(None)
    return data


def contents(data: CoverageData) -> dict:
    return {f: data.raw_measurements(f) for f in data.measured_files()}


@FUZZ
@given(dataset=datasets())
def test_data_round_trip(dataset):
    """Random files x contexts x lines (or arcs) written and read back are
    exactly the same."""
    arcs, measured, tracers = dataset
    with in_empty_dir():
        build(dataset, ".covcore").write()
        back = read_data_file(".covcore")
        assert back.has_arcs() is arcs or not measured
        assert contents(back) == {f: {c: set(v) for c, v in by.items()} for f, by in measured.items()}
        for f in measured:
            assert back.file_tracer(f) == tracers.get(f, "")
            if arcs:
                assert back.arcs(f) == sorted(set().union(*measured[f].values()))
            else:
                assert back.lines(f) == sorted(set().union(*measured[f].values()))


@FUZZ
@given(arcs=st.booleans(), data=st.data())
def test_data_combine_is_the_union(arcs, data):
    """Two random datasets of one kind, written as parallel data files and
    combined: the combined data file holds exactly their union."""
    one, two = data.draw(datasets(arcs=arcs)), data.draw(datasets(arcs=arcs))
    expected: dict[str, dict[str, set]] = {}
    for _, measured, _ in (one, two):
        for f, by_ctx in measured.items():
            mine = expected.setdefault(f, {})
            for ctx, items in by_ctx.items():
                mine.setdefault(ctx, set()).update(items)
    with in_empty_dir():
        build(one, ".covcore", suffix="one").write()
        build(two, ".covcore", suffix="two").write()
        target = CoverageData(".covcore")
        n = combine_parallel_data(target, warn=lambda m, s: pytest.fail(m))
        # Inputs with the same measurements and file tracers count once.
        assert n == (1 if one[1:] == two[1:] else 2)
        assert sorted(os.listdir(".")) == [".covcore"]
        back = read_data_file(".covcore")
        assert contents(back) == expected
        assert back.has_arcs() is (arcs and bool(expected)) or not expected


SMALL = (False, {"/src/a.py": {"": {1, 2, 3, 17}, "test_x": {4, 100}}, "/src/b.py": {}}, {"/src/b.py": "p.T"})
SMALL_ARCS = (True, {"/src/a.py": {"": {(-1, 2), (2, 3), (3, -1)}, "ctx": {(5, 6)}}}, {})


@st.composite
def mutations(draw, size: int, interesting: list[int]):
    """A list of byte-level mutations of a file of `size` bytes."""
    pos = st.one_of(st.integers(0, size - 1), st.sampled_from(interesting))
    return draw(st.lists(st.one_of(
        st.tuples(st.just("flip"), pos, st.integers(1, 255)),
        st.tuples(st.just("set"), pos, st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("truncate"), st.integers(0, size - 1), st.just(b"")),
        st.tuples(st.just("append"), st.just(0), st.binary(min_size=1, max_size=600)),
    ), min_size=1, max_size=6))


def mutate(blob: bytes, ops) -> bytes:
    buf = bytearray(blob)
    for op, pos, arg in ops:
        if op == "flip" and pos < len(buf):
            buf[pos] ^= arg
        elif op == "set" and pos < len(buf):
            buf[pos:pos + len(arg)] = arg
        elif op == "truncate":
            del buf[pos:]
        elif op == "append":
            buf += arg
    return bytes(buf)


def check_consistent(data: CoverageData) -> None:
    for f in data.measured_files():
        assert isinstance(f, str)
        for ctx, items in data.raw_measurements(f).items():
            assert isinstance(ctx, str)
            for item in items:
                if data.has_arcs():
                    assert isinstance(item, tuple) and len(item) == 2
                    assert all(isinstance(n, int) for n in item)
                else:
                    assert isinstance(item, int) and item >= 1


@pytest.mark.parametrize("dataset", [SMALL, SMALL_ARCS], ids=["lines", "arcs"])
def test_data_file_mutations_read_or_data_error(dataset):
    """Byte-level mutations of a valid data file (flipped bytes, truncation,
    appended junk): reading gives consistent data or a DataError naming the
    file, never another exception; combining one warns and goes on."""
    with in_empty_dir():
        build(dataset, ".covcore", suffix="orig").write()
        original = pathlib.Path(".covcore.orig").read_bytes()
    interesting = [i for i, b in enumerate(original) if b] or [0]
    outcomes = {"read": 0, "error": 0}

    @FUZZ
    @given(ops=mutations(len(original), interesting))
    def check(ops):
        with in_empty_dir():
            name = os.path.abspath(".covcore.mutant")
            pathlib.Path(name).write_bytes(mutate(original, ops))
            try:
                data = read_data_file(name)
            except DataError as exc:
                outcomes["error"] += 1
                assert str(exc).startswith(f"Couldn't use data file {name!r}: "), str(exc)
                assert "\n" not in str(exc)
                readable = False
            else:
                outcomes["read"] += 1
                check_consistent(data)
                readable = True
            warned = []
            target = CoverageData(".covcore")
            n = combine_parallel_data(target, keep=True, warn=lambda m, s: warned.append((m, s)))
            if readable:
                assert n == 1 and warned == []
            else:
                assert n == 0
                assert len(warned) == 1 and warned[0][1] == "couldnt-combine"
                assert warned[0][0].startswith(f"Couldn't use data file {name!r}: ")

    check()
    # The mutations reach both outcomes: the test isn't only ever reading
    # the unchanged part of the file, nor only ever breaking the header.
    assert outcomes["read"] > 0 and outcomes["error"] > 0, outcomes
