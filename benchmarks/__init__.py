"""`make bench`: the project's input pipeline, training and prediction measured against the seed's.

The seed article fed its network with Keras 2's `ImageDataGenerator`; `seed_pipeline` rebuilds
that path from the legacy `tf-keras` package, which `make bench` installs (it is not needed
anywhere else).
"""
