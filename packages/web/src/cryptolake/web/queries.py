"""Every GraphQL document the web app sends, in one place (field names as in
``packages/api/schema.graphql``; lists are connections, read through ``nodes``).

Each page sends one query per refresh; ``$asOf`` (``{snapshotId}`` or ``{timestamp}``) re-reads
the page at an earlier state.
"""

from __future__ import annotations

HEALTH = """
query Health($asOf: AsOf) {
  dataHealth(asOf: $asOf) {
    checkedAt trustworthy failingChecks
    tables { layer table rows lastSnapshotId lastCommitAt newestEvent freshnessLagSeconds
             qualityStatus failingChecks }
    lastPipelineRun { runId pipeline status startedAt endedAt error }
  }
}"""

OVERVIEW = """
query Overview($asOf: AsOf, $symbol: String!, $interval: String!, $first: Int!) {
  marketOverview(asOf: $asOf) {
    symbol latestTime price change24h volume24h quoteVolume24h high24h low24h
  }
  candles(symbol: $symbol, interval: $interval, first: $first, orderBy: DESC, asOf: $asOf) {
    nodes { openTime open high low close volume final }
    edges { cursor }
  }
}"""

DUAL = """
query Dual($symbol: String!, $asOf: AsOf) {
  dualPrediction(symbol: $symbol, asOf: $asOf) {
    symbol horizonH agree
    champion { modelName role probUp expectedReturn issuedAt targetTime horizonH }
    challenger { modelName role probUp expectedReturn issuedAt targetTime horizonH }
  }
  modelComparison(symbol: $symbol, asOf: $asOf) {
    modelName horizonH symbol period n accuracy ciLow ciHigh brier bestBaseline
    bestBaselineAccuracy beatsBaseline
  }
}"""

COINS = """
query Coins($asOf: AsOf) { coins(asOf: $asOf) { symbol baseAsset quoteAsset firstDate lastDate } }"""

CHART = """
query Chart($symbol: String!, $interval: String!, $first: Int!, $asOf: AsOf) {
  candles(symbol: $symbol, interval: $interval, first: $first, orderBy: DESC, asOf: $asOf) {
    nodes { openTime closeTime open high low close volume final }
    edges { cursor }
  }
  vwap(symbol: $symbol, first: 200, asOf: $asOf) { nodes { windowStart windowEnd vwap } }
  anomalies(symbol: $symbol, interval: $interval, first: 200, asOf: $asOf) {
    nodes { openTime logReturn zscore threshold }
  }
}"""

CHART_PREDICTIONS = """
query ChartPredictions($model: String!, $symbol: String!, $asOf: AsOf) {
  predictionHistory(model: $model, symbol: $symbol, first: 200, asOf: $asOf) {
    nodes { issuedAt targetTime probUp hit realizedReturn modelName role }
  }
}"""

CANDLES_LIVE = """
subscription Live($symbol: String!, $interval: String!, $after: String) {
  candles(symbol: $symbol, interval: $interval, after: $after) {
    symbol interval openTime open high low close volume final
  }
}"""

COMPARE = """
query Compare($symbol: String!, $asOf: AsOf) {
  marketDaily(symbol: $symbol, first: 120, orderBy: DESC, asOf: $asOf) {
    nodes { symbol date price marketCap totalVolume exchangeVolume change1d ma7d ma30d
            volatility7d }
  }
}"""

FEAR_GREED = """
query FearGreed($asOf: AsOf, $symbol: String!) {
  fearGreed(first: 200, orderBy: DESC, asOf: $asOf) { nodes { date value classification } }
  marketDaily(symbol: $symbol, first: 200, orderBy: DESC, asOf: $asOf) { nodes { date price } }
}"""

SIGNAL = """
query Signal($symbol: String!, $asOf: AsOf) {
  marketDaily(symbol: $symbol, first: 1, orderBy: DESC, asOf: $asOf) {
    nodes { date change1d fearGreedValue fearGreedClass }
  }
}"""

OVERVIEW_SYMBOLS = """
query Symbols($asOf: AsOf) { marketOverview(asOf: $asOf) { symbol price change24h } }"""

SYSTEM = """
query System($asOf: AsOf) {
  dqResults(first: 50, asOf: $asOf) {
    nodes { runId layer suite checkName tableName outcome value message checkedAt }
  }
  alerts(first: 50, asOf: $asOf) {
    nodes { alertId kind severity subject message raisedAt acknowledged acknowledgedAt }
  }
  pipelineRuns(first: 10, asOf: $asOf) {
    nodes { runId pipeline source via status startedAt endedAt error
            steps { step stepIndex status startedAt endedAt rowsIn rowsOut rejected gate error } }
  }
}"""

#: pushed as ``StreamEvent {id kind payload}``; the payload is the run's or step's row (JSON)
PIPELINE_LIVE = """
subscription Runs { pipelineRuns { id kind payload } }"""

ACKNOWLEDGE = """
mutation Ack($id: ID!) { acknowledgeAlert(id: $id) { alertId acknowledgedAt } }"""

RUN_PIPELINE = """
mutation Run { runPipeline { runId pipeline status taskId } }"""

RETRAIN = """
mutation Retrain { retrainModels { runId pipeline status taskId } }"""

MODELS = """
query Models($asOf: AsOf) {
  modelComparison(asOf: $asOf) {
    modelName modelId horizonH symbol period n accuracy ciLow ciHigh brier logLoss
    bestBaseline bestBaselineAccuracy beatsBaseline calibration evaluatedAt
  }
  retrainStatus { state run { runId status startedAt endedAt error } }
}"""

MODEL_HISTORY = """
query History($model: String!, $asOf: AsOf) {
  predictionHistory(model: $model, first: 200, asOf: $asOf) {
    nodes { modelName role symbol issuedAt targetTime probUp hit brier }
  }
}"""

#: the model registry (``models``): the lineage panel; an API without the field is said so
LINEAGE = """
query Lineage { models { modelId name version state trainedSnapshots trainedAt promotedAt } }"""
