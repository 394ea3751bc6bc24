"""Model providers behind one small interface: OpenAI chat completions with tool calling,
Anthropic messages with tool use, and any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio)
through its base URL.

The official clients do the HTTP; their own retries are off so that what happens on a 429 is
ours: wait what Retry-After says (bounded), at most ``max_retries`` times. Every failure becomes
a ProviderError whose message is one line: the caller falls back to the rules drafter with it.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...config import LLMSettings
from ...redact import redact, register, register_env
from .tools import ToolSpec

MAX_RETRY_WAIT = 30.0  # seconds: a longer Retry-After is a budget problem, not a blip


class ProviderError(Exception):
    """The provider gave no usable answer (error, timeout, rate limit, refusal)."""


class Refusal(ProviderError):
    """The model declined to answer or answered without calling a tool."""


@dataclass
class ModelCall:
    system: str
    user: str
    tools: list[ToolSpec]
    max_tokens: int


@dataclass
class ModelReply:
    calls: list[tuple[str, Any]] = field(default_factory=list)  # (tool name, arguments)
    input_tokens: int = 0
    output_tokens: int = 0
    stop: str = ""


class Provider(Protocol):
    name: str
    model: str

    def complete(self, call: ModelCall) -> ModelReply: ...


def retry_after(headers: Mapping[str, str] | None, attempt: int) -> float:
    """Seconds to wait before retrying a 429: Retry-After (seconds or HTTP date), else a short
    exponential backoff; never more than MAX_RETRY_WAIT."""
    raw = (headers or {}).get("retry-after", "")
    wait = float(2 ** attempt)
    if raw:
        try:
            wait = float(raw)
        except ValueError:
            with contextlib.suppress(TypeError, ValueError):  # unreadable: the backoff
                wait = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
    return max(0.0, min(wait, MAX_RETRY_WAIT))


def _with_retries(send: Any, rate_limited: type[Exception], settings: LLMSettings) -> Any:
    for attempt in range(settings.max_retries + 1):
        try:
            return send()
        except rate_limited as exc:
            if attempt == settings.max_retries:
                raise ProviderError(f"rate limited (HTTP 429) after {attempt + 1} attempts") \
                    from None
            response = getattr(exc, "response", None)
            time.sleep(retry_after(getattr(response, "headers", None), attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _one_line(exc: Exception) -> str:
    """The error in one line, redacted: a provider's message may quote part of the key."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    status = getattr(exc, "status_code", None)
    line = (f"HTTP {status}: " if status else "") + f"{type(exc).__name__}: {text}"[:300]
    return redact(line)[0]


class OpenAIProvider:
    """OpenAI, or an OpenAI-compatible server when ``base_url`` is set."""

    def __init__(self, settings: LLMSettings, api_key: str, compatible: bool = False,
                 http_client: Any = None) -> None:
        import openai  # the client is only loaded when a model drafts

        self._openai = openai
        self.name = "openai-compatible" if compatible else "openai"
        self.model = settings.model
        self.settings = settings
        self.compatible = compatible
        self.client = openai.OpenAI(api_key=api_key, base_url=settings.base_url or None,
                                    timeout=settings.timeout_seconds, max_retries=0,
                                    http_client=http_client)

    def complete(self, call: ModelCall) -> ModelReply:
        oa = self._openai
        # compatible servers (Ollama, vLLM) know max_tokens; OpenAI's newer models only the other
        limit = {"max_tokens" if self.compatible else "max_completion_tokens": call.max_tokens}
        create: Any = self.client.chat.completions.create  # plain dicts, not the typed params
        try:
            resp = _with_retries(lambda: create(
                model=self.model,
                messages=[{"role": "system", "content": call.system},
                          {"role": "user", "content": call.user}],
                tools=[{"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters}}
                    for t in call.tools],
                tool_choice="required",
                temperature=self.settings.temperature,
                **limit,
            ), oa.RateLimitError, self.settings)
        except oa.APITimeoutError:
            raise ProviderError(f"timed out after {self.settings.timeout_seconds:g}s") from None
        except oa.OpenAIError as exc:
            raise ProviderError(_one_line(exc)) from None
        if not resp.choices:
            raise ProviderError("the reply has no choices")
        choice = resp.choices[0]
        msg = choice.message
        usage = resp.usage
        reply = ModelReply(
            calls=[(tc.function.name, tc.function.arguments) for tc in (msg.tool_calls or [])
                   if getattr(tc, "function", None) is not None],
            input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            output_tokens=getattr(usage, "completion_tokens", 0) or 0,
            stop=str(choice.finish_reason or ""))
        refusal = getattr(msg, "refusal", None)
        if refusal or choice.finish_reason == "content_filter" or not reply.calls:
            said = refusal or msg.content or choice.finish_reason or "no tool call"
            raise Refusal(redact(f"the model did not call a tool: {str(said)[:200]}")[0])
        return reply


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, settings: LLMSettings, api_key: str, http_client: Any = None) -> None:
        import anthropic  # the client is only loaded when a model drafts

        self._anthropic = anthropic
        self.model = settings.model
        self.settings = settings
        self.client = anthropic.Anthropic(api_key=api_key, base_url=settings.base_url or None,
                                          timeout=settings.timeout_seconds, max_retries=0,
                                          http_client=http_client)

    def complete(self, call: ModelCall) -> ModelReply:
        an = self._anthropic
        create: Any = self.client.messages.create  # plain dicts, not the typed params
        try:
            # no temperature: the messages API no longer takes one
            resp = _with_retries(lambda: create(
                model=self.model,
                max_tokens=call.max_tokens,
                system=call.system,
                messages=[{"role": "user", "content": call.user}],
                tools=[{"name": t.name, "description": t.description,
                        "input_schema": t.parameters} for t in call.tools],
                tool_choice={"type": "any"},
            ), an.RateLimitError, self.settings)
        except an.APITimeoutError:
            raise ProviderError(f"timed out after {self.settings.timeout_seconds:g}s") from None
        except an.AnthropicError as exc:
            raise ProviderError(_one_line(exc)) from None
        reply = ModelReply(
            calls=[(b.name, b.input) for b in resp.content if getattr(b, "type", "") ==
                   "tool_use"],
            input_tokens=resp.usage.input_tokens or 0,
            output_tokens=resp.usage.output_tokens or 0,
            stop=str(resp.stop_reason or ""))
        if resp.stop_reason == "refusal" or not reply.calls:
            said = " ".join(getattr(b, "text", "") for b in resp.content).strip()
            raise Refusal(redact(f"the model did not call a tool: {(said or reply.stop)[:200]}")[0])
        return reply


def make_provider(provider: str, settings: LLMSettings, env: Mapping[str, str],
                  http_client: Any = None) -> Provider:
    """The configured provider with its key from the environment; ProviderError when the key
    is missing (an OpenAI-compatible server may need none)."""
    var = settings.key_env(provider)
    key = env.get(var, "") if var else ""
    # masked by value wherever it shows up: a provider error or a model answer may echo it
    register_env([var])
    register(key)
    if provider == "anthropic":
        if not key:
            raise ProviderError(f"{var} is not set")
        return AnthropicProvider(settings, key, http_client)
    if provider == "openai":
        if not key:
            raise ProviderError(f"{var} is not set")
        return OpenAIProvider(settings, key, http_client=http_client)
    if provider == "openai-compatible":
        return OpenAIProvider(settings, key or "unused", compatible=True, http_client=http_client)
    raise ProviderError(f"unknown provider {provider!r}")
