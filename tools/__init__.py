"""Offline tooling for the eks-platform Pulumi program: harness, plan and bench CLIs."""
