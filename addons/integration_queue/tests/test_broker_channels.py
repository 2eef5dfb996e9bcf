"""Outbound events onto RabbitMQ and NATS JetStream, against the real brokers of the
machine (RabbitMQ 127.0.0.1:5672 guest/guest, NATS with JetStream 127.0.0.1:4222).

CI starts nothing: the brokers are the machine's. Each test class declares its own
exchange, queue and stream with a unique name and deletes them afterwards; an
outage is a closed port (127.0.0.1:1), never a stopped server. Without pika or
nats-py these tests fail (the import is the first thing they do), they do not skip.
"""

import asyncio
import importlib
import json
import uuid
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import BaseCase, new_test_user, tagged

from .. import outbound, transports
from ..transports import amqp as amqp_transport
from ..transports import nats as nats_transport
from .common import QueueCase, allow_local_outbound, set_jobs

RABBITMQ_URL = "amqp://127.0.0.1:5672/%2F"
NATS_URL = "nats://127.0.0.1:4222"
CLOSED_PORT = {"amqp": "amqp://127.0.0.1:1/", "nats": "nats://127.0.0.1:1"}
EVENT_TYPE = "test.broker.event"


def _client(module_name):
    """The broker's client library: a missing one fails the test (no skip)."""
    return importlib.import_module(module_name)


class RabbitConsumer:
    """A queue bound to ``exchange`` with ``#``, read with basic_get."""

    def __init__(self, exchange):
        pika = _client("pika")
        self.exchange = exchange
        self.connection = pika.BlockingConnection(
            pika.ConnectionParameters(
                "127.0.0.1", 5672, credentials=pika.PlainCredentials("guest", "guest")
            )
        )
        self.channel = self.connection.channel()
        # the same declaration as the transport's: a durable topic exchange
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare(f"{exchange}.q", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, exchange, routing_key="#")

    def drain(self):
        """Every message waiting: [(routing key, properties, body), ...] in arrival order."""
        received = []
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return received
            received.append((method.routing_key, properties, body))

    def close(self):
        self.channel.queue_delete(self.queue)
        self.channel.exchange_delete(self.exchange)
        self.connection.close()


class JetStreamReader:
    """A stream of its own capturing ``<prefix>.>``, read message by message."""

    def __init__(self, stream, prefix):
        _client("nats")
        self.stream = stream
        self.prefix = prefix
        self._run(self._add())

    def _run(self, coroutine):
        return asyncio.run(coroutine)

    async def _with_js(self, action):
        nats = _client("nats")
        connection = await nats.connect(NATS_URL, connect_timeout=5, allow_reconnect=False)
        try:
            return await action(connection.jetstream(timeout=5))
        finally:
            await connection.close()

    async def _add(self):
        async def add(js):
            await js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"])

        await self._with_js(add)

    def messages(self):
        """Every stored message: [(subject, headers, body), ...] in stream order."""

        async def read(js):
            info = await js.stream_info(self.stream)
            stored = []
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                if not info.state.messages:
                    break
                message = await js.get_msg(self.stream, sequence)
                stored.append((message.subject, message.headers or {}, message.data))
            return stored

        return self._run(self._with_js(read))

    def delete(self):
        async def delete(js):
            await js.delete_stream(self.stream)

        self._run(self._with_js(delete))


class BrokerCase(QueueCase):
    """A partner subscribed to ``test.broker.event`` on a broker channel (set by subclasses)."""

    CHANNEL = None

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.event_type = cls.env["integration.message.type"].create(
            {"code": EVENT_TYPE, "name": "Broker test event", "direction": "outbound"}
        )
        cls.partner.subscription_ids = [(6, 0, cls.event_type.ids)]
        cls.unique = uuid.uuid4().hex[:10]
        allow_local_outbound(cls.env)
        # the cached connections of an earlier class may point at deleted names
        cls.addClassCleanup(amqp_transport.close_all)
        cls.addClassCleanup(nats_transport.close_all)

    def send(self, facility="NORTH-1", n=0, ordering_key=None):
        return self.env["integration.message"]._send_outbound(
            self.partner,
            EVENT_TYPE,
            {"facility": facility, "item": "GLOVE-M", "n": n},
            ordering_key=ordering_key,
        )

    def assert_outage_then_delivery_in_order(self, received):
        """Broker down: the first job fails and is retried later, the next one of the same
        ordering key waits, nothing is lost; fixed, both arrive in order, once each."""
        good_url = self.partner.outbound_url
        self.partner.outbound_url = CLOSED_PORT[self.CHANNEL]
        first = self.send(n=1, ordering_key="facility=NORTH-1")
        second = self.send(n=2, ordering_key="facility=NORTH-1")
        self.run_jobs()
        self.assertEqual(first.state, "failed")
        self.assertIn("cannot connect to 127.0.0.1:1", first.job_ids.last_error)
        self.assertEqual(first.job_ids.attempts, 1)
        self.assertGreater(first.job_ids.eta, fields.Datetime.now())
        self.assertEqual(self.partner.circuit_failures, 1)
        # the younger message of the same key was not even tried
        self.assertEqual((second.state, second.job_ids.attempts), ("queued", 0))
        self.assertEqual(received(), [])

        self.partner.outbound_url = good_url
        set_jobs(first.job_ids, eta="due")
        self.run_jobs()
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual(self.partner.circuit_failures, 0)
        return first, second


@tagged("post_install", "-at_install")
class TestBrokerTransportModules(BaseCase):
    """The plain-python side: names, URLs, the destination policy, the optional libraries."""

    def test_routing_key_and_subject_keep_one_word_per_part(self):
        self.assertEqual(
            amqp_transport.routing_key("inventory.availability", "North Campus.1/*"),
            "inventory.availability.North_Campus_1",
        )
        self.assertEqual(
            nats_transport.subject("hcsc.events", "purchase.order"), "hcsc.events.purchase.order"
        )
        self.assertEqual(nats_transport.subject("p", "a b.>"), "p.a_b._")

    def test_url_carries_no_credentials_and_plain_transport_needs_the_allowance(self):
        with self.assertRaisesRegex(outbound.BlockedDestination, "no credentials"):
            transports.parse_url("amqp", "amqps://guest:guest@broker.example.org/", True)
        with self.assertRaisesRegex(outbound.BlockedDestination, "amqps://"):
            transports.parse_url("amqp", "amqp://broker.example.org/")
        with self.assertRaisesRegex(outbound.BlockedDestination, "tls://"):
            transports.parse_url("nats", "https://broker.example.org/")
        self.assertEqual(
            transports.parse_url("nats", "tls://broker.example.org"),
            ("tls", "broker.example.org", 4222, ""),
        )

    def test_loopback_broker_needs_the_allow_list(self):
        closed = outbound.Policy.from_text("", allow_http=True)
        with self.assertRaisesRegex(outbound.BlockedDestination, "not a public address"):
            transports.resolve("amqp", RABBITMQ_URL, closed)
        with self.assertRaisesRegex(outbound.BlockedDestination, "not a public address"):
            transports.resolve("nats", "nats://localhost:4222", closed)
        opened = outbound.Policy.from_text("127.0.0.0/8", allow_http=True)
        endpoint = transports.resolve("amqp", RABBITMQ_URL, opened)
        self.assertEqual((endpoint.address, endpoint.port), ("127.0.0.1", 5672))

    def test_missing_library_names_the_pin_to_install(self):
        with self.assertRaisesRegex(transports.MissingLibrary, r"install pika==\S+ to deliver"):
            transports.load_library("integration_queue_no_such_client", "amqp")
        # the real libraries are installed where these tests run
        self.assertEqual(transports.library_missing("amqp"), "")
        self.assertEqual(transports.library_missing("nats"), "")
        self.assertEqual(transports.library_missing("http"), "")


@tagged("post_install", "-at_install")
class TestBrokerPartnerSettings(QueueCase):
    def test_broker_password_is_encrypted_and_never_read_back(self):
        self.partner.write(
            {
                "outbound_channel": "amqp",
                "outbound_url": RABBITMQ_URL,
                "broker_exchange": "hcsc.events",
                "broker_username": "odoo",
                "broker_password": "s3cret-pass",
            }
        )
        self.assertFalse(self.partner.broker_password)
        self.assertTrue(self.partner.broker_password_set)
        self.assertNotIn("s3cret-pass", json.dumps(self.partner.read()[0], default=str))
        self.env.cr.execute(
            "SELECT broker_ciphertext FROM integration_partner WHERE id = %s", [self.partner.id]
        )
        ciphertext = self.env.cr.fetchone()[0]
        self.assertNotIn("s3cret-pass", ciphertext)
        self.assertEqual(self.partner._broker_password(), "s3cret-pass")
        events = self.env["integration.audit.event"].search(
            [("event_type", "=", "config_change"), ("res_id", "=", self.partner.id)]
        )
        self.assertIn("Broker password changed", events.mapped("summary"))
        self.assertNotIn("s3cret-pass", json.dumps(events.read(), default=str))
        self.partner.action_clear_broker_password()
        self.assertFalse(self.partner.broker_password_set)
        self.assertEqual(self.partner._broker_password(), "")

    def test_only_a_manager_sets_a_broker_password(self):
        user = new_test_user(
            self.env,
            login="iq_broker_user",
            groups="base.group_user,integration_queue.group_integration_user",
        )
        with self.assertRaises(AccessError):
            self.partner.with_user(user).write({"broker_password": "x"})
        self.assertFalse(self.partner.broker_password_set)

    def test_manager_without_an_email_address_sets_a_broker_password(self):
        manager = new_test_user(
            self.env,
            login="iq_broker_manager_no_mail",
            groups="base.group_user,integration_queue.group_integration_manager",
        )
        manager.partner_id.email = False
        self.partner.with_user(manager).write({"broker_password": "s3cret-pass"})
        self.assertTrue(self.partner.broker_password_set)
        self.partner.with_user(manager).action_clear_broker_password()
        self.assertFalse(self.partner.broker_password_set)
        self.assertIn("Broker password", " ".join(self.partner.message_ids.mapped("body")))

    def test_broker_settings_are_checked_on_save(self):
        with self.assertRaisesRegex(ValidationError, "outbound_url: .*no credentials"):
            self.partner.write(
                {
                    "outbound_channel": "amqp",
                    "outbound_url": "amqp://guest:guest@127.0.0.1/",
                    "broker_exchange": "x",
                }
            )
        with self.assertRaisesRegex(ValidationError, "broker_exchange"):
            self.partner.write(
                {"outbound_channel": "amqp", "outbound_url": RABBITMQ_URL, "broker_exchange": False}
            )
        with self.assertRaisesRegex(ValidationError, "broker_subject_prefix"):
            self.partner.write(
                {
                    "outbound_channel": "nats",
                    "outbound_url": NATS_URL,
                    "broker_subject_prefix": "hcsc.>",
                }
            )
        self.assertFalse(self.partner.broker_warning)


@tagged("post_install", "-at_install")
class TestRabbitMQChannel(BrokerCase):
    CHANNEL = "amqp"

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.exchange = f"test.iq.{cls.unique}"
        cls.partner.write(
            {
                "outbound_channel": "amqp",
                "outbound_url": RABBITMQ_URL,
                "broker_exchange": cls.exchange,
                "broker_username": "guest",
                "broker_password": "guest",
            }
        )

    def setUp(self):
        super().setUp()
        self.consumer = RabbitConsumer(self.exchange)
        self.addCleanup(self.consumer.close)

    def test_events_reach_the_exchange_with_routing_key_id_and_headers(self):
        north = self.send(facility="NORTH-1", n=1)
        south = self.send(facility="SOUTH 2", n=2)
        self.run_jobs()
        self.assertEqual((north.state, south.state), ("done", "done"))
        received = self.consumer.drain()
        self.assertEqual(
            [key for key, _props, _body in received],
            [f"{EVENT_TYPE}.NORTH-1", f"{EVENT_TYPE}.SOUTH_2"],
        )
        for (_key, props, body), message in zip(received, (north, south), strict=True):
            self.assertEqual(props.message_id, message.external_id)
            self.assertEqual(props.correlation_id, message.correlation_id)
            self.assertEqual(props.type, EVENT_TYPE)
            self.assertEqual(props.delivery_mode, 2)
            self.assertEqual(props.content_type, "application/json")
            self.assertEqual(props.headers["X-Correlation-ID"], message.correlation_id)
            self.assertEqual(props.headers["event-type"], EVENT_TYPE)
            self.assertEqual(body.decode(), message.payload)
        self.assertTrue(
            self.env["integration.audit.event"].search(
                [
                    ("correlation_id", "=", north.correlation_id),
                    ("event_type", "=", "outbound_sent"),
                ]
            )
        )

    def test_jobs_publish_over_one_reused_connection(self):
        self.send(n=1)
        self.send(n=2)
        self.run_jobs()
        connections = [entry["connection"] for entry in amqp_transport._cache().values()]
        self.assertEqual(len(connections), 1)
        self.send(n=3)
        self.run_jobs()
        self.assertEqual(
            [entry["connection"] for entry in amqp_transport._cache().values()], connections
        )
        self.assertTrue(connections[0].is_open)
        self.assertEqual(len(self.consumer.drain()), 3)

    def test_exchange_deleted_meanwhile_is_declared_again(self):
        self.send(n=1)
        self.run_jobs()
        self.consumer.channel.exchange_delete(self.exchange)
        # the cached channel publishes to a missing exchange: the broker closes it, and a
        # new connection declares the exchange again instead of failing the message
        message = self.send(n=2)
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.consumer.channel.exchange_declare(self.exchange, passive=True)

    def test_event_without_facility_is_routed_by_company(self):
        message = self.env["integration.message"]._send_outbound(
            self.partner, EVENT_TYPE, {"item": "GLOVE-M"}
        )
        self.run_jobs()
        self.assertEqual(message.state, "done")
        company = transports.token(self.partner.company_id.name)
        self.assertEqual(
            [key for key, _p, _b in self.consumer.drain()], [f"{EVENT_TYPE}.{company}"]
        )

    def test_broker_down_retries_then_delivers_in_order(self):
        first, second = self.assert_outage_then_delivery_in_order(self.consumer.drain)
        received = self.consumer.drain()
        self.assertEqual(
            [props.message_id for _key, props, _body in received],
            [first.external_id, second.external_id],
        )

    def test_open_circuit_defers_without_counting_an_attempt(self):
        self.env["ir.config_parameter"].set_param(
            "integration_queue.circuit_failure_threshold", "1"
        )
        good_url = self.partner.outbound_url
        self.partner.outbound_url = CLOSED_PORT["amqp"]
        failing = self.send(n=1)
        self.run_jobs()
        self.assertEqual(self.partner.circuit_state, "open")
        deferred = self.send(n=2)
        self.run_jobs()
        self.assertEqual(deferred.job_ids.attempts, 0)
        self.assertEqual(deferred.job_ids.eta, self.partner.circuit_open_until)
        self.partner.write(
            {
                "outbound_url": good_url,
                "circuit_open_until": fields.Datetime.now() - timedelta(seconds=1),
            }
        )
        set_jobs(failing.job_ids | deferred.job_ids, eta="due")
        self.run_jobs()
        self.assertEqual((failing.state, deferred.state), ("done", "done"))
        self.assertEqual(self.partner.circuit_state, "closed")
        self.assertEqual(len(self.consumer.drain()), 2)

    def test_loopback_broker_is_refused_without_the_allow_list(self):
        self.env["ir.config_parameter"].set_param("integration_queue.outbound_allowed_networks", "")
        message = self.send()
        self.run_jobs()
        self.assertEqual((message.state, message.error_field), ("exception", "outbound_url"))
        self.assertIn("not a public address", message.error)
        self.assertEqual(self.consumer.drain(), [])

    def test_wrong_password_is_an_exception_not_a_retry(self):
        self.partner.broker_password = "not-the-password"
        message = self.send()
        self.run_jobs()
        self.assertEqual(message.state, "exception")
        self.assertIn("ACCESS_REFUSED", message.error)
        self.assertEqual(self.consumer.drain(), [])


@tagged("post_install", "-at_install")
class TestNatsJetStreamChannel(BrokerCase):
    CHANNEL = "nats"

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.stream = f"TEST_IQ_{cls.unique}"
        cls.prefix = f"test_iq_{cls.unique}"
        cls.partner.write(
            {
                "outbound_channel": "nats",
                "outbound_url": NATS_URL,
                "broker_subject_prefix": cls.prefix,
                "broker_stream": cls.stream,
            }
        )

    def setUp(self):
        super().setUp()
        self.reader = JetStreamReader(self.stream, self.prefix)
        self.addCleanup(self.reader.delete)

    def test_events_reach_the_stream_with_subject_and_message_id(self):
        first = self.send(n=1)
        second = self.send(n=2)
        self.run_jobs()
        self.assertEqual((first.state, second.state), ("done", "done"))
        stored = self.reader.messages()
        self.assertEqual(
            [subject for subject, _headers, _body in stored], [f"{self.prefix}.{EVENT_TYPE}"] * 2
        )
        for (_subject, headers, body), message in zip(stored, (first, second), strict=True):
            self.assertEqual(headers["Nats-Msg-Id"], message.external_id)
            self.assertEqual(headers["X-Correlation-ID"], message.correlation_id)
            self.assertEqual(headers["Event-Type"], EVENT_TYPE)
            self.assertEqual(body.decode(), message.payload)

    def test_jetstream_drops_a_resent_message_id(self):
        message = self.send()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        # at-least-once: the same message published again (a retry after a lost ack)
        again = message._deliver_to_broker(message._get_transport())
        self.assertEqual(again, {"channel": "nats", "duplicate": True})
        self.assertEqual(len(self.reader.messages()), 1)

    def test_subject_of_another_stream_is_refused(self):
        self.partner.broker_stream = f"OTHER_{self.unique}"
        message = self.send()
        self.run_jobs()
        self.assertEqual((message.state, message.error_field), ("exception", "outbound_url"))
        self.assertEqual(self.reader.messages(), [])

    def test_broker_down_retries_then_delivers_in_order(self):
        first, second = self.assert_outage_then_delivery_in_order(self.reader.messages)
        self.assertEqual(
            [headers["Nats-Msg-Id"] for _subject, headers, _body in self.reader.messages()],
            [first.external_id, second.external_id],
        )
