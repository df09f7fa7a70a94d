// The cognito-exporter monitoring mixin: recording rules (prometheusRules),
// alerts (prometheusAlerts) and the Grafana dashboard (grafanaDashboards),
// configured by _config (config.libsonnet). README.md says how to use it.
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet') +
(import 'dashboards.libsonnet')
