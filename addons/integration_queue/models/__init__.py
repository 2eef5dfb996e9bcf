from . import (
    integration_cached_config,
    integration_gateway,
    integration_gateway_rejection,
    integration_job,
    integration_message,
    integration_message_type,
    integration_partner,
    integration_partner_secret,
    integration_ping,
    integration_queue_counter,
    integration_queue_stat,
)
