"""healthscore: explainable customer health scoring."""

__version__ = "0.1.0"
