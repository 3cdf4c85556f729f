"""CPU-bound workload: text processing without regular expressions.

Builds a synthetic log corpus, then parses it with str.split / partition /
strip / join, counts with dicts, and formats a report: the shape of a lot of
scripting and data-munging code.
"""

import sys
import zlib

WORDS = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
    "omicron pi rho sigma tau upsilon phi chi psi omega"
).split()
LEVELS = ("DEBUG", "INFO", "INFO", "INFO", "WARNING", "ERROR")


def make_corpus(lines):
    out = []
    for i in range(lines):
        level = LEVELS[i % len(LEVELS)]
        w1 = WORDS[i % len(WORDS)]
        w2 = WORDS[(i * 7) % len(WORDS)]
        w3 = WORDS[(i * 13) % len(WORDS)]
        out.append(
            "2024-01-%02d 12:%02d:%02d %s [worker-%d] %s %s %s key=%d, user=%s"
            % (i % 28 + 1, i % 60, (i * 7) % 60, level, i % 8, w1, w2, w3, i % 97, w2.upper())
        )
    return "\n".join(out)


def parse_line(line):
    date, time, level, rest = line.split(" ", 3)
    worker, _, message = rest.partition("] ")
    worker = worker.lstrip("[")
    words, _, fields = message.partition(" key=")
    record = {"date": date, "time": time, "level": level, "worker": worker}
    record["words"] = words.split()
    for field in ("key=" + fields).split(", "):
        name, sep, value = field.partition("=")
        if not sep:
            continue
        if value.isdigit():
            record[name] = int(value)
        else:
            record[name] = value.strip().lower()
    return record


def count_words(records):
    counts = {}
    for rec in records:
        for w in rec["words"]:
            counts[w] = counts.get(w, 0) + 1
    return counts


def by_level(records):
    groups = {}
    for rec in records:
        lvl = rec["level"]
        if lvl not in groups:
            groups[lvl] = []
        groups[lvl].append(rec)
    return groups


def title_case(s):
    parts = []
    for word in s.split("_"):
        if word:
            parts.append(word[0].upper() + word[1:])
    return "".join(parts)


def report(counts, groups):
    lines = []
    for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append("%-10s %6d" % (title_case(word), n))
    for lvl in sorted(groups):
        recs = groups[lvl]
        users = {r.get("user", "?") for r in recs}
        lines.append("%s: %d records, %d users" % (lvl, len(recs), len(users)))
    return "\n".join(lines)


def run(scale):
    corpus = make_corpus(int(100_000 * scale))
    records = []
    for line in corpus.splitlines():
        if not line.strip():
            continue
        records.append(parse_line(line))
    counts = count_words(records)
    groups = by_level(records)
    text = report(counts, groups)
    return len(records), len(text), sum(counts.values()), zlib.crc32(text.encode())


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    print("RESULT text", run(scale))
