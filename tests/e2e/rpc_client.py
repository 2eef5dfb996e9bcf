"""A user's side of Odoo's web client, for end-to-end tests: one cookie session per
user, ``/web/session/authenticate`` then ``/web/dataset/call_kw``, as the browser does.

    admin = RpcClient(server.url, server.dbname).login("admin", "admin")
    admin.call("res.partner", "search_read", [], ["name"], limit=5)
    with pytest.raises(RpcError) as refused:
        clerk.call("account.move", "write", [bill_id], {"match_override_by_id": clerk.uid})
    assert refused.value.name == "odoo.exceptions.AccessError"
"""

import itertools

import requests

# What the server answers when it refuses an operation: Odoo's own exceptions, and the
# ValueError the ORM raises for a field that does not exist (or no longer does).
REFUSALS = (
    "odoo.exceptions.AccessError",
    "odoo.exceptions.AccessDenied",
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.RedirectWarning",
    "odoo.exceptions.MissingError",
    "ValueError",
)


class RpcError(Exception):
    """A JSON-RPC error answer: ``name`` is the server-side exception's dotted name."""

    def __init__(self, error):
        data = error.get("data") or {}
        self.name = data.get("name") or error.get("message") or "unknown"
        self.message = data.get("message") or error.get("message") or ""
        super().__init__(f"{self.name}: {self.message}")

    @property
    def is_refusal(self):
        """True for a refusal (access, user or validation error), not a crash."""
        return self.name in REFUSALS


class RpcClient:
    """One user's cookie session on one Odoo server."""

    _ids = itertools.count(1)

    def __init__(self, url, dbname, timeout=60):
        self.url = url
        self.dbname = dbname
        self.timeout = timeout
        self.session = requests.Session()
        self.uid = None
        self.login_name = None
        self.context = {}

    def _post(self, path, params):
        payload = {"jsonrpc": "2.0", "method": "call", "id": next(self._ids), "params": params}
        response = self.session.post(self.url + path, json=payload, timeout=self.timeout)
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer.get("result")

    def login(self, login, password):
        """Authenticate this session as ``login``; return self."""
        result = self._post(
            "/web/session/authenticate",
            {"db": self.dbname, "login": login, "password": password},
        )
        self.uid = result["uid"]
        self.login_name = login
        self.context = dict(result.get("user_context") or {})
        return self

    def with_companies(self, company_ids):
        """The same session, acting in the given companies (the company switcher)."""
        clone = RpcClient(self.url, self.dbname, self.timeout)
        clone.session = self.session
        clone.uid, clone.login_name = self.uid, self.login_name
        clone.context = dict(self.context, allowed_company_ids=list(company_ids))
        return clone

    def call(self, model, method, *args, context=None, **kwargs):
        """``model.method(*args, **kwargs)`` over /web/dataset/call_kw, as the web client."""
        kwargs["context"] = dict(self.context, **(context or {}))
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def ref(self, xmlid):
        """Database id of an XML id (needs read access to ir.model.data: admin)."""
        module, name = xmlid.split(".", 1)
        rows = self.call(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
            limit=1,
        )
        if not rows:
            raise LookupError(xmlid)
        return rows[0]["res_id"]
