def classify(n):
    if n < 0:
        return "neg"
    elif n == 0:
        return "zero"
    elif n > 1000:
        return "huge"
    else:
        return "pos"


def loops(items):
    total = 0
    for i in items:
        if i == 3:
            continue
        if i > 10:
            break
        total += i
    else:
        total = -total
    n = 0
    while n < 3:
        n += 1
    else:
        n = 100
    while True:
        n += 1
        if n > 105:
            break
    return total, n


classify(-1)
classify(5)
loops([1, 2, 3, 4])
