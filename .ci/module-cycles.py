#!/usr/bin/env python3
"""Fails when the library's top-level modules import each other in a cycle.

    python3 .ci/module-cycles.py [SRC_DIR]      (default crates/clientele/src)

An edge A -> B is a `crate::B` path (in a `use` or in code) inside a file of module A, where A
and B are top-level modules of the library (`src/a.rs` or `src/a/...`). Test modules count
too: a test that needs a module above its own is a sign the code is misplaced. Prints the
edges, then each strongly connected group of more than one module, and exits 1 if there is
one.
"""
import pathlib
import re
import sys

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "crates/clientele/src")
modules = {p.stem for p in src.glob("*.rs") if p.stem not in ("lib", "main")}
modules |= {p.name for p in src.iterdir() if p.is_dir()}

CRATE_PATH = re.compile(r"\bcrate::(\w+)")
USE_GROUP = re.compile(r"\buse\s+crate::\{([^;]*)\};", re.S)


def module_of(path):
    rel = path.relative_to(src)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


edges = {}
for path in sorted(src.rglob("*.rs")):
    a = module_of(path)
    if a not in modules:
        continue
    text = strip_comments(path.read_text(encoding="utf-8"))
    targets = set(CRATE_PATH.findall(text))
    for group in USE_GROUP.findall(text):
        # `use crate::{a::X, b}`: the first name of each item
        targets |= {re.match(r"\s*(\w+)", item).group(1) for item in group.split(",") if item.strip()}
    for b in targets:
        if b in modules and b != a:
            edges.setdefault(a, set()).add(b)

# Tarjan's strongly connected components.
index, low, on_stack, stack, sccs = {}, {}, set(), [], []


def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in sorted(edges.get(v, ())):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        scc = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            scc.append(w)
            if w == v:
                break
        sccs.append(sorted(scc))


sys.setrecursionlimit(10000)
for v in sorted(modules):
    if v not in index:
        visit(v)

for a in sorted(edges):
    print(f"{a} -> {', '.join(sorted(edges[a]))}")
cycles = [s for s in sccs if len(s) > 1]
for scc in cycles:
    print(f"cycle among: {', '.join(scc)}", file=sys.stderr)
    for a in scc:
        for b in sorted(edges.get(a, set()) & set(scc)):
            print(f"  {a} -> {b}", file=sys.stderr)
if cycles:
    sys.exit(1)
print(f"no import cycle among {len(modules)} modules")
