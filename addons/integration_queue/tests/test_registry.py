from odoo.tests import BaseCase, TransactionCase, tagged

from .. import registry
from ..registry import job_target, message_handler


class _Pool(dict):
    """A registry's shape as :func:`registry.scan` reads it: model name -> class."""

    ready = False


class _ModelOne:
    @message_handler("test.duplicate")
    def _handle(self, message, payload):
        return None

    @job_target
    def _job(self):
        return None

    def _undecorated(self):
        return None


class _ModelTwo:
    @message_handler("test.duplicate")
    def _handle_too(self, message, payload):
        return None


class _ModelOneExtended(_ModelOne):
    """An override of a declared method stays the declared one (same model, same name)."""

    def _handle(self, message, payload):
        return super()._handle(message, payload)


class TestRegistryScan(BaseCase):
    def test_declarations_are_found_by_model(self):
        routes = registry.scan(_Pool({"test.one": _ModelOneExtended}))
        self.assertEqual(routes.handler("test.duplicate"), ("test.one", "_handle"))
        self.assertTrue(routes.is_target("test.one", "_job"))
        self.assertFalse(routes.is_target("test.one", "_undecorated"))
        self.assertFalse(routes.is_target("test.one", "_handle"))

    def test_two_handlers_of_one_code_stop_the_load(self):
        with self.assertRaises(registry.RegistryError):
            registry.scan(_Pool({"test.one": _ModelOne, "test.two": _ModelTwo}))

    def test_guard_is_python_only(self):
        self.assertFalse(registry.guarded())
        with registry.write_guard():
            self.assertTrue(registry.guarded())
        self.assertFalse(registry.guarded())


@tagged("post_install", "-at_install")
class TestRegistryRoutes(TransactionCase):
    def test_loaded_registry_knows_the_declared_handlers_and_targets(self):
        routes = registry.routes(self.env.registry)
        self.assertEqual(routes.handler("integration.ping"), ("integration.ping", "_handle"))
        self.assertTrue(routes.is_target("integration.ping", "_job_ping"))
        self.assertTrue(routes.is_target("integration.message", "_deliver_outbound"))
        self.assertFalse(routes.is_target("res.users", "write"))
        self.assertFalse(routes.is_target("integration.ping", "_fail_as_asked"))
        ping = self.env.ref("integration_queue.message_type_ping")
        self.assertEqual((ping.handler_model, ping.handler_method), ("integration.ping", "_handle"))
