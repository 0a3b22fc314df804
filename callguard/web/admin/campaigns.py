"""``/v1/campaigns``: the policy's campaigns."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...policy.model import Campaign
from ..state import current_state
from .api import ApiError, api, endpoint


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "purpose": campaign.purpose.value,
        "organization": campaign.organization,
        "disclosure": campaign.disclosure_text,
        "disclosure_url": campaign.disclosure_audio_url,
        "language": campaign.language,
        "opt_out_digit": campaign.opt_out_digit,
        "opt_out_scope": campaign.opt_out_scope.value,
        "registries": list(campaign.registries) if campaign.registries is not None else None,
        "answer_urls": list(campaign.answer_urls),
    }


@api.get("/campaigns")
@endpoint()
def list_campaigns() -> Response:
    campaigns = current_state().guard.policy.campaigns
    return jsonify({"campaigns": [campaign_json(c) for _, c in sorted(campaigns.items())]})


@api.get("/campaigns/<campaign_id>")
@endpoint()
def get_campaign(campaign_id: str) -> Response:
    campaign = current_state().guard.policy.campaign(campaign_id)
    if campaign is None:
        raise ApiError(404, "not_found", f"campaign {campaign_id!r} is not in the policy")
    return jsonify(campaign_json(campaign))
