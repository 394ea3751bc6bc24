"""The bot's monitoring: its /metrics (Prometheus conventions), the alerting rules and the
Grafana dashboard, each checked by its tool's own checker (promtool) on real scrapes."""
