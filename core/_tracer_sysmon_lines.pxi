# Included by _tracer.pyx (one extension module, split for reading), before
# _tracer_sysmon.pxi: how SysMonTracer's line mode reads a code object's lines.
# Each code object gets LINE events, or INSTRUCTION events when the layout of
# its lines makes 3.12/3.13's LINE events expensive (_long_lines).

cdef bint _line_bitmap(CodeState cs, object code) except -1:
    """Make cs's line bitmap (_compute_lines) if it isn't made yet; False
    (and cs.left -2: never complete) for code with no line table to count."""
    if cs.seen != NULL:
        return True
    if cs.left == -2:
        return False
    _compute_lines(cs, code)
    if cs.seen == NULL:
        cs.left = -2
        return False
    return True


cdef int _long_lines_policy = 0   # 0: _long_lines decides; 1: INSTRUCTION, 2: LINE events (tests)

# Python/instrumentation.c in 3.12 and 3.13 (compute_line_delta) keeps each
# instruction's line as  co_firstlineno + (offset >> 4) + delta  with delta a
# signed byte; outside (_FAR_LOW, 127] the line is "computed": looked up with
# PyCode_Addr2Line, a walk of the line table from its start.  3.14 keeps the
# whole line delta and has no such lookups.
cdef bint _HAS_LINE_DELTAS = sys.version_info[:2] in ((3, 12), (3, 13))
cdef int _FAR_LOW = -127 if sys.version_info[:2] == (3, 12) else -126
cdef int _CACHE_OP = _opcode.opmap.get("CACHE", -1)
# Counted with callgrind (benchmarks/line_events.py; benchmarks/README.md):
# a LINE event at a far line costs ~92 (3.12) / ~46 (3.13) instructions per
# instruction the line table walk passes; an INSTRUCTION event after the
# first of its line costs ~650 more than nothing.
cdef int _WALK_COST = 92 if sys.version_info[:2] == (3, 12) else 46
cdef int _EXTRA_EVENT_COST = 650


def _set_long_lines_policy_for_tests(int policy):
    """0: _long_lines() decides; 1: INSTRUCTION events for every code object
    with a far line (3.12/3.13); 2: LINE events always."""
    global _long_lines_policy
    _long_lines_policy = policy


cdef bint _far_walks_cost_more(object code) except -1:
    """Would LINE events in `code` cost more in line table walks (at its far
    line starts) than INSTRUCTION events would in extra events?  Priced in
    one pass over co_linetable and co_code, instruction by instruction, with
    nothing allocated (see _long_lines)."""
    cdef bytes co_obj = code.co_code
    cdef const unsigned char *co = co_obj
    cdef Py_ssize_t nunits = len(co_obj) // 2
    cdef Py_ssize_t prefix_end = _resume_end(co_obj)
    cdef bytes table_obj = code.co_linetable
    cdef const unsigned char *t = table_obj
    cdef Py_ssize_t n = len(table_obj), k = 0, unit = 0, u = 0, stop
    cdef long long line = code.co_firstlineno, entry_line, prev = -1
    cdef long long walk_cost = 0, extra_events = 0, n_ins = 0
    cdef long long first = code.co_firstlineno, delta
    cdef int length
    while k < n and unit < nunits:
        k = _bc_linetable_entry(t, n, k, &line, &entry_line, &length)
        stop = min(unit + length, nunits)
        while u < stop:
            if entry_line >= 0 and 2 * u >= prefix_end:
                n_ins += 1
                if entry_line == prev:
                    extra_events += 1
                else:
                    prev = entry_line
                    delta = entry_line - first - (u >> 4)
                    if delta > 127 or delta <= _FAR_LOW:
                        walk_cost += _WALK_COST * n_ins
            u += 1 + _bc_ncaches[co[2 * u]]
        unit += length
    return walk_cost > extra_events * _EXTRA_EVENT_COST


cdef bint _long_lines(CodeState cs, object code) except -1:
    """Should line mode measure `code` with INSTRUCTION events instead of LINE?

    In CPython 3.12/3.13 a LINE event at a "far" line (one whose delta from
    co_firstlineno + offset/16 doesn't fit a signed byte; see _HAS_LINE_DELTAS)
    runs PyCode_Addr2Line from the start of the line table, for this
    instruction and the one before: in long module bodies that is most of
    what line mode costs (a 400-line module: 14 M instructions against 1.5 M).
    An INSTRUCTION event comes with the offset, which cs.unit_lines turns
    into the line at once, but it fires for each instruction, not each line.
    So both are priced, from the code's own layout (_far_walks_cost_more):
    the walks the far line starts would cost against the extra INSTRUCTION
    events, and the cheaper is used.  Both record the same lines: every
    instruction LINE events reach is in a line they report (line starts,
    jump targets and handlers all are)."""
    cdef Py_ssize_t nunits = covcore_code_size(<PyObject *>code)
    if cs.unit_lines != NULL:
        return True
    if not _HAS_LINE_DELTAS or _long_lines_policy == 2 or not _line_bitmap(cs, code):
        return False
    if cs.base + cs.nlines - 1 - code.co_firstlineno < 128 and (nunits >> 4) < 126:
        return False        # no line can be far
    if _long_lines_policy == 0 and not _far_walks_cost_more(code):
        return False
    _compute_unit_lines(cs, code)
    return True
