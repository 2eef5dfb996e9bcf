"""Partner client for the healthcare supply chain integration gateway."""

from .client import (
    DEFAULT_TIMEOUT,
    PartnerClient,
    PartnerError,
    Result,
    message_id_for,
    verify_webhook,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "PartnerClient",
    "PartnerError",
    "Result",
    "message_id_for",
    "verify_webhook",
]
