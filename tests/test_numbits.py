"""Packed line sets."""

import pytest

from covcore.numbits import (
    num_in_numbits,
    numbits_any_intersection,
    numbits_intersection,
    numbits_to_nums,
    numbits_union,
    nums_to_numbits,
)


def test_round_trip_exact_bytes():
    assert nums_to_numbits([1, 2, 3, 9]) == bytes([0b00001110, 0b00000010])
    assert numbits_to_nums(bytes([0b00001110, 0b00000010])) == [1, 2, 3, 9]
    assert nums_to_numbits([]) == b""
    assert numbits_to_nums(b"") == []


@pytest.mark.parametrize("nums", [[0], [7, 8], list(range(1, 1000, 7)), [100_000]])
def test_round_trip(nums):
    assert numbits_to_nums(nums_to_numbits(nums)) == sorted(nums)


def test_negative_rejected():
    with pytest.raises(ValueError, match="negative"):
        nums_to_numbits([3, -1])


def test_set_operations():
    a = nums_to_numbits([1, 5, 17])
    b = nums_to_numbits([5, 40])
    assert numbits_to_nums(numbits_union(a, b)) == [1, 5, 17, 40]
    assert numbits_to_nums(numbits_intersection(a, b)) == [5]
    assert numbits_intersection(nums_to_numbits([1]), nums_to_numbits([40])) == b""
    assert numbits_any_intersection(a, b) is True
    assert numbits_any_intersection(a, nums_to_numbits([2, 40])) is False
    assert num_in_numbits(17, a) is True
    assert num_in_numbits(16, a) is False
    assert num_in_numbits(9999, a) is False


def _python_and_c(python, chooser) -> list:
    """The Python packer and, when the extension is built, the one
    `chooser()` picks instead (its C version), as test parameters."""
    packers = [pytest.param(python, id="python")]
    c_packer = chooser()
    if c_packer is not python:
        packers.append(pytest.param(c_packer, id="c"))
    return packers


def _packers():
    from covcore import numbits

    return _python_and_c(numbits.nums_to_numbits, numbits.numbits_packer)


@pytest.mark.parametrize("pack", _packers())
def test_packers_agree(pack):
    """The C packer data files are written with gives the Python one's bytes."""
    import random

    rng = random.Random(7)
    cases = [[], [0], [7], [8], [1, 2, 3, 9], [100_000], [9, 1, 9], list(range(0, 64, 3))]
    cases += [rng.sample(range(1, 5000), rng.randint(1, 300)) for _ in range(50)]
    for nums in cases:
        expected = bytes(max(nums, default=-8) // 8 + 1) if nums else b""
        expected = bytearray(expected)
        for num in nums:
            expected[num // 8] |= 1 << (num % 8)
        for given in (nums, set(nums), frozenset(nums), iter(nums)):
            got = pack(given)
            assert type(got) is bytes
            assert got == bytes(expected), nums
    assert pack([True, 2]) == nums_to_numbits([1, 2]) == b"\x06"


@pytest.mark.parametrize("pack", _packers())
def test_packers_reject_bad_numbers(pack):
    with pytest.raises(ValueError, match="numbits cannot hold negative numbers"):
        pack([3, -1])
    with pytest.raises(TypeError):
        pack([1.5])
    with pytest.raises(TypeError):
        pack(["3"])


def test_c_packer_is_used_when_built():
    """With the extension built (as CI builds it), data files are written by the C packer."""
    from covcore import backend, numbits

    if backend.EXTENSION_ERROR is not None:
        pytest.skip("covcore._tracer is not built here")
    from covcore._tracer import nums_to_numbits as c_packer

    assert numbits.numbits_packer() is c_packer


def _arc_packers():
    from covcore import data

    return _python_and_c(data._pack_arcs, data.arcs_packer)


@pytest.mark.parametrize("pack", _arc_packers())
def test_arc_packers_agree(pack):
    """Arcs are stored sorted, as little-endian 32-bit signed (from, to)
    pairs: both packers give exactly these bytes, for sets, lists, iterators,
    negative (entry/exit) lines and a C int's extremes."""
    import random
    import struct

    from covcore.dataread import _unpack_arcs

    rng = random.Random(11)
    low, high = -2**31, 2**31 - 1
    cases = [set(), {(1, 2)}, {(-1, 1), (1, -1), (1, 2), (0, 0)}, {(low, high), (high, low), (-1, -1)}]
    cases += [{(rng.randint(-40, 900), rng.randint(-40, 900)) for _ in range(rng.randint(1, 2000))}
              for _ in range(30)]
    for arcs in cases:
        expected = b"".join(struct.pack("<ii", a, b) for a, b in sorted(arcs))
        for given in (arcs, sorted(arcs, reverse=True), iter(sorted(arcs))):
            got = pack(given)
            assert type(got) is bytes
            assert got == expected
        assert _unpack_arcs(expected) == arcs
    # Pairs that are not tuples: the C packer hands them to the Python one.
    assert pack([[3, 4], [1, 2]]) == struct.pack("<iiii", 1, 2, 3, 4)


@pytest.mark.parametrize("pack", _arc_packers())
def test_arc_packers_reject_bad_arcs(pack):
    for bad in [{(2**31, 1)}, {(1, -2**31 - 1)}]:
        with pytest.raises(OverflowError):
            pack(bad)
    with pytest.raises(TypeError):
        pack({(1, "x")})
    with pytest.raises(TypeError):
        pack({(1.5, 2)})
