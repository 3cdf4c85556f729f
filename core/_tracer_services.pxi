# Included by _tracer.pyx (one extension module, split for reading): what
# the Python side asks of C outside tracing -- compiling the program to run,
# packing a data file's lines and arcs, and the lstat-based steps of
# canonical file names.


cdef extern from "Python.h":
    ctypedef struct PyCompilerFlags:
        int cf_flags
        int cf_feature_version
    object Py_CompileStringObject(const char *source, object filename, int start,
                                  PyCompilerFlags *flags, int optimize)
    int Py_file_input
    int PyCF_IGNORE_COOKIE
    int PY_MINOR_VERSION


def compile_program(str source, str filename):
    """``compile(source, filename, "exec", dont_inherit=True)``, through the
    C API: the builtin first asks whether `source` is an AST (PyAST_Check),
    which builds the ``_ast`` module's ~120 types on first use, 11 M
    instructions (3.12) a program that is run from its source never pays.

    :param source: the program's text (str, no NUL characters).
    :param filename: its file name, as tracebacks and ``co_filename`` give it.
    :returns: the module code object.
    :raises SyntaxError: as ``compile()`` does.
    """
    cdef PyCompilerFlags flags
    if "\0" in source:
        return compile(source, filename, "exec", dont_inherit=True)
    flags.cf_flags = PyCF_IGNORE_COOKIE     # text already decoded
    flags.cf_feature_version = PY_MINOR_VERSION
    encoded = source.encode("utf-8")
    return Py_CompileStringObject(encoded, filename, Py_file_input, &flags, -1)


cdef extern from "Python.h":
    object PyBytes_FromStringAndSize(const char *v, Py_ssize_t len)
    char *PyBytes_AS_STRING(object o)


def nums_to_numbits(nums):
    """:func:`covcore.numbits.nums_to_numbits` in C: the numbits of `nums`.

    Saving a data file packs every measured file's lines; in Python that is a
    dozen bytecodes per line (3 M instructions for pip's 147 modules).

    :param nums: an iterable of non-negative ints (1-based line numbers; 0 allowed).
    :returns: the bitmap, with no trailing zero bytes (``b""`` for no numbers).
    :raises ValueError: for a negative number.
    :raises TypeError: for something that is not an int.
    :raises OverflowError: for a number beyond a C ``Py_ssize_t``.
    """
    cdef list values = list(nums)
    cdef Py_ssize_t v, top = -1
    cdef unsigned char *buf
    if not values:
        return b""
    for item in values:
        v = item
        if v < 0:
            raise ValueError("numbits cannot hold negative numbers")
        if v > top:
            top = v
    out = PyBytes_FromStringAndSize(NULL, (top >> 3) + 1)
    buf = <unsigned char *>PyBytes_AS_STRING(out)
    memset(buf, 0, (top >> 3) + 1)
    for item in values:
        v = item
        buf[v >> 3] |= <unsigned char>(1 << (v & 7))
    return out


cdef extern from *:
    """
    #include <stdlib.h>
    static int covcore_cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
    }
    static void covcore_sort_u64(uint64_t *keys, Py_ssize_t n) {
        qsort(keys, (size_t)n, sizeof(uint64_t), covcore_cmp_u64);
    }
    """
    void covcore_sort_u64(uint64_t *keys, Py_ssize_t n) nogil


def pack_arcs(arcs):
    """``covcore.data._pack_arcs`` in C: the arcs as stored in a data file.

    The bytes are the arcs sorted, each as two 32-bit signed little-endian
    ints (from line, to line; negative for entries and exits).  Saving a
    branch-mode data file packs every measured file's arcs; in Python the
    sort of tuples and an ``array.append`` per int cost 1 K instructions an
    arc (44 M for pip's 147 modules, Python 3.12).

    :param arcs: an iterable of ``(int, int)`` tuples.
    :returns: bytes, 8 per arc.
    :raises TypeError: an item is not a 2-tuple of ints (the caller falls
        back to the Python version, which takes any pair).
    :raises OverflowError: a line number outside a C int, as ``array("i")``.
    """
    cdef list items = list(arcs)
    cdef Py_ssize_t n = len(items), k
    cdef long long a, b
    cdef uint64_t *keys
    cdef unsigned char *buf
    cdef uint32_t ua, ub
    if n == 0:
        return b""
    keys = <uint64_t *>PyMem_Malloc(n * sizeof(uint64_t))
    if keys == NULL:
        raise MemoryError()
    try:
        for k in range(n):
            item = items[k]
            if type(item) is not tuple or len(<tuple>item) != 2:
                raise TypeError("an arc is not a 2-tuple")
            first = (<tuple>item)[0]
            second = (<tuple>item)[1]
            if not isinstance(first, int) or not isinstance(second, int):
                raise TypeError("an arc's lines are not ints")
            a = first
            b = second
            if a < INT_MIN or a > INT_MAX or b < INT_MIN or b > INT_MAX:
                raise OverflowError("signed integer is out of a C int's range")
            # Offset into unsigned order: sorting the keys sorts (a, b).
            keys[k] = ((<uint64_t>(<uint32_t>(a - INT_MIN))) << 32) | <uint32_t>(b - INT_MIN)
        covcore_sort_u64(keys, n)
        out = PyBytes_FromStringAndSize(NULL, 8 * n)
        buf = <unsigned char *>PyBytes_AS_STRING(out)
        for k in range(n):
            ua = <uint32_t>(keys[k] >> 32) + <uint32_t>INT_MIN
            ub = <uint32_t>keys[k] + <uint32_t>INT_MIN
            buf[8 * k] = ua & 0xff
            buf[8 * k + 1] = (ua >> 8) & 0xff
            buf[8 * k + 2] = (ua >> 16) & 0xff
            buf[8 * k + 3] = ua >> 24
            buf[8 * k + 4] = ub & 0xff
            buf[8 * k + 5] = (ub >> 8) & 0xff
            buf[8 * k + 6] = (ub >> 16) & 0xff
            buf[8 * k + 7] = ub >> 24
        return out
    finally:
        PyMem_Free(keys)


cdef extern from *:
    """
    #ifndef _WIN32
    #include <sys/stat.h>
    /* -1: lstat failed (missing, not allowed); 1: a symbolic link; 2: a
       directory; 0: anything else. */
    static int covcore_lstat_kind(const char *path) {
        struct stat st;
        if (lstat(path, &st) != 0) return -1;
        if (S_ISLNK(st.st_mode)) return 1;
        if (S_ISDIR(st.st_mode)) return 2;
        return 0;
    }
    #define COVCORE_HAS_LSTAT 1
    #else
    static int covcore_lstat_kind(const char *path) { return -1; }
    #define COVCORE_HAS_LSTAT 0
    #endif
    """
    int covcore_lstat_kind(const char *path) nogil
    bint COVCORE_HAS_LSTAT
    object PyUnicode_EncodeFSDefault(object text)
    Py_ssize_t PyBytes_GET_SIZE(object o)


#: lstat_kind() is a real lstat here (POSIX builds).
HAS_LSTAT = COVCORE_HAS_LSTAT


def lstat_kind(str path):
    """What ``os.lstat(path)`` finds, without building an ``os.stat_result``.

    :func:`covcore.files.canonical_filename` asks this once for every file
    any code runs from; ``os.lstat`` makes ten ints and floats each time
    (6 K instructions against a few hundred here, Python 3.12).

    :param path: a file or directory name (str, made bytes as ``os.fsencode``).
    :returns: -1 if lstat fails (missing, not allowed, a NUL in the name: what
        ``os.path.islink`` answers False for), 1 for a symbolic link, 2 for a
        directory, 0 for anything else.  Always -1 on Windows (HAS_LSTAT False).
        A name ``os.fsencode`` can't encode is -1 too (no file has it).
    """
    cdef object raw
    cdef const char *c
    try:
        raw = PyUnicode_EncodeFSDefault(path)
    except UnicodeError:
        return -1
    c = PyBytes_AS_STRING(raw)
    if <Py_ssize_t>strlen(c) != PyBytes_GET_SIZE(raw):
        return -1
    return covcore_lstat_kind(c)


cdef extern from "Python.h":
    Py_ssize_t PyUnicode_FindChar(object text, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end, int direction) except -2
    Py_ssize_t PyUnicode_Tailmatch(object text, object substr, Py_ssize_t start, Py_ssize_t end, int direction) except -1
    object PyUnicode_Substring(object text, Py_ssize_t start, Py_ssize_t end)
    Py_UCS4 PyUnicode_ReadChar(object text, Py_ssize_t index) except? <Py_UCS4>-1
    bint PyUnicode_IS_ASCII(object text)
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL


def real_file_in_known_dir(dict real_dirs, str path):
    """``covcore.files._posix_realpath(path)``'s answer when it is one
    ``lstat`` away: ``(real directory, real file name)``, else None.

    Answers only for an absolute POSIX ``path`` whose directory part is a key
    of ``real_dirs`` (directory name -> its real path, the cache
    ``_posix_realpath`` fills) and whose last component is a name (not
    empty, ``.`` or ``..``) that is not a symbolic link: then the real name
    is the directory's real path joined with that name, exactly what
    ``_posix_realpath`` returns.  None means "ask ``_posix_realpath``".
    Deciding which files to measure asks this for every file any code runs
    from: ~3 K instructions (an lstat and two new strings) against 8 K in
    Python (3.12).
    """
    return _real_file_in_known_dir(real_dirs, path)


cdef object _real_file_in_known_dir(dict real_dirs, str path):
    cdef Py_ssize_t n = len(path)
    cdef Py_ssize_t cut, size
    cdef object raw
    cdef const char *c
    if not COVCORE_HAS_LSTAT or n < 2 or PyUnicode_ReadChar(path, 0) != u"/":
        return None
    cut = PyUnicode_FindChar(path, u"/", 0, n, -1)
    if cut <= 0 or cut == n - 1:
        return None
    tail = PyUnicode_Substring(path, cut + 1, n)
    if tail == u"." or tail == u"..":
        return None
    real_head = real_dirs.get(PyUnicode_Substring(path, 0, cut))
    if real_head is None or type(real_head) is not str or len(<str>real_head) == 0:
        return None
    if PyUnicode_ReadChar(real_head, len(<str>real_head) - 1) == u"/":
        candidate = real_head + tail
    else:
        candidate = real_head + u"/" + tail
    if PyUnicode_IS_ASCII(candidate):
        # The same bytes in any file system encoding, and CPython keeps them
        # in the str itself: no bytes object to make.
        c = PyUnicode_AsUTF8AndSize(candidate, &size)
    else:
        try:
            raw = PyUnicode_EncodeFSDefault(candidate)
        except UnicodeError:
            return None
        c = PyBytes_AS_STRING(raw)
        size = PyBytes_GET_SIZE(raw)
    if <Py_ssize_t>strlen(c) != size or covcore_lstat_kind(c) == 1:
        return None
    return real_head, candidate
