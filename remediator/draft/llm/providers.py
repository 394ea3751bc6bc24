"""Model providers behind one small interface: OpenAI chat completions with tool calling,
Anthropic messages with tool use, and any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio)
through its base URL.

The official clients do the HTTP, through our client (http.py): one deadline for the whole call
(`timeoutSeconds`, connect to last byte, retries included) and replies bounded in size. Their own
retries are off so that what happens on a 429 is ours: wait what Retry-After says (bounded), at
most ``max_retries`` times. A reply is read into checked shapes (tool name, arguments of bounded
size and depth) whatever the client made of it. Every failure becomes a ProviderError whose
message is one line: the caller falls back to the rules drafter with it.
"""

from __future__ import annotations

import contextlib
import email.utils
import importlib.util
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ...kernel.redact import redact, register, register_env
from .tools import MAX_ARGUMENT_CHARS, MAX_DEPTH, too_deep

if TYPE_CHECKING:
    from ...model.settings import LLMSettings
    from .tools import ToolSpec

_log = logging.getLogger(__name__)

MAX_RETRY_WAIT = 30.0  # seconds: a longer Retry-After is a budget problem, not a blip
#: the client library each model provider is driven with: the `llm` extra installs them
CLIENT_MODULES = {"openai": "openai", "openai-compatible": "openai", "anthropic": "anthropic"}
LLM_EXTRA = "pip install 'remediator[llm]'"


def missing_client(provider: str) -> str:
    """Why ``provider`` cannot draft in this installation (its client library is not installed),
    or "" when it can. A CI-only install (`pip install remediator`, for `validate`) has none."""
    module = CLIENT_MODULES.get(provider)
    if module is None or importlib.util.find_spec(module) is not None:
        return ""
    return (f"drafting.provider {provider} needs the {module} client, which is not installed: "
            f"{LLM_EXTRA}")


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
    """``send()`` within the call's deadline (every attempt and wait included)."""
    from .http import deadline, remaining

    with deadline(settings.timeout_seconds):
        for attempt in range(settings.max_retries + 1):
            try:
                return send()
            except rate_limited as exc:
                if attempt == settings.max_retries:
                    raise ProviderError(f"rate limited (HTTP 429) after {attempt + 1} "
                                        "attempts") from None
                response = getattr(exc, "response", None)
                wait = retry_after(getattr(response, "headers", None), attempt)
                if wait >= (remaining() or 0):
                    raise ProviderError(f"rate limited (HTTP 429); waiting {wait:g}s would pass "
                                        f"the {settings.timeout_seconds:g}s deadline") from None
                time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _one_line(exc: BaseException) -> str:
    """The error in one line, redacted: a provider's message may quote part of the key. A
    connection error names its cause (a refused reply, a reset connection)."""
    cause = exc.__cause__ or exc.__context__
    if type(exc).__name__ == "APIConnectionError" and cause is not None:
        exc = cause
    text = str(exc).splitlines()[0] if str(exc) else ""
    status = getattr(exc, "status_code", None)
    line = (f"HTTP {status}: " if status else "") + f"{type(exc).__name__}: {text}"[:300]
    return redact(line)[0]


def _unreadable(exc: BaseException) -> ProviderError:
    """A reply the client could not turn into its types (not JSON, nested too deep, fields of
    the wrong type): one line, never the reply itself."""
    return ProviderError(f"the reply is not a readable answer ({type(exc).__name__})")


def _attr(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``, None when absent: a reply is read by shape, not trusted
    to have the types the client declares."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and \
        0 <= value < 10**9 else 0


def checked_calls(calls: Any) -> list[tuple[str, Any]]:
    """(tool name, arguments) pairs as our parser expects them: names are short strings,
    arguments a JSON string or an object of bounded size and depth; ProviderError otherwise."""
    if not isinstance(calls, list):
        raise ProviderError("the reply's tool calls are not a list")
    out: list[tuple[str, Any]] = []
    for name, args in calls:
        if not isinstance(name, str) or not name or len(name) > 200:
            raise ProviderError("a tool call of the reply has no readable name")
        if isinstance(args, str):
            if len(args) > MAX_ARGUMENT_CHARS:
                raise ProviderError(f"the arguments of {name[:60]!r} are longer than "
                                    f"{MAX_ARGUMENT_CHARS} characters")
        elif isinstance(args, dict):
            if too_deep(args, MAX_DEPTH):
                raise ProviderError(f"the arguments of {name[:60]!r} are nested deeper than "
                                    f"{MAX_DEPTH} levels")
        else:
            raise ProviderError(f"the arguments of {name[:60]!r} are neither JSON text nor an "
                                "object")
        out.append((name, args))
    return out


def _client(http_client: Any) -> Any:
    if http_client is not None:
        return http_client
    from .http import BoundedClient

    return BoundedClient()


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
                                    http_client=_client(http_client))

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
        except ProviderError:
            raise
        except Exception as exc:  # the client failed to read the reply (not JSON, too deep...)
            _log.debug("the model's reply is unreadable", exc_info=True)
            raise _unreadable(exc) from None
        try:
            return self._reply(resp)
        except ProviderError:
            raise
        except Exception as exc:  # a reply of shapes the client did not check
            _log.debug("the model's reply is unreadable", exc_info=True)
            raise _unreadable(exc) from None

    @staticmethod
    def _reply(resp: Any) -> ModelReply:
        choices = _attr(resp, "choices")
        if not isinstance(choices, list) or not choices:
            raise ProviderError("the reply has no choices")
        choice = choices[0]
        msg = _attr(choice, "message")
        if msg is None:
            raise ProviderError("the reply has no message")
        finish = _attr(choice, "finish_reason")
        tool_calls = _attr(msg, "tool_calls")
        calls = [(_attr(f, "name"), _attr(f, "arguments"))
                 for f in (_attr(tc, "function") for tc in (
                     tool_calls if isinstance(tool_calls, list) else []))
                 if f is not None]
        usage = _attr(resp, "usage")
        reply = ModelReply(
            calls=checked_calls(calls),
            input_tokens=_count(_attr(usage, "prompt_tokens")),
            output_tokens=_count(_attr(usage, "completion_tokens")),
            stop=str(finish or "")[:40])
        refusal = _attr(msg, "refusal")
        if refusal or finish == "content_filter" or not reply.calls:
            said = refusal or _attr(msg, "content") or finish or "no tool call"
            raise Refusal(f"the model did not call a tool: {redact(str(said))[0][:200]}")
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
                                          http_client=_client(http_client))

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
        except ProviderError:
            raise
        except Exception as exc:  # the client failed to read the reply (not JSON, too deep...)
            _log.debug("the model's reply is unreadable", exc_info=True)
            raise _unreadable(exc) from None
        try:
            return self._reply(resp)
        except ProviderError:
            raise
        except Exception as exc:  # a reply of shapes the client did not check
            _log.debug("the model's reply is unreadable", exc_info=True)
            raise _unreadable(exc) from None

    @staticmethod
    def _reply(resp: Any) -> ModelReply:
        content = _attr(resp, "content")
        if not isinstance(content, list):
            raise ProviderError("the reply has no content")
        stop = _attr(resp, "stop_reason")
        usage = _attr(resp, "usage")
        reply = ModelReply(
            calls=checked_calls([(_attr(b, "name"), _attr(b, "input")) for b in content
                                 if _attr(b, "type") == "tool_use"]),
            input_tokens=_count(_attr(usage, "input_tokens")),
            output_tokens=_count(_attr(usage, "output_tokens")),
            stop=str(stop or "")[:40])
        if stop == "refusal" or not reply.calls:
            said = " ".join(t for t in (_attr(b, "text") for b in content)
                            if isinstance(t, str)).strip()
            raise Refusal(f"the model did not call a tool: "
                          f"{redact(said or reply.stop or 'no tool call')[0][:200]}")
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
