"""Type stub for covcore._tracer, the compiled tracers (see _tracer.pyx)."""

from types import CodeType, FrameType
from typing import Any, ClassVar, Dict, Iterable, List, Optional, Tuple

from covcore.bytecode import CodeMap
from covcore.types import TShouldTrace, TTraceData, TWarn

#: True when f_trace_lines is written straight into frame structs.
DIRECT_FRAME_ACCESS: bool
#: True when per-code-object state hangs on code objects (code extra slot).
CODE_EXTRA: bool

def compile_program(source: str, filename: str) -> CodeType:
    """compile(source, filename, "exec", dont_inherit=True) without the builtin's AST check."""

def nums_to_numbits(nums: Iterable[int]) -> bytes:
    """covcore.numbits.nums_to_numbits, compiled."""

def pack_arcs(arcs: Iterable[Tuple[int, int]]) -> bytes:
    """The arcs sorted, as 32-bit little-endian (from, to) ints (covcore.data's format)."""

#: True when lstat_kind() is a real lstat (POSIX builds).
HAS_LSTAT: bool

def lstat_kind(path: str) -> int:
    """-1 lstat fails, 1 a link, 2 a directory, 0 anything else."""

def real_file_in_known_dir(real_dirs: Dict[str, str], path: str) -> Optional[Tuple[str, str]]:
    """(real directory, real file name) when path's directory is in real_dirs and its name is no link."""

def analyze_c(code: CodeType) -> CodeMap:
    """covcore.bytecode.analyze(code), compiled (Python 3.12 and 3.13)."""

class CodeState:
    """What a tracer knows about one code object (opaque)."""

class CTracer:
    """A C trace function installed with ``PyEval_SetTrace`` (current thread)."""

    name: ClassVar[str]
    process_wide: ClassVar[bool]

    def __init__(
        self,
        data: TTraceData,
        should_trace: TShouldTrace,
        should_trace_cache: Dict[str, Optional[str]],
        *,
        branch: bool = False,
        warn: Optional[TWarn] = None,
    ) -> None: ...
    def __call__(self, frame: FrameType, event: str, arg: Any, lineno: Optional[int] = None) -> "CTracer": ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def set_fast_rules(self, rules: Optional[Tuple[Dict[str, str], Dict[str, bool], Any, bool]]) -> None: ...
    def restart(self) -> None: ...
    def activity(self) -> bool: ...
    def reset_activity(self) -> None: ...

class SysMonTracer:
    """A PEP 669 ``sys.monitoring`` tracer (Python 3.12+, every thread).

    In branch mode, read its arcs with :func:`covcore.bytecode.resolve_arcs`.
    """

    name: ClassVar[str]
    process_wide: ClassVar[bool]

    def __init__(
        self,
        data: TTraceData,
        should_trace: TShouldTrace,
        should_trace_cache: Dict[str, Optional[str]],
        *,
        branch: bool = False,
        warn: Optional[TWarn] = None,
    ) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def stop_at_exit(self) -> None: ...
    def set_fast_rules(self, rules: Optional[Tuple[Dict[str, str], Dict[str, bool], Any, bool]]) -> None: ...
    def restart(self) -> None: ...
    def record_running(self) -> None: ...
    def keep_line_events(self) -> None: ...
    def activity(self) -> bool: ...
    def reset_activity(self) -> None: ...
    def event_counts(self) -> Dict[str, int]: ...

def countable_lines(code: CodeType) -> List[int]: ...

# _tracer_sigterm.pxi: the C guard in front of covcore's SIGTERM handler (Linux).
def sigterm_guard_install() -> bool: ...
def sigterm_guard_handled() -> None: ...
def sigterm_guard_after_fork_child() -> bool: ...
def sigterm_guard_active() -> bool: ...
def _set_skip_unmeasured_for_tests(on: bool) -> bool: ...
# _tracer_sysmon_straight.pxi: straight-line code objects (sysmon line mode).
def is_straight_code(code: CodeType) -> bool: ...
def _set_straight_policy_for_tests(policy: int) -> None: ...
def untracked_copies(data: Dict[str, Any]) -> Dict[str, Any]: ...
