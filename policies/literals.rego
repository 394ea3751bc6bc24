# What a change must not add to a workload's containers (env values, command and args): a host the
# object did not name before and data.remediator.config.allowedHosts does not list, a literal
# credential, an executable path the object did not have, or a literal in place of a valueFrom.
# A value the object already had anywhere (the same string) is not new and is not judged.
#
# Hosts: URLs (scheme://[user@]host), IPv4 addresses, words that are dotted host names or
# `name:port`, and single labels in variables named *_HOST, *_ADDR, *_SERVER, *_ENDPOINT... In-cluster
# names count as the service they reach (db, db.shop, db.shop.svc, db.shop.svc.cluster.local
# are one host in namespace shop); loopback addresses are always allowed; an allowedHosts entry is a
# host or `*.domain`. Executable paths: files that run or are loaded (.jar, .so, scripts...), JVM
# options that load code (-javaagent, -agentpath, -Xbootclasspath...), the value of a variable that
# makes a runtime load code (LD_PRELOAD, PYTHONPATH...), and a container's executable (command[0]).
#
# The model drafter holds its edits to the same rules in Python (remediator/draft/literals.py: the
# same regular expressions; there, credentials through detect-secrets's detectors too).
#
# Input: input.before, input.after, input.change.operation: only updates are judged (a new object
# has nothing to justify its values with); see k8s.rego.
package remediator.policies.literals

import rego.v1

import data.remediator.lib.k8s

updating if input.change.operation == "update"

default config := {}

config := data.remediator.config

allowed_hosts := [lower(h) | some h in object.get(config, "allowedHosts", []); is_string(h)]

local_hosts := {"localhost", "127.0.0.1", "0.0.0.0", "[::1]"}

_namespace := ns if {
	is_object(input.after)
	ns := object.get(input.after, ["metadata", "namespace"], "")
	is_string(ns)
} else := ""

# (rules, not calls in each loop: the engine does not cache function results)
before_containers := k8s.containers(input.before)

# What the object had before: its containers' literals (with their variable names) and the
# annotations of the object and its pod template.
before_literals := [[l.value, l.name] | some l in _literals(before_containers)]

before_strings := {s | some [s, _] in before_literals} | {s |
	some annotations in [_annotations(input.before, []), _annotations(input.before, _template)]
	some s in annotations
	is_string(s)
}

# where the pod template is (the pod spec's parent; [] for a Pod)
_template := array.slice(path, 0, count(path) - 1) if {
	is_object(input.before)
	path := object.get(k8s.pod_spec_paths, object.get(input.before, "kind", ""), null)
	is_array(path)
} else := []

_annotations(obj, at) := annotations if {
	is_object(obj)
	annotations := object.get(obj, array.concat(at, ["metadata", "annotations"]), {})
	is_object(annotations)
} else := {}

new_literals := [l |
	some l in _literals(k8s.after_containers)
	not l.value in before_strings
]

known_hosts := {canonical_host(h, _namespace) |
	some s in before_strings
	some h in hosts(s, "")
} | {canonical_host(h, _namespace) |
	some [value, name] in before_literals
	name != ""
	some h in hosts(value, name)
}

deny contains msg if {
	updating
	some l in new_literals
	kinds := credentials(l.value, l.name)
	count(kinds) > 0
	msg := sprintf("%s sets a literal credential (%s); reference a Secret instead (%s)", [_what(l), concat(", ", sort(kinds)), _path(l)])
}

deny contains msg if {
	updating
	some l in new_literals
	some h in hosts(l.value, l.name)
	not _allowed_host(h)
	msg := sprintf("%s names the host %s, which the object did not name before and drafting.allowedHosts does not list (%s)", [_what(l), h, _path(l)])
}

deny contains msg if {
	updating
	some l in new_literals
	some p in executable_paths(l.value, l.name)
	not _known_path(p)
	msg := sprintf("%s adds the executable path %s, which the object did not have (%s)", [_what(l), p, _path(l)])
}

deny contains msg if {
	updating
	some l in new_literals
	l.field == "command"
	l.index == 0
	msg := sprintf("%s runs the executable %s, which the object did not have (%s)", [_what(l), l.value, _path(l)])
}

deny contains msg if {
	updating
	some c in k8s.after_containers
	some b in before_containers
	b.name == c.name
	b.field == c.field
	some i, e in _array(object.get(c.container, "env", []))
	is_string(object.get(e, "value", null))
	some old in _array(object.get(b.container, "env", []))
	object.get(old, "name", null) == object.get(e, "name", "")
	is_object(object.get(old, "valueFrom", null))
	msg := sprintf("%s env %v took its value from a reference (valueFrom) and now has a literal (%s.env[%d].value)", [c.label, e.name, c.path, i])
}

_array(x) := [e | some e in x; is_object(e)] if is_array(x)

else := []

# ------------------------------------------------------------------------------------- literals
# Every literal of the containers: env values, command and args words, as
# {"value", "name" (the variable's; "" for words), "field", "index", "label", "at" (container path)}.
_literals(containers) := [l |
	some c in containers
	some field in ["env", "command", "args"]
	some i, item in _items(object.get(c.container, field, []))
	[value, name] := _literal(field, item)
	l := {"value": value, "name": name, "field": field, "index": i, "label": c.label, "at": c.path}
]

_items(x) := x if is_array(x)

else := []

_literal("env", e) := [value, name] if {
	is_object(e)
	value := object.get(e, "value", null)
	is_string(value)
	name := object.get(e, "name", "")
	is_string(name)
}

_literal(field, w) := [w, ""] if {
	field != "env"
	is_string(w)
}

_what(l) := sprintf("%s env %s", [l.label, l.name]) if l.field == "env"

else := sprintf("%s %s[%d]", [l.label, l.field, l.index])

_path(l) := sprintf("%s.env[%d].value", [l.at, l.index]) if l.field == "env"

else := sprintf("%s.%s[%d]", [l.at, l.field, l.index])

# ---------------------------------------------------------------------------------------- hosts
# The hosts a value names (lower case, no port); name: its variable's name ("" for none).
hosts(s, name) := {h |
	found := (_url_hosts(s) | _ipv4_hosts(s)) | _word_hosts(s, name)
	some h in found
	h != ""
}

_url_hosts(s) := {trim_suffix(lower(m[1]), ".") |
	some m in regex.find_all_string_submatch_n(`(?i)[a-z][a-z0-9+.-]*://(?:[^/?#\s@]*@)?(\[[0-9a-f:.]+\]|[^/:?#\s@\[\]]+)`, s, -1)
}

_ipv4_hosts(s) := {m | some m in regex.find_n(`\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b`, s, -1)}

_word_hosts(s, name) := {h |
	some word in regex.split(`[\s,;]+`, s)
	word != ""
	some cand in _candidates(word)
	_host_like(cand, name)
	h := trim_suffix(split(cand, ":")[0], ".")
	not _file_name(h)
}

# the word, and what follows its first `=` (`--upstream=evil.example:443`)
_candidates(word) := {lower(word), lower(substring(word, indexof(word, "=") + 1, -1))} if {
	contains(word, "=")
} else := {lower(word)}

_host_like(cand, _) if regex.match(`^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z](?:[a-z0-9-]*[a-z0-9])?\.?(?::[0-9]{1,5})?$`, cand)

_host_like(cand, _) if regex.match(`^[a-z](?:[a-z0-9-]*[a-z0-9])?:[0-9]{1,5}$`, cand)

_host_like(cand, name) if {
	regex.match(`(?i)(?:^|_)(?:HOST|HOSTNAME|HOSTS|ADDR|ADDRESS|SERVER|SERVERS|ENDPOINT|BROKER|BROKERS)$`, name)
	regex.match(`^[a-z](?:[a-z0-9-]*[a-z0-9])?(?::[0-9]{1,5})?$`, cand)
}

# last labels of file names, not hosts (app.yaml); executable ones are judged as paths
file_suffixes := {
	"yaml", "yml", "json", "xml", "toml", "ini", "conf", "cfg", "properties", "txt", "log",
	"csv", "pem", "crt", "cer", "key", "env", "lock", "pid", "sock", "tmpl", "tpl", "html",
	"css", "md", "jar", "war", "ear", "so", "dylib", "dll", "exe", "class", "py", "pyc", "sh",
	"bash", "js", "mjs", "cjs", "rb", "pl", "php", "lua",
}

_file_name(h) if {
	labels := split(h, ".")
	labels[count(labels) - 1] in file_suffixes
}

# An in-cluster name as the service it reaches (db.shop.svc -> db.shop; db in namespace shop ->
# db.shop); other hosts as they are.
canonical_host(h, ns) := sprintf("%s.%s", [service, ns]) if {
	service := _service(h)
	ns != ""
	not contains(service, ".")
	not contains(service, ":")
} else := _service(h)

_service(h) := trim_suffix(h, ".svc.cluster.local") if {
	endswith(h, ".svc.cluster.local")
} else := trim_suffix(h, ".svc") if {
	endswith(h, ".svc")
} else := h

_allowed_host(h) if h in local_hosts

_allowed_host(h) if canonical_host(h, _namespace) in known_hosts

_allowed_host(h) if h in allowed_hosts

_allowed_host(h) if {
	some pattern in allowed_hosts
	startswith(pattern, "*.")
	endswith(h, substring(pattern, 1, -1))
}

# ---------------------------------------------------------------------------- executable paths
executable_paths(s, name) := (_loaded(s, name) | _code_options(s)) | _executable_files(s)

_loaded(s, name) := {s} if {
	regex.match(`^(?:LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT|DYLD_INSERT_LIBRARIES|DYLD_LIBRARY_PATH|PYTHONPATH|PYTHONSTARTUP|PERL5OPT|PERL5LIB|PERLLIB|RUBYOPT|RUBYLIB|NODE_PATH|BASH_ENV|ENV|CLASSPATH|GCONV_PATH|DOTNET_STARTUP_HOOKS)$`, name)
} else := set()

_code_options(s) := {w |
	some w in regex.split(`\s+`, s)
	regex.match(`^-(?:javaagent|agentpath|agentlib|Xbootclasspath(?:/[ap])?|XX:OnError|XX:OnOutOfMemoryError)(?:[:=]|$)`, w)
}

_executable_files(s) := {w |
	some w in regex.split(`[\s:=,;]+`, s)
	w != ""
	regex.match(`(?i)\.(?:jar|war|ear|so(?:\.[0-9]+)*|dylib|dll|exe|class|py|pyc|sh|bash|js|mjs|cjs|rb|pl|php|lua)$`, w)
}

_known_path(p) if {
	some s in before_strings
	contains(s, p)
}

# ----------------------------------------------------------------------------------- credentials
credential_patterns := {
	"AWS access key": `\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`,
	"private key": `-----BEGIN[A-Z0-9 ]*PRIVATE KEY`,
	"GitHub token": `\b(?:gh[pousr]_[A-Za-z0-9_]{36,}|github_pat_[A-Za-z0-9_]{22,})`,
	"GitLab token": `\bglpat-[A-Za-z0-9_-]{20,}`,
	"Slack token": `\bxox[abposr]-[A-Za-z0-9-]{10,}`,
	"Stripe key": `\b[rs]k_(?:live|test)_[0-9a-zA-Z]{16,}`,
	"Google API key": `\bAIza[0-9A-Za-z_-]{35}`,
	"npm token": `\bnpm_[A-Za-z0-9]{36}`,
	"PyPI token": `\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`,
	"API key": `\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}`,
	"Telegram bot token": `\b[0-9]{8,10}:AA[0-9A-Za-z_-]{33}`,
	"Twilio key": `\b(?:AC|SK)[0-9a-f]{32}\b`,
	"SendGrid key": `\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`,
	"JSON web token": `\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
	"password in a URL": `(?i)[a-z][a-z0-9+.-]*://[^/?#\s@:]*:[^/?#\s@]+@`,
	"webhook URL": `(?i)discord(?:app)?\.com/api/webhooks/[0-9]+/|hooks\.slack\.com/services/`,
}

# The kinds of credential a literal looks like (empty: none); `$(VAR)` is a reference, not a
# literal.
credentials(value, name) := set() if {
	_not_literal(value)
} else := ({kind | some kind, pattern in credential_patterns; regex.match(pattern, value)} | _secret_named(value, name)) | _secret_options(value)

_not_literal(value) if trim_space(value) == ""

_not_literal(value) if regex.match(`^\$\([A-Za-z_][A-Za-z0-9_]*\)$`, trim_space(value))

_secret_named(_, name) := {sprintf("a value for the secret-named variable %s", [name])} if {
	regex.match(`(?i)(?:^|_)(?:PASSWORD|PASSWD|PWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|SECRET_?KEY|PRIVATE_?KEY|CLIENT_?SECRET|CREDENTIALS?)$`, name)
} else := set()

_secret_options(value) := {"a secret-named option" |
	some w in regex.split(`\s+`, value)
	regex.match(`(?i)^--?(?:[a-z0-9]+[-_])*(?:password|passwd|pwd|pass|secret|token|api[-_]?key|access[-_]?key|secret[-_]?key|private[-_]?key|client[-_]?secret|credentials?)=.`, w)
}
