"""Start-up workload: a program that does almost nothing.

What a coverage tool costs every process it measures before and after the
program itself: importing the tool, reading its configuration, starting to
measure, saving the data file, and the interpreter's exit with the tool's
objects.  A test suite that starts many Python subprocesses, each measured,
pays this once per subprocess.  Plain python's own start-up is the base.
"""


def main():
    return sum(range(10))


if __name__ == "__main__":
    print("RESULT startup", main())
