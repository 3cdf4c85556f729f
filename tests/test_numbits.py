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
