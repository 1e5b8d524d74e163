"""QHub on Pulumi: one YAML file per stack becomes a data-science platform on Kubernetes."""
