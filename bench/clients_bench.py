"""Benchmark 1: seconds to create one client (`client_create`) with few and with many clients present."""

from time import perf_counter

from django.db import connection

from bench.log import log
from bench.report import Result
from clients.models import Client
from clients.services import client_create

PROBES = 5


def client_count() -> int:
    return Client.objects.exclude(schema_name="public").count()


def timed_create(slug: str) -> tuple[Client, float]:
    started = perf_counter()
    client = client_create(name=f"Bench {slug}", slug=slug)
    return client, perf_counter() - started


def client_drop(client: Client) -> None:
    connection.set_schema_to_public()
    client.delete(force_drop=True)


def probe_creates(prefix: str) -> list[float]:
    """Times PROBES creates; each probe client is dropped again so the count present stays the same."""
    times = []
    for i in range(PROBES):
        client, seconds = timed_create(f"{prefix}{i}")
        times.append(seconds)
        client_drop(client)
    return times


def fill_clients(target: int) -> list[float]:
    """Creates clients bench001… until `target` exist; returns each create's time."""
    times = []
    for i in range(client_count(), target):
        _, seconds = timed_create(f"bench{i:03d}")
        times.append(seconds)
        if (i + 1) % 20 == 0 or i + 1 == target:
            log(f"  {i + 1}/{target} clients (last create {seconds:.2f} s)")
    return times


def run(target: int) -> tuple[Client, list[Result]]:
    """Returns the first client (for the lead benchmarks) and the results."""
    log("client_create: 1 client present")
    first, _ = timed_create("bench000")
    with_one = probe_creates("probea")
    log(f"client_create: filling to {target} clients")
    fill = fill_clients(target)
    log(f"client_create: {target} clients present")
    with_many = probe_creates("probeb")
    results = [
        Result("client_create, 1 client present", PROBES, with_one, "each probe client dropped again"),
        Result(f"client_create, {target} clients present", PROBES, with_many, "each probe client dropped again"),
    ]
    if fill:
        results.append(Result(f"client_create while filling 2→{target}", len(fill), fill, "context"))
    return first, results
