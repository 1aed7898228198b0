"""Kopf handlers: importing this package registers them (`kopf run -m quckchat_operator.handlers`).

Handlers stay thin: they hand the object to `reconcile`, which reads, renders and applies, and
write back only the status that changed.
"""

from quckchat_operator.handlers import cluster, runtime, servicegroup, workspace

__all__ = ["cluster", "runtime", "servicegroup", "workspace"]
