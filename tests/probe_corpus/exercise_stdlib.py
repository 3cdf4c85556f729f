"""Runs a broad slice of pure-Python standard library code (measured with
--pylib by tests/test_probes.py, under the probe and ctrace backends)."""

import argparse
import ast
import collections
import configparser
import csv
import dataclasses
import difflib
import email.message
import email.parser
import enum
import fractions
import functools
import inspect
import io
import ipaddress
import json
import pprint
import shlex
import statistics
import string
import textwrap
try:
    import tomllib
except ImportError:    # Python 3.10
    tomllib = None
import typing
import urllib.parse

p = argparse.ArgumentParser(prog="x")
p.add_argument("--n", type=int, default=3)
p.add_argument("names", nargs="*")
args = p.parse_args(["--n", "5", "a", "b"])

tree = ast.parse("def f(x):\n    return [i * 2 for i in range(x) if i]\n")
text = ast.unparse(tree)
cp = configparser.ConfigParser()
cp.read_string("[a]\nx = 1\ny = %(x)s2\n")
rows = list(csv.reader(io.StringIO("a,b\n1,\"2,3\"\n")))


@dataclasses.dataclass(order=True)
class P:
    x: int
    y: str = "q"


ps = sorted([P(2), P(1, "z")])
diff = list(difflib.unified_diff(["a\n", "b\n"], ["a\n", "c\n"]))
msg = email.message.EmailMessage()
msg["Subject"] = "hi"
msg.set_content("body")
parsed = email.parser.Parser().parsestr(msg.as_string())


class Color(enum.Enum):
    RED = 1
    BLUE = 2


fr = fractions.Fraction(3, 4) + fractions.Fraction("1/3")
sig = str(inspect.signature(functools.partial(lambda a, b=2: a, 1)))
net = list(ipaddress.ip_network("10.0.0.0/30").hosts())
js = json.dumps({"a": [1, 2.5, None], "b": {"c": "d"}}, indent=2, sort_keys=True)
back = json.loads(js)
pp = pprint.pformat({"k%d" % i: list(range(i)) for i in range(8)}, width=40)
sh = shlex.split("a 'b c' \"d e\" f\\ g")
st = (statistics.mean([1, 2, 3, 4]), statistics.median([3, 1, 2]), statistics.stdev([1.0, 2.0, 4.0]))
tpl = string.Template("$a and ${b}").substitute(a=1, b=2)
wrapped = textwrap.fill("word " * 40, width=30)
ded = textwrap.dedent("    a\n      b\n")
toml = tomllib and tomllib.loads('a = 1\n[t]\nb = "x"\nc = [1, 2]\n')
hints = typing.get_type_hints(P)
u = urllib.parse.urlsplit("https://u:p@h:8/p;q?x=1&y=2#f")
q = urllib.parse.parse_qs(u.query)
od = collections.OrderedDict(a=1)
od.move_to_end("a")
print(args.n, len(text), cp["a"]["y"], rows, ps, len(diff), parsed["Subject"], Color(2), fr, sig, net, back,
      len(pp), sh, st, tpl, len(wrapped), ded, toml, sorted(hints), q)
