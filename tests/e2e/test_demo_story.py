"""The demo database tells the story of a running hospital group (issue 14).

Read-only checks on the installed demo database: its records were made by the
message handlers and the users' actions (demo loaders ``_demo_load_*_story``), and
cover every state a user should be able to look at.
"""

import pytest

from tests.harness import odoo_env


@pytest.fixture(scope="module")
def cr(template_db):
    conn = odoo_env.pg_connect(template_db)
    conn.set_session(readonly=True)
    with conn.cursor() as cursor:
        yield cursor
    conn.close()


def values(cr, query, params=()):
    cr.execute(query, params)
    return {row[0] for row in cr.fetchall()}


def test_messages_in_every_final_state_made_by_the_gateway_and_runner(cr):
    states = values(cr, "SELECT state FROM integration_message WHERE direction = 'inbound'")
    assert {"done", "exception", "dead"} <= states, states
    # replayed: one job failed (exception), the replay's job processed it
    cr.execute(
        """
        SELECT m.external_id FROM integration_message m
         WHERE m.state = 'done'
           AND EXISTS (SELECT 1 FROM integration_job j
                        WHERE j.message_id = m.id AND j.state = 'exception')
        """
    )
    assert cr.fetchall(), "no replayed message"
    # each demo message went through the runner: none is left pending
    assert not values(
        cr,
        "SELECT external_id FROM integration_message WHERE external_id LIKE 'demo-%%'"
        " AND state IN ('queued', 'processing', 'failed')",
    )


def test_lots_at_every_facility_some_near_expiry(cr):
    cr.execute(
        """
        SELECT w.facility_code,
               bool_or(l.expiration_date < now() + interval '30 days') AS near
          FROM stock_warehouse w
          JOIN stock_location sl ON sl.parent_path LIKE
               (SELECT parent_path FROM stock_location WHERE id = w.view_location_id) || '%%'
          JOIN stock_quant q ON q.location_id = sl.id AND q.quantity > 0
          JOIN stock_lot l ON l.id = q.lot_id
         WHERE w.facility_code IS NOT NULL AND sl.usage = 'internal'
         GROUP BY w.facility_code
        """
    )
    facilities = dict(cr.fetchall())
    every = values(cr, "SELECT facility_code FROM stock_warehouse WHERE facility_code IS NOT NULL")
    assert set(facilities) == every, f"no lots at {every - set(facilities)}"
    assert all(facilities.values()), f"no lot near expiry at {facilities}"


def test_stock_moved_by_consumption_receipt_and_transfer(cr):
    assert values(
        cr,
        "SELECT message_type FROM integration_message WHERE state = 'done'"
        " AND external_id LIKE 'demo-%%'",
    ) >= {
        "inventory.snapshot",
        "inventory.consumption",
        "inventory.receipt",
        "inventory.transfer_request",
        "contract.upsert",
        "purchase.request",
        "purchase.acknowledgement",
        "vendor.bill",
    }


def test_contracts_of_several_suppliers_in_every_state(cr):
    cr.execute("SELECT state, count(DISTINCT partner_id) FROM purchase_contract GROUP BY state")
    by_state = dict(cr.fetchall())
    expected = {"draft", "review", "approved", "active", "suspended", "expired", "terminated"}
    assert expected <= set(by_state), by_state
    # the platform's contract.upsert messages made contracts of three suppliers
    cr.execute(
        """
        SELECT count(DISTINCT payload::json->>'supplier') FROM integration_message
         WHERE message_type = 'contract.upsert' AND state = 'done'
           AND external_id LIKE 'demo-%%'
        """
    )
    assert cr.fetchone()[0] >= 3


def test_orders_in_every_acknowledgement_state(cr):
    states = values(cr, "SELECT ack_state FROM purchase_order WHERE state = 'purchase'")
    assert {"not_sent", "sent", "acknowledged", "discrepancy", "rejected"} <= states, states
    assert values(
        cr,
        "SELECT name FROM purchase_order WHERE ack_state = 'discrepancy'"
        " AND ack_discrepancies LIKE '%%price%%'",
    ), "no acknowledgement with a price discrepancy"


def test_bills_with_match_exceptions_and_an_override(cr):
    assert values(
        cr,
        "SELECT id FROM account_move WHERE move_type = 'in_invoice' AND state = 'draft'"
        " AND id IN (SELECT move_id FROM purchase_match_exception WHERE state = 'open')",
    ), "no bill with an open match exception"
    cr.execute(
        """
        SELECT u.login FROM account_move m JOIN res_users u ON u.id = m.match_override_by_id
         WHERE m.move_type = 'in_invoice' AND m.state = 'posted'
        """
    )
    assert [row[0] for row in cr.fetchall()] == ["demo_finance"]


def test_proposals_and_alerts(cr):
    assert values(cr, "SELECT state FROM healthcare_replenishment_proposal")
    assert values(cr, "SELECT id FROM healthcare_stock_alert")


def test_no_partner_subscribes_without_an_endpoint(cr):
    assert not values(
        cr,
        """
        SELECT p.code FROM integration_partner p
          JOIN integration_partner_subscription_rel s ON s.integration_partner_id = p.id
         WHERE p.active AND COALESCE(p.outbound_url, '') = ''
        """,
    )


def test_demo_notes_are_not_in_terms_and_conditions(cr):
    assert not values(
        cr,
        "SELECT name FROM purchase_order WHERE notes::text ILIKE '%%contract price%%'"
        " OR notes::text ILIKE '%%confirmation stops%%' OR notes::text ILIKE '%%needs a reason%%'",
    )
