"""The Gemini path end to end against a local generateContent server: google-genai and an ADK agent.

Nothing here reaches the network: the stub listens on 127.0.0.1 and the suite's network guard
would turn any other connection into an error.
"""

from __future__ import annotations

import httpx
import pytest
from google.adk.agents import LlmAgent
from google.adk.agents.run_config import RunConfig, StreamingMode
from google.adk.runners import InMemoryRunner
from google.genai import errors, types
from support.gemini_stub import GeminiStub, function_call, function_calls, http_error, text

MODEL = "gemini-2.5-flash"

WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"city": types.Schema(type=types.Type.STRING, description="City name")},
        required=["city"],
    ),
)
NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


@pytest.fixture
def gemini_stub():
    with GeminiStub() as stub:
        yield stub


# --- google-genai --------------------------------------------------------------------------------


def test_function_calling_round_trip_and_usage(gemini_stub):
    gemini_stub.script(
        function_call("get_weather", {"city": "Paris"}),
        text("It is sunny in Paris, 24 degrees.", prompt_tokens=42, output_tokens=9),
    )
    client = gemini_stub.genai_client()
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])],
                                         automatic_function_calling=NO_AFC)
    question = types.Content(role="user", parts=[types.Part(text="What's the weather in Paris?")])

    first = client.models.generate_content(model=MODEL, contents=[question], config=config)
    call = first.function_calls[0]
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    assert first.usage_metadata.total_token_count > 0 and first.model_version == "gemini-stub-001"

    result = types.Part.from_function_response(name="get_weather", response={"sky": "sunny", "celsius": 24})
    second = client.models.generate_content(
        model=MODEL,
        contents=[question, first.candidates[0].content, types.Content(role="user", parts=[result])],
        config=config,
    )
    assert second.text == "It is sunny in Paris, 24 degrees."
    assert second.candidates[0].finish_reason == types.FinishReason.STOP
    meta = second.usage_metadata
    assert (meta.prompt_token_count, meta.candidates_token_count, meta.total_token_count) == (42, 9, 51)

    sent_first, sent_second = gemini_stub.requests
    assert sent_first.model == MODEL and sent_first.method == "generateContent"
    assert sent_first.api_version == "v1beta" and sent_first.headers["x-goog-api-key"] == "test-key"
    assert sent_first.declared_names() == ["get_weather"]
    assert sent_first.parameters_of("get_weather")["required"] == ["city"]
    assert sent_second.function_calls() == [{"name": "get_weather", "args": {"city": "Paris"}}]
    assert sent_second.function_responses() == [
        {"name": "get_weather", "response": {"sky": "sunny", "celsius": 24}}
    ]


def test_streaming_text_arrives_in_chunks_with_usage_on_the_last(gemini_stub):
    gemini_stub.script(text("one two three four five six seven", prompt_tokens=5, output_tokens=7))
    client = gemini_stub.genai_client()  # keep a reference: a collected Client closes its connection pool
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="count"))
    assert len(chunks) == 3
    assert "".join(c.text for c in chunks) == "one two three four five six seven"
    assert chunks[-1].usage_metadata.total_token_count == 12
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert gemini_stub.requests[0].stream and gemini_stub.requests[0].query["alt"] == ["sse"]


def test_default_responder_drives_automatic_function_calling():
    seen: list[str] = []

    def lookup_order(order_id: str) -> dict:
        """Find an order by id."""
        seen.append(order_id)
        return {"order_id": order_id, "status": "shipped"}

    stub = GeminiStub(hint="order").start()  # nothing scripted: the default responder answers
    try:
        client = stub.genai_client()
        reply = client.models.generate_content(
            model=MODEL, contents="ORD-7", config=types.GenerateContentConfig(tools=[lookup_order])
        )
    finally:
        stub.stop()
    assert seen == ["ORD-7"]  # the required string argument was filled from the user's text
    assert "shipped" in reply.text and "lookup_order" in reply.text
    assert [r.ends_with_function_response() for r in stub.requests] == [False, True]


def test_parallel_function_calls(gemini_stub):
    gemini_stub.script(function_calls(("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Rome"})))
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])],
                                         automatic_function_calling=NO_AFC)
    client = gemini_stub.genai_client()
    reply = client.models.generate_content(model=MODEL, contents="Oslo or Rome?", config=config)
    assert [c.args["city"] for c in reply.function_calls] == ["Oslo", "Rome"]


def test_scripted_http_errors_reach_the_client(gemini_stub):
    gemini_stub.script(http_error(429, "Quota exceeded"), http_error(503))
    client = gemini_stub.genai_client()
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model=MODEL, contents="hi")
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    with pytest.raises(errors.ServerError) as info:
        client.models.generate_content(model=MODEL, contents="hi")
    assert info.value.code == 503


def test_retry_options_recover_from_a_429(gemini_stub):
    gemini_stub.script(http_error(429), text("second time lucky"))
    from google import genai

    client = genai.Client(api_key="k", http_options=types.HttpOptions(
        base_url=gemini_stub.base_url,
        retry_options=types.HttpRetryOptions(attempts=2, initial_delay=0.01, max_delay=0.02),
    ))
    assert client.models.generate_content(model=MODEL, contents="hi").text == "second time lucky"
    assert len(gemini_stub.requests) == 2


def test_protocol_errors():
    with GeminiStub(api_key="right-key") as stub:
        url = f"{stub.base_url}/v1beta/models/{MODEL}:generateContent"
        ok = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        bad_json = httpx.post(url, content=b"{not json", headers={"x-goog-api-key": "right-key"})
        assert bad_json.status_code == 400 and bad_json.json()["error"]["status"] == "INVALID_ARGUMENT"
        no_contents = httpx.post(url, json={"contents": []}, headers={"x-goog-api-key": "right-key"})
        assert no_contents.status_code == 400 and "contents" in no_contents.json()["error"]["message"]
        wrong_key = httpx.post(url, json=ok, headers={"x-goog-api-key": "nope"})
        assert wrong_key.status_code == 400 and "API key" in wrong_key.json()["error"]["message"]
        unknown = httpx.post(f"{stub.base_url}/v1beta/models/{MODEL}:embedContent", json=ok)
        assert unknown.status_code == 404
        assert httpx.post(url, json=ok, headers={"x-goog-api-key": "right-key"}).status_code == 200
        assert len(stub.requests) == 1  # rejected requests are not answered from the script


def test_scripted_call_of_an_undeclared_function_is_a_400(gemini_stub):
    gemini_stub.script(function_call("not_declared", {}))
    client = gemini_stub.genai_client()
    with pytest.raises(errors.ClientError, match="not_declared"):
        client.models.generate_content(model=MODEL, contents="hi")


# --- ADK ---------------------------------------------------------------------------------------------


async def _run_agent(agent: LlmAgent, message: str, run_config: RunConfig | None = None) -> list:
    runner = InMemoryRunner(agent=agent, app_name="stub_app")
    try:
        session = await runner.session_service.create_session(app_name="stub_app", user_id="u1")
        content = types.Content(role="user", parts=[types.Part(text=message)])
        return [event async for event in runner.run_async(user_id="u1", session_id=session.id,
                                                         new_message=content, run_config=run_config)]
    finally:
        await runner.close()


def _size_tool(calls: list[dict]):
    def recommend_size(product: str, height_cm: int) -> dict:
        """Recommend a clothing size for a product and the shopper's height."""
        calls.append({"product": product, "height_cm": height_cm})
        return {"size": "M" if height_cm < 180 else "L"}

    return recommend_size


async def test_adk_agent_calls_a_tool_through_the_stub(gemini_stub, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "dummy-test-key")
    calls: list[dict] = []
    gemini_stub.script(
        function_call("recommend_size", {"product": "linen dress", "height_cm": 172}),
        text("Take size M in the linen dress.", prompt_tokens=120, output_tokens=8),
    )
    agent = LlmAgent(name="fitter", model=gemini_stub.adk_model(), instruction="Help with sizes.",
                     tools=[_size_tool(calls)])
    events = await _run_agent(agent, "Which size for me? I'm 172 cm.")

    assert calls == [{"product": "linen dress", "height_cm": 172}]
    final = events[-1]
    assert final.is_final_response() and final.content.parts[0].text == "Take size M in the linen dress."
    assert final.usage_metadata.prompt_token_count == 120 and final.usage_metadata.total_token_count == 128
    assert events[0].get_function_calls()[0].name == "recommend_size"
    assert events[0].usage_metadata is not None and events[0].usage_metadata.total_token_count > 0

    first, second = gemini_stub.requests
    parameters = first.parameters_of("recommend_size")
    assert set(parameters["properties"]) == {"product", "height_cm"}
    assert parameters["properties"]["height_cm"]["type"].lower() == "integer"
    assert "Help with sizes." in first.system_instruction()
    response = second.function_responses()[-1]
    assert response["name"] == "recommend_size" and response["response"] == {"size": "M"}


async def test_adk_model_string_routed_by_environment_with_sse_streaming(gemini_stub, monkeypatch):
    """GOOGLE_GEMINI_BASE_URL reroutes a plain model string: how the shop's agents reach the stub."""
    monkeypatch.setenv("GOOGLE_API_KEY", "dummy-test-key")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini_stub.base_url)
    calls: list[dict] = []
    gemini_stub.script(
        function_call("recommend_size", {"product": "coat", "height_cm": 185}),
        text("Size L suits you best for that coat.", prompt_tokens=30, output_tokens=8),
    )
    agent = LlmAgent(name="fitter", model=MODEL, instruction="Help with sizes.", tools=[_size_tool(calls)])
    events = await _run_agent(agent, "Coat size? 185 cm.", RunConfig(streaming_mode=StreamingMode.SSE))

    assert calls == [{"product": "coat", "height_cm": 185}]
    assert all(r.stream for r in gemini_stub.requests) and len(gemini_stub.requests) == 2
    final = [e for e in events if e.is_final_response()][-1]
    assert final.content.parts[0].text == "Size L suits you best for that coat."
    assert final.usage_metadata.total_token_count == 38
    assert any(e.partial for e in events)  # text came in streamed pieces
