"""Output formats of `remediator validate`: text, json, github (workflow commands), sarif,
markdown (a job summary)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..kernel.release import REPOSITORY, __version__
from .findings import (
    CONFTEST_HELP,
    DEFAULT_POLICY_HELP,
    ERROR,
    NOTE,
    RULE_HELP,
    RULES,
    WARNING,
)

if TYPE_CHECKING:
    from .findings import Finding, Result

FORMATS = ("text", "json", "github", "sarif", "markdown")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HOME = f"https://github.com/{REPOSITORY}"
HELP_URI = f"{HOME}/blob/v{__version__}/docs/ci.md#what-is-checked"  # the docs of this release


def summary(result: Result) -> str:
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    return (f"remediator validate: {n(result.count(ERROR), 'error')}, "
            f"{n(result.count(WARNING), 'warning')}, {n(result.count(NOTE), 'note')}"
            f"; {n(len(result.files), 'file')}, {n(result.objects, 'object')}, "
            f"{n(len(result.renders), 'kustomization')} built")


def _text(result: Result) -> str:
    lines = []
    for f in result.findings:
        if f.severity == NOTE:
            continue  # skipped kinds (CRDs without schema): counted, listed in json/sarif
        where = f" {f.object}:" if f.object else ""
        lines.append(f"{f.file}:{f.line}: {f.severity} [{f.rule}]{where} {f.message}")
    return "\n".join([*lines, summary(result)])


def _json(result: Result) -> str:
    return json.dumps({
        "passed": not result.failed,
        "summary": {"errors": result.count(ERROR), "warnings": result.count(WARNING),
                    "notes": result.count(NOTE)},
        "files": result.files,
        "objects": result.objects,
        "renders": result.renders,
        "findings": [f.as_json() for f in result.findings],
    }, indent=2)


def _escape(text: str, *, property: bool = False) -> str:
    # GitHub workflow command escaping (toolkit's escapeData / escapeProperty)
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


_COMMAND = {ERROR: "error", WARNING: "warning", NOTE: "notice"}


def _from_top(result: Result, file: str) -> str:
    return f"{result.prefix}/{file}" if result.prefix else file


def _github(result: Result) -> str:
    lines = []
    for f in result.findings:
        if f.severity == NOTE:
            continue
        title = _escape(f"remediator {f.rule}" + (f" {f.object}" if f.object else ""),
                        property=True)
        file = _escape(_from_top(result, f.file), property=True)
        lines.append(f"::{_COMMAND[f.severity]} file={file},"
                     f"line={f.line},title={title}::{_escape(f.message)}")
    return "\n".join([*lines, summary(result)])


def _rule_description(rule: str) -> str:
    if rule.startswith("policy/"):
        return f"Rego policy package remediator.policies.{rule.removeprefix('policy/')}"
    if rule.startswith("conftest/"):
        return f"conftest policies of namespace {rule.removeprefix('conftest/')}"
    return RULES.get(rule, "Rego policies")


def _sarif_rule(rule: str) -> dict[str, object]:
    """A SARIF reportingDescriptor: code scanning shows the help and sorts alerts by the
    security-severity of rules tagged `security`."""
    default = CONFTEST_HELP if rule.startswith("conftest/") else DEFAULT_POLICY_HELP
    help_text, severity = RULE_HELP.get(rule, (default, None))
    tags = ["kubernetes", "gitops",
            "policy" if rule.startswith(("policy", "conftest/")) else rule]
    properties: dict[str, object] = {"tags": [*tags, "security"] if severity else tags}
    if severity is not None:
        properties["security-severity"] = f"{severity:.1f}"
    return {"id": rule, "name": rule.replace("/", "-"),
            "shortDescription": {"text": _rule_description(rule)},
            "fullDescription": {"text": help_text},
            "help": {"text": help_text, "markdown": f"{help_text}\n\n[remediator: what is "
                                                   f"checked]({HELP_URI})"},
            "helpUri": HELP_URI,
            "defaultConfiguration": {"level": "error"},
            "properties": properties}


def _sarif(result: Result) -> str:
    rule_ids = sorted({f.rule for f in result.findings})
    index = {r: i for i, r in enumerate(rule_ids)}

    def one(f: Finding) -> dict[str, object]:
        return {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": f.severity,
            "message": {"text": (f"{f.object}: " if f.object else "") + f.message},
            "locations": [{"physicalLocation": {
                # a URI reference: a space or a `#` in a file name is percent-encoded
                "artifactLocation": {"uri": quote(_from_top(result, f.file)),
                                     "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line},
            }}],
            "properties": {"check": f.check, "object": f.object},
        }

    return json.dumps({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "remediator",
                "version": __version__,  # the package metadata's too (hatch reads it)
                "informationUri": HOME,
                "rules": [_sarif_rule(r) for r in rule_ids],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {
                "text": "The top of the git work tree holding the repository checked"}}},
            "results": [one(f) for f in result.findings],
        }],
    }, indent=2)


#: Rows of the markdown summary: GitHub caps a job summary at 1 MiB, and a reviewer reads the
#: first screen; the rest is counted (and is in the annotations and the SARIF report).
SUMMARY_ROWS = 50


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(result: Result) -> str:
    """A job summary (GitHub's $GITHUB_STEP_SUMMARY): verdict, counts, the first findings."""
    verdict = ("❌ remediator validate failed" if result.failed
               else "✅ remediator validate passed")
    lines = [f"### {verdict}", "", summary(result).removeprefix("remediator validate: "), ""]
    shown = [f for f in result.findings if f.severity != NOTE]
    shown.sort(key=lambda f: (f.severity != ERROR, f.file, f.line))
    if shown:
        lines += ["| | File | Rule | Object | Message |", "|---|---|---|---|---|"]
        for f in shown[:SUMMARY_ROWS]:
            mark = "error" if f.severity == ERROR else "warning"
            lines.append(f"| {mark} | `{_cell(_from_top(result, f.file))}:{f.line}` | "
                         f"`{f.rule}` | {_cell(f.object)} | {_cell(f.message)} |")
        if len(shown) > SUMMARY_ROWS:
            lines += ["", f"… and {len(shown) - SUMMARY_ROWS} more (see the annotations)."]
    return "\n".join(lines) + "\n"


def render_report(result: Result, fmt: str) -> str:
    return {"text": _text, "json": _json, "github": _github, "sarif": _sarif,
            "markdown": _markdown}[fmt](result)
