"""Pure functions: config + facts -> Helm values dicts. No Pulumi resources, no cloud SDK."""
