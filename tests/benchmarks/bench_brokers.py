"""Outbound events relayed onto RabbitMQ and NATS JetStream, baselines measured in the same run.

For each broker, ``BENCH_BROKERS_EVENTS`` events (default 3,000, in 50 facilities,
each facility one ordering key, as ``inventory.availability`` is sent):

- baseline: the same messages published by the client library alone, without
  Odoo, over one connection, one at a time with its confirm (RabbitMQ publisher
  confirm, JetStream publish ack), the way the relay must publish;
- transport: the same through ``integration_queue.transports`` (our module,
  without Odoo);
- relay: outbound messages written by a business transaction (the outbox, not
  timed), then relayed by ``BENCH_BROKERS_RUNNERS`` lane runners (threads of this
  process, each with its cursor, as the lane crons do: claim, attempt, publish,
  audit, commit per job) until every job is done;
- the runner's ceiling: as many no-op jobs through the same runners, to tell the
  cost of the queue's per-job work from the cost of publishing.

Target: relay >= 1,000 events/s per broker. The brokers are the machine's
(RabbitMQ 127.0.0.1:5672 guest/guest, NATS JetStream 127.0.0.1:4222); an exchange,
a queue and a stream of the run's own are made and deleted.
"""

import asyncio
import os
import threading
import time
import uuid

import psycopg2

from odoo import api

from .common import bench_database, load_registry, record

EVENTS = int(os.environ.get("BENCH_BROKERS_EVENTS", "3000"))
RUNNERS = int(os.environ.get("BENCH_BROKERS_RUNNERS", "1"))
FACILITIES = 50
EVENT_TYPE = "bench.broker.event"
AMQP_URL = "amqp://127.0.0.1:5672/%2F"
NATS_URL = "nats://127.0.0.1:4222"


def _payload(index):
    return {
        "event": "below_minimum",
        "facility": f"FAC-{index % FACILITIES:02d}",
        "item": f"BS-{index:05d}",
        "quantity": index % 17,
        "minimum": 20,
        "uom": "Units",
    }


def _messages(prefix):
    import json  # noqa: PLC0415

    from odoo.addons.integration_queue import transports  # noqa: PLC0415

    return [
        transports.Message(
            message_id=f"{prefix}-{index}",
            event_type=EVENT_TYPE,
            body=json.dumps(_payload(index), sort_keys=True).encode(),
            correlation_id=uuid.uuid4().hex,
            facility=_payload(index)["facility"],
        )
        for index in range(EVENTS)
    ]


# ----------------------------------------------------------------------
# baselines: the client libraries alone
# ----------------------------------------------------------------------


def _raw_pika(exchange, messages):
    import pika  # noqa: PLC0415

    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    started = time.perf_counter()
    for message in messages:
        channel.basic_publish(
            exchange,
            f"{EVENT_TYPE}.{message.facility}",
            message.body,
            pika.BasicProperties(
                content_type="application/json",
                delivery_mode=2,
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                type=EVENT_TYPE,
                headers={"X-Correlation-ID": message.correlation_id, "event-type": EVENT_TYPE},
            ),
        )
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def _raw_nats(subject, messages):
    import nats  # noqa: PLC0415

    async def run():
        connection = await nats.connect(NATS_URL)
        jetstream = connection.jetstream(timeout=10)
        started = time.perf_counter()
        for message in messages:
            await jetstream.publish(
                subject,
                message.body,
                headers={
                    "Nats-Msg-Id": message.message_id,
                    "X-Correlation-ID": message.correlation_id,
                },
            )
        elapsed = time.perf_counter() - started
        await connection.close()
        return elapsed

    return asyncio.run(run())


# ----------------------------------------------------------------------
# brokers: the run's own exchange, queue and stream
# ----------------------------------------------------------------------


class Rabbit:
    def __init__(self, exchange):
        import pika  # noqa: PLC0415

        self.exchange = exchange
        self.connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.queue = f"{exchange}.all"
        self.channel.queue_declare(self.queue, durable=True)
        self.channel.queue_bind(self.queue, exchange, routing_key="#")

    def count(self):
        return self.channel.queue_declare(self.queue, passive=True).method.message_count

    def delete(self):
        self.channel.queue_delete(self.queue)
        self.channel.exchange_delete(self.exchange)
        self.connection.close()


class Stream:
    def __init__(self, name, prefix):
        self.name = name
        self.prefix = prefix
        self._call(lambda js: js.add_stream(name=name, subjects=[f"{prefix}.>"]))

    def _call(self, action):
        import nats  # noqa: PLC0415

        async def run():
            connection = await nats.connect(NATS_URL)
            try:
                return await action(connection.jetstream(timeout=10))
            finally:
                await connection.close()

        return asyncio.run(run())

    def count(self):
        async def messages(js):
            return (await js.stream_info(self.name)).state.messages

        return self._call(messages)

    def delete(self):
        self._call(lambda js: js.delete_stream(self.name))


# ----------------------------------------------------------------------
# ours
# ----------------------------------------------------------------------


def _partner(env, channel, unique):
    env["ir.config_parameter"].set_param(
        "integration_queue.outbound_allowed_networks", "127.0.0.0/8"
    )
    env["ir.config_parameter"].set_param("integration_queue.allow_insecure_http", "1")
    message_type = env["integration.message.type"].search([("code", "=", EVENT_TYPE)])
    if not message_type:
        message_type = env["integration.message.type"].create(
            {"code": EVENT_TYPE, "name": "Bench event", "direction": "outbound", "lane": "bulk"}
        )
    vals = {
        "code": f"BENCH-{channel}-{unique}",
        "name": f"Bench {channel}",
        "outbound_channel": channel,
        "outbound_url": AMQP_URL if channel == "amqp" else NATS_URL,
        "subscription_ids": [(6, 0, message_type.ids)],
    }
    if channel == "amqp":
        vals["broker_exchange"] = f"bench.iq.{unique}"
    else:
        vals.update(broker_subject_prefix=f"bench_iq_{unique}", broker_stream=f"BENCH_IQ_{unique}")
    return env["integration.partner"].create(vals)


def _write_outbox(registry, partner_id):
    """The business transaction's part: one outbound message (and job) per event."""
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {"tracking_disable": True})
        partner = env["integration.partner"].browse(partner_id)
        for index in range(EVENTS):
            payload = _payload(index)
            env["integration.message"]._send_outbound(
                partner, EVENT_TYPE, payload, ordering_key=f"facility={payload['facility']}"
            )


def _relay(registry):
    """Lane runners in threads until no job of the lane is left; return seconds."""
    errors = []
    conflicts = []

    def runner():
        threading.current_thread().dbname = registry.db_name
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, 1, {})
                job = env["integration.job"]
                idle = 0
                while idle < 3:
                    try:
                        claimed = job._run_batch("bulk", 50, commit=True)
                    except psycopg2.errors.SerializationFailure:
                        # the two runners bumped the lane counters at once (the lane
                        # cron then fails its run and the next run goes on, as here)
                        cr.rollback()
                        conflicts.append(1)
                        continue
                    if claimed:
                        idle = 0
                    else:
                        # another runner may still hold the last jobs of a key
                        idle += 1
                        time.sleep(0.05)
                    cr.commit()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=runner) for _n in range(RUNNERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started - 3 * 0.05  # the last idle polls
    if errors:
        raise errors[0]
    return elapsed, len(conflicts)


def _states(registry, partner_id):
    with registry.cursor() as cr:
        cr.execute(
            "SELECT state, count(*) FROM integration_message WHERE partner_id = %s GROUP BY state",
            [partner_id],
        )
        return dict(cr.fetchall())


def _bench_channel(registry, channel):
    from odoo.addons.integration_queue import outbound, transports  # noqa: PLC0415

    unique = uuid.uuid4().hex[:8]
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {"tracking_disable": True})
        partner = _partner(env, channel, unique)
        partner_id = partner.id
        partner_vals = partner.read(["broker_exchange", "broker_subject_prefix", "broker_stream"])[
            0
        ]
    broker = (
        Rabbit(partner_vals["broker_exchange"])
        if channel == "amqp"
        else Stream(partner_vals["broker_stream"], partner_vals["broker_subject_prefix"])
    )
    try:
        if channel == "amqp":
            baseline = _raw_pika(partner_vals["broker_exchange"], _messages(f"raw-{unique}"))
        else:
            subject = f"{partner_vals['broker_subject_prefix']}.{EVENT_TYPE}"
            baseline = _raw_nats(subject, _messages(f"raw-{unique}"))
        transport = transports.get_transport(channel)
        policy = outbound.Policy.from_text("127.0.0.0/8", allow_http=True)
        endpoint = transports.resolve(channel, AMQP_URL if channel == "amqp" else NATS_URL, policy)
        config = (
            transport.Config(endpoint=endpoint, exchange=partner_vals["broker_exchange"])
            if channel == "amqp"
            else transport.Config(
                endpoint=endpoint,
                subject_prefix=partner_vals["broker_subject_prefix"],
                stream=partner_vals["broker_stream"],
            )
        )
        module_messages = _messages(f"mod-{unique}")
        started = time.perf_counter()
        results = transport.publish(config, module_messages)
        module_seconds = time.perf_counter() - started
        if not all(result.sent for result in results):
            raise RuntimeError(f"{channel}: the transport did not publish every message")
        _write_outbox(registry, partner_id)
        relay, conflicts = _relay(registry)
        states = _states(registry, partner_id)
        stored = broker.count()
    finally:
        broker.delete()
        transport_module = transports.get_transport(channel)
        transport_module.close_all()
    if states != {"done": EVENTS} or stored != 3 * EVENTS:
        raise RuntimeError(f"{channel}: messages {states}, {stored} stored of {3 * EVENTS}")
    return {
        f"{channel}_library_alone_events_per_s": round(EVENTS / baseline, 1),
        f"{channel}_transport_module_events_per_s": round(EVENTS / module_seconds, 1),
        f"{channel}_relay_events_per_s": round(EVENTS / relay, 1),
        f"{channel}_relay_over_library": round(baseline / relay, 3),
        f"{channel}_relay_seconds": round(relay, 2),
        f"{channel}_relay_counter_conflicts": conflicts,
    }


def _bench_noop_jobs(registry):
    """The runner's own ceiling: as many no-op jobs (``integration.ping._job_ping``), same
    lane, same ordering keys, relayed by the same runners."""
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {"tracking_disable": True})
        job = env["integration.job"]
        for index in range(EVENTS):
            job._enqueue(
                "integration.ping",
                "_job_ping",
                lane="bulk",
                ordering_key=f"noop/facility=FAC-{index % FACILITIES:02d}",
            )
    seconds, _conflicts = _relay(registry)
    return {"runner_noop_jobs_per_s": round(EVENTS / seconds, 1)}


def main():
    with bench_database(["integration_queue"], "brokers") as db:
        registry = load_registry(db)
        figures = {"events": EVENTS, "runners": RUNNERS, "facilities": FACILITIES}
        figures.update(_bench_noop_jobs(registry))
        print("runner", figures, flush=True)
        for channel in ("amqp", "nats"):
            figures.update(_bench_channel(registry, channel))
            print(channel, {k: v for k, v in figures.items() if k.startswith(channel)}, flush=True)
        figures["target"] = "relay >= 1000 events/s per broker"
    record("brokers", figures)
    for key, value in figures.items():
        print(f"{key}: {value}")
