"""One set of rules for literals in two languages: the drafter's (remediator/draft/literals.py)
and the `literals` policy's (policies/literals.rego) must read every value the same way, so a
change the drafter lets through is one the gate lets through, and `validate` judges a human's
pull request as the drafter judges a model's."""

from __future__ import annotations

import re
from typing import Any

import pytest

from remediator.draft import literals
from remediator.gate import policy, sources

REGO = next(s for s in sources.builtin_sources() if s.name.endswith("literals.rego")).text
PATTERNS = ["URL_HOST", "DOTTED_HOST", "LABEL_PORT", "LABEL", "HOST_VARIABLE", "IPV4", "WORDS",
            "PATH_WORDS", "EXECUTABLE_FILE", "CODE_OPTION", "LOADER_VARIABLE", "SECRET_VARIABLE",
            "SECRET_OPTION", "URL_PASSWORD", "WEBHOOK", "REFERENCE"]


@pytest.fixture(scope="module")
def rego() -> policy.RegorusEngine:
    return policy.RegorusEngine(list(sources.builtin_sources()), {}, compiled=False)


def ask(engine: policy.RegorusEngine, function: str, *args: Any) -> Any:
    call = ", ".join(f"input[{i}]" for i in range(len(args)))
    return engine.query(f"data.remediator.policies.literals.{function}({call})", list(args))


@pytest.mark.parametrize("name", PATTERNS)
def test_the_policy_uses_the_drafters_regular_expressions(name: str):
    assert f"`{getattr(literals, name)}`" in REGO, name


def test_the_word_lists_are_the_same(rego: policy.RegorusEngine):
    assert set(rego.query("data.remediator.policies.literals.file_suffixes")) == \
        literals.FILE_SUFFIXES
    assert set(rego.query("data.remediator.policies.literals.local_hosts")) == \
        literals.LOCAL_HOSTS


SAMPLES: list[tuple[str, str]] = [
    ("https://api.example.com/v1", ""), ("postgres://admin:pw@Evil.Example:5432/db", ""),
    ("http://[::1]:8080/x", ""), ("--upstream=https://evil.example/collect", ""),
    ("evil.example", "KUBERNETES_SERVICE_HOST"), ("db", "DB_HOST"), ("db", "LOG_LEVEL"),
    ("redis:6379", ""), ("kafka-0.kafka:9092,kafka-1.kafka:9092", "BROKERS"),
    ("10.0.0.1", ""), ("--bind=0.0.0.0:8080", ""), ("1.4.2", ""), ("v1.2", ""),
    ("--config=app.yaml", ""), ("-Dlog.level=debug", ""), ("-Dhttp.proxyHost=evil.example", ""),
    ("evil.sh", ""), ("db.shop.svc.cluster.local.", ""), ("info", "LOG_LEVEL"),
    ("-Xmx512m -javaagent:/var/lib/evil.jar", "JAVA_OPTS"), ("/tmp/x.so", "LD_PRELOAD"),
    ("/opt/lib", "LD_LIBRARY_PATH"), ("-Xbootclasspath/a:/tmp/a.jar:/tmp/b.jar", ""),
    ("-agentlib:jdwp=transport=dt_socket", ""), ("libfoo.so.1", ""), ("/app/run.sh --x", ""),
    ("python manage.py migrate", ""), ("-XX:OnOutOfMemoryError=kill -9 %p", ""),
    ("", ""), ("   ", "X"),
]


@pytest.mark.parametrize(("value", "name"), SAMPLES)
def test_hosts_and_executable_paths_are_read_alike(rego: policy.RegorusEngine, value: str,
                                                   name: str):
    assert set(ask(rego, "hosts", value, name)) == literals.hosts(value, name)
    assert set(ask(rego, "executable_paths", value, name)) == set(
        literals.executable_paths(value, name))


@pytest.mark.parametrize("host", ["db", "db.shop", "db.shop.svc", "db.shop.svc.cluster.local",
                                  "api.example.com", "10.0.0.1", "[::1]"])
@pytest.mark.parametrize("namespace", ["shop", ""])
def test_in_cluster_names_are_read_alike(rego: policy.RegorusEngine, host: str,
                                         namespace: str):
    assert ask(rego, "canonical_host", host, namespace) == literals.canonical_host(host,
                                                                                  namespace)


CREDENTIALS: list[tuple[str, str]] = [
    ("AKIAIOSFODNN7EXAMPLE", ""), ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", ""),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", ""),
    ("xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJklmn", ""),
    ("AIzaSyA1234567890abcdefghijklmnopqrstuv", ""),
    ("npm_abcdefghijklmnopqrstuvwxyz0123456789", ""),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ", ""),
    ("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_", ""),
    ("-----BEGIN RSA PRIVATE KEY----- MIIE", ""), ("postgres://admin:pw@db/app", ""),
    ("https://discord.com/api/webhooks/123/abc", ""), ("hunter2", "DB_PASSWORD"),
    ("hunter2", "API_TOKEN"), ("--password=hunter2", ""), ("--client-secret=x", ""),
    ("SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", ""),
    ("glpat-abcdefghijklmnopqrstu", ""), ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", ""),
]
NOT_CREDENTIALS: list[tuple[str, str]] = [
    ("info", "LOG_LEVEL"), ("https://api.example.com/v1", "UPSTREAM"), ("--port=8080", ""),
    ("$(DB_PASSWORD)", "PASSWORD"), ("", "PASSWORD"), ("true", "AUTH_ENABLED"),
    ("3600", "TOKEN_TTL"), ("/run/secrets/pw", "PASSWORD_FILE"), ("-Xmx512m", "JAVA_OPTS"),
    ("postgres://web@db.shop:5432/web", "DATABASE_URL"), ("--token-file=/var/run/t", ""),
]


@pytest.mark.parametrize(("value", "name"), CREDENTIALS)
def test_credentials_are_refused_by_both(rego: policy.RegorusEngine, value: str, name: str):
    assert literals.credential(value, name)
    assert ask(rego, "credentials", value, name)


@pytest.mark.parametrize(("value", "name"), NOT_CREDENTIALS)
def test_ordinary_values_are_not_credentials_to_either(rego: policy.RegorusEngine, value: str,
                                                       name: str):
    assert literals.credential(value, name) == ""
    assert ask(rego, "credentials", value, name) == []


def test_known_reads_the_manifest_as_the_policy_reads_input_before():
    doc = {"kind": "Deployment", "metadata": {"annotations": {"docs": "https://wiki.example"}},
           "spec": {"template": {"metadata": {"annotations": {"a": "x.example:80"}}, "spec": {
               "initContainers": [{"name": "i", "command": ["/init", "--from=s3.example"]}],
               "containers": [{"name": "c", "env": [{"name": "DB_HOST", "value": "db"}],
                               "args": ["-javaagent:/opt/agent.jar"]}]}}}}
    known = literals.Known.of([doc], "shop", ["*.partner.example"])
    assert known.hosts == {"wiki.example", "x.example", "s3.example", "db.shop"}
    assert known.problem("-javaagent:/opt/agent.jar") == ""
    assert known.problem("--mirror=https://wiki.example/x") == ""
    assert known.problem("db.shop.svc:5432", "DB_ADDR") == ""
    assert known.problem("https://a.partner.example") == ""
    assert known.problem("https://partner.example").startswith("names the host")
    assert known.problem("/opt/other.jar").startswith("adds the executable path")
    assert known.problem("hunter2", "DB_PASSWORD").startswith("looks like a credential")


@pytest.mark.parametrize(("text", "says"), [
    ("drafting:\n  allowedHosts: [https://evil.example]\n",
     "line 2: drafting.allowedHosts.0: 'https://evil.example' is not a host name"),
    ("drafting:\n  allowedHosts: ['evil.example:443']\n", "is not a host name"),
    ("drafting:\n  allowedHosts: ['*']\n", "is not a host name"),
    ("drafting:\n  allowedHosts: evil.example\n", "is not of type 'array'"),
    ("drafting:\n  allowedEnv: ['LD PRELOAD']\n", "is not a variable name"),
    ("drafting:\n  allowedEnv: ['*']\n", "is not a variable name"),
])
def test_the_allow_lists_are_validated_like_the_rest_of_the_config(text: str, says: str):
    from remediator.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=re.escape(says)):
        parse_config(text)


def test_the_allow_lists_reach_the_drafter_and_the_policies():
    from remediator.config import parse_config
    from remediator.gate import inputs

    cfg = parse_config("drafting:\n  allowedHosts: [Api.Example.com, '*.trusted.example']\n"
                       "  allowedEnv: [FEATURE_X, 'APP_*']\n")
    assert cfg.drafting.allowed_hosts == ["api.example.com", "*.trusted.example"]
    assert cfg.drafting.allowed_env == ["FEATURE_X", "APP_*"]
    data = inputs.config_data(cfg.validation)["remediator"]["config"]
    assert data["allowedHosts"] == ["api.example.com", "*.trusted.example"]
