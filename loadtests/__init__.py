"""Load tests: Locust users replaying the model's operator actions against a system under test."""
