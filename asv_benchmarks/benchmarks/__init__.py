"""airspeed velocity benchmarks: spanfast side by side with cleanlab 2.9.0."""
