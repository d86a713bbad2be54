"""The hand-kept list of EKS access policies lives in components/eks_access.py (with its sources)."""

from components.eks_access import EKS_ACCESS_POLICIES

__all__ = ["EKS_ACCESS_POLICIES"]
