"""The Gemini API surface (generativelanguage.googleapis.com): tunedModels with their tuning
operations, base models and generateContent on tuned models."""
