#!/usr/bin/env python3
"""Generates the Grafana dashboards in compose/grafana/dashboards/ (dashboards as code).

    python3 compose/grafana/dashboards.py           # rewrite the JSON files
    python3 compose/grafana/dashboards.py --check   # exit 1 if a JSON file differs from what this generates

Edit the dashboards here, not in the JSON files, then run it. Every query may only name metrics listed in
docs/metrics.md (and `up`); scripts/validate-deploy.sh checks that, and that each query parses as PromQL.
Standard library only.
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "prometheus"}  # provisioning/datasources/prometheus.yml
ROLES = "command-api|query-api|projectors|saga|relay"
RI = "$__rate_interval"


class Layout:
    """Places panels left to right on Grafana's 24-column grid, wrapping rows."""

    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.row_h = 0

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.newline()
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)

    def newline(self):
        if self.x:
            self.y += self.row_h
        self.x = 0
        self.row_h = 0

    def row(self, title):
        self.newline()
        self.panels.append(
            {
                "id": len(self.panels) + 1,
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
                "panels": [],
            }
        )
        self.y += 1


def targets(*queries):
    """queries: (expr, legend) pairs."""
    return [
        {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend, "range": True}
        for i, (expr, legend) in enumerate(queries)
    ]


def timeseries(title, *queries, unit="short", description="", stack=False, min_zero=True):
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "spanNulls": True}
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    defaults = {"unit": unit, "custom": custom}
    if min_zero:
        defaults["min"] = 0
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": targets(*queries),
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max", "lastNotNull"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def stat(title, expr, unit="short", description="", thresholds=None, legend="", decimals=None, instant=True):
    steps = thresholds or [{"color": "green", "value": None}]
    defaults = {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}
    if decimals is not None:
        defaults["decimals"] = decimals
    target = targets((expr, legend))[0]
    if instant:
        target["instant"] = True
        target["range"] = False
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [target],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "auto",
            "orientation": "auto",
        },
    }


def bargauge(title, expr, legend, unit="short", description=""):
    target = targets((expr, legend))[0]
    target["instant"] = True
    target["range"] = False
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [target],
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "min": 0,
                "thresholds": {"mode": "absolute", "steps": [{"color": "blue", "value": None}]},
            },
            "overrides": [],
        },
        "options": {
            "orientation": "horizontal",
            "displayMode": "gradient",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showUnfilled": True,
        },
    }


RED_AT_1 = [{"color": "green", "value": None}, {"color": "red", "value": 1}]
UP_STEPS = [{"color": "red", "value": None}, {"color": "green", "value": 1}]


def dashboard(uid, title, description, layout, tags=()):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["shop", *tags],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "templating": {"list": []},
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "links": [
            {
                "type": "dashboards",
                "tags": ["shop"],
                "asDropdown": True,
                "title": "Shop dashboards",
                "includeVars": False,
                "keepTime": True,
            }
        ],
        "panels": layout.panels,
    }


def http_panels(l, job):
    sel = f'job="{job}"'
    l.row("HTTP")
    l.add(
        timeseries(
            "Requests/s by route",
            (f"sum by (method, route) (rate(shop_http_requests_total{{{sel}}}[{RI}]))", "{{method}} {{route}}"),
            unit="reqps",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Responses/s by status",
            (f"sum by (status) (rate(shop_http_requests_total{{{sel}}}[{RI}]))", "{{status}}"),
            unit="reqps",
            stack=True,
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Latency by route (p95)",
            (
                "histogram_quantile(0.95, sum by (le, method, route) "
                f"(rate(shop_http_request_duration_seconds_bucket{{{sel}}}[{RI}])))",
                "{{method}} {{route}}",
            ),
            unit="s",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Error ratio (5xx, and 4xx)",
            (
                f'sum(rate(shop_http_requests_total{{{sel}, status=~"5.."}}[{RI}])) '
                f"/ sum(rate(shop_http_requests_total{{{sel}}}[{RI}]))",
                "5xx",
            ),
            (
                f'sum(rate(shop_http_requests_total{{{sel}, status=~"4.."}}[{RI}])) '
                f"/ sum(rate(shop_http_requests_total{{{sel}}}[{RI}]))",
                "4xx",
            ),
            unit="percentunit",
            description="Alert ShopHighErrorRate fires above 2% of 5xx over 5 minutes.",
        ),
        12,
        8,
    )


def replicas_panels(l, job):
    l.add(
        stat(
            f"{job}: replicas up",
            f'sum(up{{job="{job}"}})',
            thresholds=UP_STEPS,
            description="Scraped replicas answering /metrics.",
        ),
        6,
        4,
    )
    l.add(
        stat(
            f"{job}: dependencies not ready",
            f'count(min by (instance, dependency) (shop_ready{{job="{job}"}}) == 0) or vector(0)',
            thresholds=RED_AT_1,
            description="Replica x dependency pairs whose last readiness check failed (shop_ready == 0).",
        ),
        6,
        4,
    )


def commands_panels(l, job):
    sel = f'job="{job}"'
    l.row("Commands")
    l.add(
        timeseries(
            "Commands/s by outcome",
            (f"sum by (outcome) (rate(shop_commands_total{{{sel}}}[{RI}]))", "{{outcome}}"),
            unit="ops",
            stack=True,
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Commands/s by aggregate and command",
            (
                f"sum by (aggregate_type, command) (rate(shop_commands_total{{{sel}}}[{RI}]))",
                "{{aggregate_type}} {{command}}",
            ),
            unit="ops",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Command latency by aggregate (p95, retries included)",
            (
                "histogram_quantile(0.95, sum by (le, aggregate_type) "
                f"(rate(shop_command_duration_seconds_bucket{{{sel}}}[{RI}])))",
                "{{aggregate_type}}",
            ),
            unit="s",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Conflicts and failures/s",
            (
                f'sum by (aggregate_type, outcome) (rate(shop_commands_total{{{sel}, '
                f'outcome=~"version_mismatch|conflict|unavailable|error"}}[{RI}]))',
                "{{aggregate_type}} {{outcome}}",
            ),
            unit="ops",
            description="version_mismatch: a stale If-Match; conflict: retries on concurrent appends ran out; "
            "unavailable: a store could not be reached; error: a bug.",
        ),
        12,
        8,
    )


def overview():
    l = Layout()
    l.row("Health")
    l.add(
        stat(
            "Replicas up by role",
            f'sum by (job) (up{{job=~"{ROLES}"}})',
            legend="{{job}}",
            thresholds=UP_STEPS,
        ),
        12,
        4,
    )
    l.add(
        stat(
            "Dependencies not ready",
            "count(min by (job, instance, dependency) (shop_ready) == 0) or vector(0)",
            thresholds=RED_AT_1,
        ),
        4,
        4,
    )
    l.add(
        stat(
            "Parked messages",
            "sum(max by (queue) (shop_messages_parked)) or vector(0)",
            thresholds=RED_AT_1,
            description="Runbook: docs/operations.md, requeue parked messages.",
        ),
        4,
        4,
    )
    l.add(
        stat(
            "Worst subscriber lag",
            "max(shop_subscriber_lag_seconds) or vector(0)",
            unit="s",
            thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 5}, {"color": "red", "value": 30}],
        ),
        4,
        4,
    )
    l.row("Traffic")
    l.add(
        timeseries(
            "Requests/s by role",
            (f"sum by (job) (rate(shop_http_requests_total[{RI}]))", "{{job}}"),
            unit="reqps",
        ),
        8,
        8,
    )
    l.add(
        timeseries(
            "5xx ratio by role",
            (
                f'sum by (job) (rate(shop_http_requests_total{{status=~"5.."}}[{RI}])) '
                f"/ sum by (job) (rate(shop_http_requests_total[{RI}]))",
                "{{job}}",
            ),
            unit="percentunit",
        ),
        8,
        8,
    )
    l.add(
        timeseries(
            "Latency by role (p95)",
            (
                "histogram_quantile(0.95, sum by (le, job) "
                f"(rate(shop_http_request_duration_seconds_bucket[{RI}])))",
                "{{job}}",
            ),
            unit="s",
        ),
        8,
        8,
    )
    l.row("Write side and pipeline")
    l.add(
        timeseries(
            "Commands/s by outcome (all roles)",
            (f"sum by (outcome) (rate(shop_commands_total[{RI}]))", "{{outcome}}"),
            unit="ops",
            stack=True,
        ),
        8,
        8,
    )
    l.add(
        timeseries(
            "Events appended/s by aggregate",
            (f"sum by (aggregate_type) (rate(shop_events_appended_total[{RI}]))", "{{aggregate_type}}"),
            unit="ops",
            stack=True,
        ),
        8,
        8,
    )
    l.add(
        timeseries(
            "Subscriber lag",
            ("max by (subscriber) (shop_subscriber_lag_seconds)", "{{subscriber}}"),
            unit="s",
            description="Age of the oldest unprocessed event per projector and for the relay. "
            "Alert ShopSubscriberLagging: above 30s for 5 minutes.",
        ),
        8,
        8,
    )
    l.add(
        timeseries(
            "Messages/s",
            (f"sum(rate(shop_messages_published_total[{RI}]))", "published"),
            (f"sum by (outcome) (rate(shop_messages_consumed_total[{RI}]))", "consumed {{outcome}}"),
            unit="ops",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Orders per hour",
            (f"sum(rate(shop_orders_placed_total[{RI}])) * 3600", "placed"),
            (f"sum(rate(shop_orders_confirmed_total[{RI}])) * 3600", "confirmed"),
            (f"sum(rate(shop_orders_cancelled_total[{RI}])) * 3600", "cancelled"),
            unit="short",
        ),
        12,
        8,
    )
    return dashboard(
        "shop-overview",
        "Shop: system overview",
        "Every role at a glance: health, traffic, the write side, the event pipeline and orders.",
        l,
        tags=("overview",),
    )


def command_api():
    l = Layout()
    l.row("Replicas")
    replicas_panels(l, "command-api")
    l.add(
        stat(
            "Events appended/s",
            f'sum(rate(shop_events_appended_total{{job="command-api"}}[5m]))',
            unit="ops",
            decimals=1,
        ),
        6,
        4,
    )
    l.add(
        stat(
            "Commands rejected/s",
            f'sum(rate(shop_commands_total{{job="command-api", outcome="rejected"}}[5m])) or vector(0)',
            unit="ops",
            decimals=2,
            description="Refused by a business rule (4xx); not a fault of the system.",
        ),
        6,
        4,
    )
    http_panels(l, "command-api")
    commands_panels(l, "command-api")
    l.add(
        timeseries(
            "Events appended/s by aggregate",
            (
                f'sum by (aggregate_type) (rate(shop_events_appended_total{{job="command-api"}}[{RI}]))',
                "{{aggregate_type}}",
            ),
            unit="ops",
            stack=True,
        ),
        24,
        8,
    )
    return dashboard(
        "shop-command-api",
        "Shop: command-api",
        "The write endpoints: HTTP traffic, commands through the CommandBus, events appended.",
        l,
        tags=("role",),
    )


def query_api():
    l = Layout()
    l.row("Replicas")
    replicas_panels(l, "query-api")
    l.add(
        stat(
            "Requests/s",
            f'sum(rate(shop_http_requests_total{{job="query-api"}}[5m]))',
            unit="reqps",
            decimals=1,
        ),
        6,
        4,
    )
    l.add(
        stat(
            "Latency p95 (5m)",
            "histogram_quantile(0.95, sum by (le) "
            '(rate(shop_http_request_duration_seconds_bucket{job="query-api"}[5m])))',
            unit="s",
            thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 0.1}, {"color": "red", "value": 0.5}],
        ),
        6,
        4,
    )
    http_panels(l, "query-api")
    l.row("Freshness of the read models")
    l.add(
        timeseries(
            "Projector lag (seconds)",
            ('max by (subscriber) (shop_subscriber_lag_seconds{subscriber!="relay"})', "{{subscriber}}"),
            unit="s",
            description="What the read endpoints serve is this far behind the event store.",
        ),
        24,
        8,
    )
    l.row("Near cache (ADR 0010)")
    l.add(
        timeseries(
            "Hot reads served from memory",
            (
                'sum(rate(shop_near_cache_reads_total{job="query-api", outcome="hit"}[5m])) '
                '/ sum(rate(shop_near_cache_reads_total{job="query-api"}[5m]))',
                "hit ratio",
            ),
            unit="percentunit",
            description="Products, stock and carts answered from the replica's memory instead of Redis.",
        ),
        18,
        8,
    )
    l.add(
        stat(
            "Replicas subscribed",
            'sum(shop_near_cache_live{job="query-api"})',
            description="Replicas hearing the writers' announcements; the others read Redis every time.",
        ),
        6,
        8,
    )
    return dashboard(
        "shop-query-api",
        "Shop: query-api",
        "The read endpoints and the storefront: HTTP traffic, latency, and how fresh the read models are.",
        l,
        tags=("role",),
    )


def projectors():
    l = Layout()
    sel = 'subscriber!="relay"'
    l.row("Replicas")
    replicas_panels(l, "projectors")
    l.add(
        stat(
            "Worst projector lag",
            f"max(shop_subscriber_lag_seconds{{{sel}}}) or vector(0)",
            unit="s",
            thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 5}, {"color": "red", "value": 30}],
        ),
        6,
        4,
    )
    l.add(
        stat(
            "Events projected/s",
            f"sum(rate(shop_subscriber_events_total{{{sel}}}[5m]))",
            unit="ops",
            decimals=1,
        ),
        6,
        4,
    )
    l.row("Projectors")
    l.add(
        timeseries(
            "Lag by projector (seconds)",
            (f"max by (subscriber) (shop_subscriber_lag_seconds{{{sel}}})", "{{subscriber}}"),
            unit="s",
            description="Age of the oldest event the projector has not applied; 0 when caught up. "
            "Alert ShopSubscriberLagging: above 30s for 5 minutes.",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Lag by projector (events)",
            (f"max by (subscriber) (shop_subscriber_lag_events{{{sel}}})", "{{subscriber}}"),
            unit="short",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Events processed/s by projector",
            (f"sum by (subscriber) (rate(shop_subscriber_events_total{{{sel}}}[{RI}]))", "{{subscriber}}"),
            unit="ops",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Checkpoint position by projector",
            (f"max by (subscriber) (shop_subscriber_checkpoint_position{{{sel}}})", "{{subscriber}}"),
            unit="none",
            min_zero=False,
            description="Should climb with the feed; a flat line while others move means a stuck projector.",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Events appended/s (the feed's growth)",
            (f"sum(rate(shop_events_appended_total[{RI}]))", "appended"),
            (f"sum(rate(shop_subscriber_events_total{{{sel}}}[{RI}])) / count(count by (subscriber) "
             f"(shop_subscriber_events_total{{{sel}}}))", "projected, per projector (mean)"),
            unit="ops",
        ),
        24,
        8,
    )
    return dashboard(
        "shop-projectors",
        "Shop: projectors",
        "Feed subscribers that build the MongoDB and Redis read models: lag, throughput, checkpoints.",
        l,
        tags=("role",),
    )


def saga_relay():
    l = Layout()
    l.row("Replicas")
    replicas_panels(l, "saga")
    replicas_panels(l, "relay")
    l.row("Relay: feed to RabbitMQ")
    l.add(
        timeseries(
            "Relay lag",
            ('max(shop_subscriber_lag_seconds{subscriber="relay"})', "seconds"),
            unit="s",
        ),
        8,
        8,
    )
    l.add(
        timeseries(
            "Relay lag (events)",
            ('max(shop_subscriber_lag_events{subscriber="relay"})', "events"),
            unit="short",
        ),
        8,
        8,
    )
    l.add(
        timeseries(
            "Messages published/s (broker confirmed)",
            (f"sum by (exchange) (rate(shop_messages_published_total[{RI}]))", "{{exchange}}"),
            unit="ops",
        ),
        8,
        8,
    )
    l.row("Saga: checkout process manager")
    l.add(
        timeseries(
            "Checkout instances by state",
            ("max by (state) (shop_saga_instances)", "{{state}}"),
            unit="short",
            stack=True,
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Messages consumed/s by queue and outcome",
            (f"sum by (queue, outcome) (rate(shop_messages_consumed_total[{RI}]))", "{{queue}} {{outcome}}"),
            unit="ops",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Retries/s and parkings/s by queue",
            (f"sum by (queue) (rate(shop_messages_retried_total[{RI}]))", "retried {{queue}}"),
            (f"sum by (queue) (rate(shop_messages_parked_total[{RI}]))", "parked {{queue}}"),
            unit="ops",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Parked messages waiting",
            ("max by (queue) (shop_messages_parked)", "{{queue}}"),
            unit="short",
            description="Alert ShopMessagesParked fires above 0. Runbook: docs/operations.md.",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Commands sent by the saga/s",
            (
                f'sum by (command, outcome) (rate(shop_commands_total{{job="saga"}}[{RI}]))',
                "{{command}} {{outcome}}",
            ),
            unit="ops",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Payments/s by outcome",
            (f"sum by (outcome) (rate(shop_payments_total[{RI}]))", "{{outcome}}"),
            unit="ops",
        ),
        12,
        8,
    )
    return dashboard(
        "shop-saga-relay",
        "Shop: saga and relay",
        "The relay (feed to RabbitMQ) and the checkout saga: lag, messages, retries, parked messages, payments.",
        l,
        tags=("role",),
    )


def business():
    l = Layout()
    rng = "$__range"
    l.row("In the selected time range")
    l.add(stat("Orders placed", f"sum(increase(shop_orders_placed_total[{rng}]))", decimals=0), 4, 4)
    l.add(stat("Orders confirmed", f"sum(increase(shop_orders_confirmed_total[{rng}]))", decimals=0), 4, 4)
    l.add(stat("Orders cancelled", f"sum(increase(shop_orders_cancelled_total[{rng}]))", decimals=0), 4, 4)
    l.add(
        stat(
            "Conversion (confirmed / placed)",
            f"sum(increase(shop_orders_confirmed_total[{rng}])) / sum(increase(shop_orders_placed_total[{rng}]))",
            unit="percentunit",
            decimals=1,
            thresholds=[{"color": "red", "value": None}, {"color": "orange", "value": 0.8}, {"color": "green", "value": 0.95}],
        ),
        4,
        4,
    )
    l.add(
        stat(
            "Payment failure rate",
            f'sum(increase(shop_payments_total{{outcome="declined"}}[{rng}])) '
            f'/ sum(increase(shop_payments_total{{outcome=~"authorized|declined"}}[{rng}]))',
            unit="percentunit",
            decimals=1,
            thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 0.05}, {"color": "red", "value": 0.15}],
            description="Declined / (authorized + declined) authorizations.",
        ),
        4,
        4,
    )
    l.add(
        stat(
            "Payments declined",
            f'sum(increase(shop_payments_total{{outcome="declined"}}[{rng}])) or vector(0)',
            decimals=0,
        ),
        4,
        4,
    )
    l.add(
        bargauge(
            "Revenue by currency",
            f"sum by (currency) (increase(shop_revenue_minor_units_total[{rng}])) / 100",
            "{{currency}}",
            description="Captured payments, in major units assuming 2 decimal places "
            "(for JPY and other 0-decimal currencies the figure is 100x too small).",
        ),
        12,
        6,
    )
    l.add(
        bargauge(
            "Cancellations by reason",
            f"sum by (reason) (increase(shop_orders_cancelled_total[{rng}]))",
            "{{reason}}",
        ),
        12,
        6,
    )
    l.row("Over time")
    l.add(
        timeseries(
            "Orders per hour",
            (f"sum(rate(shop_orders_placed_total[{RI}])) * 3600", "placed"),
            (f"sum(rate(shop_orders_confirmed_total[{RI}])) * 3600", "confirmed"),
            (f"sum(rate(shop_orders_cancelled_total[{RI}])) * 3600", "cancelled"),
            unit="short",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Cancellations per hour by reason",
            (f"sum by (reason) (rate(shop_orders_cancelled_total[{RI}])) * 3600", "{{reason}}"),
            unit="short",
            stack=True,
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Revenue per hour by currency",
            (f"sum by (currency) (rate(shop_revenue_minor_units_total[{RI}])) * 3600 / 100", "{{currency}}"),
            unit="short",
            description="Major units, assuming 2 decimal places.",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Conversion (confirmed / placed, hourly window)",
            (
                "sum(increase(shop_orders_confirmed_total[1h])) / sum(increase(shop_orders_placed_total[1h]))",
                "conversion",
            ),
            unit="percentunit",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Payments per hour by outcome",
            (f"sum by (outcome) (rate(shop_payments_total[{RI}])) * 3600", "{{outcome}}"),
            unit="short",
        ),
        12,
        8,
    )
    l.add(
        timeseries(
            "Payment failure rate (hourly window)",
            (
                'sum(increase(shop_payments_total{outcome="declined"}[1h])) '
                '/ sum(increase(shop_payments_total{outcome=~"authorized|declined"}[1h]))',
                "declined / attempted",
            ),
            unit="percentunit",
        ),
        12,
        8,
    )
    return dashboard(
        "shop-business",
        "Shop: business",
        "Orders placed, confirmed and cancelled (by reason), revenue by currency, conversion, payment failures.",
        l,
        tags=("business",),
    )


DASHBOARDS = {
    "shop-overview.json": overview,
    "shop-command-api.json": command_api,
    "shop-query-api.json": query_api,
    "shop-projectors.json": projectors,
    "shop-saga-relay.json": saga_relay,
    "shop-business.json": business,
}


def render(build):
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv[1:]
    stale = []
    for name, build in DASHBOARDS.items():
        path = OUT / name
        text = render(build)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    extra = sorted(p.name for p in OUT.glob("*.json") if p.name not in DASHBOARDS)
    if check and (stale or extra):
        for name in stale:
            print(f"dashboards: {name} differs from compose/grafana/dashboards.py's output", file=sys.stderr)
        for name in extra:
            print(f"dashboards: {name} is not generated by compose/grafana/dashboards.py", file=sys.stderr)
        print("dashboards: run python3 compose/grafana/dashboards.py and commit the result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
