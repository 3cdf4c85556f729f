# Included by _tracer.pyx (one extension module, split for reading): the sys.monitoring backend, SysMonTracer.

# -- SysMonTracer ---------------------------------------------------------------

# Branch mode (how SysMonTracer finds the arcs settrace tracers record, with
# events that turn themselves off; the bytecode side is covcore.bytecode):
#
# * PY_START/PY_RESUME (global, DISABLEd per location) decide once per code
#   object; measured code gets local LINE, JUMP, PY_RETURN, and BRANCH only if
#   one of its conditional jumps needs it.  PY_UNWIND is global and can't be
#   disabled: its callback is a code-extra read for unmeasured code.
# * Per code object, once: covcore.bytecode.analyze() (run compiled, as
#   analyze_c() of _tracer_bytecode*.pxi) says what each event location
#   records (kept in the CodeState as dicts, and C arrays for BRANCH, the
#   only event that may fire repeatedly).
# * LINE (offset from the frame) records the self-arc (line, line), the arc
#   into the line when only one line can lead there, and claims; DISABLE.
# * BRANCH records the arc of the direction taken; DISABLE once every
#   direction no other event records was seen (bseen, reset per epoch).
# * A LINE reached by jumps and by one line's conditional jumps only (a
#   loop's exit and its breaks) needs no BRANCH event: each JUMP there leaves
#   a per-thread crumb for the LINE right after it, and a LINE without one
#   came from that line.  They stay on until that has happened once.
# * JUMP, PY_RETURN record their arc; DISABLE.  PY_RESUME records claims for
#   what follows a yield.  PY_UNWIND records (current line, -co_firstlineno)
#   unless a generator is being closed at a yield (as CTracer).
# * Frames already running at start() (in any thread) behave as CTracer's
#   adopted frames: their first LINE records no arc into it, and nothing is
#   recorded for them before it.
# * What is recorded must be read with covcore.bytecode.resolve_arcs().

cdef object _sysmon = getattr(sys, "monitoring", None)


@cython.final
cdef class SysMonTracer(_TracerBase):
    """PEP 669 (``sys.monitoring``) tracer, Python 3.12+; measures every thread.

    ``SysMonTracer(data, should_trace, should_trace_cache, *, branch=False, warn=None)``

    In branch mode, what it records must be read with
    :func:`covcore.bytecode.resolve_arcs` (self-arcs, claims).
    """

    name = "sysmon"
    process_wide = True

    cdef int tool_id
    cdef object _disable
    cdef object _set_local_events
    cdef object _get_tool
    cdef int _ev_line
    cdef int _ev_instruction
    cdef int _ev_local_arcs     # LINE | JUMP | PY_RETURN
    cdef int _ev_branch
    cdef int _ev_return
    cdef bint _straight_on      # line mode: straight code takes no event (_tracer_sysmon_straight.pxi)
    cdef dict _partial          # id(frame) -> (frame, code unit): straight frames running at a restart()
    cdef dict _local_codes      # id(code) -> code with local events set by us
    cdef dict _completed        # id(code) -> code whose events went off once complete (line mode)
    cdef dict _adopted          # id(frame) -> frame running at start() (branch)
    cdef dict _crumbs           # thread id -> (id(code), LINE offset) of its last crumb JUMP
    cdef object _cb_start
    cdef object _cb_line
    cdef object _cb_instruction
    cdef object _cb_branch
    cdef object _cb_jump
    cdef object _cb_return
    cdef object _cb_unwind
    # How many callbacks of each kind ran (see event_counts()).
    cdef long n_start, n_line, n_instruction, n_branch, n_jump, n_return, n_unwind, n_complete
    cdef long n_straight         # straight bodies recorded by the wrappers (not an event)
    cdef long n_skipped         # nested code objects of unmeasured files marked (_tracer_sysmon_skip.pxi)

    def __init__(self, data, should_trace, should_trace_cache, *, branch=False, warn=None):
        if _sysmon is None:
            raise CovcoreError(
                "The sysmon tracer needs sys.monitoring (Python 3.12+), not Python %d.%d"
                % sys.version_info[:2]
            )
        self._setup(data, should_trace, should_trace_cache, branch, warn)
        self.want_bitmap = False
        self.tool_id = -1
        self._disable = _sysmon.DISABLE
        self._set_local_events = _sysmon.set_local_events
        self._get_tool = _sysmon.get_tool
        ev = _sysmon.events
        self._ev_line = ev.LINE
        self._ev_instruction = ev.INSTRUCTION
        self._ev_local_arcs = ev.LINE | ev.JUMP | ev.PY_RETURN
        self._ev_branch = ev.BRANCH
        self._ev_return = ev.PY_RETURN
        # (Straight frames are found through the code extra slot: without
        # one, all code gets LINE events.)
        self._straight_on = not self.branch and _straight_policy == 0 and covcore_extra_index >= 0
        self._partial = {}
        self._local_codes = {}
        self._completed = {}
        self._adopted = {}
        self._crumbs = {}
        # The callbacks: C functions (METH_FASTCALL) bound to this tracer,
        # which call the cdef methods below.  As Cython def methods each
        # event cost ~250 instructions more (keyword-argument handling,
        # converting the arguments), over ~20 K events importing pip.
        self._cb_start = _sysmon_callback(_CB_START, self)
        self._cb_line = _sysmon_callback(_CB_LINE_ARCS if self.branch else _CB_LINE, self)
        self._cb_instruction = _sysmon_callback(_CB_INSTRUCTION, self)
        self._cb_branch = _sysmon_callback(_CB_BRANCH, self)
        self._cb_jump = _sysmon_callback(_CB_JUMP, self)
        self._cb_return = _sysmon_callback(_CB_RETURN, self)
        self._cb_unwind = _sysmon_callback(_CB_UNWIND, self)

    cdef int _enable_code(self, object code, CodeState cs) except -1:
        cdef int events = self._ev_line
        if self._straight_on and cs.straight < 0:
            # Only a module or class body that exec() or __build_class__ is
            # starting now: an exception leaving it passes their wrappers.
            cs.straight = 1 if (covcore_st_is_entering(<PyObject *>code)
                                and not (covcore_code_co_flags(<PyObject *>code) & 0x1)   # CO_OPTIMIZED
                                and _is_straight(code) and _line_bitmap(cs, code)) else 0
        if self._straight_on and cs.straight == 1:
            # No event at all: the wrapper that started it records its lines
            # when it returns (_tracer_sysmon_straight.pxi).
            return 0
        if not self.branch and _long_lines(cs, code):
            events = self._ev_instruction
        elif self.branch:
            if cs.cmap is None:
                _build_code_map(self, cs, code)
            events = self._ev_local_arcs
            if cs.m.need_branch:
                events |= self._ev_branch
        return self._set_code_events(code, events)

    cdef int _set_code_events(self, object code, int events) except -1:
        """Turn on `events` (local) for `code`, and remember it to turn them
        off at stop()."""
        if self._get_tool(self.tool_id) != "covcore":
            # The measured program freed our tool id (or took it for itself):
            # turning events on would raise in its code or feed its
            # callbacks.  Measure no further; stop() warns trace-changed.
            return 0
        self._set_local_events(self.tool_id, code, events)
        self._local_codes[id(code)] = code
        return 0

    cdef int _enable_running_frames(self, dict only, bint adopt) except -1:
        """Turn on the local events of the measured code that every thread's
        frames are running (only code whose id is in `only`, unless None);
        with `adopt`, remember those frames as already running (branch mode's
        start())."""
        cdef CodeState cs
        for frame in sys._current_frames().values():
            while frame is not None:
                code = frame.f_code
                if only is None or id(code) in only:
                    cs = _lookup(self, <PyObject *>code)
                    if only is None:
                        # Running at start(): lines it ran before must not
                        # count, so LINE events, never the straight way.
                        cs.straight = 0
                    if cs.measured:
                        if cs.local_epoch != _epoch:
                            cs.local_epoch = _epoch
                            self._enable_code(code, cs)
                        if adopt:
                            self._adopted[id(frame)] = frame
                frame = frame.f_back
        return 0

    cdef inline bint _adopted_frame(self, bint forget):
        """Is the running frame one that was already running at start()?"""
        cdef PyFrameObject *frame = PyEval_GetFrame()
        key = id(<object>frame) if frame != NULL else 0
        if key in self._adopted:
            if forget:
                del self._adopted[key]
            return True
        return False

    cdef object _py_start(self, object code, int offset):
        """PY_START / PY_RESUME: decide once per code object, then DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef uint64_t key
        cdef Py_ssize_t marked
        self.n_start += 1
        if cs.measured:
            self.active = True
            if cs.local_epoch != _epoch and self.started:
                cs.local_epoch = _epoch
                self._enable_code(code, cs)
            if self.branch and cs.m.has_resumes and 0 <= offset and (offset >> 1) <= cs.nunits:
                key = cs.m.resume_keys[offset >> 1]
                if key != _ARC_NONE:
                    if self._adopted and self._adopted_frame(False):
                        return None
                    _add_key(cs, key)
        else:
            if _skip_unmeasured:
                marked = covcore_skip_nested(code, self.tool_id)
                if marked > 0:
                    self.n_skipped += marked
                _watch_safe_version(code, marked >= 0)
            if _REQUICKEN and not cs.requickened:
                # Not measured: its PY_START goes off now, and with it the only
                # event that made 3.12 take its superinstructions out.  Module
                # and class bodies (not CO_OPTIMIZED) run once: writing them back
                # there would cost a scan of the biggest code objects for nothing.
                cs.requickened = True
                if covcore_code_co_flags(<PyObject *>code) & 0x1:  # CO_OPTIMIZED
                    _requicken(code)
        return self._disable

    cdef bint _decided_unmeasured(self, object filename) except -1:
        """Is `filename` known to be unmeasured, without calling should_trace?"""
        return self._known_decision(filename) is None

    cdef object _line(self, object code, int line):
        """LINE (line mode; local, measured code only): record, then DISABLE.

        Once every line of the code object was recorded, its local events are
        removed altogether: a code object keeps running 3-5% slower (3.12,
        3.13; generators most) while it has local events, even when each of
        its locations was DISABLEd.  Functions only: module and class bodies
        keep theirs (see _record_line)."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        self.n_line += 1
        if cs.measured:
            return self._record_line(cs, code, line)
        return self._disable

    cdef object _instruction(self, object code, int offset):
        """INSTRUCTION (line mode, code objects _long_lines() picked): record
        the line of the instruction at `offset` (a byte offset), then DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef Py_ssize_t unit = offset >> 1
        self.n_instruction += 1
        if cs.measured and cs.unit_lines != NULL and 0 <= unit < cs.nunit_lines:
            if cs.unit_lines[unit] >= 0:
                return self._record_line(cs, code, cs.unit_lines[unit])
        return self._disable

    cdef object _record_line(self, CodeState cs, object code, int line):
        """Record `line` of measured code; DISABLE, or turn the code object's
        local events off once all of its lines were recorded (and return None)."""
        cdef bint bitmap = _line_bitmap(cs, code)     # sets cs.base the first time
        cdef int idx = line - cs.base
        if bitmap and <unsigned int>idx < <unsigned int>cs.nlines and cs.seen[idx] == 1:
            # In the set already: INSTRUCTION events come from each of a
            # line's instructions, and the int and set insert cost ~400.
            return self._disable
        PySet_Add(cs.file_data, line)
        self.active = True
        if bitmap:
            if <unsigned int>idx < <unsigned int>cs.nlines and cs.seen[idx] == 0:
                cs.seen[idx] = 1
                cs.left -= 1
                if cs.left == 0:
                    cs.left = -2
                    if not (covcore_code_co_flags(<PyObject *>code) & 0x1):  # not CO_OPTIMIZED
                        # A module or class body runs once as a rule: taking
                        # its events off would cost a _Py_Instrument pass (and
                        # a requicken) for nothing (1.1 M importing pip).
                        return self._disable
                    if self._get_tool(self.tool_id) != "covcore":
                        # The program freed our tool id (stop() warns).
                        return None
                    self.n_complete += 1
                    self._set_local_events(self.tool_id, code, 0)
                    self._completed[id(code)] = code
                    if _REQUICKEN:
                        _requicken(code)
                    return None
        return self._disable

    cdef object _line_arcs(self, object code, int line):
        """LINE (branch mode): record what this location stands for, DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef PyFrameObject *frame
        cdef int offset
        self.n_line += 1
        if not cs.measured:
            return self._disable
        if cs.cmap is None:
            _build_code_map(self, cs, code)
        self.active = True
        if self._adopted and self._adopted_frame(True):
            # Its first line after start(): no arc into it (as CTracer).
            PySet_Add(cs.file_data, (line, line))
            return None
        frame = PyEval_GetFrame()
        offset = covcore_frame_lasti(frame) if frame != NULL else -1
        if 0 <= offset and (offset >> 1) <= cs.nunits and cs.m.rec_at[offset >> 1] >= 0:
            _add_record(cs, offset >> 1)
        else:
            PySet_Add(cs.file_data, (line, line))
        if cs.crumb_lines is not None:
            arc = cs.crumb_lines.get(offset)
            if arc is not None:
                crumb = self._crumbs.pop(PyThread_get_thread_ident(), None)
                if crumb is not None and crumb == (id(code), offset):
                    # Came by a JUMP, which recorded its arc: stay on until
                    # the one other way here is seen.
                    return None
                PySet_Add(cs.file_data, arc)
                if cs.crumb_done is None:
                    cs.crumb_done = set()
                cs.crumb_done.add(offset)
        return self._disable

    cdef object _branch_event(self, object code, int src, int dst):
        """BRANCH: record the direction's arc; DISABLE once nothing is left to learn."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef BranchLoc *b
        cdef int k
        cdef unsigned char bit, seen
        cdef uint64_t key
        self.n_branch += 1
        if not cs.measured:
            return self._disable
        if cs.cmap is None:
            _build_code_map(self, cs, code)
        if src < 0 or (src >> 1) >= cs.nunits:
            return self._disable
        k = cs.m.bslot[src >> 1]
        if k < 0:
            return self._disable
        b = &cs.m.blocs[k]
        if dst == b.dest0:
            bit = 1
            key = b.key0
        elif dst == b.dest1:
            bit = 2
            key = b.key1
        else:
            return None
        seen = cs.bseen[k]
        if not (seen & bit):
            if self._adopted and self._adopted_frame(False):
                return None
            if key != _ARC_NONE:
                _add_key(cs, key)
                self.active = True
            seen |= bit
            cs.bseen[k] = seen
        if ((seen | ~b.need) & 3) == 3:
            return self._disable
        return None

    cdef object _jump_event(self, object code, int src, int dst):
        """JUMP: record the arc of this jump, then DISABLE."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef uint64_t key
        self.n_jump += 1
        if cs.measured:
            if cs.cmap is None:
                _build_code_map(self, cs, code)
            key = cs.m.jump_keys[src >> 1] if 0 <= src and (src >> 1) <= cs.nunits else _ARC_NONE
            if key != _ARC_NONE:
                if self._adopted and self._adopted_frame(False):
                    return None
                _add_key(cs, key)
                self.active = True
            if cs.crumb_jumps is not None:
                target = cs.crumb_jumps.get(src)
                if target is not None and (cs.crumb_done is None or target not in cs.crumb_done):
                    # Tell the LINE right after this jump where it came from.
                    self._crumbs[PyThread_get_thread_ident()] = (id(code), target)
                    return None
        return self._disable

    cdef object _return_event(self, object code, int offset, object retval):
        """PY_RETURN: record the exit arc, then DISABLE."""
        if not self.branch:
            return _straight_return(self, code, offset)
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef uint64_t key
        self.n_return += 1
        if cs.measured:
            if cs.cmap is None:
                _build_code_map(self, cs, code)
            key = cs.m.return_keys[offset >> 1] if 0 <= offset and (offset >> 1) <= cs.nunits else _ARC_NONE
            if key != _ARC_NONE:
                if self._adopted and self._adopted_frame(True):
                    return None
                _add_key(cs, key)
                self.active = True
        return self._disable

    cdef object _unwind_event(self, object code, int offset, object exc):
        """PY_UNWIND (global, can't be disabled): an exception leaves a frame."""
        cdef CodeState cs = _lookup(self, <PyObject *>code)
        cdef PyFrameObject *frame
        cdef int line
        self.n_unwind += 1
        if not cs.measured or cs.cmap is None:
            return None
        if offset < 0 or (offset >> 1) >= cs.nunits:
            return None
        line = cs.unwind_lines[offset >> 1]
        if line == 0:
            return None
        if self._adopted and self._adopted_frame(True):
            return None
        if cs.is_gen:
            # A generator closed at a yield: not a return (as CTracer).
            frame = PyEval_GetFrame()
            if frame != NULL and not _real_return(cs, frame):
                return None
        _record_arc(self, cs, line, -cs.first_line)
        return None

    def start(self):
        """Start measuring every thread; running frames from their next line."""
        global _epoch
        if self.started:
            return
        mon = _sysmon
        candidates = [mon.COVERAGE_ID, 3, 4, 2, 0, 5]
        for tool_id in candidates:
            if mon.get_tool(tool_id) is None:
                try:
                    mon.use_tool_id(tool_id, "covcore")
                except ValueError:
                    continue
                break
        else:
            raise CovcoreError(
                "No sys.monitoring tool id is free for covcore: ids 0-5 are used by %s"
                % ", ".join("%d=%s" % (i, mon.get_tool(i)) for i in range(6)),
                slug="no-tool-id",
            )
        self.tool_id = tool_id
        _epoch += 1
        self._local_codes = {}
        self._completed = {}
        self._adopted = {}
        self.started = True
        events = mon.events
        try:
            # Frames already running (in every thread) never give a PY_START:
            # turn their line events on now.  Done before our callbacks are
            # registered, so should_trace's own code is not looked at.
            self._enable_running_frames(None, self.branch)
            mon.register_callback(tool_id, events.PY_START, self._cb_start)
            mon.register_callback(tool_id, events.PY_RESUME, self._cb_start)
            mon.register_callback(tool_id, events.LINE, self._cb_line)
            if not self.branch:
                mon.register_callback(tool_id, events.INSTRUCTION, self._cb_instruction)
            wanted = events.PY_START | events.PY_RESUME
            if self.branch:
                mon.register_callback(tool_id, events.BRANCH, self._cb_branch)
                mon.register_callback(tool_id, events.JUMP, self._cb_jump)
                mon.register_callback(tool_id, events.PY_RETURN, self._cb_return)
                mon.register_callback(tool_id, events.PY_UNWIND, self._cb_unwind)
                wanted |= events.PY_UNWIND
            elif self._straight_on:
                mon.register_callback(tool_id, events.PY_RETURN, self._cb_return)
                _st_install(self)
            mon.set_events(tool_id, wanted)
            # Locations DISABLEd by an earlier session must fire again.
            mon.restart_events()
            _watch_start(self)
        except BaseException:
            self._shutdown(False)
            raise

    cdef void _shutdown(self, bint at_exit):
        mon = _sysmon
        tool_id = self.tool_id
        events = mon.events
        self.started = False
        _watch_stop(self)
        if self._straight_on:
            _st_uninstall(self)
        try:
            if mon.get_tool(tool_id) == "covcore":
                mon.set_events(tool_id, 0)
                if not at_exit:
                    for code in self._local_codes.values():
                        mon.set_local_events(tool_id, code, 0)
                for event in (
                    events.PY_START, events.PY_RESUME, events.LINE, events.INSTRUCTION, events.BRANCH,
                    events.JUMP, events.PY_RETURN, events.PY_UNWIND,
                ):
                    mon.register_callback(tool_id, event, None)
                if not at_exit:
                    clear = getattr(mon, "clear_tool_id", None)
                    if clear is not None:
                        clear(tool_id)
                    mon.free_tool_id(tool_id)
        finally:
            self._local_codes = {}
            self._completed = {}
            self._adopted = {}
            self._crumbs = {}
            self._partial = {}
            self.tool_id = -1

    def stop(self):
        """Stop measuring: events off, callbacks unregistered, tool id freed."""
        self._stop(False)

    def stop_at_exit(self):
        """stop(), for a process that is ending: the local events of measured
        code objects are left on (taking them off is a _Py_Instrument pass
        per code object, 3 M instructions importing pip) and so the tool id
        stays taken, so that no other tool can get them.  With covcore's
        callbacks unregistered they call nothing (CPython skips a tool with
        no callback)."""
        self._stop(True)

    cdef _stop(self, bint at_exit):
        if not self.started:
            return
        tool_id = self.tool_id
        owner = _sysmon.get_tool(tool_id)
        if self._straight_on and owner == "covcore":
            _straight_frames(self, True, False)
        self._shutdown(at_exit)
        self._release_states()
        if owner != "covcore" and self.warn is not None:
            self.warn(
                "Trace function changed, data is likely wrong: "
                "sys.monitoring tool id %d now belongs to %r" % (tool_id, owner),
                "trace-changed",
            )

    def restart(self):
        """Record every line (arc) again from now on, into the current data sets."""
        global _epoch
        if self._straight_on and self.started:
            # Recorded up to here by record_running() (the collector's
            # switch_context() reads the data first).
            _straight_frames(self, False, True)
        _epoch += 1
        if self._completed:
            # Code whose events went off when it was complete gets them back
            # at its next PY_START or PY_RESUME (restart_events re-arms
            # those); frames running it now, in any thread, need them now.
            self._enable_running_frames(self._completed, False)
            self._completed = {}
        _sysmon.restart_events()

    def keep_line_events(self):
        """Measure straight-line code with LINE events too, as all other code,
        and wrap no builtins (call before start()): for programs whose frames
        can be suspended out of every thread's stack (greenlets), where
        stop() could not find them to record what they ran
        (_tracer_sysmon_straight.pxi).

        :raises CovcoreError: the tracer has started."""
        if self.started:
            raise CovcoreError("keep_line_events() must come before start()")
        self._straight_on = False

    def record_running(self):
        """Record the lines that running frames of straight-line code (line
        mode, every thread) have reached so far: the wrapper that started
        them records them when they end (_tracer_sysmon_straight.pxi).  Called before the
        data sets are read while measuring."""
        if self._straight_on and self.started:
            _straight_frames(self, True, False)

    def event_counts(self):
        """How many callbacks of each kind ran since this tracer was made
        (every thread), for tests and ``--debug``: each callback turns itself
        off once it can record nothing new, so these stay small."""
        return {
            "start": self.n_start,
            "line": self.n_line,
            "instruction": self.n_instruction,
            "branch": self.n_branch,
            "jump": self.n_jump,
            "return": self.n_return,
            "straight": self.n_straight,
            "unwind": self.n_unwind,
            "complete": self.n_complete,
            "skipped": self.n_skipped,
        }
