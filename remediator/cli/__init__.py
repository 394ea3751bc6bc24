"""Command line: `remediator demo | plan | run | snapshot | validate | policy test | init |
doctor | config schema`.

Exit codes, the same for every command (cli/errors.py): 0 done; 1 findings (violations, failed
tests, missing checks) or failed work (cluster, git remote, forge); 2 usage or configuration
errors (flags, configuration, a path, snapshot or ref that cannot be used, `--forge` against the
repository).
Machine output (`--output json`, `--log-format json`) is the only thing on its stream; warnings
and errors go to stderr.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from .. import __version__
from ..cluster import ClusterError, LiveCluster, RawClient, connect, load_snapshot
from ..config import Config, ConfigError, load_config
from ..daemon import Daemon, record_pass
from ..demo import run_demo
from ..doctor import repo_files, run_checks
from ..forge import KINDS, forge_for
from ..leader import NO_FENCE, LeaseLock
from ..model import Decision, Remediation
from ..observe import JsonLog, Metrics, StatusServer
from ..pipeline import Plan, PlanMemo, plan
from ..scaffold import init_repo
from ..service import GitHubOptions, PassReport, run_once
from ..watcher import LiveSource, capture_snapshot, live_options
from .checks import policy_group, validate_cmd
from .errors import EXIT_FAILED, errors
from .output import RedactingGroup, redact_library_logs, say, say_json
from .schema import config_group


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        say(f"warning: {w}", err=True)


def _table(rows: list[Remediation]) -> str:
    if not rows:
        return "No failing workloads found."
    header = ("DECISION", "WORKLOAD", "CLASS", "REASON")
    data = [(r.decision.value, f"{r.incident.workload.kind}/{r.incident.workload.namespace}/"
             f"{r.incident.workload.name}", r.incident.failure_class, r.reason) for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *data]) for i in range(3)]
    lines = []
    for row in [header, *data]:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row[:3], widths, strict=True))
                     + "  " + str(row[3]))
    return "\n".join(lines)


def _text_plan(result: Plan) -> str:
    out = [_table(result.remediations)]
    for r in result.remediations:
        if r.decision == Decision.DIAGNOSE and r.proposal:
            out.append(f"\n--- {r.incident.workload} ({r.incident.failure_class}): diagnosis ---")
            out.append(r.proposal.diagnosis)
        if r.decision != Decision.PROPOSE:
            continue
        out.append(f"\n--- {r.incident.workload} ({r.incident.failure_class}) ---")
        if r.location:
            out.append(f"why this file: {r.location.why_for([c.path for c in r.changes])}")
        for c in r.changes:
            out.append(c.diff.rstrip("\n"))
        if r.validation:
            out.append("validation: " + ", ".join(
                f"{c.name} {'not run' if not c.ran else ('passed' if c.passed else 'FAILED')}"
                for c in r.validation.checks))
    return "\n".join(out)


@click.group(cls=RedactingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="remediator")
def main() -> None:
    """GitOps remediation bot: failing Kubernetes workloads in, reviewed pull requests out."""
    redact_library_logs()


@main.command("plan")
@click.option("--snapshot", "snapshot", required=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="Snapshot directory (cluster.json + logs/).")
@click.option("--repo", "repo", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Checkout of the GitOps repository (never modified).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Configuration file (default: the repo's .remediator.yaml).")
@click.option("--output", "output", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def plan_cmd(snapshot: Path, repo: Path, config_file: Path | None, output: str) -> None:
    """Everything up to and including the gate: no push, no pull request."""
    with errors():
        if not repo.is_dir():
            raise ConfigError(f"{repo}: repository folder not found")
        config = load_config(repo, config_file)
        state = load_snapshot(snapshot, config.cluster)
        result = plan(state, repo, config)
    _warn(result.warnings)
    if output == "json":
        say_json(result.as_json())
    else:
        say(_text_plan(result))


def _print_pass(report: PassReport) -> None:
    _warn(report.plan.warnings + report.warnings
          + ([f"lease lost: {report.fenced}"] if report.fenced else []))
    say(_table(report.plan.remediations))
    if report.submissions:
        say("")
    for s in report.submissions:
        if s.pull is not None:
            say(f"PR #{s.pull.number} [{s.outcome}] {s.pull.title}\n"
                       f"    branch {s.pull.branch} · {s.pull.url}"
                       + (f"\n    {s.note}" if s.note else ""))
        else:
            say(f"not opened ({s.outcome}): {s.remediation.incident.workload}")
    for v in report.verifications:
        say(f"PR #{v.pull.number} [merged: {v.outcome}] {v.pull.title}\n    {v.note}")


def _typed(param: str) -> bool:
    """Whether the option was given on the command line (not its default, not the env)."""
    source = click.get_current_context().get_parameter_source(param)
    return source == click.core.ParameterSource.COMMANDLINE


def _log_error(log: JsonLog) -> Callable[[str], None]:
    return lambda message: log("error", message, level="error")


@main.command("run")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--snapshot", type=click.Path(path_type=Path, file_okay=False),
              help="Read the cluster from a snapshot directory instead of a live cluster.")
@click.option("--context", "context", help="Kubeconfig context of the live cluster (default: "
              "the in-cluster service account, else the current context).")
@click.option("--kubeconfig", "kubeconfig", type=click.Path(path_type=Path, dir_okay=False),
              help="Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--forge", "forge_kind", type=click.Choice(KINDS), default=None,
              help="Where pull requests are opened. Default: from --repo (github.com or the "
                   "--github-api-url host: github; a local path or file://: local); a value "
                   "that contradicts --repo is refused.")
@click.option("--repo", "remote", required=True,
              help="The GitOps repository's git URL or path (it is cloned, never edited).")
@click.option("--state-dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path(".remediator-state"), show_default=True,
              help="The bot's clone (and, for the local forge, its pull request records).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--interval", type=float, default=60.0, show_default=True,
              help="Seconds between passes without --once.")
@click.option("--github-api-url", envvar="GITHUB_API_URL", default="https://api.github.com",
              show_default=True, help="GitHub REST API base URL (GitHub Enterprise: "
              "https://HOST/api/v3). Credentials: GITHUB_TOKEN, or GITHUB_APP_ID and "
              "GITHUB_APP_PRIVATE_KEY[_FILE] [GITHUB_APP_INSTALLATION_ID].")
@click.option("--github-write-interval", type=click.FloatRange(min=0), default=1.0,
              show_default=True, help="Seconds between GitHub write requests.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port of /healthz, /readyz and /metrics without --once (0: any free port).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one JSON object per line on stderr (events, "
                                      "warnings, errors), with or without --once.")
@click.option("--leader-election", is_flag=True,
              help="Run passes only while holding the Lease (2+ replicas, one active).")
@click.option("--lease-name", default="remediator", show_default=True)
@click.option("--lease-namespace", envvar="POD_NAMESPACE", default="default", show_default=True,
              help="Namespace of the Lease (default: $POD_NAMESPACE).")
@click.option("--lease-seconds", type=click.IntRange(2, 300), default=15, show_default=True,
              help="Lease duration: a replica takes over this long after the leader's last "
                   "renewal.")
def run_cmd(once: bool, snapshot: Path | None, context: str | None, kubeconfig: Path | None,
            forge_kind: str | None, remote: str, state_dir: Path, config_file: Path | None,
            interval: float, github_api_url: str, github_write_interval: float,
            metrics_port: int, log_format: str, leader_election: bool, lease_name: str,
            lease_namespace: str, lease_seconds: int) -> None:
    """The service: watch, plan, open pull requests."""
    if snapshot is not None and (context or kubeconfig) and not leader_election:
        raise click.UsageError("--snapshot reads no cluster: drop --context/--kubeconfig")
    log = JsonLog(text=log_format == "text")
    as_json = log_format == "json"
    if as_json:
        redact_library_logs(log)
    failed = _log_error(log) if as_json else None
    with errors(failed):
        forge = forge_for(remote, forge_kind, github_api_url, _typed("github_api_url"))
    github = GitHubOptions(api_url=github_api_url, write_interval=github_write_interval)
    live = None if snapshot is not None else LiveSource(
        context, str(kubeconfig) if kubeconfig else None, continuous=not once)
    memo = PlanMemo()  # what was planned, reused by later passes while unchanged

    lease: LeaseLock | None = None

    def pass_once(stopping: Callable[[], bool] = lambda: False) -> PassReport:
        # the pass carries the token of the leadership it starts under (no lease: no fence)
        return run_once(snapshot, remote, state_dir, config_file, forge_kind=forge,
                        github=github, live=live, stopping=stopping, memo=memo,
                        fence=lease.fence() if lease is not None else NO_FENCE)

    if once:
        with errors(failed):
            report = pass_once()
        if as_json:  # the events the service writes for a pass, then the pass line
            record_pass(report, Metrics(), log)
            log("pass", "pass done", incidents=len(report.plan.remediations),
                paused=report.paused, abandoned=report.abandoned, fenced=bool(report.fenced))
            return
        if report.paused:
            say("paused (kill switch on): nothing planned", err=True)
        _print_pass(report)
        return

    def one_pass(stopping: Callable[[], bool]) -> PassReport | None:
        # A failing pass (forge unreachable, bad config pushed) is reported; the service goes on.
        try:
            return pass_once(stopping)
        except ClusterError as exc:
            if live is not None and live.live is None:
                raise  # the cluster never worked: nothing to go on with
            log("pass_failed", str(exc), level="error")
            return None
        except Exception as exc:  # one bad pass must not stop the service
            log("pass_failed", f"{type(exc).__name__}: {exc}", level="error")
            return None

    daemon = Daemon(one_pass, interval, log, watch_errors=lambda: live.errors() if live else 0,
                    on_report=_print_pass if log_format == "text" else None)
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop.set())
    status = None
    try:
        with errors(failed):
            if leader_election:
                identity = os.environ.get("POD_NAME") or socket.gethostname()
                lease = LeaseLock(connect(context, str(kubeconfig) if kubeconfig else None),
                                  lease_namespace, lease_name, identity, lease_seconds).start()
                daemon.is_leader = lease.is_leading
            status = StatusServer(daemon.metrics, daemon.health, metrics_port).start()
            log("started", "serving /healthz, /readyz, /metrics", port=status.port,
                lease=f"{lease_namespace}/{lease_name}" if lease else None,
                identity=lease.identity if lease else None)
            daemon.run()
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        if lease is not None:
            lease.stop()  # released: a standby replica takes over without waiting
        if status is not None:
            status.stop()
        if live is not None:
            live.close()


@main.command("init")
@click.option("--repo", "repo", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), show_default=True, help="The GitOps repository's checkout.")
@click.option("--cluster", default="default", show_default=True,
              help="Cluster name for the config (used in failure signatures).")
def init_cmd(repo: Path, cluster: str) -> None:
    """Write a commented .remediator.yaml and the CI workflow (existing files are kept)."""
    with errors():
        written = init_repo(repo, cluster)
        load_config(repo)  # what is there now must load: a broken existing config is reported
    for w in written:
        say(f"{'wrote' if w.created else 'kept (exists)'} {repo / w.path}")


@main.command("doctor")
@click.option("--repo", "remote", required=True,
              help="The GitOps repository's git URL or path, as given to `run`.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Configuration file (default: the repository's .remediator.yaml, read as "
                   "`run` reads it).")
@click.option("--forge", "forge_kind", type=click.Choice(KINDS), default=None,
              help="As for `run`: default from --repo (github.com or the --github-api-url "
                   "host: github; a local path or file://: local).")
@click.option("--context", "context")
@click.option("--kubeconfig", "kubeconfig", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--github-api-url", envvar="GITHUB_API_URL", default="https://api.github.com",
              show_default=True)
def doctor_cmd(remote: str, config_file: Path | None, forge_kind: str | None,
               context: str | None, kubeconfig: Path | None, github_api_url: str) -> None:
    """Check tools (git, kubectl/kustomize, helm), cluster access (and that it is read-only),
    repository and base branch, forge token, LLM client and key, OPA."""
    with errors(), tempfile.TemporaryDirectory(prefix="remediator-doctor-") as scratch:
        forge = forge_for(remote, forge_kind, github_api_url, _typed("github_api_url"))
        root = repo_files(remote, Path(scratch) / "repo", os.environ)
        config = load_config(root or Path("."), config_file) \
            if (root is not None or config_file) else Config()
        checks = run_checks(config, remote, forge, context,
                            str(kubeconfig) if kubeconfig else None, api_url=github_api_url,
                            root=root)
    width = max(len(c.name) for c in checks)
    for c in checks:
        state = "ok" if c.ok else ("missing" if c.required else "optional")
        say(f"{state:8} {c.name.ljust(width)}  {c.detail}"
                   + (f"\n{'':8} {'':{width}}  hint: {c.hint}" if not c.ok and c.hint else ""))
    failed = [c for c in checks if c.required and not c.ok]
    say(f"{len(checks) - len(failed)} ok, {len(failed)} missing")
    sys.exit(EXIT_FAILED if failed else 0)


@main.command("snapshot")
@click.option("--output", "output", required=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="New (or empty) folder for cluster.json and logs/.")
@click.option("--context", "context", help="Kubeconfig context (default: the current one).")
@click.option("--kubeconfig", "kubeconfig", type=click.Path(path_type=Path, dir_okay=False),
              help="Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="A .remediator.yaml whose scope and log limits apply.")
def snapshot_cmd(output: Path, context: str | None, kubeconfig: Path | None,
                 config_file: Path | None) -> None:
    """Capture the live cluster as a snapshot directory (replay it with `plan --snapshot`)."""
    with errors():
        config = load_config(Path("."), config_file) if config_file else Config()
        raw = RawClient(connect(context, str(kubeconfig) if kubeconfig else None))
        live = LiveCluster(raw, config.cluster, live_options(config))
        objects, incidents, logs = capture_snapshot(live, output)
    _warn(live.notes)
    say(f"wrote {output}: {objects} objects, logs of {incidents} failing workload(s) "
               f"in {logs} file(s) (redacted); Secrets are never read")


@main.command("demo")
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False),
              help="Where to create the demo origin and forge (default: a new temporary folder).")
def demo_cmd(workdir: Path | None) -> None:
    """Offline end to end on the bundled example repo and cluster snapshot."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="remediator-demo-"))
    say(f"remediator demo: bundled GitOps repo + failing-cluster snapshot, work folder "
               f"{workdir}")
    with errors():
        report = run_demo(workdir)
    _print_pass(report)
    origin = workdir / "origin.git"
    opened = [s for s in report.submissions if s.pull is not None]
    say("")
    say(f"Origin (bare git repo):  {origin}")
    say(f"Pull requests (JSON+MD): {workdir / 'forge' / 'pulls'}")
    if opened:
        first = opened[0].pull
        assert first is not None
        say(f"Look at one:             cat {workdir / 'forge' / 'pulls'}/"
                   f"{first.number:04d}.md")
        say(f"Its commit:              git --git-dir {origin} show {first.branch}")
    say("Run it again with --workdir to see that no duplicate PR is opened.")
    if shutil.which("git") is None:
        say("warning: git is not on PATH", err=True)


main.add_command(validate_cmd)
main.add_command(policy_group)
main.add_command(config_group)
