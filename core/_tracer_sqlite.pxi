# Included by _tracer.pyx (one extension module, split for reading): the
# byte-level steps of covcore.sqlitewrite -- SQLite's varints, its record
# format and the order of index keys -- in C.  In Python they cost ~50 K
# instructions a row (3.12): more than SQLite itself took to insert it.
# covcore.sqlitewrite keeps the Python versions (the pure-Python install;
# the tests compare both).


cdef inline int _sw_varint_len(uint64_t v) noexcept:
    cdef int n = 1
    if v > 0x00FFFFFFFFFFFFFFULL:
        return 9
    while v >= 0x80:
        v >>= 7
        n += 1
    return n


cdef inline int _sw_put_varint(unsigned char *p, uint64_t v) noexcept:
    """Write SQLite's big-endian varint of `v` at `p`; returns its length."""
    cdef unsigned char tmp[10]
    cdef int n = 0, i
    if v > 0x00FFFFFFFFFFFFFFULL:
        p[8] = <unsigned char>(v & 0xFF)
        v >>= 8
        for i in range(7, -1, -1):
            p[i] = <unsigned char>((v & 0x7F) | 0x80)
            v >>= 7
        return 9
    tmp[0] = <unsigned char>(v & 0x7F)
    n = 1
    v >>= 7
    while v:
        tmp[n] = <unsigned char>((v & 0x7F) | 0x80)
        n += 1
        v >>= 7
    for i in range(n):
        p[i] = tmp[n - 1 - i]
    return n


def sqlite_varint(v):
    """:func:`covcore.sqlitewrite._varint` in C: SQLite's varint of an int
    (taken modulo 2**64, as SQLite stores a negative one)."""
    cdef unsigned char buf[9]
    cdef uint64_t x = <uint64_t>(v & 0xFFFFFFFFFFFFFFFF)
    cdef int n = _sw_put_varint(buf, x)
    return PyBytes_FromStringAndSize(<char *>buf, n)


cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t *size) except NULL


cdef inline const char *_sw_text(object v, Py_ssize_t *size) except? NULL:
    """The bytes a text or blob key value compares by (UTF-8 for str)."""
    if isinstance(v, str):
        return PyUnicode_AsUTF8AndSize(v, size)
    size[0] = len(<bytes>v)
    return PyBytes_AS_STRING(v)


def sqlite_record(values):
    """:func:`covcore.sqlitewrite._py_record` in C: the record (header of
    serial types, then the values) of a sequence of None, int, str and
    bytes values.

    :raises TypeError: another type.
    :raises OverflowError: an int beyond 64 bits."""
    cdef Py_ssize_t n = len(values), i, hlen = 0, blen = 0, hs, pos, tlen
    cdef uint64_t small_types[8]
    cdef long long small_ints[8]
    cdef uint64_t *types = small_types
    cdef long long *ints = small_ints
    cdef long long iv
    cdef int k, nb
    cdef unsigned char *p
    cdef const char *t
    vals = values if isinstance(values, tuple) else tuple(values)
    if n > 8:
        types = <uint64_t *>PyMem_Malloc(n * sizeof(uint64_t))
        ints = <long long *>PyMem_Malloc(n * sizeof(long long))
        if types == NULL or ints == NULL:
            PyMem_Free(types)
            PyMem_Free(ints)
            raise MemoryError()
    try:
        for i in range(n):
            v = vals[i]
            if v is None:
                types[i] = 0
            elif isinstance(v, int):
                iv = v
                ints[i] = iv
                if iv == 0:
                    types[i] = 8
                elif iv == 1:
                    types[i] = 9
                elif -0x80 <= iv < 0x80:
                    types[i] = 1
                    blen += 1
                elif -0x8000 <= iv < 0x8000:
                    types[i] = 2
                    blen += 2
                elif -0x800000 <= iv < 0x800000:
                    types[i] = 3
                    blen += 3
                elif -0x80000000LL <= iv < 0x80000000LL:
                    types[i] = 4
                    blen += 4
                elif -0x800000000000LL <= iv < 0x800000000000LL:
                    types[i] = 5
                    blen += 6
                else:
                    types[i] = 6
                    blen += 8
            elif isinstance(v, (str, bytes)):
                _sw_text(v, &tlen)
                types[i] = 2 * <uint64_t>tlen + (13 if isinstance(v, str) else 12)
                blen += tlen
            else:
                raise TypeError("can't store %s in a covcore data file" % type(v).__name__)
            hlen += _sw_varint_len(types[i])
        hs = hlen + 1
        while _sw_varint_len(<uint64_t>hs) + hlen != hs:
            hs = _sw_varint_len(<uint64_t>hs) + hlen
        out = PyBytes_FromStringAndSize(NULL, hs + blen)
        p = <unsigned char *>PyBytes_AS_STRING(out)
        pos = _sw_put_varint(p, <uint64_t>hs)
        for i in range(n):
            pos += _sw_put_varint(p + pos, types[i])
        for i in range(n):
            if 1 <= types[i] <= 6:
                nb = (0, 1, 2, 3, 4, 6, 8)[types[i]]
                iv = ints[i]
                for k in range(nb - 1, -1, -1):
                    p[pos + k] = <unsigned char>(iv & 0xFF)
                    iv >>= 8
                pos += nb
            elif types[i] >= 12:
                t = _sw_text(vals[i], &tlen)
                memcpy(p + pos, t, tlen)
                pos += tlen
        return out
    finally:
        if types != small_types:
            PyMem_Free(types)
            PyMem_Free(ints)


def sqlite_sort_key(values):
    """:func:`covcore.sqlitewrite._py_sort_key` in C: bytes that order index
    keys as SQLite's BINARY collation does (NULL, numbers, text by UTF-8
    bytes, blobs by bytes; column by column)."""
    cdef Py_ssize_t n = len(values), i, j, size = 0, tlen, pos = 0
    cdef const char *t
    cdef unsigned char *p
    cdef unsigned long long u
    cdef long long iv
    cdef int k
    vals = list(values)
    for i in range(n):
        v = vals[i]
        if v is None:
            size += 1
        elif isinstance(v, int):
            size += 9
        else:
            if not isinstance(v, (str, bytes)):
                v = vals[i] = bytes(v)
            t = _sw_text(v, &tlen)
            size += 3 + tlen
            for j in range(tlen):
                if t[j] == 0:
                    size += 1
    out = PyBytes_FromStringAndSize(NULL, size)
    p = <unsigned char *>PyBytes_AS_STRING(out)
    for i in range(n):
        v = vals[i]
        if v is None:
            p[pos] = 0
            pos += 1
        elif isinstance(v, int):
            iv = v
            u = <unsigned long long>iv ^ 0x8000000000000000ULL
            p[pos] = 1
            for k in range(8, 0, -1):
                p[pos + k] = <unsigned char>(u & 0xFF)
                u >>= 8
            pos += 9
        else:
            p[pos] = 2 if isinstance(v, str) else 3
            pos += 1
            t = _sw_text(v, &tlen)
            for j in range(tlen):
                p[pos] = <unsigned char>t[j]
                pos += 1
                if t[j] == 0:
                    p[pos] = 0xFF
                    pos += 1
            p[pos] = 0
            p[pos + 1] = 0
            pos += 2
    return out


def sqlite_cells(list records, list rowids, Py_ssize_t max_local):
    """:func:`covcore.sqlitewrite._py_cells` in C: the b-tree cell of each
    record (``varint(size) [varint(rowid)] record``; rowids None for an
    index), or None for a record longer than `max_local` (it needs overflow
    pages)."""
    cdef Py_ssize_t n = len(records), i, size, pos
    cdef uint64_t rowid = 0
    cdef bint keyed = rowids is not None
    cdef unsigned char *p
    out = [None] * n
    for i in range(n):
        rec = records[i]
        size = len(<bytes>rec)
        if size > max_local:
            continue
        if keyed:
            rowid = <uint64_t>(rowids[i] & 0xFFFFFFFFFFFFFFFF)
        cell = PyBytes_FromStringAndSize(NULL, size + _sw_varint_len(<uint64_t>size)
                                         + (_sw_varint_len(rowid) if keyed else 0))
        p = <unsigned char *>PyBytes_AS_STRING(cell)
        pos = _sw_put_varint(p, <uint64_t>size)
        if keyed:
            pos += _sw_put_varint(p + pos, rowid)
        memcpy(p + pos, PyBytes_AS_STRING(rec), size)
        out[i] = cell
    return out


def sqlite_partition(list cells, Py_ssize_t hsize, bint separators):
    """:func:`covcore.sqlitewrite._py_partition` in C."""
    cdef Py_ssize_t n = len(cells), a = 0, b, total, page = 4096
    groups = []
    while True:
        b = a
        total = 0
        while b < n and hsize + 2 * (b - a + 1) + total + len(<bytes>cells[b]) <= page:
            total += len(<bytes>cells[b])
            b += 1
        if b >= n:
            groups.append((a, n))
            return groups
        if not separators:
            if b <= a:
                raise ValueError("a cell too large for a page")
            groups.append((a, b))
            a = b
            continue
        if b + 1 == n:
            b -= 1
        if b <= a:
            raise ValueError("a cell too large for a page")
        groups.append((a, b))
        a = b + 1


def sqlite_page(int kind, list cells, right, Py_ssize_t offset=0):
    """:func:`covcore.sqlitewrite._py_page` in C: one 4096-byte b-tree page
    of type `kind` holding `cells` (bytes, in order), with its right-most
    child page number `right` (interior pages) or None, its header at
    `offset` (100 on page 1).

    :raises ValueError: the cells don't fit."""
    cdef Py_ssize_t n = len(cells), i, content = 4096, hsize, start, size
    cdef unsigned char *p
    cdef unsigned long r = 0
    hsize = 8 if right is None else 12
    for i in range(n):
        content -= len(<bytes>cells[i])
    start = offset + hsize + 2 * n
    if start > content:
        raise ValueError("cells don't fit in one page")
    out = PyBytes_FromStringAndSize(NULL, 4096)
    p = <unsigned char *>PyBytes_AS_STRING(out)
    memset(p, 0, 4096)
    p[offset] = <unsigned char>kind
    p[offset + 3] = <unsigned char>(n >> 8)
    p[offset + 4] = <unsigned char>(n & 0xFF)
    p[offset + 5] = <unsigned char>((content >> 8) & 0xFF)
    p[offset + 6] = <unsigned char>(content & 0xFF)
    if right is not None:
        r = right
        p[offset + 8] = <unsigned char>((r >> 24) & 0xFF)
        p[offset + 9] = <unsigned char>((r >> 16) & 0xFF)
        p[offset + 10] = <unsigned char>((r >> 8) & 0xFF)
        p[offset + 11] = <unsigned char>(r & 0xFF)
    start = 4096
    for i in range(n):
        cell = cells[i]
        size = len(<bytes>cell)
        start -= size
        memcpy(p + start, PyBytes_AS_STRING(cell), size)
        p[offset + hsize + 2 * i] = <unsigned char>(start >> 8)
        p[offset + hsize + 2 * i + 1] = <unsigned char>(start & 0xFF)
    return out
