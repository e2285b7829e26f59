"""Market data: coins, candles of any interval, trades, VWAP, anomalies, daily facts, sentiment."""
