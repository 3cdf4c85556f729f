from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os
    import sys


def abstract(x): ...


def real(x):
    if x:  # pragma: no cover
        y = 1
        return y
    else:
        return 2


def skipped():  # pragma: no cover
    a = 1
    return a


class Proto:
    def method(self) -> int:
        ...

    def other(
        self,
    ) -> None: ...


x = (  # pragma: no cover
    1,
    2,
)
z = 3  #PRAGMA:NO COVER
real(0)
