"""The permission matrix of the README ("Permissions"), walked from the outside.

One server for the module. As admin, over JSON-RPC, the setup makes a second company with
its own facilities, supplier, order and contract, one user per role, and two partners (one
per company) with signed secrets. Then every row of the matrix is tried as a real client
would: the role's own cookie session on ``/web/dataset/call_kw``, or the partner's signed
HTTP on ``/integration/v1/inbound/<type>``. An allowed row must succeed; a refused row must
be refused (a JSON-RPC access/user/validation error, or 401/403/422 at the gateway, or a
message that ends in exception) and leave the database as it was, read back as admin.

Company B's facility "HOSP-N" deliberately shares its code with company A's: a handler
that looks facilities up by code across companies puts the order in the wrong company.
"""

import json
import time
import uuid
from datetime import date, timedelta
from typing import NamedTuple

import pytest
import requests

from tests.harness import odoo_env
from tests.harness.server import OdooServer

from .queue_client import Partner, sign
from .rpc_client import RpcClient, RpcError
from .test_queue_crash import SECRET_KEY_CONFIG

ALLOWED, REFUSED = "allowed", "refused"
# the call may answer OK (e.g. a field computed from code ignores the write) but changes nothing
INEFFECTIVE = "ineffective"
PARTNER_TYPES = (
    "integration.ping",
    "inventory.snapshot",
    "inventory.receipt",
    "inventory.transfer_request",
    "purchase.request",
    "purchase.acknowledgement",
    "vendor.bill",
    "supplier.status",
    "contract.upsert",
)
# role -> groups (XML ids); every user belongs to company A only
ROLES = {
    "internal": ["base.group_user"],
    "portal": ["base.group_portal"],
    "integration_user": ["base.group_user", "integration_queue.group_integration_user"],
    "integration_manager": ["base.group_user", "integration_queue.group_integration_manager"],
    "purchase_user": ["base.group_user", "purchase.group_purchase_user"],
    "procurement_manager": ["base.group_user", "contract_procurement.group_procurement_manager"],
    "procurement_manager_2": [
        "base.group_user",
        "contract_procurement.group_procurement_manager",
    ],
    "billing": ["base.group_user", "account.group_account_invoice"],
    "finance_manager": [
        "base.group_user",
        "account.group_account_manager",
        "contract_procurement.group_match_override",
    ],
    "inventory_user": ["base.group_user", "stock.group_stock_user"],
    "audit_viewer": ["base.group_user", "integration_audit.group_audit_viewer"],
    "audit_manager": ["base.group_user", "integration_audit.group_audit_manager"],
    # everything a company-A operator may hold, to probe company B's records
    "operator_a": [
        "base.group_user",
        "integration_queue.group_integration_manager",
        "contract_procurement.group_procurement_manager",
        "stock.group_stock_manager",
        "account.group_account_manager",
        "integration_audit.group_audit_manager",
    ],
}


def login(role):
    return f"mx_{role}"


def password(role):
    return f"pw-{role}-matrix-2026"


def today(offset=0):
    return (date.today() + timedelta(days=offset)).isoformat()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ----------------------------------------------------------------------
# The world: companies, users, partners, records (made once per module)
# ----------------------------------------------------------------------


class World:
    """What the setup made, by name, and a client per role and partner."""

    def __init__(self, server):
        self.server = server
        self.admin = None
        self.users = {}
        self.clients = {}
        self.partners = {}
        self.ids = {}

    def client(self, role):
        if role == "admin":
            return self.admin
        if role not in self.clients:
            self.clients[role] = RpcClient(self.server.url, self.server.dbname).login(
                login(role), password(role)
            )
        return self.clients[role]

    def read(self, model, record_id, fields):
        """One record's fields as admin, across both companies (archived ones too)."""
        rows = self.admin.call(model, "read", [record_id], fields, context={"active_test": False})
        return rows[0] if rows else None

    def count(self, model, domain):
        return self.admin.call(model, "search_count", domain, context={"active_test": False})

    def has_group(self, user_id, xmlid):
        group_id = self.admin.ref(xmlid)
        return user_id in self.read("res.groups", group_id, ["users"])["users"]


def _rotate(admin, partner_id):
    """Rotate a partner's secret as admin; the plaintext is shown once, in the answer."""
    action = admin.call("integration.partner", "action_rotate_secret", [partner_id])
    secret = (action.get("context") or {}).get("default_secret")
    if not secret and action.get("res_id"):
        secret = admin.call(action["res_model"], "read", [action["res_id"]], ["secret"])[0][
            "secret"
        ]
    return secret


def _supplier_scope_vals(admin, supplier_id):
    """Whatever field the partner form offers for its suppliers (x2many to res.partner)."""
    fields = admin.call(
        "integration.partner",
        "fields_get",
        attributes=["type", "relation", "readonly", "store"],
    )
    return {
        name: [(6, 0, [supplier_id])]
        for name, spec in fields.items()
        if spec.get("type") == "many2many"
        and spec.get("relation") == "res.partner"
        and spec.get("store")
        and not spec.get("readonly")
        and not name.startswith("message_")
    }


def _make_partner(world, code, company_id, facility_ids, supplier_id=None):
    admin = world.admin
    type_ids = admin.call(
        "integration.message.type", "search", [("code", "in", list(PARTNER_TYPES))]
    )
    vals = {
        "code": code,
        "name": code,
        "company_id": company_id,
        "rate_limit": 0,
        "message_type_ids": [(6, 0, type_ids)],
        "facility_ids": [(6, 0, facility_ids)],
    }
    if supplier_id:
        vals.update(_supplier_scope_vals(admin, supplier_id))
    partner_id = admin.call("integration.partner", "create", vals)
    if supplier_id:
        admin.call("res.partner", "write", [supplier_id], {"integration_partner_id": partner_id})
    world.ids[code] = partner_id
    return Partner([world.server.url], code, _rotate(admin, partner_id))


def _make_order(world, supplier_id, company_id, warehouse_id):
    admin = world.admin
    [warehouse] = admin.call("stock.warehouse", "read", [warehouse_id], ["in_type_id"])
    order_id = admin.call(
        "purchase.order",
        "create",
        {
            "partner_id": supplier_id,
            "company_id": company_id,
            "picking_type_id": warehouse["in_type_id"][0],
            "order_line": [
                (0, 0, {"product_id": world.ids["item"], "product_qty": 10, "price_unit": 1.0})
            ],
        },
        context={"allowed_company_ids": [company_id]},
    )
    admin.call(
        "purchase.order",
        "button_confirm",
        [order_id],
        context={"allowed_company_ids": [company_id]},
    )
    return order_id


def _make_contract(world, supplier_id=None, company_id=None, start=0):
    admin = world.admin
    company_id = company_id or world.ids["company_a"]
    return admin.call(
        "purchase.contract",
        "create",
        {
            "partner_id": supplier_id or world.ids["supplier_a"],
            "company_id": company_id,
            "date_start": today(start),
            "line_ids": [
                (
                    0,
                    0,
                    {
                        "product_id": world.ids["item"],
                        "product_uom_id": world.ids["uom"],
                        "price": 1.0,
                    },
                )
            ],
        },
        context={"allowed_company_ids": [company_id]},
    )


def _setup_world(world):
    admin = RpcClient(world.server.url, world.server.dbname).login("admin", "admin")
    company_a = admin.call("res.users", "read", [admin.uid], ["company_id"])[0]["company_id"][0]
    company_b = admin.call("res.company", "create", {"name": "Matrix Health Company B"})
    admin.call("res.users", "write", [admin.uid], {"company_ids": [(4, company_b)]})
    admin = admin.with_companies([company_a, company_b])
    world.admin = admin
    ids = world.ids
    ids.update(company_a=company_a, company_b=company_b)
    try:  # a chart of accounts, so that company B's bills fail for scope, not for setup
        admin.call("account.chart.template", "try_loading", [], "generic_coa", company_b)
    except RpcError:
        pass

    [ids["wh_a"]] = admin.call("stock.warehouse", "search", [("facility_code", "=", "HOSP-N")])
    [ids["wh_a_south"]] = admin.call(
        "stock.warehouse", "search", [("facility_code", "=", "HOSP-S")]
    )
    b_context = {"allowed_company_ids": [company_b, company_a]}
    ids["wh_b"] = admin.call(
        "stock.warehouse",
        "create",
        {"name": "B North", "code": "BN", "company_id": company_b, "facility_code": "HOSP-N"},
        context=b_context,
    )
    ids["wh_b_only"] = admin.call(
        "stock.warehouse",
        "create",
        {"name": "B Only", "code": "BO", "company_id": company_b, "facility_code": "HOSP-B"},
        context=b_context,
    )
    ids["item"] = admin.call(
        "product.product",
        "create",
        {
            "name": "Matrix item",
            "default_code": "MX-ITEM",
            "purchase_ok": True,
            "is_storable": True,
        },
    )
    ids["uom"] = admin.call("product.product", "read", [ids["item"]], ["uom_po_id"])[0][
        "uom_po_id"
    ][0]
    for key, ref, company in (
        ("supplier_a", "SUP-MX-A", company_a),
        ("supplier_a2", "SUP-MX-A2", company_a),
        ("supplier_b", "SUP-MX-B", company_b),
    ):
        ids[key] = admin.call(
            "res.partner",
            "create",
            {"name": ref, "ref": ref, "company_id": company, "supplier_rank": 1},
            context=b_context,
        )

    group_ids = {xmlid: admin.ref(xmlid) for xmlids in ROLES.values() for xmlid in xmlids}
    user_ids = admin.call(
        "res.users",
        "create",
        [
            {
                "name": role.replace("_", " ").title(),
                "login": login(role),
                "email": f"{login(role)}@matrix.example.com",
                "password": password(role),
                "company_id": company_a,
                "company_ids": [(6, 0, [company_a])],
                "groups_id": [(6, 0, [group_ids[x] for x in xmlids])],
            }
            for role, xmlids in ROLES.items()
        ],
    )
    world.users.update(zip(ROLES, user_ids, strict=True))

    world.partners["a"] = _make_partner(
        world, "MX-PARTNER-A", company_a, [ids["wh_a"]], ids["supplier_a"]
    )
    world.partners["b"] = _make_partner(
        world, "MX-PARTNER-B", company_b, [ids["wh_b"], ids["wh_b_only"]], ids["supplier_b"]
    )
    ids["partner_rotate"] = admin.call(
        "integration.partner", "create", {"code": "MX-ROTATE", "name": "MX-ROTATE"}
    )
    ids["order_a"] = _make_order(world, ids["supplier_a"], company_a, ids["wh_a"])
    ids["order_a2"] = _make_order(world, ids["supplier_a2"], company_a, ids["wh_a"])
    ids["order_b"] = _make_order(world, ids["supplier_b"], company_b, ids["wh_b"])
    for key in ("order_a", "order_a2", "order_b"):
        ids[key + "_name"] = world.read("purchase.order", ids[key], ["name"])["name"]
    ids["contract_b"] = _make_contract(world, ids["supplier_b"], company_b)
    ids["proposal_b"] = admin.call(
        "healthcare.replenishment.proposal",
        "create",
        {
            "warehouse_id": ids["wh_b"],
            "product_id": ids["item"],
            "quantity": 5,
            "source_type": "purchase",
        },
        context=b_context,
    )
    # company B's partner has traffic: a message, a job, a record link, audit events
    done = deliver(
        world.partners["b"], "integration.ping", {"note": "company B", "lookup": "SUP-MX-B"}
    )
    assert done.outcome == "done", done
    return world


@pytest.fixture(scope="module")
def world(template_db):
    name = f"{template_db}_matrix_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(template_db, name)
    server = OdooServer(name, max_cron_threads=1, config=SECRET_KEY_CONFIG)
    try:
        server.start()
        yield _setup_world(World(server))
    finally:
        server.stop()
        odoo_env.drop_database(name)


# ----------------------------------------------------------------------
# Partner traffic
# ----------------------------------------------------------------------


class Delivery(NamedTuple):
    """What became of a signed message: the HTTP answer, then the processing outcome."""

    http_status: int
    body: dict
    outcome: str  # "rejected" (not 202), else the message's final status
    msg_id: str


def status_of(partner, msg_id):
    headers = sign(partner.secret, msg_id, b"")
    headers["X-Partner-Code"] = partner.code
    return partner.session.get(
        f"{partner.urls[0]}/integration/v1/messages/{msg_id}", headers=headers, timeout=10
    )


def deliver(partner, message_type, payload, timeout=90):
    """POST a signed message; when queued, wait until it is processed."""
    msg_id = unique("mx")
    response = partner.post(message_type, payload, msg_id=msg_id)
    try:
        body = response.json()
    except ValueError:
        body = {"raw": response.text[:300]}
    if response.status_code != 202:
        return Delivery(response.status_code, body, "rejected", msg_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = status_of(partner, msg_id).json()
        if status.get("status") in ("done", "exception", "dead"):
            return Delivery(202, status, status["status"], msg_id)
        time.sleep(0.2)
    raise AssertionError(f"{message_type} {msg_id} not processed within {timeout}s")


def refused_delivery(delivery):
    """Refused at the gateway (401/403/422) or by the handler (exception/dead)."""
    if delivery.outcome == "rejected":
        return delivery.http_status in (401, 403, 422)
    return delivery.outcome in ("exception", "dead")


# ----------------------------------------------------------------------
# Actions of users (JSON-RPC) and their admin read-back
# ----------------------------------------------------------------------


class Action(NamedTuple):
    """prepare(world) -> target, made as admin or other roles; attempt(world, client,
    target) -> the call under test; state(world, target) -> admin's read-back, which a
    refused attempt must leave as it was."""

    prepare: object
    attempt: object
    state: object


def _nothing(world):
    return None


def _no_state(world, target):
    return None


def _read_all(model):
    def attempt(world, client, target):
        client.call(model, "search_read", [], ["id"], limit=5)

    return Action(_nothing, attempt, _no_state)


def _exception_job(world):
    """A job of partner A that ended in a business exception (requeueable)."""
    done = deliver(world.partners["a"], "integration.ping", {"fail": "business"})
    assert done.outcome == "exception", done
    [job_id] = world.admin.call(
        "integration.job", "search", [("message_id.external_id", "=", done.msg_id)]
    )
    return job_id


JOB_ROUTING = ["model_name", "method_name", "record_ids", "kwargs", "message_id"]


def _escalation_vals(world, uid):
    """A job that, run by the cron as superuser, would make ``uid`` an administrator."""
    return {
        "message_id": False,
        "model_name": "res.users",
        "method_name": "write",
        "record_ids": json.dumps([uid]),
        "kwargs": json.dumps({"vals": {"groups_id": [(4, world.admin.ref("base.group_system"))]}}),
    }


def _rewrite_job(world, client, job_id):
    client.call("integration.job", "write", [job_id], _escalation_vals(world, client.uid))


def _job_state(world, job_id):
    return world.read("integration.job", job_id, JOB_ROUTING)


def _ping_type(world):
    return world.admin.call(
        "integration.message.type", "search", [("code", "=", "integration.ping")]
    )[0]


def _rewrite_handler(world, client, type_id):
    original = _handler_state(world, type_id)
    client.call(
        "integration.message.type",
        "write",
        [type_id],
        {"handler_model": "res.users", "handler_method": "write"},
    )
    rewritten = _handler_state(world, type_id)
    if rewritten != original:
        # put the handler back, or every later ping runs res.users.write
        world.admin.call(
            "integration.message.type",
            "write",
            [type_id],
            {key: value for key, value in original.items() if key != "id"},
        )
        raise AssertionError(f"the ping handler was rewritten to {rewritten}")


def _handler_state(world, type_id):
    fields = world.admin.call("integration.message.type", "fields_get", attributes=["type"])
    wanted = [name for name in ("handler_model", "handler_method") if name in fields]
    return world.read("integration.message.type", type_id, wanted) if wanted else None


def _rotate_secret(world, client, partner_id):
    client.call("integration.partner", "action_rotate_secret", [partner_id])


def _secret_state(world, partner_id):
    return world.count("integration.partner.secret", [("partner_id", "=", partner_id)])


def _submitted_contract(world, start=0):
    """A fresh contract submitted for review by the procurement manager."""
    contract_id = _make_contract(world, start=start)
    world.client("procurement_manager").call("purchase.contract", "action_submit", [contract_id])
    return contract_id


def _approved_contract(world):
    """A fresh contract approved by a second manager (future start: stays approved)."""
    contract_id = _submitted_contract(world, start=30)
    world.client("procurement_manager_2").call("purchase.contract", "action_approve", [contract_id])
    return contract_id


CONTRACT_GUARDED = ["state", "submitted_by_id", "approved_by_id"]


def _contract_state(world, contract_id):
    return world.read("purchase.contract", contract_id, CONTRACT_GUARDED)


def _contract_button(method):
    def attempt(world, client, contract_id):
        client.call("purchase.contract", method, [contract_id])

    return attempt


def _contract_write(vals):
    def attempt(world, client, contract_id):
        client.call("purchase.contract", "write", [contract_id], vals(world))

    return attempt


def _draft_bill(world, price=2.30):
    """A draft vendor bill of supplier A without an order: a 'no order' match exception."""
    return world.admin.call(
        "account.move",
        "create",
        {
            "move_type": "in_invoice",
            "partner_id": world.ids["supplier_a"],
            "company_id": world.ids["company_a"],
            "invoice_date": today(),
            "ref": unique("MX-INV"),
            "invoice_line_ids": [
                (0, 0, {"product_id": world.ids["item"], "quantity": 10, "price_unit": price})
            ],
        },
        context={"allowed_company_ids": [world.ids["company_a"]]},
    )


BILL_GUARDED = ["state", "match_override_by_id", "match_override_reason", "amount_total"]


def _bill_state(world, bill_id):
    return world.read("account.move", bill_id, BILL_GUARDED)


def _write_bill_override(world, client, bill_id):
    client.call(
        "account.move",
        "write",
        [bill_id],
        {"match_override_by_id": client.uid, "match_override_reason": "looks fine to me"},
    )


def _override_and_post(world, client, bill_id):
    wizard_id = client.call(
        "purchase.match.override", "create", {"move_id": bill_id, "reason": "agreed by phone"}
    )
    client.call("purchase.match.override", "action_override_and_post", [wizard_id])


def _legal_hold_rule(world):
    return world.admin.ref("integration_audit.rule_integration_audit_legal_hold")


def _toggle_audit_rule(world, client, rule_id):
    try:
        client.call("integration.audit.rule", "write", [rule_id], {"active": False})
        client.call("integration.audit.rule", "write", [rule_id], {"active": True})
    finally:
        # a half-done toggle must not leave legal holds unaudited for the rows after it
        world.admin.call("integration.audit.rule", "write", [rule_id], {"active": True})


def _audit_rule_state(world, rule_id):
    return world.read("integration.audit.rule", rule_id, ["active"])


def _some_audit_event(world):
    return world.admin.call("integration.audit.event", "search", [], limit=1)[0]


def _write_audit_event(world, client, event_id):
    client.call("integration.audit.event", "write", [event_id], {"summary": "rewritten"})


def _audit_event_state(world, event_id):
    return world.read("integration.audit.event", event_id, ["summary", "event_type"])


def _requeue_job(world, client, job_id):
    client.call("integration.job", "action_requeue", [job_id])


def _job_run_state(world, job_id):
    return world.read("integration.job", job_id, ["state", "attempts"])


def _exception_message(world):
    job_id = _exception_job(world)
    return world.read("integration.job", job_id, ["message_id"])["message_id"][0]


def _replay_message(world, client, message_id):
    client.call("integration.message", "action_replay", [message_id])


MESSAGE_GUARDED = ["state", "message_type", "payload", "partner_id", "company_id", "job_ids"]


def _message_state(world, message_id):
    return world.read("integration.message", message_id, MESSAGE_GUARDED)


def _rewrite_message(world, client, message_id):
    payload = {"supplier": "SUP-MX-A", "action": "block", "reason": "rewritten"}
    client.call(
        "integration.message",
        "write",
        [message_id],
        {"message_type": "supplier.status", "payload": json.dumps(payload)},
    )


def _draft_order(world):
    return world.admin.call(
        "purchase.order",
        "create",
        {
            "partner_id": world.ids["supplier_a2"],
            "company_id": world.ids["company_a"],
            "order_line": [
                (0, 0, {"product_id": world.ids["item"], "product_qty": 1, "price_unit": 1.0})
            ],
        },
        context={"allowed_company_ids": [world.ids["company_a"]]},
    )


def _blocked_big_order(world):
    """A draft order of 50,000 (over the approval rule) from a blocked supplier."""
    supplier_id = _new_supplier(world)
    try:
        world.client("procurement_manager").call(
            "res.partner", "action_supplier_block", [supplier_id]
        )
    except RpcError:
        world.admin.call("res.partner", "write", [supplier_id], {"supplier_status": "blocked"})
    return world.admin.call(
        "purchase.order",
        "create",
        {
            "partner_id": supplier_id,
            "company_id": world.ids["company_a"],
            "order_line": [
                (0, 0, {"product_id": world.ids["item"], "product_qty": 1000, "price_unit": 50.0})
            ],
        },
        context={"allowed_company_ids": [world.ids["company_a"]]},
    )


def _order_button(method):
    def attempt(world, client, order_id):
        client.call("purchase.order", method, [order_id])

    return attempt


def _own_big_order(world):
    """A draft order of 50,000 (over the approval rule), made by the procurement manager."""
    return world.client("procurement_manager").call(
        "purchase.order",
        "create",
        {
            "partner_id": world.ids["supplier_a"],
            "order_line": [
                (0, 0, {"product_id": world.ids["item"], "product_qty": 1000, "price_unit": 50.0})
            ],
        },
    )


def _approve_own_order_via_other_buyer(world, client, order_id):
    """Name a colleague as the order's buyer, then approve one's own order."""
    client.call(
        "purchase.order", "write", [order_id], {"user_id": world.users["procurement_manager_2"]}
    )
    client.call("purchase.order", "action_approve_order", [order_id])


def _connected_order(world):
    """A small draft order of supplier A, whose system (partner A) receives orders."""
    return world.admin.call(
        "purchase.order",
        "create",
        {
            "partner_id": world.ids["supplier_a"],
            "company_id": world.ids["company_a"],
            "order_line": [
                (0, 0, {"product_id": world.ids["item"], "product_qty": 1, "price_unit": 1.0})
            ],
        },
        context={"allowed_company_ids": [world.ids["company_a"]]},
    )


ORDER_GUARDED = ["state", "off_contract_approved_by_id", "approved_by_id", "ack_state"]


def _order_state(world, order_id):
    return world.read("purchase.order", order_id, ORDER_GUARDED)


def _write_order(vals):
    def attempt(world, client, order_id):
        client.call("purchase.order", "write", [order_id], vals(client))

    return attempt


def _new_contract_ref(world):
    return unique("MX-CT")


def _create_active_contract(world, client, ref):
    client.call(
        "purchase.contract",
        "create",
        {
            "external_ref": ref,
            "partner_id": world.ids["supplier_a"],
            "date_start": today(),
            "state": "active",
            "approved_by_id": client.uid,
            "line_ids": [
                (
                    0,
                    0,
                    {
                        "product_id": world.ids["item"],
                        "product_uom_id": world.ids["uom"],
                        "price": 0.01,
                    },
                )
            ],
        },
    )


def _active_contracts(world, ref):
    return world.count("purchase.contract", [("external_ref", "=", ref), ("state", "!=", "draft")])


def _new_supplier(world):
    return world.admin.call(
        "res.partner",
        "create",
        {"name": unique("MX-SUP"), "company_id": world.ids["company_a"], "supplier_rank": 1},
    )


def _block_supplier(world, client, supplier_id):
    client.call("res.partner", "action_supplier_block", [supplier_id])


def _supplier_state(world, supplier_id):
    return world.read("res.partner", supplier_id, ["supplier_status"])


def _proposal_a(world):
    return world.admin.call(
        "healthcare.replenishment.proposal",
        "create",
        {
            "warehouse_id": world.ids["wh_a"],
            "product_id": world.ids["item"],
            "quantity": 5,
            "source_type": "purchase",
        },
    )


def _cancel_proposal(world, client, proposal_id):
    client.call("healthcare.replenishment.proposal", "action_cancel", [proposal_id])


def _proposal_state(world, proposal_id):
    return world.read("healthcare.replenishment.proposal", proposal_id, ["state"])


def _import_override(world, client, bill_id):
    """base_import's path: ``load`` answers with messages instead of raising."""
    result = client.call(
        "account.move",
        "load",
        [".id", "match_override_reason"],
        [[str(bill_id), "imported as agreed"]],
    )
    if not result.get("ids"):
        raise RpcError({"data": {"name": "odoo.exceptions.UserError", "message": str(result)}})


USER_ACTIONS = {
    "read integration messages": _read_all("integration.message"),
    "read integration jobs": _read_all("integration.job"),
    "read integration partners": _read_all("integration.partner"),
    "read audit events": _read_all("integration.audit.event"),
    "read supplier contracts": _read_all("purchase.contract"),
    "read replenishment proposals": _read_all("healthcare.replenishment.proposal"),
    "rewrite a job's target": Action(_exception_job, _rewrite_job, _job_state),
    "rewrite a message type's handler": Action(_ping_type, _rewrite_handler, _handler_state),
    "rotate a partner secret": Action(
        lambda w: w.ids["partner_rotate"], _rotate_secret, _secret_state
    ),
    "approve own contract": Action(
        _submitted_contract, _contract_button("action_approve"), _contract_state
    ),
    "approve another's contract": Action(
        _submitted_contract, _contract_button("action_approve"), _contract_state
    ),
    "activate an approved contract": Action(
        _approved_contract, _contract_button("action_activate"), _contract_state
    ),
    "terminate an approved contract": Action(
        _approved_contract, _contract_button("action_terminate"), _contract_state
    ),
    "write contract state": Action(
        _make_contract, _contract_write(lambda w: {"state": "active"}), _contract_state
    ),
    "write contract approver": Action(
        _submitted_contract,
        _contract_write(lambda w: {"approved_by_id": w.users["procurement_manager_2"]}),
        _contract_state,
    ),
    "write bill match override": Action(_draft_bill, _write_bill_override, _bill_state),
    "override match and post": Action(_draft_bill, _override_and_post, _bill_state),
    "deactivate and reactivate an audit rule": Action(
        _legal_hold_rule, _toggle_audit_rule, _audit_rule_state
    ),
    "rewrite an audit event": Action(_some_audit_event, _write_audit_event, _audit_event_state),
    "requeue a job": Action(_exception_job, _requeue_job, _job_run_state),
    "replay a message": Action(_exception_message, _replay_message, _message_state),
    "rewrite a message's type and payload": Action(
        _exception_message, _rewrite_message, _message_state
    ),
    "write order off-contract approver": Action(
        _draft_order,
        _write_order(lambda c: {"off_contract_approved_by_id": c.uid}),
        _order_state,
    ),
    "write order acknowledgement": Action(
        _draft_order, _write_order(lambda c: {"ack_state": "acknowledged"}), _order_state
    ),
    "confirm a blocked supplier's order": Action(
        _blocked_big_order, _order_button("button_confirm"), _order_state
    ),
    "confirm a blocked supplier's order by writing its state": Action(
        _blocked_big_order, _write_order(lambda c: {"state": "purchase"}), _order_state
    ),
    "confirm a blocked supplier's order with button_approve": Action(
        _blocked_big_order, _order_button("button_approve"), _order_state
    ),
    "approve own order after naming another buyer": Action(
        _own_big_order, _approve_own_order_via_other_buyer, _order_state
    ),
    "confirm an order of a connected supplier": Action(
        _connected_order, _order_button("button_confirm"), _order_state
    ),
    "create an active contract": Action(
        _new_contract_ref, _create_active_contract, _active_contracts
    ),
    "block a supplier": Action(_new_supplier, _block_supplier, _supplier_state),
    "cancel a replenishment proposal": Action(_proposal_a, _cancel_proposal, _proposal_state),
    "import a bill's match override": Action(_draft_bill, _import_override, _bill_state),
}


class Row(NamedTuple):
    role: str
    action: str
    expected: str


USER_MATRIX = [
    # reading (the groups' access rights)
    *(
        Row(role, "read integration messages", expected)
        for role, expected in (
            ("internal", REFUSED),
            ("portal", REFUSED),
            ("purchase_user", REFUSED),
            ("billing", REFUSED),
            ("inventory_user", REFUSED),
            ("integration_user", ALLOWED),
        )
    ),
    *(
        Row(role, "read integration jobs", expected)
        for role, expected in (
            ("internal", REFUSED),
            ("portal", REFUSED),
            ("audit_viewer", REFUSED),
            ("integration_user", ALLOWED),
        )
    ),
    *(
        Row(role, "read integration partners", expected)
        for role, expected in (
            ("internal", REFUSED),
            ("portal", REFUSED),
            ("purchase_user", REFUSED),
            ("integration_user", ALLOWED),
        )
    ),
    *(
        Row(role, "read audit events", expected)
        for role, expected in (
            ("internal", REFUSED),
            ("portal", REFUSED),
            ("purchase_user", REFUSED),
            ("inventory_user", REFUSED),
            ("audit_viewer", ALLOWED),
            ("integration_user", ALLOWED),
        )
    ),
    *(
        Row(role, "read supplier contracts", expected)
        for role, expected in (
            ("internal", REFUSED),
            ("portal", REFUSED),
            ("integration_manager", REFUSED),
            ("inventory_user", REFUSED),
            ("purchase_user", ALLOWED),
            ("billing", ALLOWED),
        )
    ),
    *(
        Row(role, "read replenishment proposals", expected)
        for role, expected in (
            ("internal", REFUSED),
            ("portal", REFUSED),
            ("inventory_user", ALLOWED),
        )
    ),
    # issue 8, point 1: jobs run only registered code
    Row("integration_manager", "rewrite a job's target", REFUSED),
    Row("integration_user", "rewrite a job's target", REFUSED),
    Row("admin", "rewrite a job's target", REFUSED),
    Row("integration_manager", "rewrite a message type's handler", INEFFECTIVE),
    Row("integration_user", "rewrite a message type's handler", REFUSED),
    # point 11: buttons check groups
    Row("integration_user", "rotate a partner secret", REFUSED),
    Row("purchase_user", "rotate a partner secret", REFUSED),
    Row("integration_manager", "rotate a partner secret", ALLOWED),
    # point 3: four eyes on contracts
    Row("procurement_manager", "approve own contract", REFUSED),
    Row("purchase_user", "approve another's contract", REFUSED),
    Row("procurement_manager_2", "approve another's contract", ALLOWED),
    Row("purchase_user", "activate an approved contract", REFUSED),
    Row("purchase_user", "terminate an approved contract", REFUSED),
    Row("procurement_manager_2", "terminate an approved contract", ALLOWED),
    Row("purchase_user", "write contract state", REFUSED),
    Row("procurement_manager", "write contract state", REFUSED),
    Row("purchase_user", "write contract approver", REFUSED),
    Row("procurement_manager", "write contract approver", REFUSED),
    # point 3: the three-way match override
    Row("purchase_user", "write bill match override", REFUSED),
    Row("billing", "write bill match override", REFUSED),
    Row("finance_manager", "write bill match override", REFUSED),
    Row("billing", "override match and post", REFUSED),
    Row("finance_manager", "override match and post", ALLOWED),
    # point 4: audit rules and events
    Row("audit_viewer", "deactivate and reactivate an audit rule", REFUSED),
    Row("integration_manager", "deactivate and reactivate an audit rule", REFUSED),
    Row("audit_manager", "deactivate and reactivate an audit rule", ALLOWED),
    Row("audit_manager", "rewrite an audit event", REFUSED),
    # points 1 and 11: the queue's buttons
    Row("integration_user", "requeue a job", REFUSED),
    Row("integration_manager", "requeue a job", ALLOWED),
    Row("integration_user", "replay a message", REFUSED),
    Row("integration_manager", "rewrite a message's type and payload", REFUSED),
    Row("admin", "rewrite a message's type and payload", REFUSED),
    # point 3: approvals of orders and contracts are not data
    Row("purchase_user", "write order off-contract approver", REFUSED),
    Row("procurement_manager", "write order off-contract approver", REFUSED),
    Row("purchase_user", "write order acknowledgement", REFUSED),
    Row("purchase_user", "confirm a blocked supplier's order", REFUSED),
    Row("purchase_user", "confirm an order of a connected supplier", ALLOWED),
    Row("procurement_manager", "approve own order after naming another buyer", REFUSED),
    Row("purchase_user", "confirm a blocked supplier's order by writing its state", REFUSED),
    Row("purchase_user", "confirm a blocked supplier's order with button_approve", REFUSED),
    Row("purchase_user", "create an active contract", REFUSED),
    Row("procurement_manager", "create an active contract", REFUSED),
    Row("billing", "import a bill's match override", REFUSED),
    Row("finance_manager", "import a bill's match override", REFUSED),
    # point 11
    Row("purchase_user", "block a supplier", REFUSED),
    Row("procurement_manager", "block a supplier", ALLOWED),
    Row("inventory_user", "cancel a replenishment proposal", REFUSED),
]


def _row_id(row):
    return f"{row.role}: {row.action}"


def _test_id(row):
    return f"{row.role}-{row.action}".replace(" ", "_").replace("'", "")


@pytest.mark.parametrize("row", USER_MATRIX, ids=_test_id)
def test_user_matrix(world, row):
    action = USER_ACTIONS[row.action]
    client = world.client(row.role)
    target = action.prepare(world)
    before = action.state(world, target)
    try:
        action.attempt(world, client, target)
    except RpcError as error:
        assert row.expected != ALLOWED, f"{_row_id(row)} must be allowed, got {error}"
        assert error.is_refusal, f"{_row_id(row)}: refused by a crash, not a refusal: {error}"
        assert action.state(world, target) == before, f"{_row_id(row)} changed the database"
        return
    if row.expected == INEFFECTIVE:
        assert action.state(world, target) == before, f"{_row_id(row)} changed the database"
        return
    assert row.expected == ALLOWED, f"{_row_id(row)} must be refused, and it went through"


# ----------------------------------------------------------------------
# Partners of two companies (signed HTTP)
# ----------------------------------------------------------------------


def _order_ack(world, key):
    return world.read("purchase.order", world.ids[key], ["ack_state", "ack_version"])


def _bills_of(world, key):
    return world.count(
        "account.move",
        [("invoice_origin", "=", world.ids[key + "_name"]), ("move_type", "=", "in_invoice")],
    )


def _snapshot(facility):
    return (
        "inventory.snapshot",
        lambda w: {
            "facility": facility,
            "as_of": "2026-11-25T08:00:00Z",
            "sequence": int(time.time()) - 1_700_000_000,
            "lines": [{"item": "MX-ITEM", "quantity": 5}],
        },
        None,
    )


def _request(facility):
    return (
        "purchase.request",
        lambda w: {
            "request": unique("MX-REQ"),
            "facility": facility,
            "lines": [{"item": "MX-ITEM", "quantity": 3}],
        },
        None,
    )


def _ack(order_key, status="rejected"):
    return (
        "purchase.acknowledgement",
        lambda w: {
            "purchase_order": w.ids[order_key + "_name"],
            "order_version": 1,
            "status": status,
        },
        lambda w: _order_ack(w, order_key),
    )


def _bill(order_key):
    return (
        "vendor.bill",
        lambda w: {
            "purchase_order": w.ids[order_key + "_name"],
            "invoice_number": unique("MX-BILL"),
            "lines": [{"item": "MX-ITEM", "quantity": 1, "price": 1.0}],
        },
        lambda w: _bills_of(w, order_key),
    )


def _supplier_status(supplier_key, ref, action="block"):
    return (
        "supplier.status",
        lambda w: {"supplier": ref, "action": action, "reason": "matrix"},
        lambda w: w.read("res.partner", w.ids[supplier_key], ["supplier_status"]),
    )


def _contract_upsert(ref):
    external = unique("MX-CT")
    return (
        "contract.upsert",
        lambda w: {
            "contract": external,
            "supplier": ref,
            "start_date": today(),
            "state": "draft",
            "lines": [{"item": "MX-ITEM", "price": 0.5}],
        },
        lambda w: w.count("purchase.contract", [("external_ref", "=", external)]),
    )


def _order_receipts(world, key):
    lines = world.admin.call(
        "purchase.order.line", "search_read", [("order_id", "=", world.ids[key])], ["qty_received"]
    )
    return sorted(line["qty_received"] for line in lines)


def _receipt_against(order_key):
    return (
        "inventory.receipt",
        lambda w: {
            "facility": "HOSP-N",
            "received_at": "2026-11-25T08:00:00Z",
            "purchase_order": w.ids[order_key + "_name"],
            "lines": [{"item": "MX-ITEM", "quantity": 1}],
        },
        lambda w: _order_receipts(w, order_key),
    )


def _transfer(from_facility, to_facility):
    return (
        "inventory.transfer_request",
        lambda w: {
            "from_facility": from_facility,
            "to_facility": to_facility,
            "priority": "routine",
            "lines": [{"item": "MX-ITEM", "quantity": 1}],
        },
        None,
    )


PARTNER_ACTIONS = {
    "receive against company B's order": _receipt_against("order_b"),
    "transfer from company B's facility": _transfer("HOSP-B", "HOSP-N"),
    "transfer to a facility not on its list": _transfer("HOSP-N", "HOSP-S"),
    "inventory for own facility": _snapshot("HOSP-N"),
    "inventory for company B's facility": _snapshot("HOSP-B"),
    "inventory for a facility not on its list": _snapshot("HOSP-S"),
    "purchase request for own facility": _request("HOSP-N"),
    "purchase request for company B's facility": _request("HOSP-B"),
    "purchase request for a facility not on its list": _request("HOSP-S"),
    "acknowledge own order": _ack("order_a", status="accepted"),
    "acknowledge another supplier's order": _ack("order_a2"),
    "acknowledge company B's order": _ack("order_b"),
    "acknowledge company A's order": _ack("order_a"),
    "bill own order": _bill("order_a"),
    "bill another supplier's order": _bill("order_a2"),
    "bill company B's order": _bill("order_b"),
    "block another supplier": _supplier_status("supplier_a2", "SUP-MX-A2"),
    "block company B's supplier": _supplier_status("supplier_b", "SUP-MX-B"),
    "contract for another supplier": _contract_upsert("SUP-MX-A2"),
    "contract for company B's supplier": _contract_upsert("SUP-MX-B"),
}

# facility checks happen at the gateway: 403 naming the field
GATEWAY_FIELD = {
    "inventory for company B's facility": "facility",
    "inventory for a facility not on its list": "facility",
    "purchase request for company B's facility": "facility",
    "purchase request for a facility not on its list": "facility",
    "transfer from company B's facility": "from_facility",
    "transfer to a facility not on its list": "to_facility",
}

PARTNER_MATRIX = [
    Row("partner_a", "inventory for own facility", ALLOWED),
    Row("partner_a", "inventory for company B's facility", REFUSED),
    Row("partner_a", "inventory for a facility not on its list", REFUSED),
    Row("partner_a", "purchase request for own facility", ALLOWED),
    Row("partner_a", "purchase request for company B's facility", REFUSED),
    Row("partner_a", "purchase request for a facility not on its list", REFUSED),
    Row("partner_b", "purchase request for own facility", ALLOWED),
    Row("partner_a", "acknowledge another supplier's order", REFUSED),
    Row("partner_a", "acknowledge company B's order", REFUSED),
    Row("partner_b", "acknowledge company A's order", REFUSED),
    Row("partner_a", "acknowledge own order", ALLOWED),
    Row("partner_a", "bill another supplier's order", REFUSED),
    Row("partner_a", "bill company B's order", REFUSED),
    Row("partner_a", "bill own order", ALLOWED),
    Row("partner_a", "block another supplier", REFUSED),
    Row("partner_a", "block company B's supplier", REFUSED),
    Row("partner_a", "contract for another supplier", REFUSED),
    Row("partner_a", "contract for company B's supplier", REFUSED),
    Row("partner_a", "receive against company B's order", REFUSED),
    Row("partner_a", "transfer from company B's facility", REFUSED),
    Row("partner_a", "transfer to a facility not on its list", REFUSED),
]


@pytest.mark.parametrize("row", PARTNER_MATRIX, ids=_test_id)
def test_partner_matrix(world, row):
    message_type, payload, state = PARTNER_ACTIONS[row.action]
    partner = world.partners[row.role.removeprefix("partner_")]
    before = state(world) if state else None
    delivery = deliver(partner, message_type, payload(world))
    if row.expected == ALLOWED:
        assert delivery.outcome == "done", f"{_row_id(row)} must be processed: {delivery}"
        return
    assert refused_delivery(delivery), f"{_row_id(row)} must be refused: {delivery}"
    if row.action in GATEWAY_FIELD:
        assert delivery.http_status == 403, f"{_row_id(row)}: refused at the gateway? {delivery}"
        assert delivery.body["error"]["field"] == GATEWAY_FIELD[row.action], delivery
    if state:
        assert state(world) == before, f"{_row_id(row)} changed the database"


@pytest.mark.parametrize("side", ["a", "b"])
def test_purchase_request_lands_in_the_partners_company(world, side):
    """Both companies have a facility 'HOSP-N': the order goes to the sender's company."""
    partner = world.partners[side]
    request = unique("MX-REQ")
    payload = {
        "request": request,
        "facility": "HOSP-N",
        "lines": [{"item": "MX-ITEM", "quantity": 2}],
    }
    delivery = deliver(partner, "purchase.request", payload)
    assert delivery.outcome == "done", delivery
    orders = world.admin.call(
        "purchase.order", "search_read", [("origin", "=", request)], ["company_id"]
    )
    assert orders, delivery
    company = world.ids[f"company_{side}"]
    assert {order["company_id"][0] for order in orders} == {company}


# ----------------------------------------------------------------------
# Point 1: a requeued job runs what was stored, never what was written into it
# ----------------------------------------------------------------------


def test_requeued_job_does_not_make_the_integration_manager_admin(world):
    manager = world.client("integration_manager")
    job_id = _exception_job(world)
    try:
        manager.call("integration.job", "write", [job_id], _escalation_vals(world, manager.uid))
        rewritten = True
    except RpcError as error:
        assert error.is_refusal, error
        rewritten = False
    # whatever happened above, requeue (his right) and let the cron run it
    try:
        manager.call("integration.job", "action_requeue", [job_id])
    except RpcError:
        pass
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = world.read("integration.job", job_id, ["state", *JOB_ROUTING])
        if job["state"] != "pending":
            break
        time.sleep(0.3)
    assert not world.has_group(manager.uid, "base.group_system"), (
        f"the Integration Manager made himself administrator through job {job}"
    )
    assert not rewritten, f"the job's target was rewritten: {job}"
    assert job["model_name"] == "integration.ping", job


# ----------------------------------------------------------------------
# Point 3: an approval covers exactly what was approved
# ----------------------------------------------------------------------


def test_reset_to_draft_voids_the_override_and_a_changed_price_cannot_post(world):
    bill_id = _draft_bill(world, price=2.30)
    finance = world.client("finance_manager")
    wizard_id = finance.call(
        "purchase.match.override", "create", {"move_id": bill_id, "reason": "agreed at 2.30"}
    )
    finance.call("purchase.match.override", "action_override_and_post", [wizard_id])
    assert world.read("account.move", bill_id, ["state"])["state"] == "posted"

    clerk = world.client("billing")
    clerk.call("account.move", "button_draft", [bill_id])
    bill = world.read("account.move", bill_id, BILL_GUARDED)
    assert not bill["match_override_by_id"], "Reset to Draft kept the Finance Manager's override"

    [line_id] = world.admin.call(
        "account.move.line",
        "search",
        [("move_id", "=", bill_id), ("display_type", "=", "product")],
    )
    clerk.call(
        "account.move",
        "write",
        [bill_id],
        {"invoice_line_ids": [(1, line_id, {"price_unit": 9.99})]},
    )
    with pytest.raises(RpcError) as refused:
        clerk.call("account.move", "action_post", [bill_id])
    assert refused.value.is_refusal, refused.value
    assert world.read("account.move", bill_id, ["state"])["state"] == "draft"


def test_auto_post_cron_does_not_post_a_blocked_bill(world):
    """Odoo's auto-post cron is a posting path too: a bill with open match exceptions
    that the AP clerk scheduled for auto-posting stays a draft."""
    bill_id = _draft_bill(world)
    clerk = world.client("billing")
    clerk.call("account.move", "write", [bill_id], {"auto_post": "at_date", "date": today()})
    cron_id = world.admin.ref("account.ir_cron_auto_post_draft_entry")
    try:
        world.admin.call("ir.cron", "method_direct_trigger", [cron_id])
    except RpcError as error:
        assert error.is_refusal, error
    assert world.read("account.move", bill_id, ["state"])["state"] == "draft"


def test_changing_a_submitted_contract_sends_it_back_to_review(world):
    contract_id = _approved_contract(world)
    manager = world.client("procurement_manager")
    [line_id] = world.read("purchase.contract", contract_id, ["line_ids"])["line_ids"]
    try:
        manager.call(
            "purchase.contract",
            "write",
            [contract_id],
            {"line_ids": [(1, line_id, {"price": 9.99})]},
        )
    except RpcError as error:
        assert error.is_refusal, error
        assert world.read("purchase.contract.line", line_id, ["price"])["price"] == 1.0
        return
    contract = world.read("purchase.contract", contract_id, CONTRACT_GUARDED)
    assert contract["state"] in ("draft", "review"), contract
    assert not contract["approved_by_id"], contract


@pytest.mark.parametrize(
    "vals",
    [{"date_end": "2036-12-31"}, {"date_start": "2026-01-01"}],
    ids=["extend_end", "move_start"],
)
def test_changing_an_approved_contracts_validity_sends_it_back_to_review(world, vals):
    """The approval covers the contract as approved, its validity included."""
    contract_id = _approved_contract(world)
    buyer = world.client("purchase_user")
    try:
        buyer.call("purchase.contract", "write", [contract_id], vals)
    except RpcError as error:
        assert error.is_refusal, error
        return
    contract = world.read("purchase.contract", contract_id, CONTRACT_GUARDED)
    assert contract["state"] in ("draft", "review"), f"{vals} kept the approval: {contract}"


# ----------------------------------------------------------------------
# Point 6: one partner cannot stall another
# ----------------------------------------------------------------------


def _stalled_stream(world):
    """Make a message of partner B fail technically (retried later) in an ordering
    stream that partner A's next message shares by name; return A's message."""
    partner_b = world.partners["b"]
    stream = unique("mx-stream")
    candidates = [
        (
            ("integration.ping", {"stream": stream, "fail": "technical"}),
            ("integration.ping", {"stream": stream, "note": "partner A"}),
        ),
        (
            # an out-of-range sequence makes the database refuse the snapshot (technical)
            (
                "inventory.snapshot",
                {
                    "facility": "HOSP-N",
                    "as_of": "2026-11-25T08:00:00Z",
                    "sequence": 2**40,
                    "lines": [{"item": "MX-ITEM", "quantity": 1}],
                },
            ),
            ("inventory.snapshot", _snapshot("HOSP-N")[1](world)),
        ),
    ]
    for (b_type, b_payload), a_message in candidates:
        msg_id = unique("mx")
        if partner_b.post(b_type, b_payload, msg_id=msg_id).status_code != 202:
            continue
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = status_of(partner_b, msg_id).json().get("status")
            if status != "queued" and status != "processing":
                break
            time.sleep(0.3)
        if status == "failed":  # retried later: its stream waits for it
            return a_message
    pytest.fail("setup: no message of partner B could be made to fail and wait for a retry")


def test_a_partners_retrying_message_does_not_stall_another_partner(world):
    message_type, payload = _stalled_stream(world)
    delivery = deliver(world.partners["a"], message_type, payload, timeout=30)
    assert delivery.outcome == "done", delivery


# ----------------------------------------------------------------------
# Point 7: partner text is never live markup
# ----------------------------------------------------------------------


def test_partner_text_in_an_activity_note_is_escaped(world):
    item = '<img src=x onerror="alert(1)">'
    payload = {
        "purchase_order": world.ids["order_a_name"],
        "order_version": 1,
        "status": "changed",
        "lines": [{"item": item, "quantity": 1}],
    }
    delivery = deliver(world.partners["a"], "purchase.acknowledgement", payload)
    assert delivery.outcome == "done", delivery
    notes = world.admin.call(
        "mail.activity",
        "search_read",
        [("res_model", "=", "purchase.order"), ("res_id", "=", world.ids["order_a"])],
        ["note"],
    )
    assert notes, "no activity for the buyer"
    html = " ".join(note["note"] or "" for note in notes)
    assert "<img" not in html, html
    assert "&lt;img" in html, html


# ----------------------------------------------------------------------
# Point 4: auditing cannot be switched off by a client
# ----------------------------------------------------------------------


def _events(world, model, record_id, **extra):
    domain = [("res_model", "=", model), ("res_id", "=", record_id)]
    domain += [(key, "=", value) for key, value in extra.items()]
    return world.count("integration.audit.event", domain)


@pytest.mark.parametrize(
    "context",
    [{"audit_disabled": True}, {"audit_disabled": 1, "tracking_disable": True}],
    ids=["audit_disabled", "audit_disabled+tracking_disable"],
)
def test_audit_disabling_context_from_a_client_still_audits(world, context):
    manager = world.client("integration_manager")
    partner_id = world.ids["partner_rotate"]
    before = _events(world, "integration.partner", partner_id)
    rate = world.read("integration.partner", partner_id, ["rate_limit"])["rate_limit"] + 1
    manager.call(
        "integration.partner", "write", [partner_id], {"rate_limit": rate}, context=context
    )
    assert world.read("integration.partner", partner_id, ["rate_limit"])["rate_limit"] == rate
    assert _events(world, "integration.partner", partner_id) > before

    buyer = world.client("procurement_manager")
    contract_id = _make_contract(world)
    before = _events(world, "purchase.contract", contract_id)
    buyer.call(
        "purchase.contract", "write", [contract_id], {"date_end": today(400)}, context=context
    )
    assert _events(world, "purchase.contract", contract_id) > before


def test_audit_manager_toggling_a_rule_is_audited_both_ways(world):
    rule_id = world.admin.ref("integration_audit.rule_integration_audit_legal_hold")
    manager = world.client("audit_manager")
    before = _events(world, "integration.audit.rule", rule_id)
    manager.call("integration.audit.rule", "write", [rule_id], {"active": False})
    middle = _events(world, "integration.audit.rule", rule_id)
    try:
        manager.call("integration.audit.rule", "write", [rule_id], {"active": True})
    finally:
        world.admin.call("integration.audit.rule", "write", [rule_id], {"active": True})
    after = _events(world, "integration.audit.rule", rule_id)
    assert middle > before, "deactivating an audit rule left no audit event"
    assert after > middle, "reactivating an audit rule left no audit event"


# ----------------------------------------------------------------------
# Points 4 and 9: company A's users do not see company B
# ----------------------------------------------------------------------


def _company_b_domain(world, model):
    b = world.ids["company_b"]
    partner_b = world.ids["MX-PARTNER-B"]
    return {
        "integration.message": [("company_id", "=", b)],
        "integration.job": [("company_id", "=", b)],
        "integration.partner": [("company_id", "=", b)],
        "integration.partner.secret": [("partner_id", "=", partner_b)],
        "integration.message.link": [("message_id.partner_id", "=", partner_b)],
        "integration.queue.stat": [("partner_id", "=", partner_b)],
        "integration.audit.event": [("company_id", "=", b)],
        "purchase.contract": [("company_id", "=", b)],
        "healthcare.replenishment.proposal": [("company_id", "=", b)],
    }[model]


@pytest.mark.parametrize(
    "model",
    [
        "integration.message",
        "integration.job",
        "integration.partner",
        "integration.partner.secret",
        "integration.message.link",
        "integration.queue.stat",
        "integration.audit.event",
        "purchase.contract",
        "healthcare.replenishment.proposal",
    ],
)
def test_company_a_user_cannot_read_company_b(world, model):
    domain = _company_b_domain(world, model)
    b_ids = world.admin.call(model, "search", domain, context={"active_test": False})
    assert b_ids, f"setup: company B has no {model} to hide"
    operator = world.client("operator_a")
    try:
        seen = operator.call(model, "search", domain, context={"active_test": False})
    except RpcError as error:
        assert error.is_refusal, error
        return
    assert seen == [], f"company A's operator sees company B's {model} {seen}"
    if model != "integration.queue.stat":  # a view: its row ids are not stable
        with pytest.raises(RpcError) as refused:
            operator.call(model, "read", b_ids[:1], ["id"])
        assert refused.value.is_refusal, refused.value


@pytest.mark.parametrize("by", ["company", "partner"])
def test_audit_viewer_of_company_a_does_not_read_company_b_events(world, by):
    """Company B's events, by their company or by company B's partner (a rejection of
    one of its messages included), stay out of company A's audit viewer's sight."""
    partner_b = world.partners["b"]
    _post_raw(partner_b, b'{"note": 1}', message_type="inventory.snapshot")  # 400/403
    domain = (
        [("company_id", "=", world.ids["company_b"])]
        if by == "company"
        else [("partner_code", "=", partner_b.code)]
    )
    b_events = world.admin.call("integration.audit.event", "search", domain)
    assert b_events
    viewer = world.client("audit_viewer")
    seen = viewer.call("integration.audit.event", "search", [("id", "in", b_events)])
    assert seen == [], f"company A's audit viewer reads {len(seen)} events of company B"


# ----------------------------------------------------------------------
# Point 8: the gateway never answers 500 to bad input
# ----------------------------------------------------------------------


def _snapshot_body(quantity=b"5", as_of=b'"as_of": "2026-11-25T08:00:00Z"'):
    return (
        b'{"facility": "HOSP-N", '
        + as_of
        + b', "lines": [{"item": "MX-ITEM", "quantity": '
        + quantity
        + b"}]}"
    )


# inventory.snapshot of partner A's own facility: only the JSON itself is wrong
BAD_BODIES = {
    "deeply nested": b'{"facility": "HOSP-N", "x": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    "NaN": _snapshot_body(quantity=b"NaN"),
    "Infinity": _snapshot_body(quantity=b"Infinity"),
    "huge float": _snapshot_body(quantity=b"1e999"),
    "oversized integer": _snapshot_body(quantity=b"9" * 5000),
    "duplicate keys": _snapshot_body(
        as_of=b'"as_of": "2026-11-25T08:00:00Z", "as_of": "2026-11-26T08:00:00Z"'
    ),
    "non-UTF-8": _snapshot_body(as_of=b'"as_of": "2026-11-25T08:00:00Z\xff\xfe"').replace(
        b"\\xff\\xfe", b"\xff\xfe"
    ),
}


def _post_raw(partner, body, msg_id=None, message_type="integration.ping", extra=None):
    msg_id = msg_id or unique("mx")
    headers = sign(partner.secret, msg_id, body)
    headers.update({"X-Partner-Code": partner.code, "Content-Type": "application/json"})
    headers.update(extra or {})
    return partner.session.post(
        f"{partner.urls[0]}/integration/v1/inbound/{message_type}",
        data=body,
        headers=headers,
        timeout=30,
    )


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_gateway_answers_bad_json_with_a_400(world, name):
    response = _post_raw(world.partners["a"], BAD_BODIES[name], message_type="inventory.snapshot")
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.json()["error"]["code"], response.text[:300]


def test_status_query_signed_for_another_id_is_refused(world):
    partner = world.partners["a"]
    mine = deliver(partner, "integration.ping", {"note": "first"})
    other = deliver(partner, "integration.ping", {"note": "second"})
    headers = sign(partner.secret, mine.msg_id, b"")
    headers["X-Partner-Code"] = partner.code
    response = partner.session.get(
        f"{partner.urls[0]}/integration/v1/messages/{other.msg_id}", headers=headers, timeout=10
    )
    assert response.status_code in (400, 401, 403), (response.status_code, response.text)


def test_unauthenticated_requests_do_not_grow_the_audit_trail_one_by_one(world):
    rejected = [("event_type", "=", "inbound_rejected")]
    before = world.count("integration.audit.event", rejected)
    session = requests.Session()
    for index in range(200):
        response = session.post(
            f"{world.server.url}/integration/v1/inbound/integration.ping",
            data=b'{"note": "%d"}' % index,
            headers={
                "Content-Type": "application/json",
                "X-Partner-Code": "MX-PARTNER-A",
                "webhook-id": unique("anon"),
                "webhook-timestamp": str(int(time.time())),
                "webhook-signature": "v1,AAAA",
            },
            timeout=10,
        )
        assert response.status_code == 401
    added = world.count("integration.audit.event", rejected) - before
    assert added < 20, f"200 unauthenticated requests added {added} audit events"


def test_unauthenticated_correlation_id_does_not_join_a_partner_trace(world):
    done = deliver(world.partners["a"], "integration.ping", {"note": "trace"})
    trace = done.body["correlation_id"]
    response = requests.post(
        f"{world.server.url}/integration/v1/inbound/integration.ping",
        data=b"{}",
        headers={
            "Content-Type": "application/json",
            "X-Partner-Code": "MX-PARTNER-A",
            "X-Correlation-ID": trace,
        },
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers.get("X-Correlation-ID") != trace
