// The Grafana dashboard, kept as the JSON Grafana exports: edit it in Grafana,
// export it (Share -> Export, "Export for sharing externally"), save it as
// dashboards/cognito-exporter.json and re-render. Its panels pick the scrape
// job with the dashboard's own `job` variable, not _config.
{
  grafanaDashboards+:: {
    'cognito-exporter.json': import 'dashboards/cognito-exporter.json',
  },
}
