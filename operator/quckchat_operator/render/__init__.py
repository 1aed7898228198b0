"""Pure functions from a QuckChatCluster and the catalog to manifests (plain dicts).

Nothing here talks to an apiserver or imports Kopf: handlers render, then `apply` writes.
"""
