"""Pure scoring rules of SCORING.md: targets, bands, trajectories, completeness, index, laggards."""
