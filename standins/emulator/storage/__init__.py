"""The Cloud Storage surface (storage.googleapis.com): buckets and objects for training data."""
