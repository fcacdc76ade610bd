"""The model side, one sub-package a stage: `networks` (what is trained), `training` (how),
`inference` (using a saved model), `explain` (why it decides), and `export` (for serving)."""
