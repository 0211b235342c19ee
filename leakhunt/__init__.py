"""leakhunt finds hardcoded credentials and moves them into AWS Secrets Manager."""

__version__ = "0.1.0"
