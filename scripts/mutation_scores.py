"""The mutation score of each module ``make mutation`` mutates, checked against the floor.

    python scripts/mutation_scores.py           the table, then every mutant still alive
    python scripts/mutation_scores.py --check   the same; exit 1 below the floor, or on a
                                                mutant alive but not listed as equivalent

Reads what ``mutmut run`` left in ``mutants/`` (one ``<module>.meta`` per mutated module) and the
modules named in ``[tool.mutmut] only_mutate`` of ``pyproject.toml``. A mutant is killed when a
test failed or timed out on it. An equivalent mutant (one that changes no behaviour, so no test
can fail on it) is listed in ``tests/mutation/equivalent.txt``, one per line: its name, then why
it is equivalent. The score leaves the listed ones out: killed / (mutants - equivalent).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10's TOML parser, a dependency of pytest there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.txt"
FLOOR = 95.0
"""The lowest score (per cent) a module may have."""

# mutmut's exit codes (mutmut.stats.status_by_exit_code): a test failed (1), pytest broke (3),
# the mutant ran out of time (24, 36, 152, 255, or the signal -24), the type checker refused it
# (37). Every other code leaves the mutant alive: 0 survived, 5 and 33 no test ran it.
KILLED_CODES = frozenset({1, 3, 24, 36, 37, 152, 255, -24})
SKIPPED_CODES = frozenset({34})


@dataclass
class ModuleScore:
    """The mutants of one module, sorted by fate."""

    path: str
    killed: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    alive: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def counted(self) -> int:
        """The mutants the score counts: all but the listed equivalents."""
        return len(self.killed) + len(self.alive) + len(self.unchecked)

    @property
    def score(self) -> float:
        """Killed, in per cent of the mutants counted."""
        return 100.0 * len(self.killed) / self.counted if self.counted else 100.0


def mutated_modules() -> list[str]:
    """The modules ``[tool.mutmut] only_mutate`` names, in its order."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    modules: list[str] = config["tool"]["mutmut"]["only_mutate"]
    return modules


def read_equivalents(path: Path = EQUIVALENT) -> dict[str, str]:
    """The listed equivalent mutants, each with its reason; a line without a reason is refused."""
    listed: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, _, reason = text.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path}:{number}: {name} has no reason; say why it is equivalent")
        listed[name] = reason.strip()
    return listed


def score_module(path: str, equivalents: dict[str, str]) -> ModuleScore:
    """Sort the mutants of one module by their exit codes in ``mutants/<path>.meta``."""
    meta = MUTANTS / f"{path}.meta"
    if not meta.is_file():
        raise SystemExit(f"{meta} is missing: run `make mutation` (mutmut run) first")
    codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    result = ModuleScore(path)
    for name, code in sorted(codes.items()):
        if code in SKIPPED_CODES:
            continue
        if code is None:
            result.unchecked.append(name)
        elif code in KILLED_CODES:
            result.killed.append(name)
        elif name in equivalents:
            result.equivalent.append(name)
        else:
            result.alive.append(name)
    return result


def stale_equivalents(scores: list[ModuleScore], equivalents: dict[str, str]) -> list[str]:
    """Listed names that are no longer an alive mutant (killed since, or gone)."""
    alive_and_listed = {name for score in scores for name in score.equivalent}
    return sorted(set(equivalents) - alive_and_listed)


def table(scores: list[ModuleScore]) -> str:
    """The scores as a Markdown table, one row per module."""
    rows = [
        "| Module | Mutants | Killed | Equivalent | Alive | Score |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for score in scores:
        total = score.counted + len(score.equivalent)
        rows.append(
            f"| `{score.path}` | {total} | {len(score.killed)} | {len(score.equivalent)} "
            f"| {len(score.alive) + len(score.unchecked)} | {score.score:.1f} % |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Print the table and the mutants alive; with ``--check``, 1 if the floor is not met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 unless every module passes")
    arguments = parser.parse_args(argv)
    equivalents = read_equivalents()
    scores = [score_module(path, equivalents) for path in mutated_modules()]
    print(table(scores))
    problems: list[str] = []
    for score in scores:
        if score.score < FLOOR:
            problems.append(f"{score.path}: {score.score:.1f} % is under the floor of {FLOOR:g} %")
        problems += [f"alive: {name} (see it: mutmut show {name})" for name in score.alive]
        problems += [f"not run: {name}" for name in score.unchecked]
    problems += [
        f"listed in {EQUIVALENT.relative_to(ROOT)} but not an alive mutant: {name}"
        for name in stale_equivalents(scores, equivalents)
    ]
    if problems:
        print("\n" + "\n".join(problems))
    return 1 if arguments.check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
