"""Deletes what earlier test and benchmark runs left in RabbitMQ and MongoDB.

Each test, end-to-end run and benchmark works under its own names so that runs can share the servers:
RabbitMQ queues and exchanges prefixed `test:<id>:`, `e2e_<...>` or `bench...`, MongoDB databases
`shop_test_<id>`, `shop_bench_<id>` or `bench_<...>`. Nothing deletes them when a run ends. scripts/test.sh
runs this before its tests start, so nothing of a running test is touched; the shop's own names (no prefix,
database `shop`) are left alone.

    python3 scripts/clean-leftovers.py   (AMQP_URL, MONGODB_URL as for the shop)
"""

import os
import subprocess
import sys

import pika
import pymongo

AMQP_PREFIXES = ("test:", "e2e_", "bench")
MONGO_PREFIXES = ("shop_test_", "shop_bench_", "bench_")


def broker_names(kind):
    listed = subprocess.run(
        ["rabbitmqctl", "-q", f"list_{kind}", "name"], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split("\n")
    return [n.strip() for n in listed if n.strip().startswith(AMQP_PREFIXES)]


def clean_broker():
    queues, exchanges = broker_names("queues"), broker_names("exchanges")
    if queues or exchanges:
        url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        for queue in queues:
            channel.queue_delete(queue=queue)
        for exchange in exchanges:
            channel.exchange_delete(exchange=exchange)
        connection.close()
    return f"{len(queues)} queues and {len(exchanges)} exchanges"


def clean_mongo():
    url = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/?directConnection=true")
    client = pymongo.MongoClient(url)
    leftovers = [n for n in client.list_database_names() if n.startswith(MONGO_PREFIXES)]
    for name in leftovers:
        client.drop_database(name)
    client.close()
    return f"{len(leftovers)} MongoDB databases"


def main():
    print(f"clean-leftovers: deleted {clean_broker()}, {clean_mongo()} left by earlier runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
