import functools


def deco(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def with_args(
    label,
):
    def outer(fn):
        return fn
    return outer


@deco
def used(a):
    return a + 1


@with_args(
    "label",
)
@deco
def unused(a):
    return a - 1


class K:
    @property
    def value(self):
        return 1

    @staticmethod
    def never():
        return 2

    @classmethod  # pragma: no cover
    def excluded(cls):
        return 3


used(1)
K().value
