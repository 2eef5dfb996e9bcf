import json

from openapi_spec_validator import validate

from odoo.tests import HttpCase, tagged

from .. import openapi
from ..controllers.openapi import build_openapi_document

HOSTILE = '<script>alert("x")</script><img src="https://evil.example/x.png">'


@tagged("post_install", "-at_install")
class TestOpenApi(HttpCase):
    """The contract is generated from the message types and served without login."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.added_type = cls.env["integration.message.type"].create(
            {
                "code": "test.openapi_added",
                "name": HOSTILE,
                "description": HOSTILE,
                "schema": json.dumps(
                    {
                        "type": "object",
                        "required": ["sku"],
                        "properties": {"sku": {"type": "string"}},
                    }
                ),
            }
        )
        cls.added_outbound = cls.env["integration.message.type"].create(
            {"code": "test.openapi_event", "name": "Event", "direction": "outbound"}
        )

    def get(self, path):
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200, response.text)
        return response

    def test_served_document_is_valid_openapi_31(self):
        document = self.get("/integration/v1/openapi.json").json()
        validate(document)
        self.assertEqual(document["openapi"], "3.1.0")

    def test_every_message_type_appears_without_code_changes(self):
        document = self.get("/integration/v1/openapi.json").json()
        inbound = self.env["integration.message.type"].search([("direction", "=", "inbound")])
        outbound = self.env["integration.message.type"].search([("direction", "=", "outbound")])
        for code in inbound.mapped("code"):
            self.assertIn(f"/integration/v1/inbound/{code}", document["paths"])
        self.assertEqual(set(document["webhooks"]), set(outbound.mapped("code")))
        added = document["paths"]["/integration/v1/inbound/test.openapi_added"]["post"]
        self.assertEqual(
            added["requestBody"]["content"]["application/json"]["schema"]["required"], ["sku"]
        )
        self.assertIn("test.openapi_event", document["webhooks"])

    def test_operations_document_headers_answers_and_error_object(self):
        document = self.get("/integration/v1/openapi.json").json()
        operation = document["paths"]["/integration/v1/inbound/integration.ping"]["post"]
        names = {openapi._resolve(document, param)["name"] for param in operation["parameters"]}
        self.assertEqual(
            names,
            {
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                "X-Partner-Code",
                "X-Correlation-ID",
            },
        )
        self.assertEqual(
            set(operation["responses"]),
            {"200", "202", "400", "401", "403", "404", "413", "415", "422", "429", "503"},
        )
        status = document["paths"]["/integration/v1/messages/{id}"]["get"]
        self.assertEqual(set(status["responses"]), {"200", "400", "401", "404"})
        error = document["components"]["schemas"]["Error"]["properties"]["error"]
        self.assertEqual(error["required"], ["code", "message", "field", "correlation_id"])
        for path in (
            "/integration/v1/messages/{id}",
            "/integration/v1/health",
            "/integration/v1/metrics",
        ):
            self.assertIn(path, document["paths"])
        self.assertEqual(
            document["paths"]["/integration/v1/metrics"]["get"]["security"], [{"MetricsToken": []}]
        )

    def test_served_document_is_the_one_built_from_the_registry(self):
        served = self.get("/integration/v1/openapi.json").text
        self.assertEqual(served, openapi.dumps(build_openapi_document(self.env)))

    def test_docs_page_is_self_contained_and_escapes_type_text(self):
        response = self.get("/integration/v1/docs")
        html = response.text
        self.assertIn("text/html", response.headers["Content-Type"])
        self.assertIn("default-src 'none'", response.headers["Content-Security-Policy"])
        self.assertIn("test.openapi_added", html)
        self.assertNotIn("<script", html)
        self.assertNotIn("<img", html)
        self.assertIn("&lt;script&gt;", html)
        self.assertNotIn('src="http', html)
        self.assertNotIn('href="http', html)
