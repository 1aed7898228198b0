"""The QuckChat operator: turns a QuckChatCluster into the whole platform on Kubernetes."""
