#!/usr/bin/env python3
"""The repository stands on its own: every `<page>.md §N` that code, tests,
scripts or README cite resolves to a heading numbered N in doc/<page>.md,
and nothing points outside the repository (a `shared/` spec tree).

  tests/check_doc_refs.py [ROOT]       (run by tests/run-unit.sh)
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), ".."))
DOC = os.path.join(ROOT, "doc")
PAGES = sorted(f[:-3] for f in os.listdir(DOC) if f.endswith(".md"))
EXTS = (".c", ".h", ".sh", ".py", ".in", ".md", ".awk", ".yaml", ".bash")
page_re = re.compile(r"\b(%s)\.md\b" % "|".join(map(re.escape, PAGES)))
sec_re = re.compile(r"§\s*([0-9]+(?:\.[0-9]+)*)")
outside_re = re.compile(r"(\.\./shared|shared/spec)")
head_re = re.compile(r"^#{1,6}\s+([0-9]+(?:\.[0-9]+)*)[.\s]")


def sources():
    for dp, dn, fn in os.walk(ROOT):
        dn[:] = [d for d in dn if d not in (".git", "build") and not d.startswith(".")]
        for f in fn:
            if f.endswith(EXTS) or f in ("Makefile", "run"):
                yield os.path.join(dp, f)


def headings(page):
    found = set()
    with open(os.path.join(DOC, page + ".md"), encoding="utf-8") as f:
        for line in f:
            m = head_re.match(line)
            if m:
                found.add(m.group(1))
    return found


def main():
    heads = {p: headings(p) for p in PAGES}
    bad, n = [], 0
    for path in sources():
        rel = os.path.relpath(path, ROOT)
        if rel == os.path.join("tests", "check_doc_refs.py"):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        for no, line in enumerate(lines, 1):
            if outside_re.search(line):
                bad.append(f"{rel}:{no}: points outside the repository: {line.strip()}")
            ms = list(page_re.finditer(line))
            for i, m in enumerate(ms):
                # A page's sections are the § numbers up to the next page name.
                end = ms[i + 1].start() if i + 1 < len(ms) else len(line)
                for sec in sec_re.findall(line[m.end():end]):
                    n += 1
                    sec = sec.rstrip(".")
                    if sec not in heads[m.group(1)]:
                        bad.append(f"{rel}:{no}: {m.group(1)}.md §{sec} has no heading")
    for b in bad:
        print(b)
    print(f"doc references: {n} section citations checked, {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
