"""Module docstring: not a statement."""

x = (
    1 +
    2
)
d = {
    "a": 1,
    "b": [
        2, 3,
    ],
}
s = """a
multi-line
string"""
total = x \
    + 1
if (x > 100 and
        total > 100):
    never = (
        "not run"
    )
call = max(
    1,
    2,
)
