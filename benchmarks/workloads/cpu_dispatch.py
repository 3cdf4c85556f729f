"""CPU-bound workload: object-method dispatch.

Classes with inheritance, properties, attribute access, polymorphic method
calls, small methods that are called very often: the pattern of most
"business logic" code, and the one where a line tracer pays for every call
and every line event.
"""

import sys


class Shape:
    __slots__ = ("name", "hits")

    def __init__(self, name):
        self.name = name
        self.hits = 0

    def area(self):
        raise NotImplementedError

    def perimeter(self):
        raise NotImplementedError

    def describe(self):
        self.hits += 1
        if self.hits % 2:
            return self.area()
        return self.perimeter()


class Rect(Shape):
    __slots__ = ("w", "h")

    def __init__(self, w, h):
        super().__init__("rect")
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h

    def perimeter(self):
        return 2 * (self.w + self.h)


class Square(Rect):
    __slots__ = ()

    def __init__(self, side):
        super().__init__(side, side)
        self.name = "square"


class Circle(Shape):
    __slots__ = ("r",)

    def __init__(self, r):
        super().__init__("circle")
        self.r = r

    def area(self):
        return 3.14159 * self.r * self.r

    def perimeter(self):
        return 2 * 3.14159 * self.r


class Triangle(Shape):
    __slots__ = ("a", "b", "c")

    def __init__(self, a, b, c):
        super().__init__("triangle")
        self.a, self.b, self.c = a, b, c

    def area(self):
        s = (self.a + self.b + self.c) / 2
        v = s * (s - self.a) * (s - self.b) * (s - self.c)
        return v ** 0.5 if v > 0 else 0.0

    def perimeter(self):
        return self.a + self.b + self.c


class Account:
    def __init__(self, owner):
        self.owner = owner
        self._balance = 0
        self.history = []

    @property
    def balance(self):
        return self._balance

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        self._balance += amount
        self.history.append(("d", amount))

    def withdraw(self, amount):
        if amount > self._balance:
            return False
        self._balance -= amount
        self.history.append(("w", amount))
        return True


class Visitor:
    def visit(self, shape):
        method = getattr(self, "visit_" + shape.name, self.generic)
        return method(shape)

    def generic(self, shape):
        return 0

    def visit_rect(self, shape):
        return 1

    def visit_square(self, shape):
        return 2

    def visit_circle(self, shape):
        return 3


def make_shapes(n):
    shapes = []
    for i in range(n):
        k = i % 4
        if k == 0:
            shapes.append(Rect(i % 7 + 1, i % 5 + 1))
        elif k == 1:
            shapes.append(Square(i % 9 + 1))
        elif k == 2:
            shapes.append(Circle(i % 3 + 1))
        else:
            shapes.append(Triangle(3, 4, 5))
    return shapes


def run(scale):
    total = 0.0
    visitor = Visitor()
    tags = 0
    accounts = [Account("owner%d" % i) for i in range(50)]
    rounds = int(900 * scale)
    shapes = make_shapes(1000)
    for r in range(rounds):
        for s in shapes:
            total += s.describe()
            tags += visitor.visit(s)
        for i, acc in enumerate(accounts):
            acc.deposit(i + r + 1)
            if not acc.withdraw((i * 7 + r) % 40):
                tags += 1
    balance = sum(a.balance for a in accounts)
    return round(total, 3), tags, balance


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    print("RESULT dispatch", run(scale))
