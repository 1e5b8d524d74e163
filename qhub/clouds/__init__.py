"""One module per provider; each `build(name, config)` returns a ClusterOutputs.

These are the only modules that import a cloud SDK.
"""
