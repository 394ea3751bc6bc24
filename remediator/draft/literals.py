"""What a literal value means: the hosts it names, the executable paths it adds, whether it is a
credential. A model's new values must be justified by these rules (draft/llm refuses the rest),
and the built-in `literals` policy (policies/literals.rego) holds every change to the same rules
with the same patterns, so `remediator validate` catches a human pull request that does the same.

- A host may only be one the manifests already name (in any string of the located documents), a
  loopback address, or one `drafting.allowedHosts` lists. In-cluster names are compared as the
  service they reach: `db`, `db.shop`, `db.shop.svc` and `db.shop.svc.cluster.local` are one
  host for a workload in namespace `shop`.
- An executable path (a `.jar`, `.so`, script or binary; a Java agent or boot class path; the
  value of a variable that makes a runtime load code, such as `LD_PRELOAD`) may only be one the
  manifests already have.
- A credential is never a literal: detect-secrets's maintained detectors (AWS, Stripe, GitHub,
  Slack, npm, JWT, private keys, high-entropy strings, ...) plus our rules for secret-named
  variables and options, passwords in URLs and webhook URLs.

The regular expressions are written in the syntax Python, RE2 (OPA) and Rust (regorus) share,
and each appears verbatim in policies/literals.rego (a test checks they do).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..kernel.k8s import POD_SPEC_PATHS, pod_spec

#: scheme://[user[:password]@]host — the host (IPv6 in brackets)
URL_HOST = r"(?i)[a-z][a-z0-9+.-]*://(?:[^/?#\s@]*@)?(\[[0-9a-f:.]+\]|[^/:?#\s@\[\]]+)"
#: a whole word (or what follows the first `=` of an option) that is a dotted host name
DOTTED_HOST = (r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z](?:[a-z0-9-]*[a-z0-9])?\.?"
               r"(?::[0-9]{1,5})?$")
#: ... or a single label with a port (`redis:6379`: an in-cluster service)
LABEL_PORT = r"^[a-z](?:[a-z0-9-]*[a-z0-9])?:[0-9]{1,5}$"
#: ... or, as the value of a variable named like HOST_VARIABLE, a single label (`db`)
LABEL = r"^[a-z](?:[a-z0-9-]*[a-z0-9])?(?::[0-9]{1,5})?$"
HOST_VARIABLE = (r"(?i)(?:^|_)(?:HOST|HOSTNAME|HOSTS|ADDR|ADDRESS|SERVER|SERVERS|ENDPOINT"
                 r"|BROKER|BROKERS)$")
IPV4 = r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b"
#: words of a value, for hosts; and for paths (`-javaagent:/x.jar`, `a.jar:b.jar`, `X=/y.so`)
WORDS = r"[\s,;]+"
PATH_WORDS = r"[\s:=,;]+"
EXECUTABLE_FILE = (r"(?i)\.(?:jar|war|ear|so(?:\.[0-9]+)*|dylib|dll|exe|class|py|pyc|sh|bash"
                   r"|js|mjs|cjs|rb|pl|php|lua)$")
#: JVM options that load code or run a command
CODE_OPTION = (r"^-(?:javaagent|agentpath|agentlib|Xbootclasspath(?:/[ap])?|XX:OnError"
               r"|XX:OnOutOfMemoryError)(?:[:=]|$)")
#: variables whose whole value tells a runtime where to load code from
LOADER_VARIABLE = (r"^(?:LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|DYLD_INSERT_LIBRARIES"
                   r"|DYLD_LIBRARY_PATH|PYTHONPATH|PYTHONSTARTUP|PERL5OPT|PERL5LIB|PERLLIB"
                   r"|RUBYOPT|RUBYLIB|NODE_PATH|BASH_ENV|ENV|CLASSPATH|GCONV_PATH"
                   r"|DOTNET_STARTUP_HOOKS)$")
#: last labels of file names, not hosts (`app.yaml`); executable ones are judged as paths
FILE_SUFFIXES = frozenset((
    "yaml", "yml", "json", "xml", "toml", "ini", "conf", "cfg", "properties", "txt", "log",
    "csv", "pem", "crt", "cer", "key", "env", "lock", "pid", "sock", "tmpl", "tpl", "html",
    "css", "md", "jar", "war", "ear", "so", "dylib", "dll", "exe", "class", "py", "pyc", "sh",
    "bash", "js", "mjs", "cjs", "rb", "pl", "php", "lua"))
#: the pod itself: never another machine
LOCAL_HOSTS = frozenset(("localhost", "127.0.0.1", "0.0.0.0", "[::1]"))
# our credential rules (detect-secrets's detectors do the rest)
SECRET_VARIABLE = (r"(?i)(?:^|_)(?:PASSWORD|PASSWD|PWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY"
                   r"|SECRET_?KEY|PRIVATE_?KEY|CLIENT_?SECRET|CREDENTIALS?)$")
SECRET_OPTION = (r"(?i)^--?(?:[a-z0-9]+[-_])*(?:password|passwd|pwd|pass|secret|token"
                 r"|api[-_]?key|access[-_]?key|secret[-_]?key|private[-_]?key"
                 r"|client[-_]?secret|credentials?)=.")
URL_PASSWORD = r"(?i)[a-z][a-z0-9+.-]*://[^/?#\s@:]*:[^/?#\s@]+@"
WEBHOOK = r"(?i)discord(?:app)?\.com/api/webhooks/[0-9]+/|hooks\.slack\.com/services/"
#: `$(VAR)`: Kubernetes substitutes another variable; not a literal
REFERENCE = r"^\$\([A-Za-z_][A-Za-z0-9_]*\)$"


def _split(pattern: str, value: str) -> list[str]:
    return [w for w in re.split(pattern, value) if w]


def hosts(value: str, name: str = "") -> set[str]:
    """The hosts ``value`` names (lower case, no port); ``name``: its variable's name."""
    out = {m.group(1).lower().removesuffix(".") for m in re.finditer(URL_HOST, value)}
    out |= {m.group(0) for m in re.finditer(IPV4, value)}
    named = bool(name) and re.search(HOST_VARIABLE, name) is not None
    for word in _split(WORDS, value):
        candidates = [word] + ([word.split("=", 1)[1]] if "=" in word else [])
        for cand in (c.lower() for c in candidates):
            if re.search(DOTTED_HOST, cand) or re.search(LABEL_PORT, cand) or (
                    named and re.search(LABEL, cand)):
                host = cand.split(":")[0].removesuffix(".")
                if host.rsplit(".", 1)[-1] not in FILE_SUFFIXES:
                    out.add(host)
    return {h for h in out if h}


def executable_paths(value: str, name: str = "") -> list[str]:
    """The executable paths ``value`` adds to a container (a file that runs or is loaded, a JVM
    option that loads code, the whole value of a loader variable)."""
    out = [value] if name and re.search(LOADER_VARIABLE, name) else []
    out += [w for w in value.split() if re.search(CODE_OPTION, w)]
    out += [w for w in _split(PATH_WORDS, value) if re.search(EXECUTABLE_FILE, w)]
    return list(dict.fromkeys(out))


def canonical_host(host: str, namespace: str) -> str:
    """An in-cluster name as the service it reaches (`db.shop.svc` → `db.shop`; `db` in
    namespace shop → `db.shop`); other hosts as they are."""
    if host.endswith(".svc.cluster.local"):
        host = host.removesuffix(".svc.cluster.local")
    elif host.endswith(".svc"):
        host = host.removesuffix(".svc")
    if namespace and "." not in host and ":" not in host:
        return f"{host}.{namespace}"
    return host


def host_listed(host: str, patterns: Iterable[str]) -> bool:
    """``host`` is one of ``patterns`` (exact, or under a `*.domain` pattern)."""
    for p in patterns:
        p = p.lower()
        if host == p or (p.startswith("*.") and host.endswith(p[1:])):
            return True
    return False


# ------------------------------------------------------------------------------ credentials


@cache
def _detectors() -> list[Any]:
    """detect-secrets's plugins, built once (analyze_string only: no network verification)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.ip_public import IPPublicDetector

    classes: list[Any] = list(get_mapping_from_secret_type_to_class().values())
    # a public address is a host, judged as one
    return [c() for c in classes if c is not IPPublicDetector]


def _detected(value: str, name: str) -> str:
    from detect_secrets.filters.heuristic import is_potential_uuid, is_sequential_string
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import REGEX_BY_FILETYPE, KeywordDetector
    from detect_secrets.util.filetype import FileType

    for plugin in _detectors():
        if isinstance(plugin, HighEntropyStringsPlugin):
            # quoted words: the plugin only reads quoted strings
            for word in _split(r"[\s=:,;@]+", value):
                for s in plugin.analyze_string(f'"{word}"'):
                    if (plugin.calculate_shannon_entropy(s) > plugin.entropy_limit
                            and not is_sequential_string(s) and not is_potential_uuid(s)):
                        return str(plugin.secret_type)
        elif isinstance(plugin, KeywordDetector):
            line = f'{name}: "{value}"' if name else value
            if any(plugin.analyze_string(line, denylist_regex_to_group=REGEX_BY_FILETYPE[
                    FileType.YAML])):
                return str(plugin.secret_type)
        elif any(plugin.analyze_string(value)):
            return str(plugin.secret_type)
    return ""


def credential(value: str, name: str = "") -> str:
    """What kind of credential ``value`` (of variable ``name``) looks like; '' when none."""
    if re.search(REFERENCE, value.strip()) or not value.strip():
        return ""
    if name and re.search(SECRET_VARIABLE, name):
        return f"a value for the secret-named variable {name}"
    if any(re.search(SECRET_OPTION, w) for w in value.split()):
        return "a secret-named option"
    if re.search(URL_PASSWORD, value):
        return "a password in a URL"
    if re.search(WEBHOOK, value):
        return "a webhook URL"
    return _detected(value, name)


# ------------------------------------------------------------------------------ justification


#: the container lists whose literals count (policies/k8s.rego's container_fields)
_CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")


def container_literals(obj: Any) -> list[tuple[str, str]]:
    """(value, variable name or '') of every literal of ``obj``'s containers: env values,
    command and args words — what policies/literals.rego's ``_literals`` reads."""
    spec = pod_spec(obj)
    out: list[tuple[str, str]] = []
    for field in _CONTAINER_FIELDS:
        containers = spec.get(field)
        for c in containers if isinstance(containers, list) else []:
            if not isinstance(c, dict):
                continue
            env = c.get("env")
            for e in env if isinstance(env, list) else []:
                if isinstance(e, dict) and isinstance(e.get("value"), str) and isinstance(
                        e.get("name", ""), str):
                    out.append((e["value"], e.get("name", "")))
            for key in ("command", "args"):
                words = c.get(key)
                out += [(w, "") for w in (words if isinstance(words, list) else [])
                        if isinstance(w, str)]
    return out


def annotation_values(obj: Any) -> list[str]:
    """The annotation values of ``obj`` and of its pod template."""
    if not isinstance(obj, dict):
        return []
    path = POD_SPEC_PATHS.get(str(obj.get("kind", "")), ("spec",))[:-1]
    out: list[str] = []
    for at in ((), path):
        node: Any = obj
        for key in (*at, "metadata", "annotations"):
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            out += [v for v in node.values() if isinstance(v, str)]
    return out


@dataclass(frozen=True)
class Known:
    """What justifies a new literal: the located documents' own strings and hosts, and the
    hosts the configuration allows."""

    strings: frozenset[str]
    hosts: frozenset[str]  # canonical (see canonical_host)
    namespace: str
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def of(cls, documents: Iterable[Any], namespace: str,
           allowed_hosts: Iterable[str] = ()) -> Known:
        """From the located documents (the document as written and the object as rendered):
        their containers' literals and their annotations, as the policy reads ``input.before``."""
        docs = list(documents)
        literals = [pair for d in docs for pair in container_literals(d)]
        strings = frozenset([v for v, _ in literals] + [s for d in docs
                                                        for s in annotation_values(d)])
        found = {h for s in strings for h in hosts(s)}
        found |= {h for v, n in literals if n for h in hosts(v, n)}
        return cls(strings, frozenset(canonical_host(h, namespace) for h in found), namespace,
                   tuple(allowed_hosts))

    def host_allowed(self, host: str) -> bool:
        return (host in LOCAL_HOSTS or canonical_host(host, self.namespace) in self.hosts
                or host_listed(host, self.allowed_hosts))

    def problem(self, value: str, name: str = "") -> str:
        """'' when the literal ``value`` (of variable ``name``) is justified, else why not (one
        line; a credential is named by its kind, never quoted)."""
        if value in self.strings:
            return ""  # the manifests already have exactly this value
        kind = credential(value, name)
        if kind:
            return f"looks like a credential ({kind}); a Secret reference is needed instead"
        for path in executable_paths(value, name):
            if not any(path in s for s in self.strings):
                return (f"adds the executable path {path[:80]!r}, which the manifests do not "
                        "have")
        for host in sorted(hosts(value, name)):
            if not self.host_allowed(host):
                return (f"names the host {host[:80]}, which neither the manifests nor "
                        "drafting.allowedHosts name")
        return ""
