"""Storefront's development tooling: what the tests, the demo and the benchmarks share.

Server launchers (`servers`), an MQTT probe (`mqtt_probe`), test footage (`footage`), the store
simulator and its synthetic data (`simulator`, `synthetic`), composed shelf scenes
(`shelf_scenes`, `shelf_accuracy`) and the demo (`demo*`). Product code never
imports it, except `storefront-edge simulate`, which runs the simulator.
"""
