"""Platform components (one ComponentResource per module) and the pure helpers they share."""
