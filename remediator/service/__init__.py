"""The service: one pass of watch → plan → pull requests (``one_pass``), repeated by ``daemon``,
fed by the live cluster (``watcher``), observed through logs, metrics and health (``observe``).
Import the modules themselves."""
