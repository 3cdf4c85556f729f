"""A small package whose tests cover different lines on different Pythons."""

import sys


def add(a, b):
    return a + b


def version_kind():
    if sys.version_info >= (3, 12):
        kind = "new"
    else:
        kind = "old"
    return kind


def child_work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def never_called():
    return "never"
