"""Fault exploration: each passing test, run again under each failure its Spectron calls can meet.

``--spectron-explore`` re-runs every test that passed and called Spectron, in the same process
right after its normal run, once per (call, outcome): a call is the n-th call of an operation
(the journal's ``call`` numbering: a retry belongs to the call it repeats), an outcome one
representative of each way the client's policy treats a failure of that call's retry class.
A call that only appears under a fault (a fallback) is explored in turn, under that fault:
breadth-first, each call once. Each run goes through pytest's own ``runtestprotocol`` with
``log=False``, as pytest-rerunfailures re-runs a test: fresh function-scoped fixtures, the
test's own markers, and no report pytest counts. Under pytest-xdist each worker explores its
own tests and sends its findings to the controller, which sorts them.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest
from _pytest.runner import runtestprotocol

from pytest_spectron.client._catalogue import RetryClass
from pytest_spectron.client._retry import RETRIED_CLASSES
from pytest_spectron.plugin._settings import FAULT_MARKER, OPTIONS, Settings
from pytest_spectron.plugin._stash import EXPLORING, MOCK
from pytest_spectron.testing.faults._declare import build_fault
from pytest_spectron.testing.faults._matrix import CLASS_OUTCOMES

if TYPE_CHECKING:
    from pytest_spectron.plugin._coverage import FaultCoverage
    from pytest_spectron.testing._mock import SpectronMock
    from pytest_spectron.testing.faults._fault import Fault
    from pytest_spectron.testing.service._journal import Attempt

__all__ = ["REPRESENTATIVES", "FaultExploration", "outcomes_to_explore"]

REPRESENTATIVES: Final = (
    "503",
    "429",
    "401",
    "404",
    "422",
    "connect",
    "read_timeout",
    "stream_cut",
)
"""One outcome per way the policy treats a failure: a 5xx (retried where the class is), 429,
401/403, 404, 409/422 (refused, never retried), a connection error, a timeout, a cut stream."""
TRANSIENT: Final = "503"
"""The transient failure: one attempt fails, the client's retry succeeds."""

_WORKER_OUTPUT_KEY: Final = "spectron_explore"
_OPTION = {option.name: option for option in OPTIONS}


def outcomes_to_explore(retry_class: RetryClass) -> list[tuple[str, bool]]:
    """The ``(outcome, transient)`` pairs explored for a call of ``retry_class``, in order.

    Transient first, and only for the classes the policy retries: a call sent once has no
    "then success". ``stream_cut`` only for streams (the status matrix lists it for them only).
    """
    transient = [(TRANSIENT, True)] if retry_class in RETRIED_CLASSES else []
    listed = CLASS_OUTCOMES[retry_class]
    return transient + [(outcome, False) for outcome in REPRESENTATIVES if outcome in listed]


@dataclass(frozen=True, order=True)
class Call:
    """The n-th call of an operation in a test, as the journal numbers it."""

    operation: str
    number: int
    retry_class: RetryClass = field(compare=False)


@dataclass(frozen=True)
class Step:
    """One explored fault: a call and how it fails."""

    call: Call
    outcome: str
    transient: bool

    def _arguments(self) -> tuple[list[object], dict[str, int]]:
        outcome: object = int(self.outcome) if self.outcome.isdigit() else self.outcome
        return [self.call.operation, outcome], ({"times": 1} if self.transient else {})

    def fault(self) -> Fault:
        """A new fault for one run; optional, since a run may never reach the call."""
        (operation, outcome), _ = self._arguments()
        if self.transient:
            return build_fault(operation, outcome, times=1, call=self.call.number, optional=True)
        return build_fault(operation, outcome, call=self.call.number, optional=True)

    def marker(self, *, with_position: bool) -> str:
        """The ``spectron_fault`` marker that injects this fault into a normal run."""
        arguments, options = self._arguments()
        if with_position:
            options["call"] = self.call.number
        shown = [json.dumps(value) for value in arguments]
        shown += [f"{name}={value}" for name, value in options.items()]
        return f"@pytest.mark.{FAULT_MARKER}({', '.join(shown)})"

    def to_json(self) -> dict[str, Any]:
        """The fault's coordinates, as a finding lists them."""
        return {
            "operation": self.call.operation,
            "call": self.call.number,
            "outcome": self.outcome,
            "transient": self.transient,
        }

    def describe(self) -> str:
        """Such as ``recall call 2: 503`` or ``state call 1: 503 once``."""
        once = " once" if self.transient else ""
        return f"{self.call.operation} call {self.call.number}: {self.outcome}{once}"


Scenario = tuple[Step, ...]


def calls_in(attempts: Iterable[Attempt]) -> list[Call]:
    """The calls of a run, in the order of their first attempts."""
    seen: dict[tuple[str, int], Call] = {}
    for attempt in attempts:
        if attempt.operation is None or attempt.retry_class is None:
            continue
        key = (attempt.operation, attempt.call)
        if key not in seen:
            seen[key] = Call(attempt.operation, attempt.call, attempt.retry_class)
    return list(seen.values())


@dataclass
class _Watch:
    """A test's mock during one run, and whether every phase of the run passed so far."""

    mock: SpectronMock | None = None
    passed: bool = True
    skipped: bool = False
    message: str | None = None


_WATCH = pytest.StashKey[_Watch]()


class FaultExploration:
    """The plugin object ``pytest_configure`` registers when exploration is on."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.is_worker = hasattr(config, "workerinput")
        self.directory = config.invocation_params.dir
        self.tests = 0
        self.runs = 0
        self.inapplicable = 0
        """Runs that never met their failure (the test's own faults answered first) or skipped."""
        self.findings: list[tuple[str, int, dict[str, Any]]] = []
        """``(nodeid, order in the test's exploration, finding)``: sorted once all are in."""
        self.unexplored: list[tuple[str, int]] = []
        """Tests whose budget ran out, and how many runs they had left."""
        self.written: Path | None = None
        self.problems: list[str] = []
        self.finished = False

    # -- Watching each run ---------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        watch = item.stash.setdefault(_WATCH, _Watch())
        if watch.mock is None:
            watch.mock = item.stash.get(MOCK, None)
        if report.skipped or hasattr(report, "wasxfail"):
            watch.skipped = True
        elif report.failed and watch.passed:
            watch.passed = False
            watch.message = _first_line(report)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        """After the test's normal run, its exploration: nothing is logged, nothing counted."""
        result = yield
        watch = item.stash.get(_WATCH, None)
        if watch is not None:
            del item.stash[_WATCH]
        if (
            watch is None
            or watch.mock is None
            or not watch.passed
            or watch.skipped
            or "spectron_case" in getattr(item, "fixturenames", ())  # a matrix case already
            or item.session.shouldfail
            or item.session.shouldstop
        ):
            return result
        calls = calls_in(watch.mock.attempts())
        watch.mock = None  # the normal run's mock is done with: let it go
        if calls:
            self._explore(item, nextitem, calls)
        return result

    def _explore(self, item: pytest.Item, nextitem: pytest.Item | None, calls: list[Call]) -> None:
        """Every scenario of one test, breadth-first, within the budget."""
        self.tests += 1
        singles: list[Scenario] = [
            (Step(call, outcome, transient),)
            for call in calls
            for outcome, transient in outcomes_to_explore(call.retry_class)
        ]
        queue: deque[Scenario] = deque(singles)
        if self.settings.explore_depth == 2:
            queue.extend(
                (first[0], second[0])
                for index, first in enumerate(singles)
                for second in singles[index + 1 :]
                if first[0].call != second[0].call
            )
        known = {(call.operation, call.number) for call in calls}
        budget = self.settings.explore_budget
        runs = 0
        while queue and (budget is None or runs < budget):
            scenario = queue.popleft()
            runs += 1
            outcome = self._run(item, nextitem, scenario)
            if outcome is None:
                self.inapplicable += 1
                continue
            verdict, message, attempts = outcome
            for call in calls_in(attempts):
                if (call.operation, call.number) not in known:
                    # A fallback: it only happens under this scenario, so explore it there.
                    known.add((call.operation, call.number))
                    queue.extend(
                        (*scenario, Step(call, name, transient))
                        for name, transient in outcomes_to_explore(call.retry_class)
                    )
            self._record(item, runs, scenario, verdict, message, attempts)
        self.runs += runs
        if queue:
            self.unexplored.append((item.nodeid, len(queue)))

    def _run(
        self, item: pytest.Item, nextitem: pytest.Item | None, scenario: Scenario
    ) -> tuple[str, str, list[Attempt]] | None:
        """Run the test once under ``scenario``; None when its last fault never applied."""
        faults = tuple(step.fault() for step in scenario)
        item.stash[EXPLORING] = faults
        item.stash[_WATCH] = watch = _Watch()
        try:
            runtestprotocol(item, log=False, nextitem=nextitem)
        finally:
            del item.stash[EXPLORING]
            del item.stash[_WATCH]
        if watch.mock is None or watch.skipped or not faults[-1].used:
            return None  # the run never met the failure (or did not run): nothing was learnt
        attempts = watch.mock.attempts()
        if watch.passed:
            return "survived", "", attempts
        return "failed", watch.message or "the test failed", attempts

    def _record(
        self,
        item: pytest.Item,
        order: int,
        scenario: Scenario,
        verdict: str,
        message: str,
        attempts: Sequence[Attempt],
    ) -> None:
        last_calls: dict[str, int] = {}
        for call in calls_in(attempts):
            last_calls[call.operation] = max(last_calls.get(call.operation, 0), call.number)
        reproduce = "\n".join(
            step.marker(
                with_position=step.call.number > 1 or last_calls.get(step.call.operation, 1) > 1
            )
            for step in scenario
        )
        step = scenario[-1]
        finding = {
            "nodeid": item.nodeid,
            **step.to_json(),
            "verdict": verdict,
            "message": message,
            "reproduce": reproduce,
            "under": [earlier.to_json() for earlier in scenario[:-1]],
        }
        self.findings.append((item.nodeid, order, finding))
        if verdict == "survived":
            self._credit(scenario)

    def _credit(self, scenario: Scenario) -> None:
        """A survived run covers the outcomes its calls ended in (a transient one is absorbed)."""
        coverage: FaultCoverage | None = self.config.pluginmanager.get_plugin("spectron-coverage")
        if coverage is None:
            return
        for step in scenario:
            if not step.transient:
                coverage.tally.credit_explored(
                    step.call.operation, step.call.retry_class, step.outcome
                )

    # -- Across workers ------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """pytest-xdist: merge a finished worker's findings (a crashed one sends none)."""
        workeroutput: Mapping[str, Any] = getattr(node, "workeroutput", {})
        sent = workeroutput.get(_WORKER_OUTPUT_KEY)
        if sent is None:
            return
        self.tests += sent["tests"]
        self.runs += sent["runs"]
        self.inapplicable += sent["inapplicable"]
        self.findings.extend(
            (nodeid, order, finding) for nodeid, order, finding in sent["findings"]
        )
        self.unexplored.extend((nodeid, left) for nodeid, left in sent["unexplored"])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        result = yield
        if self.is_worker:
            workeroutput: dict[str, Any] = session.config.workeroutput  # type: ignore[attr-defined]
            workeroutput[_WORKER_OUTPUT_KEY] = {
                "tests": self.tests,
                "runs": self.runs,
                "inapplicable": self.inapplicable,
                "findings": [list(entry) for entry in self.findings],
                "unexplored": [list(entry) for entry in self.unexplored],
            }
        elif not session.config.option.collectonly:
            self._finish(session)
        return result

    def sorted_findings(self) -> list[dict[str, Any]]:
        """Every finding, by test id and then in the order the test's exploration made them."""
        return [finding for _, _, finding in sorted(self.findings, key=lambda entry: entry[:2])]

    def failed(self) -> list[dict[str, Any]]:
        """The findings the tests did not survive, in order."""
        return [finding for finding in self.sorted_findings() if finding["verdict"] == "failed"]

    def to_json(self) -> dict[str, Any]:
        """The run's findings as ``--spectron-explore-json`` writes them."""
        return {
            "version": 1,
            "tests": self.tests,
            "runs": self.runs,
            "findings": self.sorted_findings(),
        }

    def _finish(self, session: pytest.Session) -> None:
        """Write the file and judge the findings, before pytest picks the exit status."""
        self.finished = True
        path = self.settings.explore_json
        if path is not None:
            target = self.directory / path
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
            except OSError as error:
                self.problems.append(
                    f"Could not write the Spectron fault exploration JSON to {target}: "
                    f"{error.strerror or error}. Pick a writable path."
                )
            else:
                self.written = target
        failed = len(self.failed())
        if failed and self.settings.explore_fail:
            option = _OPTION["explore_fail"]
            self.problems.append(
                f"{failed} explored failure{'s' if failed != 1 else ''} failed a test: make the "
                "application handle it (paste the marker into the test to reproduce it), or "
                f"only report findings with {option.flag}=never."
            )
        if self.problems:
            session.testsfailed += 1

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.finished:
            return
        terminal = terminalreporter
        terminal.write_sep("=", "Spectron fault exploration")
        failed = self.failed()
        survived = sum(1 for finding in self.sorted_findings() if finding["verdict"] == "survived")
        inapplicable = (
            f", {self.inapplicable} never met their failure (the test skipped, or its own "
            "faults answered that call)"
            if self.inapplicable
            else ""
        )
        terminal.write_line(
            f"{self.tests} test{'s' if self.tests != 1 else ''} explored in {self.runs} "
            f"run{'s' if self.runs != 1 else ''}: {survived} survived, {len(failed)} failed"
            f"{inapplicable}."
        )
        for finding in failed:
            terminal.write_line("")
            where = f"{finding['operation']} call {finding['call']}"
            once = " once" if finding["transient"] else ""
            terminal.write("FAILED ", red=True, bold=True)
            terminal.write_line(f"{finding['nodeid']}  {where}  {finding['outcome']}{once}")
            for earlier in finding["under"]:
                terminal.write_line(
                    f"    under {earlier['operation']} call {earlier['call']}  "
                    f"{earlier['outcome']}{' once' if earlier['transient'] else ''}"
                )
            terminal.write_line(f"    {finding['message']}")
            for line in finding["reproduce"].splitlines():
                terminal.write_line(f"    {line}")
        for nodeid, left in sorted(self.unexplored):
            option = _OPTION["explore_budget"]
            terminal.write_line(
                f"{nodeid}: {left} run{'s' if left != 1 else ''} left unexplored "
                f"({option.flag}={self.settings.explore_budget})",
                yellow=True,
            )
        if self.written is not None:
            terminal.write_line(f"Spectron fault exploration JSON written to {self.written}")
        for problem in self.problems:
            terminal.write_line(problem, red=True, bold=True)


def _first_line(report: pytest.TestReport) -> str:
    """The first line of what failed the run: the error, or pytest's text for it."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(crash.message if crash is not None else report.longrepr)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else "failed"
    # ``package.module.SpectronServerError: …`` reads better as the name users import.
    name, colon, rest = first.partition(": ")
    if colon and "." in name and " " not in name:
        first = f"{name.rpartition('.')[2]}: {rest}"
    return first if report.when == "call" else f"{report.when}: {first}"
