#!/usr/bin/env python3
"""List Rust functions longer than a limit (default 80 lines), outside tests.

    python3 .ci/long-functions.py [--limit N] [--fail] [PATH ...]

A function is measured from its `fn` line to its closing brace. Functions whose body is
mostly a table of data (lines that are literals, tuples or struct/array entries) are
listed separately and do not count against the limit. Test modules (`#[cfg(test)] mod`) and
files under `tests/` and `benches/` are skipped. With --fail the exit code is 1 when a
function is over the limit.
"""
import argparse
import pathlib
import re
import sys

FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+\"[^\"]*\"\s+)?fn\s+(\w+)")
TABLE_LINE = re.compile(r"^\s*(\(|\[|\"|'|-?\d|[A-Z]\w*(::\w+)*\s*[({,]|\w+:\s|//|\)|\]|\}|$)")


def strip_strings(line):
    """The line without string/char literals and comments, so braces count right."""
    line = re.sub(r'r#*"[^"]*"#*', '""', line)
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "''", line)
    return line.split("//", 1)[0]


def functions(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    skip_depth = None
    depth = 0
    while i < len(lines):
        line = lines[i]
        if skip_depth is None and line.strip() == "#[cfg(test)]" and i + 1 < len(lines) and re.match(r"\s*(pub\s+)?mod\s+\w+\s*\{", lines[i + 1]):
            # skip the whole test module
            skip_depth = depth
        code = strip_strings(line)
        m = FN.match(line)
        if m and skip_depth is None:
            # find the body's opening brace (or a `;`: a declaration without body)
            j, opened, d = i, False, 0
            while j < len(lines):
                c = strip_strings(lines[j])
                for ch in c:
                    if ch == "{":
                        d += 1
                        opened = True
                    elif ch == "}":
                        d -= 1
                if not opened and c.rstrip().endswith(";"):
                    break
                if opened and d == 0:
                    break
                j += 1
            if opened:
                body = lines[i:j + 1]
                table = sum(1 for b in body if TABLE_LINE.match(b)) / len(body)
                yield m.group(7), i + 1, j + 1, table
                # nested functions inside are measured with their parent
                for k in range(i, j + 1):
                    for ch in strip_strings(lines[k]):
                        depth += {"{": 1, "}": -1}.get(ch, 0)
                i = j + 1
                continue
        for ch in code:
            depth += {"{": 1, "}": -1}.get(ch, 0)
        if skip_depth is not None and depth <= skip_depth and "}" in code:
            skip_depth = None
        i += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("--fail", action="store_true")
    parser.add_argument("paths", nargs="*", default=["crates"])
    args = parser.parse_args()
    files = []
    for p in map(pathlib.Path, args.paths):
        files += [p] if p.is_file() else sorted(p.rglob("*.rs"))
    long, tables = [], []
    for f in files:
        if {"tests", "benches", "target"} & set(f.parts):
            continue
        for name, start, end, table in functions(f):
            n = end - start + 1
            if n > args.limit:
                (tables if table > 0.8 else long).append((n, f"{f}:{start}", name))
    for n, where, name in sorted(long, reverse=True):
        print(f"{n:5} {where} {name}")
    if tables:
        print(f"tables of data (not counted):")
        for n, where, name in sorted(tables, reverse=True):
            print(f"{n:5} {where} {name}")
    print(f"{len(long)} function(s) over {args.limit} lines", file=sys.stderr)
    return 1 if args.fail and long else 0


if __name__ == "__main__":
    sys.exit(main())
