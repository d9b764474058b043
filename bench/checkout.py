"""Drives checkouts at a steady rate and measures checkout → confirmed latency (see bench/checkout.sh)."""

import json
import statistics
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE, RATE, SECONDS = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])


def call(method, path, token=None, body=None, headers=None):
    request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        request.add_header(k, v)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def customer(n):
    email = f"bench{n}-{int(time.time())}@example.com"
    call("POST", "/api/v1/auth/register", body={"email": email, "password": "password123", "name": "Bench"})
    return call("POST", "/api/v1/auth/login", body={"email": email, "password": "password123"})["access_token"]


time.sleep(2)  # let the projectors catch up with the seed
products = [p["id"] for p in call("GET", "/api/v1/products?limit=100")["items"]]
admin = call("POST", "/api/v1/auth/login", body={"email": "bench-admin@example.com", "password": "password123"})["access_token"]
for product in products:
    call("POST", f"/api/v1/products/{product}/stock", admin, {"delta": 100000})
total = int(RATE * SECONDS)
print(f"preparing {total} customers...", file=sys.stderr)
with ThreadPoolExecutor(16) as pool:
    tokens = list(pool.map(customer, range(total)))

latencies, failures, lock = [], [], threading.Lock()
address = {"name": "Bench", "line1": "1 Load Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def order(i):
    token = tokens[i]
    call("POST", "/api/v1/cart/items", token, {"product_id": products[i % len(products)], "quantity": 1})
    started = time.monotonic()
    placed = call("POST", "/api/v1/cart/checkout", token, {"shipping_address": address, "payment_method": "pm_card_visa"})
    deadline = started + 30
    while time.monotonic() < deadline:
        try:
            status = call("GET", f"/api/v1/orders/{placed['id']}", token, headers={"x-min-position": placed["position"]})["status"]
        except urllib.error.HTTPError:
            status = None
        if status == "confirmed":
            with lock:
                latencies.append(time.monotonic() - started)
            return
        if status == "cancelled":
            print(f"cancelled: {placed['id']}", file=sys.stderr)
            break
        time.sleep(0.02)
    with lock:
        failures.append(placed["id"])


began = time.monotonic()
with ThreadPoolExecutor(128) as pool:
    for i in range(total):
        # Steady arrivals: order i starts at i / RATE seconds.
        delay = began + i / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        pool.submit(order, i)
elapsed = time.monotonic() - began
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
print(f"{len(latencies)} of {total} orders confirmed in {elapsed:.1f} s: {len(latencies) / elapsed:.1f} orders/s sustained")
print(f"checkout -> confirmed visible: p50 {p(0.50):.0f} ms, p99 {p(0.99):.0f} ms (goal: 50 orders/s, p99 < 500 ms)")
print(f"not confirmed: {len(failures)}")
