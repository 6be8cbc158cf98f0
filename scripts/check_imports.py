#!/usr/bin/env python3
"""Import cycles between the files of src/ (and imports that run back up a layer).

Every `use` (grouped ones expanded) and every inline `crate::…`/`super::…` path is an edge from
its file to the file that defines the module it names (the longest module prefix). `mod x;`
declarations are not imports. Exits 1 when the graph has a cycle, naming each one.

    scripts/check_imports.py [src]
"""

import os
import re
import sys
from collections import defaultdict

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")


def module_of(rel):
    """src-relative file → module path tuple; lib.rs and main.rs are the crate root ()."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def expand(tree):
    """`a::{b, c::{d, e}}` → ['a::b', 'a::c::d', 'a::c::e']."""
    tree = tree.strip()
    depth = 0
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                prefix, inner = tree[:i], tree[i + 1 : tree.rindex("}")]
                out, item, d = [], "", 0
                for c in inner:
                    if c == "," and d == 0:
                        out.append(item)
                        item = ""
                        continue
                    d += c == "{"
                    d -= c == "}"
                    item += c
                out.append(item)
                return [p for part in out if part.strip() for p in expand(prefix + part.strip())]
            depth += 1
    return [re.sub(r"\s+as\s+\w+$", "", tree)]


def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    return re.sub(r"//[^\n]*", "", src)


def main():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".rs"):
                rel = os.path.relpath(os.path.join(dirpath, name), ROOT)
                files[module_of(rel)] = rel
    # main.rs is a separate crate root (the binary); it only uses the library.
    files.pop((), None)
    files[()] = "lib.rs"
    modules = set(files)

    # #[macro_export] macros live at the crate root but belong to the file defining them.
    macros = {}
    for mod, rel in files.items():
        src = open(os.path.join(ROOT, rel), encoding="utf-8").read()
        for m in re.finditer(r"#\[macro_export\]\s*macro_rules!\s*(\w+)", src):
            macros[m.group(1)] = mod

    def resolve(current, path):
        segs = [s for s in path.split("::") if s]
        if not segs:
            return None
        if segs[0] == "crate" and len(segs) > 1 and segs[1] in macros:
            return macros[segs[1]]
        if segs[0] == "crate":
            base, segs = (), segs[1:]
        elif segs[0] in ("super", "self"):
            base = current
            while segs and segs[0] in ("super", "self"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
        elif current + (segs[0],) in modules:
            base = current
        else:
            return None  # another crate
        full = base + tuple(segs)
        for n in range(len(full), -1, -1):
            if full[:n] in modules:
                return full[:n]
        return None

    edges = defaultdict(set)
    for mod, rel in files.items():
        if rel == "main.rs":
            continue
        src = strip_comments(open(os.path.join(ROOT, rel), encoding="utf-8").read())
        src = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", src, flags=re.S)
        paths = []
        for m in re.finditer(r"\buse\s+([^;]+);", src):
            paths += expand(m.group(1))
        # Inline paths: crate::…, super::…, self::…, or a child module's name.
        paths += re.findall(r"(?<![\w:])([a-z_]\w*(?:::\w+)+)", src)
        for p in paths:
            target = resolve(mod, p)
            if target is not None and target != mod:
                edges[mod].add(target)

    # Tarjan's strongly connected components.
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
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
                comps.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(files):
        if v not in index:
            visit(v)
    name = lambda m: files[m]
    for comp in comps:
        members = sorted(name(m) for m in comp)
        print(f"import cycle of {len(comp)} files: {', '.join(members)}")
        inside = set(comp)
        for m in sorted(comp, key=name):
            for t in sorted(edges[m] & inside, key=name):
                print(f"  {name(m)} -> {name(t)}")
    if comps:
        sys.exit(1)
    print(f"no import cycles among {len(files)} files in {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
