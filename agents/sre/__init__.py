from . import agent  # noqa: F401  (ADK's loader expects `<app>.agent.root_agent`)
