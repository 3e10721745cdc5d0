"""Which folder of `datadog/` holds which kind of asset, and the model each file must match.

Monitors, dashboards, SLOs and webhooks are Datadog API objects in exactly the shape the API accepts.
Incident settings and notification routes are Godseye's own small documents (Envelope) whose nested
values reuse Datadog's models where one exists (incident handles, severities, notification handles),
so they still break loudly on a typo.
"""

from __future__ import annotations

from dataclasses import dataclass

from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.service_level_objective_request import ServiceLevelObjectiveRequest
from datadog_api_client.v1.model.webhooks_integration import WebhooksIntegration
from datadog_api_client.v1.model.webhooks_integration_custom_variable import WebhooksIntegrationCustomVariable
from datadog_api_client.v2.model.incident_handle_attributes_request import IncidentHandleAttributesRequest
from datadog_api_client.v2.model.incident_notification_handle import IncidentNotificationHandle
from datadog_api_client.v2.model.incident_severity import IncidentSeverity

from godseye.datadog_assets.schema import Envelope

MANAGED_TAG = "managed-by:godseye"
ID_TAG_KEY = "godseye-id"

INCIDENT_SETTING = Envelope(
    name="IncidentSetting",
    description="How a detection rule's @incident-<handle> mention becomes an incident.",
    fields={
        "description": (str,),
        "handle": (IncidentHandleAttributesRequest,),
        "monitors": ([str],),
        "severity": (IncidentSeverity,),
        "title": (str,),
        "customer_impacted": (bool,),
        "customer_impact_scope": (str,),
        "fields_from_tags": ({str: (str,)},),
        "notification_handles": ([IncidentNotificationHandle],),
        "resolve_on_recovery": (bool,),
        "runbook": (str,),
    },
    required=frozenset({"handle", "monitors", "severity", "title"}),
)

NOTIFICATION_ROUTE = Envelope(
    name="NotificationRoute",
    description="Handles every monitor carrying all of match_tags must mention.",
    fields={
        "name": (str,),
        "description": (str,),
        "match_tags": ([str],),
        "handles": ([str],),
    },
    required=frozenset({"name", "match_tags", "handles"}),
)

NOTIFICATION_ROUTES = Envelope(
    name="NotificationRoutes",
    fields={"description": (str,), "routes": ([NOTIFICATION_ROUTE],)},
    required=frozenset({"routes"}),
)


@dataclass(frozen=True)
class Kind:
    name: str
    folder: str  # relative to the assets root
    spec: object
    api_managed: bool  # pushed by `godseye datadog apply`


KINDS: tuple[Kind, ...] = (
    Kind("monitor", "monitors", Monitor, True),
    Kind("dashboard", "dashboards", Dashboard, True),
    Kind("slo", "slos", ServiceLevelObjectiveRequest, True),
    Kind("webhook", "webhooks", WebhooksIntegration, True),
    Kind("webhook_variable", "webhooks/variables", WebhooksIntegrationCustomVariable, True),
    Kind("incident_setting", "incidents", INCIDENT_SETTING, True),
    Kind("notification_routes", "notifications", NOTIFICATION_ROUTES, False),
)
KIND_BY_NAME = {k.name: k for k in KINDS}
