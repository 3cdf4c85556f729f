# Included by _tracer.pyx (one extension module, split for reading): letting the
# code objects of an unmeasured file skip CPython's instrumentation (3.12, 3.13).

# Why.  The sysmon tracer's PY_START is a global event, so CPython instruments
# every code object the first time it runs (Python/instrumentation.c,
# _Py_Instrument, called from RESUME when the code object's
# _co_instrumentation_version differs from the interpreter's), and then calls
# covcore's PY_START callback, which finds the file unmeasured and DISABLEs the
# event.  Importing pip that is ~2,500 code objects of unmeasured files (the
# stdlib, pip._vendor): ~8 M instructions of instrumenting and ~9 M of
# callbacks (3.12), for nothing.
#
# What.  When the first code object of an unmeasured file runs (its module
# body, as a rule), the code objects nested in its co_consts (its functions,
# classes, lambdas, comprehensions: same file, so just as unmeasured) that were
# never instrumented are given the version that code object was just
# instrumented at.  RESUME then finds them up to date: they run as they would
# without covcore, and no PY_START comes from them.
#
# Why it is safe.  A code object marked so misses exactly the events that were
# on when it was marked, and those are checked first: the parent's active
# local events (global ones, and its own local ones) may come from covcore's
# tool only, so no other tool (another sys.monitoring tool, the
# dynamic-context detector, sys.settrace or sys.setprofile, which are tools
# too on 3.12+) loses an event.  Covcore's only global local-event is
# PY_START/PY_RESUME, which these files' code would DISABLE at once.  Any
# later change of events by anyone (set_events, settrace, covcore's own
# stop() and start()) gives the interpreter a new version: the marked code
# objects are then out of date like every other one, and are instrumented at
# their next RESUME as usual.  set_local_events() on one of them (another
# tool's) instruments it at once, as for any code object.  Code objects with
# monitoring data, or another file name, are left alone.  Not on debug
# builds, whose _Py_Instrument cross-checks the monitoring data of up-to-date
# code objects.

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED) && !defined(Py_DEBUG)
    #define COVCORE_CAN_SKIP 1
    static Py_ssize_t covcore_mark_consts(PyCodeObject *co, uint64_t version, PyObject *filename, int depth) {
        Py_ssize_t i, n, marked = 0;
        PyObject *consts = co->co_consts;
        if (depth > 100 || consts == NULL || !PyTuple_Check(consts)) {
            return 0;
        }
        n = PyTuple_GET_SIZE(consts);
        for (i = 0; i < n; i++) {
            PyObject *item = PyTuple_GET_ITEM(consts, i);
            PyCodeObject *c;
            if (!PyCode_Check(item)) {
                continue;
            }
            c = (PyCodeObject *)item;
            if (c->_co_monitoring != NULL || c->_co_instrumentation_version == version) {
                continue;
            }
            if (c->co_filename != filename
                && PyUnicode_Compare(c->co_filename, filename) != 0) {
                PyErr_Clear();
                continue;
            }
            c->_co_instrumentation_version = version;
            marked += 1 + covcore_mark_consts(c, version, filename, depth + 1);
        }
        return marked;
    }
    /* Mark the never-instrumented code objects nested in `code` (an
       unmeasured code object whose PY_START is running now) as instrumented
       at `code`'s version, if only tool `tool_id` has local events active in
       `code`.  Returns how many were marked, or -1 if it was not safe. */
    static Py_ssize_t covcore_skip_nested(PyObject *code, int tool_id) {
        PyCodeObject *co = (PyCodeObject *)code;
        _PyCoMonitoringData *m = co->_co_monitoring;
        int i;
        uint8_t others = (uint8_t)~(1u << tool_id);
        if (m == NULL) {
            return -1;
        }
        for (i = 0; i < _PY_MONITORING_LOCAL_EVENTS; i++) {
            if (m->active_monitors.tools[i] & others) {
                return -1;
            }
        }
        return covcore_mark_consts(co, (uint64_t)co->_co_instrumentation_version, co->co_filename, 0);
    }
    static uint64_t covcore_code_version(PyObject *code) {
        return (uint64_t)((PyCodeObject *)code)->_co_instrumentation_version;
    }
    /* A code object just made (no monitoring data yet): up to date at `version`. */
    static void covcore_mark_new_code(PyObject *code, uint64_t version) {
        PyCodeObject *c = (PyCodeObject *)code;
        if (c->_co_monitoring == NULL) {
            c->_co_instrumentation_version = version;
        }
    }
    typedef int (*covcore_code_cb)(int, PyObject *);
    static int covcore_add_code_watcher(covcore_code_cb cb) {
        int id = PyCode_AddWatcher((PyCode_WatchCallback)cb);
        if (id < 0) {
            PyErr_Clear();  /* all code watcher ids taken: do without */
        }
        return id;
    }
    static void covcore_clear_code_watcher(int id) {
        if (PyCode_ClearWatcher(id) < 0) {
            PyErr_Clear();
        }
    }
    #define COVCORE_CODE_CREATED PY_CODE_EVENT_CREATE
    #else
    #define COVCORE_CAN_SKIP 0
    #define COVCORE_CODE_CREATED 0
    typedef int (*covcore_code_cb)(int, PyObject *);
    static Py_ssize_t covcore_skip_nested(PyObject *code, int tool_id) { return -1; }
    static uint64_t covcore_code_version(PyObject *code) { return 0; }
    static void covcore_mark_new_code(PyObject *code, uint64_t version) { }
    static int covcore_add_code_watcher(covcore_code_cb cb) { return -1; }
    static void covcore_clear_code_watcher(int id) { }
    #endif
    """
    const int COVCORE_CAN_SKIP
    const int COVCORE_CODE_CREATED
    ctypedef int (*covcore_code_cb)(int, PyObject *) noexcept
    Py_ssize_t covcore_skip_nested(object code, int tool_id)
    uint64_t covcore_code_version(object code)
    void covcore_mark_new_code(PyObject *code, uint64_t version)
    int covcore_add_code_watcher(covcore_code_cb cb)
    void covcore_clear_code_watcher(int id)


#: Let unmeasured files' nested code objects skip instrumentation (above).
#: Tests turn it off to check both ways give the same results.
cdef bint _skip_unmeasured = COVCORE_CAN_SKIP != 0


def _set_skip_unmeasured_for_tests(bint on):
    """Turn the marking of unmeasured nested code objects on or off (for
    tests; on by default on 3.12 and 3.13).  Returns the previous setting."""
    global _skip_unmeasured
    old = _skip_unmeasured
    _skip_unmeasured = on and COVCORE_CAN_SKIP != 0
    return old


# The code watcher (PyCode_AddWatcher, 3.12+): a code object made while the
# sysmon tracer runs, for a file already decided unmeasured (should_trace's
# cache, or its short way: set_fast_rules), is marked as above the moment it
# is made: a module imported from a known directory then runs without its
# body being instrumented or giving a PY_START, and so does code made by
# exec() and eval() of strings (dataclasses, namedtuple).  The version it
# gets is the one the last unmeasured PY_START found safe (only covcore's
# tool with events): anything that changed events since made it stale, so
# the code object is then instrumented at its first RESUME as usual.

cdef object _watch_tracer = None        # the started SysMonTracer using the watcher
cdef int _watch_id = -1
cdef uint64_t _watch_version = 0
cdef bint _watch_ok = False             # _watch_version was found safe
cdef object _watch_last_file = None     # the file name last asked about (held)
cdef bint _watch_last_unmeasured = False


cdef int _code_created(int event, PyObject *code) noexcept:
    global _watch_last_file, _watch_last_unmeasured
    if event != COVCORE_CODE_CREATED or not _watch_ok or _watch_tracer is None:
        return 0
    filename = <object>covcore_code_filename(code)
    if filename is not _watch_last_file:
        try:
            unmeasured = (<SysMonTracer>_watch_tracer)._decided_unmeasured(filename)
        except BaseException:
            unmeasured = False
        _watch_last_file = filename
        _watch_last_unmeasured = unmeasured
    if _watch_last_unmeasured:
        covcore_mark_new_code(code, _watch_version)
        (<SysMonTracer>_watch_tracer).n_skipped += 1
    return 0


cdef void _watch_decided() noexcept:
    """should_trace just decided a file: forget the code watcher's last
    answer, which may have been "not decided yet" for that very file (its
    later code objects would then go unmarked)."""
    global _watch_last_file
    _watch_last_file = None


cdef void _watch_safe_version(object code, bint safe):
    """An unmeasured code object just started: note whether marking at its
    instrumentation version is safe (see above)."""
    global _watch_version, _watch_ok
    if safe:
        _watch_version = covcore_code_version(code)
    _watch_ok = safe


cdef void _watch_start(object tracer):
    global _watch_tracer, _watch_id, _watch_ok
    if not _skip_unmeasured or _watch_tracer is not None:
        return
    _watch_ok = False
    _watch_id = covcore_add_code_watcher(_code_created)
    if _watch_id >= 0:
        _watch_tracer = tracer


cdef void _watch_stop(object tracer):
    global _watch_tracer, _watch_id, _watch_ok, _watch_last_file
    if _watch_tracer is not tracer:
        return
    covcore_clear_code_watcher(_watch_id)
    _watch_id = -1
    _watch_tracer = None
    _watch_ok = False
    _watch_last_file = None
