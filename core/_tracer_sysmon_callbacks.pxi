# Included by _tracer.pyx (one extension module, split for reading), after
# _tracer_sysmon.pxi.

# The callbacks sys.monitoring calls.
#
# Each is a builtin function (METH_FASTCALL) whose self is the SysMonTracer:
# CPython calls it with the event's arguments in a C array, and it hands them
# to the tracer's cdef method, converted.

cdef extern from "Python.h":
    ctypedef struct PyMethodDef:
        const char *ml_name
        void *ml_meth
        int ml_flags
        const char *ml_doc
    object PyCFunction_NewEx(PyMethodDef *ml, object self, object module)
    int METH_FASTCALL


cdef enum:
    _CB_START, _CB_LINE, _CB_LINE_ARCS, _CB_INSTRUCTION, _CB_BRANCH, _CB_JUMP, _CB_RETURN, _CB_UNWIND, _CB_COUNT


cdef int _sysmon_nargs(Py_ssize_t nargs, Py_ssize_t wanted, const char *name) except -1:
    if nargs != wanted:
        raise TypeError("%s() takes %d arguments (%d given)" % (name.decode("ascii"), wanted, nargs))
    return 0


cdef object _sysmon_cb_start(object self, PyObject **args, Py_ssize_t nargs):
    _sysmon_nargs(nargs, 2, b"covcore_py_start")
    return (<SysMonTracer>self)._py_start(<object>args[0], <object>args[1])


cdef object _sysmon_cb_line(object self, PyObject **args, Py_ssize_t nargs):
    _sysmon_nargs(nargs, 2, b"covcore_line")
    return (<SysMonTracer>self)._line(<object>args[0], <object>args[1])


cdef object _sysmon_cb_line_arcs(object self, PyObject **args, Py_ssize_t nargs):
    _sysmon_nargs(nargs, 2, b"covcore_line_arcs")
    return (<SysMonTracer>self)._line_arcs(<object>args[0], <object>args[1])


cdef object _sysmon_cb_instruction(object self, PyObject **args, Py_ssize_t nargs):
    _sysmon_nargs(nargs, 2, b"covcore_instruction")
    return (<SysMonTracer>self)._instruction(<object>args[0], <object>args[1])


cdef object _sysmon_cb_branch(object self, PyObject **args, Py_ssize_t nargs):
    _sysmon_nargs(nargs, 3, b"covcore_branch")
    return (<SysMonTracer>self)._branch_event(<object>args[0], <object>args[1], <object>args[2])


cdef object _sysmon_cb_jump(object self, PyObject **args, Py_ssize_t nargs):
    _sysmon_nargs(nargs, 3, b"covcore_jump")
    return (<SysMonTracer>self)._jump_event(<object>args[0], <object>args[1], <object>args[2])


cdef object _sysmon_cb_return(object self, PyObject **args, Py_ssize_t nargs):
    _sysmon_nargs(nargs, 3, b"covcore_py_return")
    return (<SysMonTracer>self)._return_event(<object>args[0], <object>args[1], <object>args[2])


cdef object _sysmon_cb_unwind(object self, PyObject **args, Py_ssize_t nargs):
    _sysmon_nargs(nargs, 3, b"covcore_py_unwind")
    return (<SysMonTracer>self)._unwind_event(<object>args[0], <object>args[1], <object>args[2])


cdef PyMethodDef _sysmon_defs[<int>_CB_COUNT]


cdef void _sysmon_def(int which, const char *name, void *meth) noexcept:
    _sysmon_defs[which].ml_name = name
    _sysmon_defs[which].ml_meth = meth
    _sysmon_defs[which].ml_flags = METH_FASTCALL
    _sysmon_defs[which].ml_doc = NULL


_sysmon_def(_CB_START, b"covcore_py_start", <void *>_sysmon_cb_start)
_sysmon_def(_CB_LINE, b"covcore_line", <void *>_sysmon_cb_line)
_sysmon_def(_CB_LINE_ARCS, b"covcore_line_arcs", <void *>_sysmon_cb_line_arcs)
_sysmon_def(_CB_INSTRUCTION, b"covcore_instruction", <void *>_sysmon_cb_instruction)
_sysmon_def(_CB_BRANCH, b"covcore_branch", <void *>_sysmon_cb_branch)
_sysmon_def(_CB_JUMP, b"covcore_jump", <void *>_sysmon_cb_jump)
_sysmon_def(_CB_RETURN, b"covcore_py_return", <void *>_sysmon_cb_return)
_sysmon_def(_CB_UNWIND, b"covcore_py_unwind", <void *>_sysmon_cb_unwind)


cdef object _sysmon_callback(int which, SysMonTracer tracer):
    """The builtin function sys.monitoring calls for one kind of event."""
    return PyCFunction_NewEx(&_sysmon_defs[which], tracer, None)
