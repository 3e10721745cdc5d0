"""A local HTTP server that speaks the Gemini `generateContent` REST API, for tests.

Why a real HTTP server and not a mocked client: the Gemini path's value is in the wire format —
function declarations going out, `functionCall` parts coming back, `functionResponse` parts sent
on the next request, usage metadata parsed into `usage_metadata` — and only an HTTP peer exercises
google-genai's (and ADK's) real serialisation, streaming and error handling without the network.

Endpoints (any API version segment, usually `v1beta`):
  POST /{version}/models/{model}:generateContent        -> one GenerateContentResponse (JSON)
  POST /{version}/models/{model}:streamGenerateContent  -> server-sent events (`?alt=sse`): one
       `data: {GenerateContentResponse}` per chunk; text is split over several chunks, the last one
       carries `finishReason` and `usageMetadata`, as the real service does.
  Errors use Google's shape `{"error": {"code", "message", "status"}}`: 400 for malformed JSON or a
  request without `contents`, 404 for unknown paths, 400 for a wrong API key (when `api_key` is set),
  and anything a script asks for (`http_error(429)`).

Every request is recorded (`stub.requests`: model, method, parsed body, headers) so tests can assert
the declarations and tool results the client sent. Answers come from a script of responders
(callables taking the `StubRequest`, returning a GenerateContentResponse dict); `text(...)`,
`function_call(...)`, `function_calls(...)` and `http_error(...)` build them. When the script is
used up, `default_responder` answers: it quotes the latest `functionResponse` if the request ends
with one, else calls the first declared function whose name contains the stub's `hint`, else
echoes the user text. `usageMetadata` (a deterministic word count) and `modelVersion` are filled
in when a responder leaves them out.

Pointing clients at it (verified in the installed google-genai 2.34 and google-adk 2.13 sources):
  * google-genai: `genai.Client(api_key="test-key",
    http_options=types.HttpOptions(base_url=stub.base_url))` (`stub.genai_client()` does this).
  * Environment: google-genai's `Client.__init__` asks `google.genai._base_url.get_base_url`, which
    falls back to `GOOGLE_GEMINI_BASE_URL` (`GOOGLE_VERTEX_BASE_URL` for Vertex) when http_options
    has no base_url (a process-wide `_base_url.set_default_base_urls(...)` wins over the env, but it
    is not exported from `google.genai`). ADK's `Gemini` builds its client with `base_url=None` unless
    told otherwise, so setting `GOOGLE_GEMINI_BASE_URL` (plus any `GOOGLE_API_KEY`) reroutes every
    agent whose model is a plain string like "gemini-2.5-flash", with no code change.
  * ADK explicitly: `google.adk.models.Gemini(model="gemini-2.5-flash", base_url=stub.base_url)`
    (a field of the model class; `_normalize_base_url_and_api_version` leaves non-Google URLs as they
    are), and the key via `client_kwargs={"api_key": "test-key"}` or `GOOGLE_API_KEY`. A whole
    client can also be passed: `Gemini(model=..., client=genai.Client(...))`, but one client is then
    pinned across event loops (ADK's docstring warns against that); prefer `base_url`.
    `stub.adk_model()` returns the `base_url` form.

Seen on the wire (and handled here): google-genai and ADK send function parameters as JSON Schema
under the snake_case key `parameters_json_schema` (the real API accepts proto field names too), so
read declarations through `StubRequest.parameters_of(name)`; a google-genai `Client` that is garbage
collected closes its connection pool, so keep a reference to it while a stream is being read; ADK's
`Gemini` builds (and caches per event loop) its client on first use, so set `GOOGLE_GEMINI_BASE_URL`
before the first model call.

Use in a test module:

    @pytest.fixture
    def gemini_stub():
        with GeminiStub() as stub:
            yield stub

(`tests/` has no `__init__.py`; pytest puts `tests/` on sys.path, so import it as
`from support.gemini_stub import GeminiStub, function_call, text`.)
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_MODEL_VERSION = "gemini-stub-001"
_PATH = re.compile(r"^/(?P<version>v[0-9][a-z0-9.]*)/models/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$")
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}


# --- what was asked -----------------------------------------------------------------------------


@dataclass
class StubRequest:
    """One request as the stub received it (camelCase JSON, exactly as sent)."""

    model: str
    method: str  # "generateContent" or "streamGenerateContent"
    api_version: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float = field(default_factory=time.time)

    @property
    def stream(self) -> bool:
        return self.method == "streamGenerateContent"

    @property
    def contents(self) -> list[dict[str, Any]]:
        return list(self.body.get("contents") or [])

    def parts(self) -> Iterable[dict[str, Any]]:
        for content in self.contents:
            yield from content.get("parts") or []

    def function_declarations(self) -> list[dict[str, Any]]:
        decls: list[dict[str, Any]] = []
        for tool in self.body.get("tools") or []:
            decls.extend(field_of(tool, "functionDeclarations") or [])
        return decls

    def parameters_of(self, name: str) -> dict[str, Any]:
        """The parameter schema of declared function `name`, whether sent as `parameters` (OpenAPI
        subset, upper-case types) or `parametersJsonSchema` (JSON Schema, as ADK and genai send it)."""
        for declaration in self.function_declarations():
            if declaration.get("name") == name:
                return _parameters(declaration)
        raise KeyError(f"function {name!r} is not declared; declared: {self.declared_names()}")

    def declared_names(self) -> list[str]:
        return [d.get("name", "") for d in self.function_declarations()]

    def function_calls(self) -> list[dict[str, Any]]:
        """functionCall parts in the history the client sent back (the model's earlier turns)."""
        return [call for p in self.parts() if (call := field_of(p, "functionCall"))]

    def function_responses(self) -> list[dict[str, Any]]:
        return [result for p in self.parts() if (result := field_of(p, "functionResponse"))]

    def ends_with_function_response(self) -> bool:
        last = self.contents[-1] if self.contents else {}
        return any(field_of(p, "functionResponse") for p in last.get("parts") or [])

    def last_user_text(self) -> str:
        for content in reversed(self.contents):
            if content.get("role", "user") != "user":
                continue
            texts = [p["text"] for p in content.get("parts") or [] if isinstance(p.get("text"), str)]
            if texts:
                return "\n".join(texts)
        return ""

    def system_instruction(self) -> str:
        parts = (field_of(self.body, "systemInstruction") or {}).get("parts") or []
        return "\n".join(p.get("text", "") for p in parts)


Response = dict[str, Any]
Responder = Callable[[StubRequest], Response]


class StubHTTPError(Exception):
    """Returned (or raised) by a responder to answer with an HTTP error instead of content."""

    def __init__(self, status: int, message: str, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or _STATUS_NAMES.get(status, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "message": self.message, "status": self.reason}}


# --- building answers -----------------------------------------------------------------------------


def usage(prompt_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"promptTokenCount": prompt_tokens, "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens}


def candidate_response(parts: list[dict[str, Any]], *, finish_reason: str = "STOP",
                       usage_metadata: dict[str, int] | None = None) -> Response:
    response: Response = {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish_reason, "index": 0}]
    }
    if usage_metadata is not None:
        response["usageMetadata"] = usage_metadata
    return response


def text(reply: str, *, prompt_tokens: int | None = None, output_tokens: int | None = None) -> Responder:
    """Answer with text. Token counts default to the stub's word count."""

    def respond(request: StubRequest) -> Response:
        meta = None
        if prompt_tokens is not None or output_tokens is not None:
            meta = usage(prompt_tokens if prompt_tokens is not None else count_tokens(request.body),
                         output_tokens if output_tokens is not None else count_tokens(reply))
        return candidate_response([{"text": reply}], usage_metadata=meta)

    return respond


def function_calls(*calls: tuple[str, dict[str, Any] | None]) -> Responder:
    """Answer with one or more (parallel) function calls."""

    def respond(request: StubRequest) -> Response:
        return candidate_response([{"functionCall": {"name": name, "args": args or {}}} for name, args in calls])

    return respond


def function_call(name: str, args: dict[str, Any] | None = None) -> Responder:
    """Answer with a call of function `name` (it must be declared in the request, like the real API)."""

    def respond(request: StubRequest) -> Response:
        declared = request.declared_names()
        if name not in declared:
            raise StubHTTPError(400, f"function {name!r} was scripted but the request declares {declared}")
        return function_calls((name, args))(request)

    return respond


def http_error(status: int, message: str = "", reason: str | None = None) -> Responder:
    """Answer with an HTTP error, e.g. `http_error(429)` for quota exhaustion."""

    def respond(request: StubRequest) -> Response:
        raise StubHTTPError(status, message or HTTPStatus(status).phrase, reason)

    return respond


def count_tokens(value: object) -> int:
    """A deterministic stand-in for a tokenizer: words and punctuation runs in the JSON text."""
    blob = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return max(1, len(re.findall(r"\w+|[^\w\s]+", blob)) // 2)


def field_of(message: dict[str, Any], camel: str) -> Any:
    """A field by its JSON (camelCase) or proto (snake_case) name; the real API accepts both, and
    google-genai sends some in snake_case (`parameters_json_schema`)."""
    if camel in message:
        return message[camel]
    return message.get(re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower())


def _parameters(declaration: dict[str, Any]) -> dict[str, Any]:
    return field_of(declaration, "parameters") or field_of(declaration, "parametersJsonSchema") or {}


def _string_params(declaration: dict[str, Any]) -> list[str]:
    schema = _parameters(declaration)
    props = schema.get("properties") or {}
    return [name for name in schema.get("required") or []
            if str((props.get(name) or {}).get("type", "")).lower() == "string"]


def default_responder(hint: str | None = None) -> Responder:
    """Quote the latest tool result; else call a declared function matching `hint`; else echo."""

    def respond(request: StubRequest) -> Response:
        if request.ends_with_function_response():
            result = request.function_responses()[-1]
            quoted = json.dumps(result.get("response"), ensure_ascii=False, sort_keys=True)
            return candidate_response([{"text": f"Result of {result.get('name')}: {quoted}"}])
        for declaration in request.function_declarations():
            if hint and hint.lower() in declaration.get("name", "").lower():
                args = dict.fromkeys(_string_params(declaration), request.last_user_text())
                return function_calls((declaration["name"], args))(request)
        return candidate_response([{"text": f"(stub) You said: {request.last_user_text()}"}])

    return respond


# --- the server -----------------------------------------------------------------------------------


class GeminiStub:
    """Start with `with GeminiStub() as stub:` (or `.start()` / `.stop()`); one thread, random port."""

    def __init__(self, *responders: Responder, hint: str | None = None, api_key: str | None = None,
                 model_version: str = DEFAULT_MODEL_VERSION, stream_chunk_words: int = 3):
        self._script: list[Responder] = list(responders)
        self.default = default_responder(hint)
        self.api_key = api_key
        self.model_version = model_version
        self.stream_chunk_words = stream_chunk_words
        self.requests: list[StubRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> GeminiStub:
        handler = type("GeminiStubHandler", (_Handler,), {"stub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="gemini-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GeminiStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Gemini stub is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- clients pointed at the stub

    def genai_client(self, api_key: str = "test-key") -> Any:
        """A google-genai Client that talks to this stub."""
        from google import genai
        from google.genai import types

        return genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=self.base_url))

    def adk_model(self, model: str = "gemini-2.5-flash", api_key: str = "test-key") -> Any:
        """An ADK `Gemini` model that talks to this stub (no environment needed)."""
        from google.adk.models.google_llm import Gemini

        return Gemini(model=model, base_url=self.base_url, client_kwargs={"api_key": api_key})

    # -- scripting

    def script(self, *responders: Responder) -> GeminiStub:
        """Queue answers; each request takes the next one (the default answers when none are left)."""
        with self._lock:
            self._script.extend(responders)
        return self

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    def _next_responder(self) -> Responder:
        with self._lock:
            return self._script.pop(0) if self._script else self.default

    def answer(self, request: StubRequest) -> Response:
        """Record the request and produce the full response (usage metadata and model version set)."""
        with self._lock:
            self.requests.append(request)
        result = self._next_responder()(request)
        if isinstance(result, StubHTTPError):
            raise result
        response = dict(result)
        if "usageMetadata" not in response:
            output = [c.get("content") for c in response.get("candidates") or []]
            response["usageMetadata"] = usage(count_tokens(request.body), count_tokens(output))
        response.setdefault("modelVersion", self.model_version)
        response.setdefault("responseId", f"stub-{len(self.requests)}")
        return response

    def stream_chunks(self, response: Response) -> list[Response]:
        """Split a text answer into several SSE chunks; metadata and finishReason go on the last."""
        candidates = response.get("candidates") or []
        parts = (candidates[0].get("content") or {}).get("parts") or [] if candidates else []
        if len(candidates) != 1 or len(parts) != 1 or "text" not in parts[0]:
            return [response]
        words = re.findall(r"\S+\s*", parts[0]["text"]) or [""]
        pieces = ["".join(words[i:i + self.stream_chunk_words])
                  for i in range(0, len(words), self.stream_chunk_words)]
        chunks: list[Response] = []
        for n, piece in enumerate(pieces):
            last = n == len(pieces) - 1
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}
            chunk: Response = {"candidates": [candidate], "modelVersion": response["modelVersion"],
                               "responseId": response["responseId"]}
            if last:
                candidate["finishReason"] = candidates[0].get("finishReason", "STOP")
                chunk["usageMetadata"] = response["usageMetadata"]
            chunks.append(chunk)
        return chunks


class _Handler(BaseHTTPRequestHandler):
    stub: GeminiStub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, err: StubHTTPError) -> None:
        self._send_json(err.status, err.body())

    def do_GET(self) -> None:
        self._error(StubHTTPError(404, f"Method not found: GET {self.path}"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        match = _PATH.match(url.path)
        if not match or match["method"] not in {"generateContent", "streamGenerateContent"}:
            self._error(StubHTTPError(404, f"Method not found: {url.path}"))
            return
        stub = self.stub
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(url.query)
        if stub.api_key is not None:
            given = headers.get("x-goog-api-key") or (query.get("key") or [""])[0]
            if given != stub.api_key:
                self._error(StubHTTPError(400, "API key not valid. Please pass a valid API key."))
                return
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            self._error(StubHTTPError(400, f"Invalid JSON payload received. {exc}"))
            return
        if not isinstance(body, dict) or not body.get("contents"):
            self._error(StubHTTPError(400, "* GenerateContentRequest.contents: contents is not specified"))
            return
        request = StubRequest(model=match["model"], method=match["method"], api_version=match["version"],
                              query=query, headers=headers, body=body)
        try:
            response = stub.answer(request)
        except StubHTTPError as err:
            self._error(err)
            return
        if not request.stream:
            self._send_json(200, response)
            return
        if (query.get("alt") or [""])[0] != "sse":  # without alt=sse the real API streams a JSON array
            self._send_json(200, stub.stream_chunks(response))  # type: ignore[arg-type]
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in stub.stream_chunks(response):
            self.wfile.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
            self.wfile.flush()
        self.close_connection = True
