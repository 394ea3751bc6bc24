"""Leaks: secrets planted in a snapshot's logs, events and waiting messages, in the repository's
values, in a provider's error and a model's answer must appear in nothing that leaves the
process — `remediator plan` (json and text, stdout and stderr), a service pass (its JSON log
lines, the local forge's pull request files, the dashboard, commit messages) and the prompt a
loopback model server receives. And what must survive does: digests, SHAs, UIDs, names.

Each placement is one real run (module-scoped, shared by the cases of that placement); each case
asserts one secret format against every output of its run.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import git
import pytest
from click.testing import CliRunner

from remediator.cli import main
from remediator.kernel.redact import MASK, redact
from remediator.service.daemon import Daemon
from remediator.service.observe import JsonLog
from remediator.service.one_pass import run_once
from tests.support import kube
from tests.support import llm_scenarios as sc
from tests.support.repos import REPO_URL, app, commit
from tests.support.secrets import ORDINARY, SECRETS

#: a model key no pattern recognises: only scrubbing by value can mask it
LLM_KEY = "plain-llm-key-correct-horse-battery"
LLM_KEY_ENV = "HOSTILE_LLM_KEY"
ALL = "\n".join(text for _n, text, _s in SECRETS)
ONE_LINE = " ".join(text.replace("\n", "\\n") for _n, text, _s in SECRETS)
POD = "web-5d8f7c9b4-aaaaa"


def test_patterns_alone_miss_the_llm_key():
    """The premise of the by-value cases: without being told, the redactor keeps this key."""
    assert redact(f"Incorrect API key provided: {LLM_KEY}")[1] == 0


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_survives(text: str):
    assert redact(text) == (text, 0)


@pytest.mark.parametrize(("name", "text", "secret"), SECRETS, ids=[s[0] for s in SECRETS])
def test_each_format_is_masked_and_masking_is_idempotent(name: str, text: str, secret: str):
    out, n = redact(text)
    assert secret not in out and n >= 1 and MASK in out
    assert redact(out) == (out, 0)


def test_click_usage_errors_quote_what_was_typed_redacted():
    result = CliRunner().invoke(main, ["run", "--repo", "x", "--interval",
                                       "ghp_0123456789abcdefghijABCDEFGHIJ012345"])
    assert result.exit_code == 2 and "not a valid float" in result.output
    assert "0123456789abcdefghij" not in result.output


def test_a_configuration_error_quoting_a_secret_is_printed_redacted(tmp_path: Path):
    (tmp_path / "snap").mkdir()
    config = tmp_path / "c.yaml"
    config.write_text("drafting:\n  provider: sk_live_51HxAbCdEfGhIjKlMnOpQrStUvWx01\n")
    result = CliRunner().invoke(main, ["plan", "--snapshot", str(tmp_path / "snap"), "--repo",
                                       str(tmp_path), "--config", str(config)])
    assert result.exit_code == 2 and "remediator: error:" in result.stderr
    assert "51HxAbCdEfGhIjKlMnOpQrStUvWx01" not in result.output


def test_library_warnings_reach_stderr_redacted():
    code = ("import logging\nfrom remediator.cli import main\n"
            "main(['plan', '--help'], standalone_mode=False)\n"
            "logging.getLogger('some.library').warning("  # a logger without a handler
            "'Retrying: https://bot:Sup3rS3cretPw@github.com/acme/gitops')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert "Retrying: https://bot:[REDACTED]@github.com" in out.stderr, out.stderr
    assert "Sup3rS3cretPw" not in out.stderr


def test_json_log_fields_that_are_not_json_are_redacted_as_text():
    out = io.StringIO()
    JsonLog(out)("pass_failed", "clone failed", level="error",
                 error=RuntimeError("git: https://bot:Sup3rS3cretPw@github.com/acme/gitops"),
                 path=Path("/tmp/sk_live_51HxAbCdEfGhIjKlMnOpQrStUvWx01"))
    line = json.loads(out.getvalue())
    assert "Sup3rS3cretPw" not in out.getvalue() and "51HxAbCdEfGh" not in out.getvalue()
    assert line["error"].startswith("git: https://bot:[REDACTED]@github.com")


# ---------------------------------------------------------------------- the rules scenario


def _manifest(note: str) -> str:
    return f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          selector:
            matchLabels: {{app: web}}
          template:
            metadata:
              labels: {{app: web}}
            spec:
              containers:
                - name: web
                  image: ghcr.io/acme/web:1.0.0
                  env:
                    - name: NOTE
                      value: {json.dumps(note)}
                  resources:
                    requests: {{memory: 96Mi}}
                    limits: {{memory: 128Mi}}
                - name: worker
                  image: ghcr.io/acme/worker:1.0.0
        """


def _snapshot(folder: Path, logs: str = "", events: str = "", waiting: str = "") -> None:
    web = kube.container("web", image="ghcr.io/acme/web:1.0.0")
    d = kube.deployment("web", "shop", [web, kube.container("worker", "ghcr.io/acme/worker:1.0.0")],
                       annotations={"argocd.argoproj.io/tracking-id":
                                    "web:apps/Deployment:shop/web"})
    rs = kube.replicaset(d, revision=2)
    worker = kube.waiting("worker", "CreateContainerConfigError",
                         waiting or "couldn't find key password in Secret shop/db",
                         image="ghcr.io/acme/worker:1.0.0")
    pod = kube.pod(rs, POD, [kube.crashing("web", image="ghcr.io/acme/web:1.0.0"), worker])
    items = [d, rs, pod]
    if events:
        items.append(kube.event(pod, "Failed", events, count=3, field_path="spec.containers{web}"))
    (folder / "logs" / "shop" / POD).mkdir(parents=True)
    (folder / "cluster.json").write_text(json.dumps(kube.cluster_list(*items)))
    (folder / "logs" / "shop" / POD / "web.previous.log").write_text(
        "2026-11-20T10:27:58Z INFO starting\n" + (logs or "") +
        "\n2026-11-20T10:27:59Z INFO heap 127Mi of 128Mi\n")


@dataclass
class Run:
    outputs: dict[str, str] = field(default_factory=dict)

    def leaks(self, secret: str) -> list[str]:
        return [where for where, text in self.outputs.items() if secret in text]


def _plan_outputs(run: Run, snapshot: Path, repo: Path, config: Path | None = None) -> None:
    args = ["plan", "--snapshot", str(snapshot), "--repo", str(repo)]
    if config is not None:
        args += ["--config", str(config)]
    for fmt in ("json", "text"):
        result = CliRunner().invoke(main, [*args, "--output", fmt])
        assert result.exit_code == 0, result.output
        run.outputs[f"plan {fmt} stdout"] = result.stdout
        run.outputs[f"plan {fmt} stderr"] = result.stderr
        if fmt == "json":
            run.outputs["plan json"] = json.dumps(json.loads(result.stdout))  # still JSON


def _service_outputs(run: Run, snapshot: Path, origin: Path, state: Path) -> None:
    stream = io.StringIO()
    daemon = Daemon(lambda stopping: run_once(snapshot, str(origin), state, env={}), 0,
                    JsonLog(stream))
    daemon.run(passes=1)
    run.outputs["json log"] = stream.getvalue()
    for line in stream.getvalue().splitlines():
        json.loads(line)  # every line still JSON
    for path in sorted(state.rglob("*")):
        if path.is_file() and "clone" not in path.relative_to(state).parts:
            run.outputs[f"forge {path.relative_to(state)}"] = path.read_text(errors="replace")
    log = git.Repo(origin).git.log("--all", "--format=%B")
    run.outputs["commit messages"] = log


def _rules_run(tmp: Path, placement: str) -> Run:
    origin = tmp / "origin"
    note = ONE_LINE if placement == "repo" else "ordinary note"
    commit(origin, {"apps/web/deployment.yaml": _manifest(note),
                    "argocd/web.yaml": app("web", "apps/web"),
                    ".remediator.yaml": f"repo: {{url: {REPO_URL}}}\n"}, "init")
    snapshot = tmp / "snapshot"
    _snapshot(snapshot, logs=ALL if placement == "logs" else "",
              events=ONE_LINE if placement == "events" else "",
              waiting=("couldn't find key password in Secret shop/db (password=p4ss-in-msg) "
                       + ONE_LINE) if placement == "waiting" else "")
    run = Run()
    _plan_outputs(run, snapshot, origin)
    _service_outputs(run, snapshot, origin, tmp / "state")
    plan = json.loads(run.outputs["plan json stdout"])
    assert any(r["decision"] == "propose" for r in plan["remediations"]), plan
    assert any(k.startswith("forge pulls/") and k.endswith(".md") for k in run.outputs)
    return run


PLACEMENTS = ("logs", "events", "waiting", "repo")


@pytest.fixture(scope="module")
def rules_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    return {p: _rules_run(tmp_path_factory.mktemp(p), p) for p in PLACEMENTS}


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize(("name", "text", "secret"), SECRETS, ids=[s[0] for s in SECRETS])
def test_a_planted_secret_leaves_in_no_output(rules_runs: dict[str, Run], placement: str,
                                              name: str, text: str, secret: str):
    run = rules_runs[placement]
    assert run.leaks(secret) == []


def test_the_planted_secrets_reach_the_outputs_masked(rules_runs: dict[str, Run]):
    """The cases above are not vacuous: each placement's text does reach an output, masked."""
    assert MASK in rules_runs["logs"].outputs["forge pulls/0001.md"]
    assert "maps [REDACTED] ready" in rules_runs["events"].outputs["plan text stdout"] or \
        "maps [REDACTED] ready" in rules_runs["events"].outputs["forge pulls/0001.md"]
    waiting = json.loads(rules_runs["waiting"].outputs["plan json stdout"])
    [config_error] = [r for r in waiting["remediations"]
                      if r["failure"]["class"] == "CreateContainerConfigError"]
    for key in ("signature", "reason"):
        assert "p4ss-in-msg" not in config_error[key]
    assert "(password=[REDACTED])" in config_error["failure"]["detail"]
    assert "value: " in rules_runs["repo"].outputs["forge pulls/0001.md"]


def test_a_secret_in_a_waiting_message_does_not_change_the_signature(tmp_path: Path):
    commit(tmp_path / "repo", {"apps/web/deployment.yaml": _manifest("n"),
                               "argocd/web.yaml": app("web", "apps/web")}, "init")
    signatures = []
    for value in ("first-Secret-Value-1", "second-Secret-Value-2"):
        snap = tmp_path / value
        _snapshot(snap, waiting=f"couldn't find key password in Secret shop/db (password={value})")
        out = CliRunner().invoke(main, ["plan", "--snapshot", str(snap), "--repo",
                                        str(tmp_path / "repo"), "--output", "json"])
        [sig] = [r["signature"] for r in json.loads(out.stdout)["remediations"]
                 if r["failure"]["class"] == "CreateContainerConfigError"]
        assert value not in out.stdout
        signatures.append(sig)
    assert signatures[0] == signatures[1]


# ---------------------------------------------------------------------- the model scenario


class ModelServer:
    """An OpenAI-compatible endpoint on loopback: records each request body (the prompt as it
    left the process) and answers with an error or a tool call that echo what it is given."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.reply: tuple[int, dict] = (500, {})
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append(body.decode())
                code, payload = server.reply
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _answer(diagnosis: str) -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "llama-test",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": None, "tool_calls": [{
                    "id": "t1", "type": "function", "function": {
                        "name": "no_safe_fix",
                        "arguments": json.dumps({"diagnosis": diagnosis})}}]}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


@pytest.fixture(scope="module")
def model_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    server = ModelServer()
    mp = pytest.MonkeyPatch()
    mp.setenv(LLM_KEY_ENV, LLM_KEY)
    runs: dict[str, Run] = {}
    try:
        for mode in ("provider-error", "model-answer"):
            tmp = tmp_path_factory.mktemp(mode)
            mp.setenv("REMEDIATOR_CACHE_DIR", str(tmp / "cache"))
            sc.make_repo(tmp / "repo")
            snapshot = tmp / "snapshot"
            sc.write_snapshot(snapshot)
            log = snapshot / "logs" / "shop" / sc.POD / "web.previous.log"
            log.write_text(ALL + "\n" + log.read_text())
            config = tmp / "remediator.yaml"
            config.write_text(textwrap.dedent(f"""\
                repo: {{url: {REPO_URL}}}
                drafting:
                  provider: openai-compatible
                  model: llama-test
                  baseUrl: {server.url}
                  apiKeyEnv: {LLM_KEY_ENV}
                  maxRetries: 0
                """))
            echoed = f"{LLM_KEY} {ONE_LINE}"
            server.reply = ((401, {"error": {"message": f"Incorrect API key provided: {echoed}",
                                             "type": "invalid_request_error"}})
                            if mode == "provider-error" else (200, _answer(f"I saw {echoed}")))
            server.requests.clear()
            run = Run()
            _plan_outputs(run, snapshot, tmp / "repo", config)
            assert server.requests, "the model was never asked"
            run.outputs["prompt"] = "\n".join(server.requests)
            runs[mode] = run
        yield runs
    finally:
        mp.undo()
        server.close()


MODES = ("provider-error", "model-answer")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "text", "secret"), SECRETS, ids=[s[0] for s in SECRETS])
def test_a_secret_echoed_by_the_model_or_sent_to_it_leaves_in_no_output(
        model_runs: dict[str, Run], mode: str, name: str, text: str, secret: str):
    assert model_runs[mode].leaks(secret) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_configured_model_key_is_scrubbed_by_value(model_runs: dict[str, Run], mode: str):
    run = model_runs[mode]
    assert run.leaks(LLM_KEY) == []
    if mode == "provider-error":
        assert "Incorrect API key provided: [REDACTED]" in run.outputs["plan json stderr"]
    else:
        assert "I saw [REDACTED]" in run.outputs["plan json stdout"]


@pytest.mark.parametrize("keyword", ["DB_PAſſWORD", "PRİVATE_KEY", "api_\u212aey"])
def test_a_secret_named_with_unicode_case_folding_is_printed_redacted(tmp_path: Path,
                                                                       keyword: str):
    """The redactor's prefilter looks for literals in the lowercased text; Unicode case folding
    (the long s, the dotted capital I, the Kelvin sign) would slip past it, so a text that is not
    ASCII runs every expression: the value is masked where it leaves, in a configuration error."""
    (tmp_path / "snap").mkdir()
    config = tmp_path / "c.yaml"
    config.write_text(f'drafting:\n  provider: "{keyword}=hunter2-prod-pw"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["plan", "--snapshot", str(tmp_path / "snap"), "--repo",
                                       str(tmp_path), "--config", str(config)])
    assert result.exit_code == 2 and "is not one of" in result.stderr
    assert keyword[:3] in result.stderr and "hunter2-prod-pw" not in result.output
