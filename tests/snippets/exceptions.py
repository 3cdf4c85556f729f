def risky(kind):
    try:
        if kind == "value":
            raise ValueError(kind)
        result = "ok"
    except ValueError:
        result = "value"
    except (TypeError, KeyError) as exc:
        result = "other"
    else:
        result += "!"
    finally:
        cleanup = True
    return result


def through_finally():
    for i in range(3):
        try:
            if i == 1:
                return i
        finally:
            i += 0
    return None


def nested():
    try:
        try:
            raise KeyError("k")
        finally:
            pass
    except KeyError:
        return "caught"


risky("value")
risky("fine")
through_finally()
nested()
