"""Development tooling shared by tests, benchmarks and the demo; never shipped to nodes."""
