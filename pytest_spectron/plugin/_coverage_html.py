"""The fault coverage report as one self-contained HTML page: a sortable heat map.

Operations down, the status matrix's outcomes across, each cell covered, absorbed (injected,
but only into attempts the client's retries got past), missing or not applicable to the
operation's retry class. Styles and the sorting script are inline and the page
loads nothing, so it can be attached to a CI run, mailed or printed.
"""

from __future__ import annotations

from html import escape

from pytest_spectron.client._catalogue import CATALOGUE
from pytest_spectron.plugin._coverage_report import CoverageReport, CoverageRow
from pytest_spectron.testing.faults._matrix import CLASS_OUTCOMES

__all__ = ["render"]

_OUTCOMES = tuple(dict.fromkeys(outcome for ids in CLASS_OUTCOMES.values() for outcome in ids))
"""Every outcome id, in the matrix's order: the heat map's columns."""

_DESCRIPTIONS = {
    "connect": "connection error (refused or reset)",
    "read_timeout": "timeout (connect or read, or latency beyond the timeout)",
    "stream_cut": "SSE stream cut before its end",
}
_CELLS = {
    # state: (sort value, symbol, words)
    "covered": (3, "\u2713", "covered: a call of a passing test ended in it"),
    "absorbed": (2, "\u21bb", "absorbed: injected, but the client's retries got past it"),
    "missing": (1, "\u2717", "missing: no passing test injected it"),
    "na": (0, "\u00b7", "not applicable to the retry class"),
}

_STYLE = """
:root { color-scheme: light; --covered: #1a7f37; --covered-bg: #d1f5dc; --missing: #b3261e;
  --missing-bg: #ffdcd8; --absorbed: #9a6700; --absorbed-bg: #fff1c5; --na: #8c959f;
  --na-bg: #f3f4f6; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
  margin: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.summary { font-size: 1.05rem; margin: 0 0 .75rem; }
.summary strong { font-size: 1.6rem; margin-right: .35rem; }
.legend { list-style: none; display: flex; gap: 1.25rem; padding: 0; margin: 0 0 1rem; }
.legend .cell { display: inline-block; width: 1.6rem; text-align: center; border-radius: 3px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; }
thead th { background: #f6f8fa; vertical-align: bottom; white-space: nowrap; }
thead th button { all: unset; cursor: pointer; }
thead th button:focus-visible { outline: 2px solid #0969da; }
thead th.outcome button { writing-mode: vertical-rl; transform: rotate(180deg); }
thead th[aria-sort=ascending] button::after { content: " \\25B2"; }
thead th[aria-sort=descending] button::after { content: " \\25BC"; }
tbody th { text-align: left; font-weight: 600; white-space: nowrap; }
td.number { text-align: right; }
td.covered, td.absorbed, td.missing, td.na { text-align: center; min-width: 2.2rem;
  font-weight: 700; }
.covered { background: var(--covered-bg); color: var(--covered); }
.absorbed { background: var(--absorbed-bg); color: var(--absorbed); }
.missing { background: var(--missing-bg); color: var(--missing); }
.na { background: var(--na-bg); color: var(--na); }
tfoot th, tfoot td { font-weight: 700; background: #f6f8fa; text-align: left; }
tfoot td.number { text-align: right; }
tbody tr:hover th, tbody tr:hover td { outline: 1px solid #57606a; }
.never-called { margin-top: 1rem; }
@page { size: landscape; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 9pt; }
  th, td { padding: 1px 4px; }
  td.covered, td.absorbed, td.missing, td.na { min-width: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead th[aria-sort] button::after { content: ""; }
  tr { break-inside: avoid; }
}
"""

_SCRIPT = """
(() => {
  const table = document.getElementById("coverage");
  const body = table.tBodies[0];
  const headers = Array.from(table.tHead.rows[0].cells);
  headers.forEach((header, column) => {
    header.querySelector("button").addEventListener("click", () => {
      const ascending = header.getAttribute("aria-sort") !== "ascending";
      headers.forEach((other) => other.removeAttribute("aria-sort"));
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const numeric = header.dataset.type === "number";
      const key = (row) => {
        const cell = row.cells[column];
        const value = cell.dataset.value ?? cell.textContent.trim();
        return numeric ? Number(value) : value;
      };
      const rows = Array.from(body.rows).sort((a, b) => {
        const order = numeric ? key(a) - key(b) : String(key(a)).localeCompare(String(key(b)));
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
  document.documentElement.dataset.sortable = "ready";
})();
"""


def render(report: CoverageReport) -> str:
    """The whole page."""
    called = len({row.operation for row in report.rows})
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Spectron fault coverage: {report.percent:.1f}%</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            "<header>",
            "<h1>Spectron fault coverage</h1>",
            f'<p class="summary"><strong>{report.percent:.1f}%</strong> {report.covered} of '
            f"{report.total} outcomes covered, over the {called} operations called "
            f"({report.calls} calls).</p>",
            '<ul class="legend">',
            *(
                f'<li><span class="cell {state}">{symbol}</span> {escape(words)}</li>'
                for state, (_, symbol, words) in _CELLS.items()
            ),
            "</ul>",
            "</header>",
            "<main>",
            _table(report),
            _never_called(report),
            "</main>",
            f"<script>{_SCRIPT}</script>",
            "</body>",
            "</html>",
        ]
    )


def _table(report: CoverageReport) -> str:
    headers = [
        _header("operation", "text", sort="ascending"),
        _header("retry class", "text"),
        _header("calls", "number", title="attempts the journal recorded, each retry counted"),
        _header("covered", "number", title="outcomes covered / listed for the retry class"),
        _header("%", "number", title="share covered, rounded down"),
        _header("absorbed", "number", title="outcomes injected only where retries got past"),
        *(
            _header(outcome, "number", title=_describe(outcome), css="outcome")
            for outcome in _OUTCOMES
        ),
    ]
    footer = [
        '<th scope="row">Total</th>',
        "<td></td>",
        f'<td class="number">{report.calls}</td>',
        f'<td class="number">{report.covered}/{report.total}</td>',
        f'<td class="number">{report.percent:.1f}%</td>',
        f'<td class="number">{sum(len(row.absorbed) for row in report.rows)}</td>',
        *(_column_total(report, outcome) for outcome in _OUTCOMES),
    ]
    return "\n".join(
        [
            '<table id="coverage">',
            "<caption hidden>Operations by outcome: covered, absorbed, missing or not applicable"
            "</caption>",
            f"<thead><tr>{''.join(headers)}</tr></thead>",
            "<tbody>",
            *(_row(row) for row in report.rows),
            "</tbody>",
            f"<tfoot><tr>{''.join(footer)}</tr></tfoot>",
            "</table>",
        ]
    )


def _header(
    label: str,
    kind: str,
    *,
    title: str | None = None,
    sort: str | None = None,
    css: str | None = None,
) -> str:
    attributes = f' scope="col" data-type="{kind}"'
    if css is not None:
        attributes += f' class="{css}"'
    if title is not None:
        attributes += f' title="{escape(title)}"'
    if sort is not None:
        attributes += f' aria-sort="{sort}"'
    return f'<th{attributes}><button type="button">{escape(label)}</button></th>'


def _row(row: CoverageRow) -> str:
    covered = len(row.covered)
    cells = [
        f'<th scope="row">{escape(row.name)}</th>',
        f"<td>{escape(row.retry_class)}</td>",
        f'<td class="number">{row.calls}</td>',
        f'<td class="number" data-value="{covered}">{covered}/{row.total}</td>',
        f'<td class="number" data-value="{row.percent}">{row.percent:.1f}%</td>',
        f'<td class="number" data-value="{len(row.absorbed)}" '
        f'title="{escape(" ".join(row.absorbed) or "none")}">{len(row.absorbed)}</td>',
    ]
    for outcome in _OUTCOMES:
        state = (
            "covered"
            if outcome in row.covered
            else "absorbed"
            if outcome in row.absorbed
            else "missing"
            if outcome in row.missing
            else "na"
        )
        value, symbol, words = _CELLS[state]
        title = escape(f"{row.name}, {outcome}: {words}")
        cells.append(f'<td class="{state}" data-value="{value}" title="{title}">{symbol}</td>')
    return f"<tr>{''.join(cells)}</tr>"


def _column_total(report: CoverageReport, outcome: str) -> str:
    listed = [row for row in report.rows if outcome in row.covered or outcome in row.missing]
    covered = sum(outcome in row.covered for row in listed)
    return f'<td class="number" title="{escape(outcome)}">{covered}/{len(listed)}</td>'


def _never_called(report: CoverageReport) -> str:
    if not report.never_called:
        return ""
    names = ", ".join(escape(name) for name in report.never_called)
    return (
        f'<p class="never-called"><strong>{len(report.never_called)} of the {len(CATALOGUE)} '
        f"operations were never called:</strong> {names}</p>"
    )


def _describe(outcome: str) -> str:
    return _DESCRIPTIONS.get(outcome) or f"HTTP {outcome}"
