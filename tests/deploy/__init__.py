"""Installing the bot: the Helm chart (rendered and linted by the real Helm), kept in step with
the Kustomize manifests, and the admission policy that holds its dry-run role to dry runs."""
