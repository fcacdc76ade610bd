"""Models, training and prediction."""
