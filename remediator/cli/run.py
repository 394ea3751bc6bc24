"""`remediator run`: the service (one pass with --once, else passes until stopped)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..cluster import ClusterError, connect
from ..forge import KINDS, forge_for
from ..kernel import logs
from ..kernel.leader import NO_FENCE, LeaseLock
from ..pipeline import PlanMemo
from ..service.alerts import TOKEN_ENV, AlertInbox, AlertServer
from ..service.daemon import Daemon, record_pass
from ..service.observe import JsonLog, Metrics, StatusServer
from ..service.one_pass import GitHubOptions, run_once
from ..service.watcher import LiveSource
from .errors import errors, log_error
from .options import typed
from .output import print_pass, say

if TYPE_CHECKING:
    from ..service.one_pass import PassReport

_log = logging.getLogger(__name__)


@click.command("run")
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
@click.option("--alert-webhook-port", type=click.IntRange(0, 65535), default=None,
              help="Serve an Alertmanager webhook receiver (POST /alerts) on this port (0: any "
                   "free port): a firing alert naming a namespace and a workload or pod starts a "
                   f"pass for it at once. Bearer token from ${TOKEN_ENV} (required).")
def run_cmd(once: bool, snapshot: Path | None, context: str | None, kubeconfig: Path | None,
            forge_kind: str | None, remote: str, state_dir: Path, config_file: Path | None,
            interval: float, github_api_url: str, github_write_interval: float,
            metrics_port: int, log_format: str, leader_election: bool, lease_name: str,
            lease_namespace: str, lease_seconds: int,
            alert_webhook_port: int | None) -> None:
    """The service: watch, plan, open pull requests."""
    if snapshot is not None and (context or kubeconfig) and not leader_election:
        raise click.UsageError("--snapshot reads no cluster: drop --context/--kubeconfig")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if alert_webhook_port is not None and once:
        raise click.UsageError("--alert-webhook-port serves the continuous service: drop --once")
    if alert_webhook_port is not None and not token:
        raise click.UsageError(f"--alert-webhook-port needs a bearer token in ${TOKEN_ENV}")
    inbox = AlertInbox() if alert_webhook_port is not None else None
    log = JsonLog(text=log_format == "text")
    as_json = log_format == "json"
    if as_json:  # a library's records become JSON lines like the events
        logs.configure(json_lines=True)
    failed = log_error(log) if as_json else None
    with errors(failed):
        forge = forge_for(remote, forge_kind, github_api_url, typed("github_api_url"))
    github = GitHubOptions(api_url=github_api_url, write_interval=github_write_interval)
    metrics = Metrics()
    live = None if snapshot is not None else LiveSource(
        context, str(kubeconfig) if kubeconfig else None, continuous=not once, inbox=inbox,
        log=log, metrics=metrics, tune_gc=not once)
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
        print_pass(report)
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
            _log.debug("the failed pass", exc_info=True)
            return None

    daemon = Daemon(one_pass, interval, log, metrics,
                    watch_errors=lambda: live.errors() if live else 0,
                    on_report=print_pass if log_format == "text" else None)
    if live is not None:
        live.leading = lambda: daemon.is_leader()  # set below when leader election is on
    if inbox is not None:
        daemon.wake = inbox.wake
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop.set())
    status = alerts = None
    try:
        with errors(failed):
            if leader_election:
                identity = os.environ.get("POD_NAME") or socket.gethostname()
                lease = LeaseLock(connect(context, str(kubeconfig) if kubeconfig else None),
                                  lease_namespace, lease_name, identity, lease_seconds).start()
                daemon.is_leader = lease.is_leading
            status = StatusServer(daemon.metrics, daemon.health, metrics_port).start()
            if inbox is not None and alert_webhook_port is not None:
                alerts = AlertServer(inbox, token, alert_webhook_port, daemon.metrics.alerts,
                                     log=log, leading=daemon.is_leader).start()
            log("started", "serving /healthz, /readyz, /metrics", port=status.port,
                alert_port=alerts.port if alerts else None,
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
        if alerts is not None:
            alerts.stop()
        if live is not None:
            live.close()
