"""Shapes: a sample module with statements, exclusions and branches."""

import math


class Shape:
    """Base class."""

    def area(self):  # pragma: no cover
        raise NotImplementedError

    def describe(self, verbose=False):
        if verbose:
            return f"{type(self).__name__} with area {self.area():.2f}"
        else:
            return type(self).__name__


class Circle(Shape):
    def __init__(self, r):
        self.r = r

    def area(self):
        return math.pi * self.r ** 2


class Square(Shape):
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side * self.side


def classify(n):
    if n < 0:
        return "negative"
    elif n == 0:
        return "zero"
    for i in range(n):
        if i > 100:
            break
    total = sum(
        x * x
        for x in range(n)
    )
    return "positive" if total else "tiny"


def unused():
    value = 1
    return value


def walk(items, stop=None):
    seen = []
    for item in items:
        if item == stop:
            continue
        seen.append(item)
    if not seen:
        return None

    def inner():
        return len(seen)

    return inner()


def maybe_log(flag):
    if flag:  # pragma: no branch
        print("logged")
    while flag > 10:
        flag -= 1
    if flag:
        print("flag set")
