#!/usr/bin/env python3
"""Queue memory per million backlog events (docs/operations.md, "Capacity planning").

Publishes N persistent messages of a typical envelope's size (a HubSpot propertyChange
envelope as the receiver queues it is ~450 bytes; 512 is used) to a fresh durable quorum
queue (no per-message confirms, which would make pika wait on each; the script waits until
the queue holds them all), then prints what RabbitMQ reports for the queue (`list_queues
memory`) and for the node (`rabbitmqctl status` total), before and after, and deletes the queue.

    python3 -m venv /tmp/qm && /tmp/qm/bin/pip install pika==1.3.2
    /tmp/qm/bin/python scripts/queue-memory.py --messages 1000000   # local broker, guest/guest
"""
import argparse, json, subprocess, time

import pika


def node_memory_bytes():
    out = subprocess.run(["rabbitmqctl", "-q", "status", "--formatter", "json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["memory"]["total"]["erlang"]


def queue_memory_bytes(name):
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name", "memory", "messages", "--formatter", "json"],
                         capture_output=True, text=True, check=True)
    for q in json.loads(out.stdout):
        if q["name"] == name:
            return q["memory"], q["messages"]
    return None, None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2f")
    a = p.parse_args()
    name = f"clientsync-bench-queue-memory-{int(time.time())}"
    conn = pika.BlockingConnection(pika.URLParameters(a.url))
    ch = conn.channel()
    ch.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
    before = node_memory_bytes()
    body = b"x" * a.size
    props = pika.BasicProperties(delivery_mode=2)
    started = time.time()
    try:
        for i in range(a.messages):
            ch.basic_publish("", name, body, props, mandatory=False)
        while True:
            qmem, msgs = queue_memory_bytes(name)
            if msgs is not None and msgs >= a.messages:
                break
            time.sleep(1)
        took = time.time() - started
        time.sleep(5)  # let the queue settle before reading memory
        qmem, msgs = queue_memory_bytes(name)
        after = node_memory_bytes()
        print(f"published {a.messages} x {a.size} B persistent to a quorum queue in {took:.0f} s "
              f"({a.messages / took:,.0f}/s); queue reports {msgs} messages")
        print(f"queue memory (list_queues memory): {qmem / 2**20:.1f} MiB")
        print(f"node memory (status total): {before / 2**20:.1f} MiB before, {after / 2**20:.1f} MiB after, "
              f"+{(after - before) / 2**20:.1f} MiB")
        print(f"per million messages: {(after - before) / 2**20 * 1_000_000 / a.messages:.1f} MiB node, "
              f"{qmem / 2**20 * 1_000_000 / a.messages:.1f} MiB queue")
    finally:
        ch.queue_delete(name)
        conn.close()


if __name__ == "__main__":
    main()
