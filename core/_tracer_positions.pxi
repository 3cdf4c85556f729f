# Included by _tracer.pyx (one extension module, split for reading), before
# _tracer_rewrite.pxi: the source positions of a code object's code units and
# the location table of rewritten code, in C, for the probe rewriters (3.10
# and 3.11).  They rewrite every code object of every measured module as it is
# imported; code.co_positions() made a 4-tuple per code unit for them
# (Py_BuildValue: about 100 K instructions for a 150-unit function on 3.11,
# 220 M of import-pip's 620 M), and comparing and re-encoding those tuples as
# much again.  Here nothing is allocated but one array per code object.

cdef struct _Pos:
    # One code unit's source position as code.co_positions() gives it (3.11),
    # -1 for None; on 3.10 `line` as co_lines() gives it, the rest -1.
    int line
    int end_line
    int col
    int end_col


cdef inline bint _pos_eq(const _Pos *a, const _Pos *b) noexcept:
    return a.line == b.line and a.end_line == b.end_line and a.col == b.col and a.end_col == b.end_col


cdef inline Py_ssize_t _add_run(const _Pos *pos, int *run_pos, int *run_units, Py_ssize_t nruns,
                                int unit, int units, bint merge) noexcept:
    """Append `units` code units at the position of old unit `unit` to the
    runs _encode_positions reads (the last run grows when it has the same
    position and `merge` allows); returns the new number of runs."""
    if merge and nruns > 0 and _pos_eq(&pos[run_pos[nruns - 1]], &pos[unit]):
        run_units[nruns - 1] += units
        return nruns
    run_pos[nruns] = unit
    run_units[nruns] = units
    return nruns + 1


# (The varints of co_linetable are read by _lt_varint and _lt_svarint, in
# _tracer_bytecode.pxi.)


cdef _Pos *_unit_positions(object code, Py_ssize_t nunits, Py_ssize_t *covered) except NULL:
    """Per code unit of `code` (`nunits` of them), its source position; the
    array is PyMem_Malloc'd and the caller frees it.  `covered` gets how many
    units the table covers (code.co_positions() yields that many; the units
    after them are left at -1).

    3.11: what code.co_positions() gives, read from co_linetable as CPython's
    advance_with_locations() does (Objects/locations.md): the long, no-column,
    one-line and short forms, and "no location".  3.10: co_lines()'s line.
    """
    cdef _Pos *pos = <_Pos *>PyMem_Malloc((nunits + 1) * sizeof(_Pos))
    cdef Py_ssize_t u, k, stop, i = 0, n
    cdef int line, form, length, second
    cdef _Pos p
    cdef bytes table
    cdef const unsigned char *t
    if pos == NULL:
        raise MemoryError()
    for u in range(nunits + 1):
        pos[u].line = pos[u].end_line = pos[u].col = pos[u].end_col = -1
    if _PY310:
        covered[0] = nunits
        for start, end, pyline in code.co_lines():
            if pyline is not None:
                for u in range(start // 2, min(end // 2, nunits)):
                    pos[u].line = pyline
        return pos
    table = code.co_linetable
    t = table
    n = len(table)
    line = code.co_firstlineno
    u = 0
    while i < n:
        form = (t[i] >> 3) & 15
        length = (t[i] & 7) + 1
        i += 1
        if form == 15:          # no location
            p.line = p.end_line = p.col = p.end_col = -1
        elif form == 14:        # long form
            line += _lt_svarint(t, n, &i)
            p.line = line
            p.end_line = line + <int>_lt_varint(t, n, &i)
            p.col = <int>_lt_varint(t, n, &i) - 1
            p.end_col = <int>_lt_varint(t, n, &i) - 1
        elif form == 13:        # no columns
            line += _lt_svarint(t, n, &i)
            p.line = p.end_line = line
            p.col = p.end_col = -1
        elif form >= 10:        # one line, delta 0-2, columns in two bytes
            line += form - 10
            p.line = p.end_line = line
            p.col = t[i] if i < n else 0
            p.end_col = t[i + 1] if i + 1 < n else 0
            i += 2
        else:                   # short form: this line, columns packed
            second = t[i] if i < n else 0
            i += 1
            p.line = p.end_line = line
            p.col = (form << 3) | (second >> 4)
            p.end_col = p.col + (second & 15)
        stop = min(u + length, nunits)
        for k in range(u, stop):
            pos[k] = p
        u += length
    covered[0] = min(u, nunits)
    return pos


cdef struct _Buf:
    # A growing byte buffer (bytearray.append per byte was half of encoding).
    unsigned char *data
    Py_ssize_t len
    Py_ssize_t cap


cdef int _buf_reserve(_Buf *buf, Py_ssize_t extra) except -1:
    """Room for `extra` more bytes in `buf`."""
    cdef Py_ssize_t cap
    cdef unsigned char *data
    if buf.len + extra > buf.cap:
        cap = max(2 * buf.cap, buf.len + extra + 64)
        data = <unsigned char *>PyMem_Realloc(buf.data, cap)
        if data == NULL:
            raise MemoryError()
        buf.data = data
        buf.cap = cap
    return 0


cdef inline void _put_varint(_Buf *buf, unsigned int v) noexcept:
    # (At most 6 bytes: the caller reserved them.)
    while v >= 64:
        buf.data[buf.len] = 64 | (v & 63)
        buf.len += 1
        v >>= 6
    buf.data[buf.len] = v
    buf.len += 1


cdef inline void _put2(_Buf *buf, unsigned char a, unsigned char b) noexcept:
    buf.data[buf.len] = a
    buf.data[buf.len + 1] = b
    buf.len += 2


cdef bytes _encode_positions(const _Pos *pos, const int *run_pos, const int *run_units, Py_ssize_t nruns,
                             int first_line, bint lnotab_310):
    """The location table of code made of `nruns` runs, run r being
    run_units[r] code units at position pos[run_pos[r]] (-1: None).

    3.11's table (Objects/locations.md): each run in entries of up to 8 units,
    in the long form, or "no location" when the line is None.  With
    `lnotab_310`, 3.10's line table (Objects/lnotab_notes.txt): (byte delta
    0-254, line delta -127..127, or -128 for no line) pairs, lines only.

    :raises OverflowError: an end line before its line (a negative varint).
    """
    cdef _Buf buf
    cdef int line_now = first_line
    cdef int length, m, delta, nbytes, chunk, ld
    cdef const _Pos *p
    cdef Py_ssize_t r
    buf.data = NULL
    buf.len = buf.cap = 0
    try:
        for r in range(nruns):
            p = &pos[run_pos[r]]
            length = run_units[r]
            if lnotab_310:
                nbytes = 2 * length
                if p.line == -1:
                    ld = -128
                else:
                    delta = p.line - line_now
                    line_now = p.line
                    while delta > 127:
                        _buf_reserve(&buf, 2)
                        _put2(&buf, 0, 127)
                        delta -= 127
                    while delta < -127:
                        _buf_reserve(&buf, 2)
                        _put2(&buf, 0, <unsigned char>(-127 & 0xFF))
                        delta += 127
                    ld = delta
                while True:
                    chunk = 254 if nbytes > 254 else nbytes
                    _buf_reserve(&buf, 2)
                    _put2(&buf, chunk, <unsigned char>(ld & 0xFF))
                    nbytes -= chunk
                    if nbytes <= 0:
                        break
                    if ld != -128:
                        ld = 0
                continue
            if p.line != -1 and p.end_line != -1 and p.end_line < p.line:
                raise OverflowError("can't convert negative value to unsigned int")
            while length > 0:
                m = 8 if length > 8 else length
                length -= m
                _buf_reserve(&buf, 25)     # a first byte and four varints of up to 6
                if p.line == -1:
                    buf.data[buf.len] = 0xF8 | (m - 1)
                    buf.len += 1
                    continue
                buf.data[buf.len] = 0xF0 | (m - 1)
                buf.len += 1
                delta = p.line - line_now
                line_now = p.line
                _put_varint(&buf, ((<unsigned int>(-delta)) << 1) | 1 if delta < 0 else (<unsigned int>delta) << 1)
                _put_varint(&buf, <unsigned int>(p.end_line - p.line) if p.end_line != -1 else 0)
                _put_varint(&buf, <unsigned int>(p.col + 1))        # None (-1): 0
                _put_varint(&buf, <unsigned int>(p.end_col + 1))
        return PyBytes_FromStringAndSize(<char *>buf.data, buf.len) if buf.len else b""
    finally:
        PyMem_Free(buf.data)


cdef bytes _encode_py_runs(list runs, int first_line, bint lnotab_310):
    """_encode_positions for runs given as Python objects: ``(position,
    units)`` with position ``(line, end_line, col, end_col)`` (3.11's table)
    or a line (3.10's), None for a missing value."""
    cdef Py_ssize_t nr = len(runs), r = 0
    cdef _Pos *pos = <_Pos *>PyMem_Malloc((nr + 1) * sizeof(_Pos))
    cdef int *ints = <int *>PyMem_Malloc((2 * nr + 2) * sizeof(int))
    try:
        if pos == NULL or ints == NULL:
            raise MemoryError()
        for where, units in runs:
            if lnotab_310:
                pos[r].line = -1 if where is None else where
                pos[r].end_line = pos[r].col = pos[r].end_col = -1
            else:
                line, end_line, col, end_col = where
                pos[r].line = -1 if line is None else line
                pos[r].end_line = -1 if end_line is None else end_line
                pos[r].col = -1 if col is None else col
                pos[r].end_col = -1 if end_col is None else end_col
            ints[r] = <int>r
            ints[nr + r] = units
            r += 1
        return _encode_positions(pos, ints, ints + nr, nr, first_line, lnotab_310)
    finally:
        PyMem_Free(pos)
        PyMem_Free(ints)


def encode_runs(list runs, int first_line):
    """3.11's location table (Objects/locations.md), long form or "no
    location", for runs of ``((line, end_line, col, end_col), units)``."""
    return _encode_py_runs(runs, first_line, False)


def encode_lines_310(list runs, int first_line):
    """3.10's line table (Objects/lnotab_notes.txt): (byte delta 0-254,
    line delta -127..127, or -128 for "no line") pairs, for runs of
    ``(line or None, units)``."""
    return _encode_py_runs(runs, first_line, True)


def unit_positions(code):
    """Per code unit of `code`, the position the rewriters read
    (_unit_positions): ``(line, end_line, col, end_col)``, None where absent.
    On 3.11 the same list as ``list(code.co_positions())``; on 3.10
    ``(line, None, None, None)`` with co_lines()'s line.  For tests."""
    cdef Py_ssize_t nunits = len(code.co_code) // 2, covered = 0, u
    cdef _Pos *pos = _unit_positions(code, nunits, &covered)
    try:
        return [tuple(None if v == -1 else v for v in (pos[u].line, pos[u].end_line, pos[u].col, pos[u].end_col))
                for u in range(covered)]
    finally:
        PyMem_Free(pos)
