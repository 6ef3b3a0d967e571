"""DBR benchmarks: run with `bench/run`; never part of the test suite (see bench/README.md)."""
