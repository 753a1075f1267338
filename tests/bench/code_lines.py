"""Lines and code lines (docstrings, comments and blank lines excluded) of
``zklora/plugins/ops`` at a git revision — the figure issue 10 reports.

    .venv/bin/python tests/bench/code_lines.py c8cecef HEAD
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize

_SKIP = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENDMARKER)


def code_lines(src: str) -> int:
    """Source lines holding a token that is neither a comment nor part of a docstring."""
    doc: set[int] = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str):
                doc.update(range(first.lineno, first.end_lineno + 1))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type not in _SKIP:
            lines.update(n for n in range(tok.start[0], tok.end[0] + 1) if n not in doc)
    return len(lines)


def count(rev: str, folder: str = "zklora/plugins/ops") -> tuple[int, int]:
    files = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, folder],
                           capture_output=True, text=True, check=True).stdout.split()
    total = code = 0
    for f in files:
        if f.endswith(".py"):
            src = subprocess.run(["git", "show", f"{rev}:{f}"], capture_output=True,
                                 text=True, check=True).stdout
            total += len(src.splitlines())
            code += code_lines(src)
    return total, code


if __name__ == "__main__":
    for rev in sys.argv[1:] or ["HEAD"]:
        lines, code = count(rev)
        print(f"{rev}: {lines} lines, {code} code lines")
