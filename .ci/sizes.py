#!/usr/bin/env python3
"""Production code stays readable: no file over 400 lines (its test module aside) and no
function over 80 lines. Migrations are excepted: each is one schema, read as a whole.

Usage: python3 .ci/sizes.py [ROOT]. Prints every offender and exits 1 if there is one
that .ci/sizes-debt.txt does not list. That list is a ratchet: what it names is debt to
split, and an entry that no longer offends must leave it, so it only ever shrinks.
"""
import pathlib
import re
import sys

MAX_FILE = 400
MAX_FN = 80
DIRS = ["src", "api/src", "worker/src", "jobs/src", "entity/src"]
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")
CHAR = re.compile(r"'(\\.|\\u\{[0-9a-fA-F]+\}|[^\\'])'")


def code_only(text):
    """The text with comments, strings and char literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = '"' + hashes
            j = text.find(end, i + len(hashes) + 2)
            j = n if j < 0 else j + len(end)
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "'" and CHAR.match(text, i):
            i = CHAR.match(text, i).end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def production_part(lines):
    """The lines before a file's `#[cfg(test)]` module."""
    for k, line in enumerate(lines):
        if line.strip() == "#[cfg(test)]":
            return lines[:k]
    return lines


def long_functions(path, code_lines):
    found = []
    for k, line in enumerate(code_lines):
        m = FN.match(line)
        if not m:
            continue
        depth, start, end = 0, None, None
        for j in range(k, len(code_lines)):
            for ch in code_lines[j]:
                if ch == ";" and start is None and depth == 0:
                    end = j  # a declaration without a body
                    break
                if ch == "{":
                    depth += 1
                    start = j if start is None else start
                elif ch == "}":
                    depth -= 1
                    if depth == 0 and start is not None:
                        end = j
                        break
            if end is not None:
                break
        if start is not None and end is not None and end - k + 1 > MAX_FN:
            found.append((f"{path} fn {m.group(6)}", f"{path}:{k + 1}: fn {m.group(6)} is {end - k + 1} lines (at most {MAX_FN})"))
    return found


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    problems = []
    for d in DIRS:
        for path in sorted((root / d).rglob("*.rs")):
            lines = production_part(path.read_text().split("\n"))
            rel = path.relative_to(root)
            if len(lines) > MAX_FILE:
                problems.append((f"{rel}", f"{rel}: {len(lines)} lines of production code (at most {MAX_FILE})"))
            problems += long_functions(rel, code_only("\n".join(lines)).split("\n"))
    debt_file = root / ".ci" / "sizes-debt.txt"
    debt = set()
    if debt_file.exists():
        debt = {l.strip() for l in debt_file.read_text().split("\n") if l.strip() and not l.startswith("#")}
    keys = {key for key, _ in problems}
    new = [msg for key, msg in problems if key not in debt]
    paid = sorted(debt - keys)
    for msg in new:
        print(msg)
    for key in paid:
        print(f"{key}: within the limits now; remove it from .ci/sizes-debt.txt")
    if new or paid:
        sys.exit(1)
    print(f"sizes ok: no file over {MAX_FILE} lines, no function over {MAX_FN}, {len(debt)} listed as debt")


main()
