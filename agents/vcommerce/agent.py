"""The V-Commerce ADK app: an orchestrator routing every turn to shopper, stylist or tryon.

Sub-agents may not transfer on their own, so each new turn starts at the orchestrator (see
DESIGN.md traps); the guardrails plugin on the App covers every agent, model call and tool call.
"""

from __future__ import annotations

from google.adk.agents import LlmAgent
from google.adk.apps import App

from godseye.models import model_for
from guardrails.plugin import build_plugins
from tools.mcp_toolsets import toolset

from .prompts import load

SHOPPER_TOOLS = ["search_products", "get_product", "similar_products", "list_categories", "view_cart", "add_to_cart",
                 "remove_from_cart", "update_quantity", "quote_checkout", "confirm_checkout", "list_orders"]
STYLIST_TOOLS = ["build_outfit", "search_products", "similar_products", "get_product"]
TRYON_TOOLS = ["try_on"]

shopper = LlmAgent(
    name="shopper",
    model=model_for("shopper"),
    description=(
        "Shopping assistant: searches the catalog for products by type, colour, size and price "
        "(e.g. 'red dresses under $80 in size M', 'show me linen shirts'), compares products, answers "
        "questions about a product's material, sizes, colours, stock and price, and manages the cart: "
        "add to cart, remove, change quantity, view the cart, check out and place the order."
    ),
    instruction=load("shopper"),
    tools=[toolset("catalog"), toolset("cart")],
    disallow_transfer_to_parent=True,
    disallow_transfer_to_peers=True,
)

stylist = LlmAgent(
    name="stylist",
    model=model_for("stylist"),
    description=(
        "Personal stylist: puts together a complete outfit or look for an occasion, event, trip or "
        "season (e.g. 'what should I wear to a summer wedding in Italy', 'an outfit for a job "
        "interview', 'dress me for a beach holiday'), suggests what goes with an item, and gives "
        "size and fit advice."
    ),
    instruction=load("stylist"),
    tools=[toolset("catalog")],
    disallow_transfer_to_parent=True,
    disallow_transfer_to_peers=True,
)

tryon = LlmAgent(
    name="tryon",
    model=model_for("tryon"),
    description=(
        "Virtual try-on: shows how a product looks on the shopper's own uploaded photo (e.g. 'show "
        "me how the linen shirt looks on me', 'can I try this on')."
    ),
    instruction=load("tryon"),
    tools=[toolset("image")],
    disallow_transfer_to_parent=True,
    disallow_transfer_to_peers=True,
)

root_agent = LlmAgent(
    name="orchestrator",
    model=model_for("orchestrator"),
    description="Front desk of the Godseye shop: routes each request to the right specialist.",
    instruction=load("orchestrator"),
    sub_agents=[shopper, stylist, tryon],
)

app = App(name="vcommerce", root_agent=root_agent, plugins=build_plugins(app="vcommerce"))
