"""The eks-platform CrossGuard policy pack: ``pulumi preview --policy-pack policies`` (see __main__.py)."""
