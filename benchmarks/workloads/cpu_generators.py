"""CPU-bound workload: generator and iterator pipelines.

Chained generators, generator expressions, a hand-written iterator class,
`yield from`, itertools: every item resumes several frames, which is where
tracers that pay per call/resume (PY_RESUME, PY_YIELD events) show up.
"""

import itertools
import sys


def numbers(n):
    i = 0
    while i < n:
        yield i
        i += 1


def evens_and_thirds(source):
    for x in source:
        if x % 2 == 0:
            yield x
        elif x % 3 == 0:
            yield -x


def squares(source):
    for x in source:
        yield x * x


def windowed(source, size):
    window = []
    for x in source:
        window.append(x)
        if len(window) > size:
            window.pop(0)
        if len(window) == size:
            yield tuple(window)


def flatten(nested):
    for item in nested:
        if isinstance(item, (list, tuple)):
            yield from flatten(item)
        else:
            yield item


class Countdown:
    """An iterator class: __iter__/__next__ called per item."""

    def __init__(self, start):
        self.current = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.current <= 0:
            raise StopIteration
        self.current -= 1
        return self.current


def chunked(iterable, n):
    it = iter(iterable)
    while True:
        chunk = list(itertools.islice(it, n))
        if not chunk:
            return
        yield chunk


def run(scale):
    n = int(900_000 * scale)
    total = 0
    for w in windowed(squares(evens_and_thirds(numbers(n))), 3):
        total += w[0] - w[2]
    nested = [[i, [i + 1, (i + 2, [i + 3])]] for i in range(n // 10)]
    flat = sum(flatten(nested))
    count = 0
    for chunk in chunked(Countdown(n), 64):
        count += sum(x for x in chunk if x & 1)
    pairs = sum(a * b for a, b in zip(numbers(n // 2), Countdown(n // 2)))
    return total, flat, count, pairs


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    print("RESULT generators", run(scale))
