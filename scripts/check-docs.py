#!/usr/bin/env python3
"""Check that the repository's Markdown files only name files and directories that exist.

    scripts/check-docs.py

Scans every Markdown file git knows of (tracked, or untracked and not ignored), except those under
frontend/node_modules/ and .data/, outside fenced code blocks, for two kinds of reference:

  - a relative link `[text](target)` (or a reference definition `[label]: target`) must point at a file or
    directory that exists, resolved against the Markdown file's directory (against the repository root when
    it starts with `/`). `#anchor` and `?query` are stripped; URLs with a scheme (http:, https:, mailto:, ...)
    and pure `#anchor` links are not checked;
  - an inline-code span that looks like a repository path must name one that exists under the repository
    root. It looks like one when it contains a `/` and ends in a file extension (.rs, .md, .sh, ...), or
    when it starts with a top-level directory of the repository followed by `/`. Spans with spaces, globs
    (`*`), placeholders (`<`, `{`, `...`, `…`) or URLs are not paths; neither are absolute paths, `~`,
    `.data/`, `target/`, `node_modules/`, nor a path whose first component is not an entry at the top of the
    repository (API routes such as `/api/v1/x`, generic examples such as `src/main.rs`). A trailing `:LINE`
    is ignored. A path git ignores (build output such as `frontend/dist`) may be missing: it exists once
    built.

Each broken reference is printed as `file:line: target (why)`. Exits 0 when there are none, 1 otherwise.
Only the standard library is used.
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
EXCLUDED_PREFIXES = ("frontend/node_modules/", ".data/")
# Spans starting with these are generated or outside the repository: never checked.
SKIPPED_PATH_PREFIXES = ("/", "~", ".data/", "target/", "node_modules/")
PLACEHOLDERS = ("<", ">", "{", "}", "*", "...", "…")

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
LINE_SUFFIX = re.compile(r":\d+(?:-\d+)?$")


def git_files(*patterns):
    """Tracked files plus untracked ones that are not ignored, relative to the root."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *patterns],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode("utf-8")
    return sorted({name for name in out.split("\0") if name})


def markdown_files():
    return [
        name for name in git_files("*.md")
        if not name.startswith(EXCLUDED_PREFIXES) and (ROOT / name).is_file()
    ]


def top_level_entries():
    return {name.split("/", 1)[0] for name in git_files()}


def blank_code_spans(line):
    """The line with every inline-code span replaced by spaces (so links inside code are not links), and the
    spans' contents."""
    spans = []

    def blank(match):
        spans.append(match.group(2).strip())
        return " " * len(match.group(0))

    return CODE_SPAN.sub(blank, line), spans


def check_link(md_path, target):
    """Why a link target is broken, or None."""
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1]
    if not target or target.startswith("#") or SCHEME.match(target):
        return None
    target = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if not target:
        return None
    if target.startswith("/"):
        resolved = ROOT / target.lstrip("/")
    else:
        resolved = (ROOT / md_path).parent / target
    if os.path.exists(os.path.normpath(resolved)):
        return None
    return "link target does not exist"


def looks_like_path(span, tops):
    """Whether an inline-code span names a path in the repository. A span with a `/` that ends in a known
    extension, or starts with a top-level directory, is a path; of those, only the ones whose first component
    is at the top of the repository are checked, so both tests reduce to that one."""
    if "/" not in span or " " in span or "\t" in span:
        return False
    if any(mark in span for mark in PLACEHOLDERS) or "://" in span or SCHEME.match(span):
        return False
    if span.startswith(SKIPPED_PATH_PREFIXES):
        return False
    return span.split("/", 1)[0] in tops


def git_ignores(path):
    return subprocess.run(["git", "check-ignore", "-q", "--", path], cwd=ROOT).returncode == 0


def check_span(md_path, span):
    path = LINE_SUFFIX.sub("", span).split("#", 1)[0]
    if os.path.exists(ROOT / path) or git_ignores(path):
        return None
    return "no such path in the repository"


def check_file(md_path, tops):
    problems = []
    in_fence = None
    text = (ROOT / md_path).read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if fence:
            marker = fence.group(1)
            if in_fence is None:
                in_fence = marker[0] * 3
            elif marker.startswith(in_fence):
                in_fence = None
            continue
        if in_fence is not None:
            continue
        prose, spans = blank_code_spans(line)
        targets = [m.group(1) for m in INLINE_LINK.finditer(prose)]
        definition = REFERENCE_DEFINITION.match(prose)
        if definition:
            targets.append(definition.group(1))
        for target in targets:
            why = check_link(md_path, target)
            if why:
                problems.append(f"{md_path}:{number}: {target} ({why})")
        for span in spans:
            if looks_like_path(span, tops):
                why = check_span(md_path, span)
                if why:
                    problems.append(f"{md_path}:{number}: `{span}` ({why})")
    return problems


def main():
    tops = top_level_entries()
    files = markdown_files()
    problems = [problem for md_path in files for problem in check_file(md_path, tops)]
    for problem in problems:
        print(problem)
    if problems:
        print(f"check-docs: {len(problems)} broken reference(s) in {len(files)} Markdown files",
              file=sys.stderr)
        return 1
    print(f"check-docs: {len(files)} Markdown files, every link and path resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
