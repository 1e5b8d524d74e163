"""One module per provider; each `build(name, config)` returns a ClusterOutputs.

These are the only modules that import a cloud SDK. Each also lists, in SDK_MODULES, the SDK
modules it creates resources from: `qhub plan` imports them while it parses the QHub file in a
second process (qhub/cli/background.py), and tests/test_offline_engine.py checks each list
against the resources a plan creates.
"""
