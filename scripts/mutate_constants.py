#!/usr/bin/env python3
"""Mutate module constants, which mutmut 3 leaves alone (it only mutates inside functions).

    scripts/mutate_constants.py                      every module of setup.cfg [mutate] modules
    scripts/mutate_constants.py healing/engine/breaker.py
    scripts/mutate_constants.py --changed [BASE]    only core modules changed against BASE (as
                                                    scripts/mutate.py); fails on any survivor
                                                    that is not tolerated

For each module-level `UPPER_CASE = <int or float>` of a module, each mutation (+1, -1, x2, and
/2 for floats) is written into a scratch copy of the project and that module's tests (setup.cfg
[mutate] modules) run there with -x; a mutation the tests do not fail survives. The working
tree is never touched. Constants listed in setup.cfg [mutate] constants_tolerated (with the
reason) are reported but not counted.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutate import ROOT, changed_files, default_base, modules_and_tests, settings  # noqa: E402

COPY = ("common", "providers", "pools", "healing", "dashboard", "cryptohub", "tests", "templates", "fixtures")
COPY_FILES = ("pytest.ini", "manage.py")


def constants(source: str) -> list[tuple[str, ast.Constant]]:
    out = []
    for node in ast.parse(source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        value = getattr(node, "value", None)
        if (
            isinstance(target, ast.Name)
            and target.id.isupper()
            and isinstance(value, ast.Constant)
            and type(value.value) in (int, float)
        ):
            out.append((target.id, value))
    return out


def variants(value: int | float) -> list[int | float]:
    out = [value + 1, value - 1, value * 2] + ([value / 2] if isinstance(value, float) else [])
    return [v for i, v in enumerate(out) if v != value and v not in out[:i]]


def replace(source: str, node: ast.Constant, new: int | float) -> str:
    lines = source.splitlines(keepends=True)
    line = lines[node.lineno - 1]
    lines[node.lineno - 1] = line[: node.col_offset] + repr(new) + line[node.end_col_offset :]
    return "".join(lines)


def scratch_copy() -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="mutate-constants-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "static", "staticfiles")
    for name in COPY:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, scratch / name, ignore=ignore)
    for name in COPY_FILES:
        shutil.copy2(ROOT / name, scratch / name)
    return scratch


def run_tests(scratch: Path, tests: list[str]) -> bool:
    """True when the tests pass (the mutation survives)."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True)
    return done.returncode == 0


def tolerated(cfg) -> dict[str, str]:
    out = {}
    for line in cfg.get("mutate", "constants_tolerated", fallback="").strip().splitlines():
        name, _, why = line.strip().partition(" ")
        if name:
            out[name] = why.strip()
    return out


def mutate_module(module: str, tests: list[str], scratch: Path, allowed: dict[str, str]) -> tuple[int, int, list]:
    source = (ROOT / module).read_text()
    target = scratch / module
    if not run_tests(scratch, tests):
        raise SystemExit(f"{module}: its tests fail without any mutation; fix them first")
    tried, killed, survivors = 0, 0, []
    try:
        for name, node in constants(source):
            for new in variants(node.value):
                target.write_text(replace(source, node, new))
                tried += 1
                if run_tests(scratch, tests):
                    survivors.append((name, node.value, new, allowed.get(f"{module}:{name}")))
                else:
                    killed += 1
    finally:
        target.write_text(source)
    return tried, killed, survivors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*")
    parser.add_argument("--changed", nargs="?", const="", metavar="BASE", help="only core modules changed vs BASE")
    parser.add_argument("--tests", nargs="+", help="override the modules' tests (e.g. to measure a before)")
    args = parser.parse_args()
    cfg = settings()
    table = modules_and_tests(cfg)
    allowed = tolerated(cfg)
    selected = args.modules or list(table)
    if args.changed is not None:
        base = args.changed or default_base()
        changed = changed_files(base)
        selected = [m for m in selected if m in changed or changed.intersection(table[m])]
        print(f"core modules changed against {base[:12]}: {', '.join(selected) or 'none'}")
    failed = 0
    if not selected:
        return 0
    scratch = scratch_copy()
    print("| module | constant mutations | killed | survived | tolerated | score | time |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    try:
        for module in selected:
            started = time.monotonic()
            tried, killed, survivors = mutate_module(module, args.tests or table[module], scratch, allowed)
            ok = [s for s in survivors if s[3]]
            judged = tried - len(ok)
            score = 100.0 * killed / judged if judged else 100.0
            print(
                f"| `{module}` | {tried} | {killed} | {len(survivors) - len(ok)} | {len(ok)} | {score:.1f} % | "
                f"{time.monotonic() - started:.0f} s |",
                flush=True,
            )
            failed += len(survivors) - len(ok)
            for name, old, new, why in survivors:
                print(f"    survived: {name} = {old!r} -> {new!r}" + (f"  (tolerated: {why})" if why else ""))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed and args.changed is not None else 0


if __name__ == "__main__":
    sys.exit(main())
