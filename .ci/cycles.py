#!/usr/bin/env python3
"""No import circles between the top-level modules of a crate: within each crate's
`src/`, a module may use another only if that one does not (even through others) use it
back. A module is a top-level file or folder of `src/`; `lib.rs` and `main.rs` only
declare modules and re-export (a name they re-export counts as its module's).

Usage: python3 .ci/cycles.py [ROOT] [--graph]. Prints each circle and exits 1 if any.
"""
import pathlib
import re
import sys

CRATES = ["jobs", "api", "worker", "entity", "."]
PATH = re.compile(r"\bcrate::(\w+)")
GROUP = re.compile(r"\buse\s+crate::\{([^;]*)\};", re.S)


def module_of(src, path):
    rel = path.relative_to(src).parts
    name = rel[0][:-3] if rel[0].endswith(".rs") else rel[0]
    return None if name in ("lib", "main") else name


def uses(text, modules, reexports):
    found = set(PATH.findall(text))
    for group in GROUP.findall(text):
        depth, item = 0, ""
        for ch in group + ",":
            if ch in "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                head = re.match(r"\s*(\w+)", item)
                if head:
                    found.add(head.group(1))
                item = ""
            else:
                item += ch
    return {reexports.get(m, m) for m in found} & modules


def reexports_of(src):
    """`pub use module::{A, B}` in lib.rs or main.rs: the name `crate::A` stands for."""
    names = {}
    for root in ("lib.rs", "main.rs"):
        path = src / root
        if not path.exists():
            continue
        for module, items in re.findall(r"pub use (\w+)::(\{[^}]*\}|\w+);", path.read_text()):
            for item in re.findall(r"\w+", items):
                names[item] = module
    return names


def circles(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    root = pathlib.Path(next((a for a in sys.argv[1:] if not a.startswith("--")), "."))
    bad = False
    for crate in CRATES:
        src = root / crate / "src"
        files = [p for p in src.rglob("*.rs")]
        modules = {m for m in (module_of(src, p) for p in files) if m}
        graph = {m: set() for m in modules}
        reexports = reexports_of(src)
        for p in files:
            m = module_of(src, p)
            if m:
                text = re.sub(r"//[^\n]*", "", p.read_text())
                graph[m] |= uses(text, modules, reexports) - {m}
        if "--graph" in sys.argv:
            for m in sorted(graph):
                print(f"{crate}: {m} -> {', '.join(sorted(graph[m]))}")
        for comp in circles(graph):
            bad = True
            print(f"{crate}: modules that import each other in a circle: {', '.join(comp)}")
            for m in comp:
                print(f"  {m} -> {', '.join(sorted(graph[m] & set(comp)))}")
    if bad:
        sys.exit(1)
    print("no import circles")


main()
