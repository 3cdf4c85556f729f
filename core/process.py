"""Measuring more than one process: subprocesses, multiprocessing, fork,
``os._exit``, ``exec``, and SIGTERM.

A child process starts measuring at interpreter start when
``COVCORE_PROCESS_START`` names a config file, or ``COVCORE_PROCESS_CONFIG``
holds a serialized configuration (what ``[run] patch = subprocess`` passes to
children of ``covcore run``).  ``covcore.pth``, installed beside covcore in
site-packages, calls :func:`process_startup` only when one of them is set, so
an unmeasured interpreter pays two environment lookups.

Every measured child writes its own parallel-mode data file; ``covcore
combine`` merges them.
"""

from __future__ import annotations

import os

# The C module under `signal`: what covcore needs of it (signal, getsignal,
# SIGTERM, SIG_DFL) without `signal`'s enums (enum is 2 ms of every start).
import _signal as signal

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any, Callable

    from covcore.config import CovcoreConfig
    from covcore.session import Coverage

ENV_START = "COVCORE_PROCESS_START"
ENV_CONFIG = "COVCORE_PROCESS_CONFIG"

#: The Coverage started by :func:`process_startup` in this process, if any.
_started: Coverage | None = None


def serialize_config(config: CovcoreConfig) -> str:
    """The configuration as a string for ``COVCORE_PROCESS_CONFIG``.

    Paths that are relative to the current directory (the data file) are
    made absolute, so a child started elsewhere writes beside its parent.
    """
    import json

    from covcore.config import OPTIONS

    values: dict[str, Any] = {}
    for option in OPTIONS:
        values[option.attr] = getattr(config, option.attr)
    values["exclude_also"] = []
    values["partial_also"] = []
    values["data_file"] = os.path.abspath(config.data_file)
    values["parallel"] = True
    return json.dumps(values)


def _coverage_for_child() -> Coverage | None:
    from covcore.session import Coverage

    serialized = os.environ.get(ENV_CONFIG)
    if serialized:
        import json

        values = json.loads(serialized)
        return Coverage(config_file=False, data_suffix=True, auto_data=True, _settings=values)
    rcfile = os.environ.get(ENV_START)
    if rcfile is None:
        return None
    return Coverage(config_file=rcfile if rcfile not in ("", "1", "true") else True, data_suffix=True, auto_data=True)


def process_startup() -> Coverage | None:
    """Start measuring this process if the environment asks for it.

    Called from ``covcore.pth`` at interpreter start (and safe to call from
    ``sitecustomize`` too).  Does nothing when neither ``COVCORE_PROCESS_START``
    nor ``COVCORE_PROCESS_CONFIG`` is set, or when it already ran in this
    process.  The data is saved at exit, in a parallel-mode data file.

    :returns: the started :class:`covcore.Coverage`, or None.
    """
    global _started
    if _started is not None:
        return None
    from covcore.importcache import Startup

    startup = Startup()  # as `covcore run` starts
    try:
        cov = _coverage_for_child()
        if cov is None:
            return None
        _started = cov
        cov._warn_no_data = False  # a child that ran no measured code is normal
        cov.start()
        install_sigterm_handler()
        freeze_startup_objects(cov)
    finally:
        startup.end()
    return cov


def freeze_startup_objects(cov: Coverage) -> None:
    """Move every object alive now out of the cyclic garbage collector's
    reach (``gc.freeze()``), unless ``[run] gc_freeze`` is false.

    Called once measuring has started and before the program runs, by
    ``covcore run`` and :func:`process_startup`.  The objects frozen are the
    interpreter's start-up objects and covcore's own: they live until the
    process ends, but every full collection of the program, and the three
    collections of the interpreter's exit, would traverse them again (10 M
    instructions of each measured process on 3.12, 11-16 M on 3.13).  The
    program's own objects are made later and are collected as always, their
    ``__del__`` at exit included.  What the program can see
    (``gc.freeze()``'s documented behaviour): ``gc.get_freeze_count()`` is
    not 0, ``gc.get_objects()`` and ``gc.get_referrers()`` leave the frozen
    objects out, and a reference cycle among them is never collected.
    ``gc.unfreeze()`` by the program undoes it.  Raises nothing.
    """
    if cov.config.gc_freeze:
        import gc

        gc.freeze()


def report_save_error(exc: BaseException) -> None:
    """Tell the user, in one line on stderr, that data could not be saved
    (``covcore: Couldn't write data file '<path>': <reason>``)."""
    import sys

    try:
        from covcore.errors import one_line

        sys.stderr.write(f"covcore: {one_line(str(exc))}\n")
        sys.stderr.flush()
    except Exception:
        pass


def save_all() -> bool:
    """Stop and save every live Coverage of this process: what the SIGTERM
    handler and the ``os._exit``/``exec`` patches do.

    Never raises: a save that fails is reported with
    :func:`report_save_error` and the others are still tried.

    :returns: True if every save succeeded.
    """
    from covcore.errors import CovcoreError
    from covcore.session import Coverage

    ok = True
    for cov in Coverage._instances():
        try:
            if cov._collector is not None and not cov._forgotten:
                cov._stop(at_exit=True)
                cov.save()
        except CovcoreError as exc:
            ok = False
            report_save_error(exc)
        except Exception:  # noqa: BLE001 - the process is ending; covcore must not stop it
            ok = False
    return ok


def _on_sigterm(signum: int, frame: Any) -> None:
    # Whether or not the data could be saved, the process still ends as
    # killed by SIGTERM: that is its own "exit code".
    if _guard is not None:
        _guard.sigterm_guard_handled()
    save_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def install_sigterm_handler() -> None:
    """Save data on SIGTERM, then die of SIGTERM as the program would have.

    One handler serves every Coverage of the process.  A handler the program
    installed itself is left alone.  While the process forks, SIGTERM is
    blocked (see :func:`_block_sigterm_for_fork`), so that a child killed
    right after ``fork()`` still dies.
    """
    global _fork_guarded
    if not hasattr(signal, "SIGTERM"):
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None, _on_sigterm):
        return
    try:  # (not contextlib.suppress: contextlib is 0.6 ms of every start)
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        return
    _install_guard()
    if not _fork_guarded and hasattr(os, "register_at_fork") and hasattr(signal, "pthread_sigmask"):
        _fork_guarded = True
        os.register_at_fork(
            before=_block_sigterm_for_fork,
            after_in_parent=_unblock_sigterm_after_fork,
            after_in_child=_after_fork_in_child,
        )


_fork_guarded = False
_mask_before_fork: Any = None
#: The compiled extension's SIGTERM guard (``_tracer.sigterm_guard_*``), if built.
_guard: Any = None


def _install_guard() -> None:
    """Put the compiled guard in front of the handler just installed: it
    repeats SIGTERM to the main thread until the Python handler has run, or
    lets the signal kill the process after 5 s (``_tracer_sigterm.pxi``).
    Without it, a SIGTERM that arrives just before the main thread blocks
    (``Pool.terminate()`` on a worker going back to its queue) is noted by
    CPython but never acted on, and the process never ends.
    """
    global _guard
    try:
        from covcore import _tracer
    except ImportError:  # the pure-Python fallback: no guard
        return
    if _tracer.sigterm_guard_install():
        _guard = _tracer


def _after_fork_in_child() -> None:
    if _guard is not None:
        _guard.sigterm_guard_after_fork_child()
    _unblock_sigterm_after_fork()


def _block_sigterm_for_fork() -> None:
    """Block SIGTERM in the forking thread until the fork is over.

    A Python-level handler is run by the interpreter, not by the kernel, and
    CPython clears the signals that arrived in a forked child before it ran
    ``PyOS_AfterFork_Child`` (bpo-9535).  With covcore's handler installed, a
    child that its parent kills right after ``fork()`` (``Pool.terminate()``
    under the fork and forkserver start methods) would then lose the SIGTERM
    and live on; without covcore the kernel's default action kills it.
    Blocked, the signal stays pending in the child until
    :func:`_unblock_sigterm_after_fork`, which runs after that clearing.
    """
    global _mask_before_fork
    if signal.getsignal(signal.SIGTERM) is _on_sigterm:
        _mask_before_fork = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _unblock_sigterm_after_fork() -> None:
    global _mask_before_fork
    mask, _mask_before_fork = _mask_before_fork, None
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def apply_patches(cov: Coverage, patches: list[str], warn: Callable[[str, str], None]) -> None:
    """Apply ``[run] patch`` choices: ``_exit``, ``execv``, ``fork``, ``subprocess``.

    :raises ConfigError: an unknown patch name.
    """
    from covcore.errors import ConfigError

    for patch in sorted(set(patches)):
        if patch == "_exit":
            _patch_exit(cov)
        elif patch == "execv":
            _patch_execv(cov)
        elif patch == "fork":
            os.register_at_fork(after_in_child=lambda: cov._after_fork_in_child())
        elif patch == "subprocess":
            os.environ[ENV_CONFIG] = serialize_config(cov.config)
        else:
            raise ConfigError(f"Unknown patch {patch!r} in [run] patch (expected _exit, execv, fork, subprocess)")


def _patch_exit(cov: Coverage) -> None:
    if getattr(os._exit, "_covcore", False):
        return
    original = os._exit

    def covcore_os_exit(status: int) -> Any:
        # A failed save turns a successful exit into 1 (as `covcore run`
        # does); a failing program keeps its own code.
        if not save_all() and status == 0:
            status = 1
        original(status)

    covcore_os_exit._covcore = True  # type: ignore[attr-defined]
    os._exit = covcore_os_exit  # type: ignore[assignment]


def _patch_execv(cov: Coverage) -> None:
    if getattr(os.execv, "_covcore", False):
        return

    def make(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def covcore_exec(*args: Any, **kwargs: Any) -> Any:
            save_all()
            if name.endswith("e") and args and isinstance(args[-1], dict):
                args[-1][ENV_CONFIG] = serialize_config(cov.config)
            return original(*args, **kwargs)

        covcore_exec._covcore = True  # type: ignore[attr-defined]
        return covcore_exec

    os.execv = make("execv", os.execv)  # type: ignore[assignment]
    os.execve = make("execve", os.execve)  # type: ignore[assignment]


_MP_PATCHED = "_covcore_patched"


def patch_multiprocessing(config: CovcoreConfig) -> None:
    """Measure ``multiprocessing`` children under fork, spawn and forkserver.

    Each child starts measuring when its process object bootstraps and saves
    its own parallel data file when the target returns (children exit with
    ``os._exit``, which skips ``atexit``).  Spawned and forkserver children are
    new interpreters: the serialized configuration reaches them through the
    environment.
    """
    import json
    import multiprocessing
    import multiprocessing.process

    if getattr(multiprocessing, _MP_PATCHED, False):
        return
    os.environ[ENV_CONFIG] = serialize_config(config)
    base = multiprocessing.process.BaseProcess
    original_bootstrap = base._bootstrap  # type: ignore[attr-defined]

    def _bootstrap(self: Any, *args: Any, **kwargs: Any) -> Any:
        global _started
        from covcore.session import Coverage

        # A spawned or forkserver child may already measure itself (started
        # by covcore.pth from the environment): keep that one.  Under fork the
        # parent's Coverage was copied in: it stops and never saves (its data
        # is the parent's), and this child measures afresh.
        pid = os.getpid()
        own = None
        for cov in Coverage._instances():
            if cov._started and cov._start_pid == pid and own is None:
                own = cov
            else:
                try:
                    cov._forget_in_child()
                except Exception:
                    pass
        if own is None:
            own = Coverage(config_file=False, data_suffix=True, _settings=json.loads(os.environ[ENV_CONFIG]))
            own._warn_no_data = False
            _started = own
            own.start()
        install_sigterm_handler()  # Pool.terminate() ends workers with SIGTERM
        try:
            return original_bootstrap(self, *args, **kwargs)
        finally:
            own._stop(at_exit=True)
            own.save()

    base._bootstrap = _bootstrap  # type: ignore[attr-defined]
    setattr(multiprocessing, _MP_PATCHED, True)


PTH_LINE = (
    "import os; (os.environ.get('COVCORE_PROCESS_START') is not None or "
    "os.environ.get('COVCORE_PROCESS_CONFIG')) and "
    "__import__('covcore.process', fromlist=['process_startup']).process_startup()\n"
)
