"""Pure numerical analyses over numpy arrays. Nothing here imports Django or another app."""
