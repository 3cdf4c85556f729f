def describe(point):
    match point:
        case (0, 0):
            return "origin"
        case (x, 0):
            return f"x={x}"
        case {"kind": kind, **rest}:
            return kind
        case [first, *others] if len(others) > 5:
            return "long"
        case str() | bytes():
            return "text"
        case _:
            return "other"


describe((0, 0))
describe((3, 0))
describe("s")
