"""Outcomes, point-in-time labels, backtests, calibration of weights and thresholds, what-if.

Pure functions over pandas frames; the Project facade feeds them snapshots scored with
`Project.score(as_of_dates=..., store=False)` and the engine's outcomes table.
"""
