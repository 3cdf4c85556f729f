from pkg.shapes import Circle, Square, classify, maybe_log, walk

print(Circle(1).describe(verbose=True))
print(Square(2).describe())
print(classify(3), classify(0))
print(walk([1, 2, 3]))
maybe_log(False)
maybe_log(0)
