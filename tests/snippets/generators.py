def gen(n):
    for i in range(n):
        yield i
    yield "done"


def delegating():
    yield from gen(2)
    x = yield
    return x


def abandoned():
    yield 1
    after = "never reached"
    yield after


list(gen(2))
d = delegating()
next(d)
g = abandoned()
next(g)
del g
squares = (i * i for i in range(3))
first = next(squares)
