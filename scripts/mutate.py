#!/usr/bin/env python3
"""Mutation testing of the core modules: one mutmut 3 run per module, against that module's tests.

    scripts/mutate.py                      every module of [mutate] modules in setup.cfg
    scripts/mutate.py pools/strategies.py  just these modules
    scripts/mutate.py --changed [BASE]     the core modules changed against BASE, or whose tests
                                           changed (default BASE: the merge-base with origin/main;
                                           on main itself the last commit that recorded scores in
                                           MUTATION.md; else HEAD~1); fails when one scores below
                                           its recorded score there; --budget bounds the whole job

For each module mutants/ is started afresh (mutmut copies the apps there and keeps its state
there), mutmut runs with only_mutate and the test selection of that module, and the report gives
mutants, killed (timeouts count as killed), survived, equivalent (listed in setup.cfg with the
reason), the score killed / (mutants - equivalent), and every surviving mutant's diff. A module
whose run passes its time budget is stopped and reported as partial (its figure covers the mutants
tried so far). Module constants are mutmut's blind spot: scripts/mutate_constants.py covers them.
"""

from __future__ import annotations

import argparse
import configparser
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCORES_FILE = ROOT / "MUTATION.md"
KILLED = {1, 3, -24, 24, 152, 255, 36}  # mutmut's exit codes for killed and timed out


@dataclass
class Result:
    module: str
    mutants: int = 0
    killed: int = 0
    survivors: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    untried: int = 0
    seconds: float = 0.0
    partial: bool = False

    @property
    def score(self) -> float:
        judged = self.mutants - self.untried - len(self.equivalent)
        return 100.0 * self.killed / judged if judged else 100.0

    def row(self) -> str:
        score = f"{self.score:.1f} %" + (" (partial)" if self.partial else "")
        return (
            f"| `{self.module}` | {self.mutants} | {self.killed} | {len(self.survivors)} | "
            f"{len(self.equivalent)} | {score} | {self.seconds:.0f} s |"
        )


def settings() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    return parser


def modules_and_tests(cfg: configparser.ConfigParser) -> dict[str, list[str]]:
    out = {}
    for line in cfg.get("mutate", "modules").strip().splitlines():
        module, _, tests = line.partition(":")
        paths = sorted({p for pattern in tests.split() for p in glob.glob(pattern.strip(), root_dir=ROOT)})
        out[module.strip()] = paths
    return out


def equivalents(cfg: configparser.ConfigParser) -> dict[str, str]:
    out = {}
    for line in cfg.get("mutate", "equivalent", fallback="").strip().splitlines():
        name, _, why = line.strip().partition(" ")
        if name:  # setup.cfg stays ASCII: "|" stands for the "ǁ" of mutmut's method names
            out[name.replace("|", "\u01c1")] = why.strip()
    return out


def dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def run_mutmut(module: str, tests: list[str], max_children: int, budget_s: float) -> tuple[bool, str]:
    """One fresh mutmut run over `module`; True when it finished inside the budget."""
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    (ROOT / "mutants").mkdir()
    log = ROOT / "mutants" / "run.log"
    cmd = [sys.executable, __file__, "--mutmut", module, *tests, "--", "run", "--max-children", str(max_children)]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=budget_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            return False, log.read_text(errors="replace")
    text = log.read_text(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"mutmut failed on {module} (exit {proc.returncode}):\n{text[-3000:]}")
    return True, text


def show(module: str, tests: list[str], names: list[str]) -> None:
    """Print each surviving mutant's changed lines (one mutmut process for all of them)."""
    if names:
        cmd = [sys.executable, __file__, "--mutmut", module, *tests, "--", "show-many", *names]
        subprocess.run(cmd, cwd=ROOT)


def measure(module: str, tests: list[str], cfg, budget_s: float, quiet: bool = False) -> Result:
    started = time.monotonic()
    finished, _ = run_mutmut(module, tests, cfg.getint("mutate", "max_children", fallback=2), budget_s)
    meta = json.loads((ROOT / "mutants" / f"{module}.meta").read_text())
    codes = meta["exit_code_by_key"]
    known = equivalents(cfg)
    result = Result(module, mutants=len(codes), seconds=time.monotonic() - started, partial=not finished)
    for name, code in sorted(codes.items()):
        if code is None:
            result.untried += 1
        elif code in KILLED:
            result.killed += 1
            if name in known:
                print(f"  note: {name} is listed as equivalent but was killed: drop it from setup.cfg")
        elif name in known:
            result.equivalent.append(name)
        else:
            result.survivors.append(name)
    for name in known:
        if name.startswith(dotted(module) + ".") and name not in codes:
            print(f"  note: equivalent {name} no longer exists (the function changed): re-check the list")
    if not quiet:
        show(module, tests, result.survivors)
    return result


def recorded_scores() -> dict[str, float]:
    scores = {}
    if SCORES_FILE.exists():
        for m in re.finditer(r"^\| `([^`]+\.py)` \|.*?\| ([\d.]+) %", SCORES_FILE.read_text(), re.M):
            scores.setdefault(m.group(1), float(m.group(2)))  # the first table: mutmut's scores
    return scores


def _git(*args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def default_base() -> str:
    head = _git("rev-parse", "HEAD")
    if _git("rev-parse", "--verify", "-q", "origin/main"):
        base = _git("merge-base", "HEAD", "origin/main") or "origin/main"
        if base != head:
            return base
    # On main itself (CI's clean clone of it): what changed since the scores were last recorded.
    recorded = _git("log", "-1", "--format=%H", "--", "MUTATION.md")
    if recorded and recorded != head:
        return recorded
    if _git("rev-parse", "--verify", "-q", "HEAD~1"):
        return "HEAD~1"
    return _git("hash-object", "-t", "tree", "/dev/null") or "HEAD"  # one commit: everything is new


def changed_files(base: str) -> set[str]:
    committed = _git("diff", "--name-only", base) or ""
    untracked = _git("ls-files", "--others", "--exclude-standard") or ""
    return {line for line in (committed + "\n" + untracked).splitlines() if line}


def mutmut_main(argv: list[str]) -> None:
    """Run mutmut's CLI with only_mutate and the test selection set to one module's."""
    sep = argv.index("--")
    module, tests, mutmut_args = argv[0], argv[1:sep], argv[sep + 1 :]
    import mutmut.configuration as mconf

    cfg = mconf._load_config()
    cfg.only_mutate = [module]
    cfg.pytest_add_cli_args_test_selection = tests
    mconf._config = cfg
    from mutmut.__main__ import cli, find_mutant, get_diff_for_mutant

    if mutmut_args[0] != "show-many":
        cli(mutmut_args)
        return
    for name in mutmut_args[1:]:
        diff = get_diff_for_mutant(name, path=find_mutant(name).path)
        changed = [line for line in diff.splitlines() if re.match(r"^[-+](?![-+]{2})", line)]
        print(f"\n  survived: {name}\n" + "\n".join(changed), flush=True)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--mutmut":
        mutmut_main(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="core modules (default: all of setup.cfg [mutate] modules)")
    parser.add_argument("--changed", nargs="?", const="", metavar="BASE", help="only core modules changed vs BASE")
    parser.add_argument(
        "--budget", type=float, help="seconds per module, with --changed for the whole job (default: [mutate] budget_s)"
    )
    parser.add_argument("--tests", nargs="+", help="override the module's tests (e.g. to measure a before)")
    args = parser.parse_args()
    cfg = settings()
    table = modules_and_tests(cfg)
    budget = args.budget or cfg.getfloat("mutate", "budget_s", fallback=900)
    selected = args.modules or list(table)
    if args.changed is not None:
        base = args.changed or default_base()
        changed = changed_files(base)
        # A module counts as changed when it or one of its tests changed (weaker tests show too).
        selected = [m for m in selected if m in changed or changed.intersection(table[m])]
        print(f"core modules changed (or their tests) against {base[:12]}: {', '.join(selected) or 'none'}")
    unknown = [m for m in selected if m not in table]
    if unknown:
        parser.error(f"not a core module in setup.cfg [mutate] modules: {', '.join(unknown)}")
    results = []
    # With --changed the budget bounds the whole job: each module gets what the earlier ones left.
    deadline = time.monotonic() + budget if args.changed is not None else None
    for module in selected:
        tests = args.tests or table[module]
        allowed = budget if deadline is None else deadline - time.monotonic()
        if allowed < 10:
            print(f"\n== {module}: NOT RUN, the {budget:.0f} s budget is spent (run scripts/mutate.py {module})")
            continue
        print(f"\n== {module}  ({len(tests)} test files, budget {allowed:.0f} s)", flush=True)
        results.append(measure(module, tests, cfg, allowed))
        print(f"  {results[-1].row()}", flush=True)
    print("\n| module | mutants | killed | survived | equivalent | score | time |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(r.row())
    if args.changed is not None:
        return check_against_record(results)
    return 0


def check_against_record(results: list[Result]) -> int:
    recorded = recorded_scores()
    failed = [r for r in results if r.module in recorded and r.score < recorded[r.module] - 0.05]
    for r in failed:
        print(f"FAIL {r.module}: {r.score:.1f} % is below its recorded {recorded[r.module]:.1f} % (MUTATION.md)")
    for r in results:
        if r.module not in recorded:
            print(f"note: {r.module} has no recorded score in MUTATION.md yet")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
