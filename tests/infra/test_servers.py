"""The real servers the suite relies on start, answer, and come back after a stop."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt

from storefront_dev.servers import Influxd, Mosquitto, VictoriaMetrics


def _http(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


def _influxql(server: Influxd, query: str, db: str | None = None) -> dict:
    params = {"q": query, **({"db": db} if db else {})}
    status, body = _http(f"{server.url}/query?{urllib.parse.urlencode(params)}", data=b"")
    assert status == 200
    return json.loads(body)


def test_mosquitto_round_trip_and_retained_message_survives_restart(mosquitto: Mosquitto) -> None:
    received: list[tuple[str, bytes, bool]] = []
    got = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        received.append((msg.topic, msg.payload, msg.retain))
        got.set()

    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="infra-pub")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()
    publisher.publish("infra/retained", b"kept", qos=1, retain=True).wait_for_publish(5)
    publisher.loop_stop()
    publisher.disconnect()

    mosquitto.stop()
    mosquitto.start()

    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="infra-sub")
    subscriber.on_message = on_message
    subscriber.connect("127.0.0.1", mosquitto.port)
    subscriber.subscribe("infra/#", qos=1)
    subscriber.loop_start()
    try:
        assert got.wait(5), "retained message did not arrive after a broker restart"
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    assert received[0] == ("infra/retained", b"kept", True)


def test_influxd_write_and_query(influxd: Influxd) -> None:
    _influxql(influxd, "CREATE DATABASE infra_check")
    lines = (
        b"occupancy,store=s1,zone=window value=3i 1795380000000000000\n"
        b"occupancy,store=s1,zone=window value=5i 1795380060000000000\n"
    )
    status, _ = _http(f"{influxd.url}/write?db=infra_check&precision=ns", data=lines)
    assert status == 204
    result = _influxql(
        influxd, "SELECT sum(value) FROM occupancy WHERE zone='window'", "infra_check"
    )
    assert result["results"][0]["series"][0]["values"][0][1] == 8


def test_victoria_metrics_accepts_v2_line_protocol(victoria: VictoriaMetrics) -> None:
    # VictoriaMetrics drops samples far in the future, so stamp with the current time.
    now_s = int(time.time())
    body = f"footfall,store=s1,line=door in=7i {now_s}\n".encode()
    status, _ = _http(f"{victoria.url}/api/v2/write?org=o&bucket=b&precision=s", data=body)
    assert status == 204
    # VictoriaMetrics makes new samples searchable after a short delay; ask it to flush.
    _http(f"{victoria.url}/internal/force_flush")
    _, exported = _http(f"{victoria.url}/api/v1/export?match[]=footfall_in")
    series = json.loads(exported.splitlines()[0])
    assert series["metric"] == {"__name__": "footfall_in", "store": "s1", "line": "door"}
    assert series["values"] == [7]
    assert series["timestamps"] == [now_s * 1000]
