import contextlib


@contextlib.contextmanager
def ctx(name):
    yield name


def use():
    with ctx("a") as a, ctx("b") as b:
        value = a + b
    with (
        ctx("c") as c,
        ctx("d") as d,
    ):
        value += c + d
    return value


def unused():
    with open(__file__) as f:
        return f.read()


use()
