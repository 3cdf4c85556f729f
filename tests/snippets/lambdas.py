square = lambda x: x * x
never = lambda: (
    "multi-line lambda body"
)
evens = [i for i in range(10) if i % 2 == 0]
pairs = {
    k: v
    for k, v in zip("ab", range(2))
}
unique = {c for c in "hello"}
nested = [[j for j in range(i)] for i in range(3)]
empty = [i for i in []]
square(3)
sorted(evens, key=lambda v: -v)
