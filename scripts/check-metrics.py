#!/usr/bin/env python3
"""Compare the metric families docs/metrics.md documents with those a scrape of /metrics exports.

    scripts/check-metrics.py DOCS SCRAPE      e.g. docs/metrics.md .data/e2e-metrics.prom (SCRAPE - is stdin)

Both directions, each problem named on its own line (stderr):
  - every documented family is exported, with at least one sample;
  - every exported family is documented;
  - and for each family in both: the type, the label names and a HELP line are as documented.

The documented families are the rows of docs/metrics.md's tables whose first cell is a `name` and whose second
is its type. Names follow Prometheus: a counter may be written with or without `_total` on either side (the
text format's `# TYPE x_total counter` or OpenMetrics' `# TYPE x counter` with samples `x_total`), and a
histogram `x` is exported as `x_bucket`, `x_sum` and `x_count`. The labels column names each label in
backticks; what is in parentheses (values, remarks) is not a label; `—` means none.

Exits 0 when they agree, 1 when any problem was found, 2 when a file cannot be read or documents nothing.
Only the standard library is used.
"""

import re
import sys
from pathlib import Path

TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
# Sample-name suffixes that belong to a family of the given type.
SUFFIXES = {
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "counter": ("_total", "_created"),
}
# Labels the exposition adds itself, never documented.
BUILT_IN_LABELS = {"le", "quantile"}

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(rf"^({NAME})(?:\{{(.*)\}})?\s+\S+")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"(?:[^"\\]|\\.)*"')


def spellings(name, kind):
    """The names a documented family may have for an exported one, the exact name first: a counter's `_total`
    may be on either side. (A family without a TYPE line is untyped, and named by its samples.)"""
    if kind != "counter":
        return [name]
    return [name, name[: -len("_total")] if name.endswith("_total") else name + "_total"]


def documented(path):
    """{name: (type, label names, line)} from the tables of docs/metrics.md."""
    families, problems = {}, []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 3:
            continue
        m = re.fullmatch(rf"`({NAME})`", cells[0])
        if not m:
            continue
        name, kind = m.group(1), cells[1].lower()
        where = f"{path}:{number}"
        if kind not in TYPES:
            problems.append(f"{where}: {name}: the type {cells[1]!r} is not one of {', '.join(sorted(TYPES))}")
            continue
        if name in families:
            problems.append(f"{where}: {name} is documented twice (also line {families[name][2]})")
            continue
        labels = set(re.findall(r"`([a-zA-Z_][a-zA-Z0-9_]*)`", re.sub(r"\([^)]*\)", "", cells[2])))
        families[name] = (kind, labels, number)
    return families, problems


def exported(text):
    """{family: {"type", "help", "labels", "samples"}} from a scrape in the text format."""
    families = {}

    def family(name):
        return families.setdefault(name, {"type": None, "help": False, "labels": set(), "samples": 0})

    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] == "TYPE":
                family(parts[2])["type"] = parts[3].strip() if len(parts) > 3 else "untyped"
            elif len(parts) >= 3 and parts[1] == "HELP":
                family(parts[2])["help"] = True
            continue
        m = SAMPLE.match(line)
        if m:
            samples.append((m.group(1), set(LABEL.findall(m.group(2) or ""))))

    for name, labels in samples:
        owner = name if families.get(name, {}).get("type") else None
        if owner is None:
            for base, f in families.items():
                if f["type"] and name.startswith(base) and name[len(base):] in SUFFIXES.get(f["type"], ()):
                    owner = base
                    break
        f = family(owner or name)
        f["type"] = f["type"] or "untyped"
        f["labels"] |= labels - BUILT_IN_LABELS
        f["samples"] += 1
    return families


def main(argv):
    if len(argv) != 3:
        print("usage:" + __doc__.split("\n\n")[1].rstrip(), file=sys.stderr)
        return 2
    docs_path = Path(argv[1])
    try:
        docs, problems = documented(docs_path)
        scrape = sys.stdin.read() if argv[2] == "-" else Path(argv[2]).read_text()
    except OSError as e:
        print(f"check-metrics: {e}", file=sys.stderr)
        return 2
    if not docs:
        print(f"check-metrics: no metric family found in the tables of {docs_path}", file=sys.stderr)
        return 2
    families = exported(scrape)
    source = "the scrape" if argv[2] == "-" else argv[2]

    matched = {}  # documented name -> exported family
    for name in sorted(families):
        f = families[name]
        if not f["samples"]:
            continue  # declared without a sample: not exported (reported below if documented)
        doc = next((d for d in spellings(name, f["type"]) if d in docs and d not in matched), None)
        if doc is None:
            problems.append(f"exported but not in {docs_path}: {name} ({f['type']})")
            continue
        matched[doc] = name
        kind, labels, line = docs[doc]
        where = f"{name} ({docs_path}:{line})"
        if f["type"] != kind:
            problems.append(f"{where}: documented as {kind}, exported as {f['type']}")
        if f["labels"] != labels:
            problems.append(f"{where}: exported with labels {{{', '.join(sorted(f['labels']))}}}, "
                            f"documented with {{{', '.join(sorted(labels))}}}")
        if not f["help"]:
            problems.append(f"{where}: exported without a HELP line")

    missing = sorted(set(docs) - set(matched), key=lambda name: docs[name][2])
    for name in missing:
        kind, _, line = docs[name]
        problems.append(f"documented in {docs_path}:{line} but not exported by {source}: {name} ({kind})")

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): {len(matched)} of {len(docs)} documented families exported"
              + (f"; missing: {', '.join(missing)}" if missing else ""))
        return 1
    print(f"all {len(docs)} documented families exported, and nothing else; types, labels and HELP as documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
