#!/bin/bash
# `make bench`: figures, not assertions. Needs root. See tests/bench/bench.py.
exec python3 "$(dirname "$0")/bench.py" "${1:-build}"
