#!/usr/bin/env bash
# Runs every test of the workspace. When the PostgreSQL and Redis test servers can be started
# (scripts/test-services.sh, Debian, as root), the store back-ends are tested against them too.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/test-services.sh ] && [ -z "${IPN_TEST_POSTGRES_URL:-}${IPN_TEST_REDIS_URL:-}" ]; then
  if services=$(scripts/test-services.sh); then
    eval "$services"
  elif [ -n "${CI:-}" ]; then
    echo "test.sh: the test services could not be started" >&2
    exit 1
  else
    echo "test.sh: test services unavailable; service-backed tests will be skipped" >&2
  fi
fi
exec cargo test --workspace --all-features "$@"
