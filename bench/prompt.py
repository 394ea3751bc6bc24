"""Prompt tokens per incident for model drafting, against the naive context.

Scenarios: every incident of the bundled demo snapshot that locates in the example repo, plus the
test corpus' crash-looping workload with a 200-line log (tests/support/llm_scenarios.py). For each,
the prompt remediator would send (system + user, trimmed and redacted) is compared with a naive one
built in the same run: the same instructions and incident header, the whole manifest file,
the last 200 log lines and every event of the namespace. Tokens are estimated as characters / 4.
The decisive line (the last error-looking log line, found independently of the trimming) must be
in the prompt. Run from the repo root: `python bench/prompt.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)
import git

from remediator.cluster import load_snapshot
from remediator.config import load_config
from remediator.detect import detect
from remediator.draft.diagnoses import last_error_line
from remediator.draft.llm import context
from remediator.draft.llm.fields import fields_for, located_files
from remediator.kernel import yamlio
from remediator.kernel.redact import redact
from remediator.locate import LocateSkip, Locator, RepoIndex
from remediator.model import ClusterState

NAIVE_LOG_LINES = 200
BUDGET = 6000 - 1024  # the default drafting.maxTokensPerIncident less the answer's share


def _raw_log(state: ClusterState, namespace: str, pods: list[str], container: str) -> str:
    for previous in (True, False):
        for pod in pods:
            text = state.logs.get((namespace, pod, container, previous))
            if text:
                return "\n".join(text.splitlines()[-NAIVE_LOG_LINES:])
    return ""


def measure(state: ClusterState, repo: Path) -> list[tuple[str, int, int, bool]]:
    """(incident, prompt tokens, naive tokens, decisive line kept) per located incident."""
    index = RepoIndex.scan(repo)
    config = load_config(repo)
    locator = Locator(repo, index, config.repo_url, config.locate.argocd_label_tracking)
    out = []
    for inc in detect(state):
        try:
            loc = locator.locate(inc, state.gitops_objects())
        except LocateSkip:
            continue
        cls = inc.failure_class
        prompt = context.build(inc, loc, located_files(cls, loc), fields_for(cls, loc), BUDGET)
        log = _raw_log(state, inc.workload.namespace, inc.pods, inc.container)
        events = [f"{e.get('reason')}: {e.get('message')}" for e in state.events
                  if (e.get("involvedObject") or {}).get("namespace") == inc.workload.namespace]
        head = prompt.user.split("## Located document", 1)[0]
        naive = "\n".join([prompt.system, head, yamlio.read_text(repo, loc.target.path), log,
                           *events])
        decisive = redact(last_error_line(log))[0]
        # compared with whitespace runs folded, as the prompt folds them
        kept = not decisive or " ".join(decisive.split())[:200] in " ".join(
            prompt.user.replace("`", "'").split())
        out.append((f"{cls} {inc.workload}", prompt.tokens, context.estimate_tokens(naive), kept))
    return out


def main() -> None:
    from remediator.cli.demo import build_origin, example_paths
    from tests.support import llm_scenarios

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        origin = build_origin(Path(tmp))
        repo = Path(tmp) / "checkout"
        git.Repo.clone_from(origin, repo)
        _, snapshot = example_paths()
        rows += measure(load_snapshot(snapshot, load_config(repo).cluster), repo)
        corpus = Path(tmp) / "corpus"
        llm_scenarios.make_repo(corpus)
        rows += measure(llm_scenarios.state(), corpus)
    for name, tokens, naive, kept in rows:
        print(f"# {name}: prompt={tokens} naive={naive} decisive_kept={kept}", file=sys.stderr)
    ratios = [t / n for _, t, n, _ in rows]
    print(f"incidents={len(rows)}")
    print(f"prompt_tokens_median={statistics.median(t for _, t, _, _ in rows):.0f}")
    print(f"naive_tokens_median={statistics.median(n for _, _, n, _ in rows):.0f}")
    print(f"prompt_tokens_vs_naive={statistics.median(ratios):.2f}")
    print(f"decisive_line_kept={sum(k for *_, k in rows)}/{len(rows)}")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    main()
