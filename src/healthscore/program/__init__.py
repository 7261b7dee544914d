"""Running the health program: pipeline gates and drift, model lint, readiness and the pilot, account
hierarchies, interventions and their effect (docs/program.md)."""
