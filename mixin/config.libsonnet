// What a user of the mixin may change. Override with
//   (import 'mixin.libsonnet') + { _config+:: { cognitoExporterJob: 'cognito' } }
//
// Durations are Prometheus durations of a single unit ('30m', '6h'): the
// alerts' descriptions spell them out ("30 minutes", "6 hours").
{
  _config+:: {
    // The scrape job of the exporter. The alerts on the exporter itself (down,
    // absent, shards) select it; the description of CognitoExporterAbsent
    // names it.
    cognitoExporterJob: 'cognito-exporter',
    cognitoExporterSelector: 'job="%s"' % self.cognitoExporterJob,

    // Each alert links to its section of the runbook: %s is the alert's name
    // in lower case.
    cognitoRunbookURLPattern: 'https://github.com/cognito-exporter/cognito-exporter/blob/main/docs/runbook.md#%s',

    // The exporter polls AWS on an interval (poll.interval, 5m by default) and
    // serves the last completed poll, so the `for:` durations are counted in
    // polls: 15m is three polls, enough that one slow or failed cycle never
    // pages. If you poll less often than every 10m, raise them along with it:
    // cognitoPollsFor is the default of every alert on what a poll found.
    cognitoPollsFor: '15m',

    // cognito-exporter.logging
    cognitoErrorLogsNotDeliveredFor: self.cognitoPollsFor,
    cognitoLogDestinationRemovedFor: '10m',
    // How far back CognitoLogDestinationRemoved remembers a destination: the
    // alert resolves this long after the change.
    cognitoLogDestinationRemovedWindow: '6h',
    // Six polls: lets a destination being created or a deploy in progress
    // settle.
    cognitoLogDestinationBrokenFor: '30m',
    cognitoUserActivityLogsWithoutPlusFor: self.cognitoPollsFor,

    // cognito-exporter.policy
    cognitoPoolPolicyViolationFor: self.cognitoPollsFor,

    // cognito-exporter.polling
    cognitoTargetDownFor: self.cognitoPollsFor,
    cognitoPoolPollFailingFor: self.cognitoPollsFor,
    cognitoStalePoolsFor: '10m',
    // Age of the last completed poll past which the poller counts as hung;
    // exporters younger than this are left alone. 30m is six default
    // intervals: raise it if poll.interval is longer than 10m.
    cognitoPollStalledAfter: '30m',
    cognitoPollStalledFor: '5m',
    // CognitoExporterCycleTimeouts fires on any cycle cut at its deadline
    // within this window.
    cognitoCycleTimeoutsWindow: '1h',

    // cognito-exporter.api
    // The window of the request and error rates.
    cognitoApiRateWindow: '15m',
    // Fraction (0..1) of an operation's requests that AWS throttles.
    cognitoThrottledRatio: 0.1,
    cognitoThrottledFor: '30m',
    cognitoApiErrorsFor: '30m',

    // cognito-exporter.exporter
    cognitoExporterDownFor: '5m',
    cognitoExporterAbsentFor: '15m',

    // cognito-exporter.fleet
    cognitoConfigReloadFailedFor: '5m',
    // Age of the last successful discovery past which it counts as failing;
    // exporters younger than this are left alone. Discovery lists the
    // organization every refresh_interval (10m by default): an hour is six
    // refreshes; raise it if refresh_interval is longer than 20m.
    cognitoDiscoveryFailingAfter: '1h',
    cognitoDiscoveryFailingFor: '5m',
    cognitoShardsMisconfiguredFor: '15m',
  },
}
