#!/usr/bin/env bash
# The README's first command: on a fresh machine, set up and start the whole stack, replay the
# bundled real market data through the live path (Kafka → the Spark stream job → Bronze) and the
# batch path, run the daily pipeline (Bronze → Silver → gate → Gold → gate) on the Celery
# workers, and print where to look. Run twice, it does no work twice and ends in the same state.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
HOME_DIR="${CRYPTOLAKE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/cryptolake}"
step() { printf '\n\033[1;34m==> [%s] %s\033[0m\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
started=$SECONDS

step "1/5 python environment"
scripts/bootstrap.sh
CLI="$HOME_DIR/venv/bin/cryptolake"

step "2/5 the stack: install what is missing, start every service and the Celery workers"
"$CLI" stack setup
# Trino, the API (which answers from it) and the web app are started, not waited for: the
# pipeline's replay, Bronze and Silver steps need only Kafka, PostgreSQL and S3, and run while
# Trino comes up; its Trino steps (the Silver gate, dbt) wait for it
"$CLI" stack up --no-wait trino --no-wait api --no-wait web

step "3/5 the daily pipeline on the bundled real data, on the workers"
# replay → Kafka (+ Bronze for the batch feeds) → the Spark stream job catches Bronze up with
# Kafka → Silver (Spark MERGE) → Silver gate → Gold (dbt, audited, published). A window that
# already succeeded is not run again.
"$CLI" pipeline run --source replay --via-workers
"$CLI" stack up  # Trino, the API and the web app: up by now; waited for, checked

step "3b/5 the models: retrain on the workers (fast settings), predict, and the verdict"
# cryptolake.ml.retrain_models: walk-forward against the baselines, registry, champion/challenger
"$CLI" ml train --fast --wait --if-changed --timeout 1200  # a rerun on the same Gold skips it
"$CLI" ml predict --if-changed  # the same Gold and models as the last predictions: nothing to add
"$CLI" ml models

step "4/5 the long-lived stream job (Kafka → Bronze), for live data"
# started, not waited for: its Spark driver comes up (~10 s) while the summary below is read;
# its state is printed last
"$CLI" stream start --wait 0

step "5/5 what is where"
"$CLI" lakehouse summary
"$CLI" stack status
"$CLI" stream status
echo
echo "Trino:       http://127.0.0.1:$("$CLI" config show --json | "$HOME_DIR/venv/bin/python" -c 'import json,sys; print({r["name"]: r["value"] for r in json.load(sys.stdin)}["CRYPTOLAKE_TRINO__PORT"])')  (catalog lakehouse: bronze, silver, gold, ops)"
echo "Pipeline:    $CLI pipeline status"
echo "Quality:     $CLI quality report"
API_URL="http://${CRYPTOLAKE_API__HOST:-127.0.0.1}:${CRYPTOLAKE_API__PORT:-18000}/graphql"
echo "GraphQL:     $API_URL  (GraphiQL in a browser; docs/api.md)"
cat <<EOF_QUERY
  try:       curl -s $API_URL -H 'content-type: application/json' \\
               -d '{"query": "{ marketOverview { symbol price change24h } candles(symbol: \\"BTCUSDT\\", interval: \\"1w\\", first: 3) { nodes { openTime open close } } }"}'
EOF_QUERY
echo "Web app:     http://${CRYPTOLAKE_WEB__HOST:-127.0.0.1}:${CRYPTOLAKE_WEB__PORT:-13000}/  (market, charts, compare, fear & greed, signals, data & system, model lab; docs/web.md)"
echo "done in $((SECONDS - started))s"
