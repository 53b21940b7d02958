#!/usr/bin/env python3
"""jsonq.py [--check] [--json] [--lines] FILE|- EXPR: a Python expression over a JSON document.

The document (FILE, or standard input for -) is d; with --lines, d is the list of the JSON values
on its lines (a JSON-lines log). Prints EXPR's value: a string as it is, a tuple as its members
separated by spaces, anything else as JSON (always JSON with --json). With --check, prints nothing
and exits 1 when the value is false, naming the expression.
"""
import json
import sys


def show(value, as_json):
    if as_json:
        return json.dumps(value)
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return " ".join(show(v, False) for v in value)
    return json.dumps(value)


def main():
    args = sys.argv[1:]
    flags = set()
    while args and args[0] in ("--check", "--json", "--lines"):
        flags.add(args.pop(0))
    if len(args) != 2:
        sys.exit(__doc__)
    source, expr = args
    text = sys.stdin.read() if source == "-" else open(source).read()
    d = [json.loads(line) for line in text.splitlines() if line.strip()] if "--lines" in flags else json.loads(text)
    value = eval("(" + expr + "\n)", {"d": d, "json": json})  # in parentheses: it may span lines
    if "--check" in flags:
        if not value:
            sys.exit("jsonq: false: " + expr)
    else:
        print(show(value, "--json" in flags))


if __name__ == "__main__":
    main()
