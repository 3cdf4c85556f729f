"""Packed sets of line numbers ("numbits").

A numbits value is a ``bytes`` bitmap: bit ``n % 8`` of byte ``n // 8`` is set
when line ``n`` is in the set.  Trailing zero bytes are dropped, so equal sets
have equal numbits.  This is the same encoding coverage.py uses in its data
files, so covcore's ``line_bits`` table is readable by the same SQL functions.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Callable, Iterable


def nums_to_numbits(nums: Iterable[int]) -> bytes:
    """Pack line numbers into numbits.

    :param nums: non-negative integers (line numbers are 1-based; 0 is allowed).
    :returns: the bitmap, with no trailing zero bytes (``b""`` for no numbers).
    :raises ValueError: for a negative number.
    """
    nums = list(nums)
    if not nums:
        return b""
    if min(nums) < 0:
        raise ValueError("numbits cannot hold negative numbers")
    bits = bytearray(max(nums) // 8 + 1)
    for num in nums:
        bits[num >> 3] |= 1 << (num & 7)
    return bytes(bits)


def numbits_packer() -> Callable[[Iterable[int]], bytes]:
    """:func:`nums_to_numbits`, in C when the tracer extension is built
    (``covcore._tracer.nums_to_numbits``: the same results and errors, a
    dozen bytecodes per line cheaper).  For writing many files' lines;
    imported only then, so reading data never loads the extension."""
    try:
        from covcore._tracer import nums_to_numbits as packer
    except ImportError:  # the pure-Python install
        return nums_to_numbits
    return packer  # type: ignore[no-any-return]


def _bits_table() -> list[tuple[int, ...]]:
    """For each byte value (0-255), the positions of its set bits, ascending.

    Built by doubling (value + 2**bit has value's bits and then bit): 8 list
    comprehensions, not 256 generators; and only when first needed, since
    this module is imported by every measured process, which only packs.
    """
    table: list[tuple[int, ...]] = [()]
    for bit in range(8):
        table += [bits + (bit,) for bits in table]
    return table


#: For each byte value, the positions of its set bits (made by the first unpacking).
_BITS: list[tuple[int, ...]] = []


def _load_bits() -> list[tuple[int, ...]]:
    _BITS[:] = _bits_table()
    return _BITS


def numbits_to_nums(numbits: bytes) -> list[int]:
    """Unpack numbits into a sorted list of line numbers."""
    nums: list[int] = []
    extend = nums.extend
    bits = _BITS or _load_bits()
    for byte_i, byte in enumerate(numbits):
        if byte:
            base = byte_i << 3
            extend([base + bit for bit in bits[byte]])
    return nums


def _trim(bits: bytes | bytearray) -> bytes:
    return bytes(bits).rstrip(b"\0")


def numbits_union(numbits1: bytes, numbits2: bytes) -> bytes:
    """The numbits of the union of two numbits sets."""
    if len(numbits1) < len(numbits2):
        numbits1, numbits2 = numbits2, numbits1
    n = int.from_bytes(numbits1, "little") | int.from_bytes(numbits2, "little")
    return _trim(n.to_bytes(len(numbits1), "little"))


def numbits_intersection(numbits1: bytes, numbits2: bytes) -> bytes:
    """The numbits of the intersection of two numbits sets."""
    size = max(len(numbits1), len(numbits2))
    n = int.from_bytes(numbits1, "little") & int.from_bytes(numbits2, "little")
    return _trim(n.to_bytes(size, "little"))


def numbits_any_intersection(numbits1: bytes, numbits2: bytes) -> bool:
    """Do two numbits sets share any number?"""
    return bool(int.from_bytes(numbits1, "little") & int.from_bytes(numbits2, "little"))


def num_in_numbits(num: int, numbits: bytes) -> bool:
    """Is ``num`` in the numbits set?"""
    byte_i = num >> 3
    return byte_i < len(numbits) and bool(numbits[byte_i] & (1 << (num & 7)))
