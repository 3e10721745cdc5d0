"""The V-Commerce ADK app: an orchestrator routing every turn to shopper, stylist or tryon.

Sub-agents may not transfer on their own, so each new turn starts at the orchestrator (see
DESIGN.md traps); the guardrails plugin on the App covers every agent, model call and tool call.
"""

from __future__ import annotations

from google.adk.agents import LlmAgent
from google.adk.apps import App

from godseye.models import model_for
from godseye.plugins import build_plugins
from tools.mcp_toolsets import toolset

from .prompts import load


def specialist(name: str, description: str, servers: list[str]) -> LlmAgent:
    """A sub-agent that may not transfer on its own, so every new turn starts at the orchestrator."""
    return LlmAgent(
        name=name,
        model=model_for(name),
        description=description,
        instruction=load(name),
        tools=[toolset(server) for server in servers],
        disallow_transfer_to_parent=True,
        disallow_transfer_to_peers=True,
    )


shopper = specialist(
    "shopper",
    (
        "Shopping assistant for finding and buying products: searches the catalog by product type, "
        "colour, size, material and price (e.g. 'red dresses under $80 in size M', 'show me sneakers', "
        "'do you sell watches?', 'black leather boots', 'a winter coat', 'white t-shirts in L', "
        "'jackets between $50 and $150'), answers questions about a product (material, sizes, "
        "colours, stock, price; e.g. 'tell me about this product', 'is it in stock?'), and manages the "
        "cart and checkout (e.g. 'add it to my cart', 'what's in my cart?', 'I'd like to check out', "
        "'yes, confirm my order', 'my past orders')."
    ),
    ["catalog", "cart"],
)

stylist = specialist(
    "stylist",
    (
        "Personal stylist for advice rather than search: puts together a complete outfit or look for "
        "an occasion, event or trip (e.g. 'what should I wear to a summer wedding?', 'an outfit for a "
        "job interview', 'dress me for a beach holiday', 'help me pick something for a date'), says "
        "what goes with a piece (e.g. 'what would match this?', 'complete the look'), and gives size "
        "and fit advice (e.g. 'should I size up?', 'does it run small?'). Also says what is popular "
        "or trending in the shop lately, from its own sales and searches (e.g. 'what's trending?', "
        "'what are people buying for summer?', 'best sellers this week')."
    ),
    ["catalog", "cart"],  # the cart server carries the shop's trends
)

tryon = specialist(
    "tryon",
    (
        "Virtual fitting room: shows how a product looks on the shopper's own uploaded photo (e.g. "
        "'show me how it looks on me', 'can I try this on?', 'how would that look on me?', 'put it "
        "on my picture', 'virtual try-on')."
    ),
    ["image", "catalog"],
)

root_agent = LlmAgent(
    name="orchestrator",
    model=model_for("orchestrator"),
    description="Front desk of the Godseye shop: routes each request to the right specialist.",
    instruction=load("orchestrator"),
    sub_agents=[shopper, stylist, tryon],
)

app = App(name="vcommerce", root_agent=root_agent, plugins=build_plugins(app="vcommerce"))
