class Base:
    """Docstring."""

    attr = 1
    other = [
        1,
        2,
    ]

    def method(self):
        return self.attr

    def unused(self):
        """Doc only, then code."""
        return None

    class Inner:
        x = 1

        def inner_method(self):
            return self.x


def outer():
    def middle():
        def inner():
            return "inner"
        return inner()
    def never():
        return "never"
    return middle()


Base().method()
outer()
