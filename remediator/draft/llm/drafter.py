"""The model drafter: evidence in, a constrained tool call out, checked like any other proposal.

A model drafts the classes no rule covers. Its answer is either a proposal (schema, located files,
field values and the allow-list all checked, then the gate runs as for the rules), a diagnosis
(`no_safe_fix`, or a refused change with the reason on record), or a Fallback to the rules
drafter (provider error, timeout, refusal, budget).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...kernel.redact import redact
from ...model.settings import ConfigError
from . import context
from .budget import Ledger, cache_key, cost, format_cost
from .examples import closed_examples, merged_examples
from .fields import Rejected, fields_for, located_files
from .proposal import build, rejected
from .providers import (
    ModelCall,
    ModelReply,
    ProviderError,
    checked_calls,
    make_provider,
    missing_client,
)
from .tools import decode_arguments, parse_answer, tool_specs

if TYPE_CHECKING:
    from ...model import Incident, Location, Proposal
    from ...model.settings import Drafting
    from .providers import (
        Provider,
    )

__all__ = ["Fallback", "LLMDrafter", "closed_examples", "default_cache_dir", "make_drafter"]

MAX_ANSWER_TOKENS = 1024
CACHE_ENV = "REMEDIATOR_CACHE_DIR"


class Fallback(Exception):
    """No model answer for this incident; the rules drafter answers instead (message: why)."""


def default_cache_dir(env: Mapping[str, str]) -> Path | None:
    """The answer cache's folder; None when there is no home folder to put it in."""
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "remediator"
    try:
        return Path.home() / ".cache" / "remediator"
    except RuntimeError:  # no HOME and no password entry
        return None


class LLMDrafter:
    def __init__(self, provider: Provider, drafting: Drafting, cache_dir: Path | None) -> None:
        self.provider = provider
        self.drafting = drafting
        self.settings = drafting.llm
        self.ledger = Ledger(cache_dir / "llm" if cache_dir is not None else None)
        self.name = f"llm:{provider.name}"
        #: per failure class, changes reviewers closed unmerged (from the forge's records)
        self.counter_examples: dict[str, list[str]] = {}

    def with_counter_examples(self, examples: dict[str, list[str]]) -> LLMDrafter:
        """This drafter (same provider, cache and ledger) with these counter-examples: a plan
        gets its own, the caller's drafter is left as it was."""
        other = copy.copy(self)
        other.counter_examples = examples
        return other

    def draft(self, incident: Incident, loc: Location, repo_root: Path | None = None) -> Proposal:
        cls = incident.failure_class
        fields, files = fields_for(cls, loc), located_files(cls, loc)
        budget = self.settings.max_tokens_per_incident
        answer_tokens = min(MAX_ANSWER_TOKENS, budget // 3)
        examples = merged_examples(repo_root, cls) if repo_root is not None and fields else []
        prompt = context.build(incident, loc, files, fields, budget - answer_tokens,
                               examples=examples,
                               counter=self.counter_examples.get(cls, []) if fields else [])
        if prompt.tokens > budget - answer_tokens:
            raise Fallback(f"the context needs ~{prompt.tokens} tokens, more than "
                           f"drafting.maxTokensPerIncident ({budget}) leaves for it")
        specs = tool_specs(files, fields)
        key = cache_key(self.provider.name, self.provider.model, incident.signature,
                        loc.target.path, loc.target.index, loc.target.embedded, loc.document,
                        files, fields)
        stored = self.ledger.cached(key)
        calls = _stored_calls(stored)
        if calls is not None:  # re-validated like a fresh answer
            reply, hit = ModelReply(calls=calls), True
        else:
            reply, hit = self._ask(prompt, specs, answer_tokens), False
            self.ledger.store(key, {"calls": reply.calls, "input_tokens": reply.input_tokens,
                                    "output_tokens": reply.output_tokens,
                                    "signature": incident.signature})
        try:
            answer = parse_answer(reply.calls, specs)
            proposal = build(answer, incident, loc, self.name,
                             self.drafting.startup.max_seconds,
                             allowed_hosts=self.drafting.allowed_hosts,
                             allowed_env=self.drafting.allowed_env)
            refusal = ""
        except Rejected as exc:
            refusal = str(exc)
            proposal = rejected(incident, self.name, _stated_diagnosis(reply), refusal)
        pricing = self.settings.pricing
        proposal.provenance = {
            "drafter": self.name,
            "model": self.provider.model,
            "tokens": reply.input_tokens + reply.output_tokens,
            "tokens in/out": f"{reply.input_tokens}/{reply.output_tokens}",
            "cost": format_cost(pricing, cost(pricing, reply.input_tokens, reply.output_tokens)),
            "redactions": incident.evidence.facts.redactions + prompt.redactions,
            "cache": "hit (no tokens spent)" if hit else "miss",
        }
        if refusal:
            proposal.provenance["rejected"] = refusal
        return proposal

    def _ask(self, prompt: context.Prompt, specs: list[Any], answer_tokens: int) -> ModelReply:
        monthly = self.settings.monthly_token_budget
        used = self.ledger.used()
        if monthly and used + prompt.tokens + answer_tokens > monthly:
            raise Fallback(f"the monthly token budget ({monthly}) is used up ({used} spent)")
        try:
            # the last step before the provider: whatever built the user prompt, nothing in it
            # leaves unredacted (context.build redacts piece by piece; this is the choke point;
            # the system prompt is our own constant text)
            reply = self.provider.complete(ModelCall(
                prompt.system, redact(prompt.user)[0], specs, answer_tokens))
        except ProviderError as exc:
            raise Fallback(f"{self.provider.name}: {exc}") from None
        self.ledger.add(reply.input_tokens + reply.output_tokens)
        return reply


def _stated_diagnosis(reply: ModelReply) -> str:
    """The model's diagnosis from an answer that was refused, when it gave one."""
    for name, args in reply.calls:
        try:
            data = decode_arguments(args, name)
        except Rejected:
            continue
        if isinstance(data, dict) and isinstance(data.get("diagnosis"), str):
            return data["diagnosis"][:2000]
    return ""


def _stored_calls(stored: dict[str, Any] | None) -> list[tuple[str, Any]] | None:
    """The tool calls of a cached answer, in the shapes a fresh reply has; None when there is
    no usable entry (missing, or not of our making: asked again)."""
    if stored is None or not isinstance(stored.get("calls"), list):
        return None
    pairs = [c for c in stored["calls"] if isinstance(c, list) and len(c) == 2]
    try:
        return checked_calls([(c[0], c[1]) for c in pairs])
    except ProviderError:
        return None


def make_drafter(drafting: Drafting, cache_dir: Path | None = None,
                 env: Mapping[str, str] | None = None,
                 http_client: Any = None) -> tuple[LLMDrafter | None, str]:
    """The configured model drafter, or (None, why not) — the rules drafter then answers.
    A provider whose client library is not installed is a configuration error, not a fallback:
    the installation cannot do what the configuration asks, on any incident."""
    if drafting.provider == "rules":
        return None, ""
    if missing := missing_client(drafting.provider):
        raise ConfigError(missing)
    env = os.environ if env is None else env
    try:
        provider = make_provider(drafting.provider, drafting.llm, env, http_client)
    except ProviderError as exc:
        return None, f"drafting.provider is {drafting.provider} but {exc}: drafting with rules"
    drafter = LLMDrafter(provider, drafting, cache_dir or default_cache_dir(env))
    return drafter, drafter.ledger.probe()
