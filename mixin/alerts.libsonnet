// Alerting rules. Their thresholds and `for:` durations come from _config
// (config.libsonnet), which says why each default is what it is.
//
// A sharded fleet (--shard, --total-shards) exports each (account, region)
// target from one replica only, while every replica has its own up,
// process_*, build info, shard, discovery and reload series: rules on those
// keep `instance`, or compare the replicas by (job, namespace), and never add
// one replica's numbers to another's.
//
// Every alert has a runbook section (docs/runbook.md) and unit tests
// (deploy/prometheus/rules.test.yml) where it fires and where it stays quiet.
local u = import 'lib/utils.libsonnet';

{
  local c = $._config,
  local alert(name, rule) = { alert: name } + rule + {
    annotations+: { runbook_url: c.cognitoRunbookURLPattern % std.asciiLower(name) },
  },

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'cognito-exporter.logging',
        rules: [
          // The userNotification ERROR -> CloudWatch Logs destination is the one
          // that records failed SMS and email deliveries; every pool should have it.
          alert('CognitoUserPoolErrorLogsNotDelivered', {
            expr: |||
              (
                max by (aws_account_id, aws_region, pool) (
                  cognito_log_destination_configured{source="userNotification", level="ERROR", kind="cloudwatch_logs"}
                ) == 0
              )
              * on (aws_account_id, aws_region, pool) group_left (name)
              max by (aws_account_id, aws_region, pool, name) (cognito_user_pool_info)
            |||,
            'for': c.cognitoErrorLogsNotDeliveredFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Cognito user pool {{ $labels.pool }} does not deliver error logs to CloudWatch Logs.',
              description: u.fold(|||
                User pool {{ $labels.pool }} ("{{ $labels.name }}") in account
                {{ $labels.aws_account_id }}, region {{ $labels.aws_region }}, has no
                userNotification ERROR log delivery to CloudWatch Logs, so failed
                SMS and email deliveries go unrecorded.
              |||),
            },
          }),

          // Series identity: the configured matrix has no `arn` label, so one
          // series per (pool, source, level, kind) stays the same across the
          // change from 1 to 0. Aggregating away job/instance keeps that true when
          // the exporter pod is replaced. Deleted and stale pools lose their
          // series altogether, so they never match the `== 0` side.
          alert('CognitoLogDestinationRemoved', {
            expr: |||
              (
                max by (aws_account_id, aws_region, pool, source, level, kind) (cognito_log_destination_configured) == 0
              )
              and on (aws_account_id, aws_region, pool, source, level, kind)
              (
                max by (aws_account_id, aws_region, pool, source, level, kind) (
                  max_over_time(cognito_log_destination_configured[%(window)s])
                ) == 1
              )
            ||| % { window: c.cognitoLogDestinationRemovedWindow },
            'for': c.cognitoLogDestinationRemovedFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'A log destination of Cognito user pool {{ $labels.pool }} was removed.',
              description: u.fold(|||
                User pool {{ $labels.pool }} in account {{ $labels.aws_account_id }},
                region {{ $labels.aws_region }}, delivered {{ $labels.source }}
                {{ $labels.level }} logs to {{ $labels.kind }} within %(last)s
                and no longer does. The alert resolves when the destination is
                restored, or %(window)s after the change.
              ||| % {
                last: u.last(c.cognitoLogDestinationRemovedWindow),
                window: u.words(c.cognitoLogDestinationRemovedWindow),
              }),
            },
          }),

          // Only with checks.destinations: true. Cognito keeps a configuration
          // whose destination cannot take the logs (gone, a KMS-encrypted log
          // group, another account's, a delivery stream not ACTIVE) and drops
          // the logs without a word. 30m (six polls) lets a destination being
          // created or a deploy in progress settle. A change of status (say
          // not_found to access_denied) starts the wait again.
          alert('CognitoLogDestinationBroken', {
            expr: |||
              max by (aws_account_id, aws_region, pool, source, level, kind, status) (
                cognito_log_destination_status{status!="ok"}
              ) == 1
            |||,
            'for': c.cognitoLogDestinationBrokenFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'A log destination of Cognito user pool {{ $labels.pool }} fails its check ({{ $labels.status }}).',
              description: u.fold(|||
                User pool {{ $labels.pool }} in account {{ $labels.aws_account_id }},
                region {{ $labels.aws_region }}, delivers {{ $labels.source }}
                {{ $labels.level }} logs to a {{ $labels.kind }} destination whose
                check has said {{ $labels.status }} for %(for)s: Cognito may be
                dropping those logs.
              ||| % { 'for': u.words(c.cognitoLogDestinationBrokenFor) }),
            },
          }),

          // Cognito exports user activity (userAuthEvents) logs only for pools on
          // the Plus feature plan: on Lite or Essentials the configuration stays
          // but nothing is delivered. The left side counts the pool's configured
          // userAuthEvents destinations (one alert per pool however many it has,
          // and replicas' duplicates folded by the inner max); `and on` only
          // filters by the plan, so no one-to-one match is needed.
          alert('CognitoUserActivityLogsWithoutPlus', {
            expr: |||
              count by (aws_account_id, aws_region, pool) (
                max by (aws_account_id, aws_region, pool, level, kind) (
                  cognito_log_destination_configured{source="userAuthEvents"}
                ) == 1
              )
              and on (aws_account_id, aws_region, pool)
              (
                max by (aws_account_id, aws_region, pool) (cognito_user_pool_feature_plan{plan="PLUS"}) == 0
              )
            |||,
            'for': c.cognitoUserActivityLogsWithoutPlusFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Cognito user pool {{ $labels.pool }} has user activity logging configured but is not on the Plus plan.',
              description: u.fold(|||
                User pool {{ $labels.pool }} in account {{ $labels.aws_account_id }},
                region {{ $labels.aws_region }}, has {{ $value }} userAuthEvents log
                destination(s) configured, but it is not on the Plus feature plan,
                so Cognito delivers no user activity logs to them.
              |||),
            },
          }),
        ],
      },

      {
        name: 'cognito-exporter.policy',
        rules: [
          // One series per pool and rule of the configuration's policy.rules that
          // selects the pool. `max by` drops job and instance, so replicas and a
          // replaced exporter pod keep one alert per pool and rule.
          alert('CognitoPoolPolicyViolation', {
            expr: |||
              max by (aws_account_id, aws_region, pool, rule) (cognito_pool_policy_compliant) == 0
            |||,
            'for': c.cognitoPoolPolicyViolationFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Cognito user pool {{ $labels.pool }} breaks policy rule {{ $labels.rule }}.',
              description: u.fold(|||
                User pool {{ $labels.pool }} in account {{ $labels.aws_account_id }},
                region {{ $labels.aws_region }}, has not complied with the exporter's
                policy rule {{ $labels.rule }} for %(for)s.
              ||| % { 'for': u.words(c.cognitoPoolPolicyViolationFor) }),
            },
          }),
        ],
      },

      {
        name: 'cognito-exporter.polling',
        rules: [
          alert('CognitoExporterTargetDown', {
            expr: 'cognito_exporter_target_up == 0',
            'for': c.cognitoTargetDownFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'cognito-exporter cannot poll {{ $labels.aws_account_id }}/{{ $labels.aws_region }}.',
              description: u.fold(|||
                The last polls of account {{ $labels.aws_account_id }}, region
                {{ $labels.aws_region }} (exporter {{ $labels.instance }}) have failed
                for %(for)s. Its pools' series go stale after poll.max_staleness.
              ||| % { 'for': u.words(c.cognitoTargetDownFor) }),
            },
          }),

          // A whole target failing is CognitoExporterTargetDown's job; this one
          // is for single pools failing while the target as a whole works.
          alert('CognitoPoolPollFailing', {
            expr: |||
              cognito_pool_poll_success == 0
              unless on (job, instance, aws_account_id, aws_region)
              cognito_exporter_target_up == 0
            |||,
            'for': c.cognitoPoolPollFailingFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'cognito-exporter cannot read user pool {{ $labels.pool }}.',
              description: u.fold(|||
                Polls of user pool {{ $labels.pool }} in account
                {{ $labels.aws_account_id }}, region {{ $labels.aws_region }}, have
                failed for %(for)s while other pools of the target succeed.
              ||| % { 'for': u.words(c.cognitoPoolPollFailingFor) }),
            },
          }),

          alert('CognitoExporterStalePools', {
            expr: 'cognito_exporter_stale_pools > 0',
            'for': c.cognitoStalePoolsFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'cognito-exporter dropped stale pools in {{ $labels.aws_account_id }}/{{ $labels.aws_region }}.',
              description: u.fold(|||
                {{ $value }} user pools in account {{ $labels.aws_account_id }},
                region {{ $labels.aws_region }}, have not been read successfully for
                longer than poll.max_staleness; their log destination series are no
                longer exported, so logging alerts cannot fire for them.
              |||),
            },
          }),

          // A poller that hangs leaves target_up at its last value, so only the
          // age of the last poll shows it. Exporters younger than
          // cognitoPollStalledAfter are left alone: their first poll may still
          // be running.
          alert('CognitoExporterPollStalled', {
            expr: |||
              (time() - cognito_exporter_last_poll_timestamp_seconds > %(after)d)
              and on (job, instance)
              (time() - process_start_time_seconds > %(after)d)
            ||| % { after: u.seconds(c.cognitoPollStalledAfter) },
            'for': c.cognitoPollStalledFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'cognito-exporter has not finished a poll of {{ $labels.aws_account_id }}/{{ $labels.aws_region }} in %s.'
                       % u.words(c.cognitoPollStalledAfter),
              description: u.fold(|||
                The last completed poll of account {{ $labels.aws_account_id }},
                region {{ $labels.aws_region }} on {{ $labels.instance }} was
                {{ $value | humanizeDuration }} ago.
              |||),
            },
          }),

          // A cycle cut at poll.cycle_timeout ends as failed, so
          // CognitoExporterTargetDown follows if it repeats; this one says why.
          alert('CognitoExporterCycleTimeouts', {
            expr: 'increase(cognito_exporter_poll_cycle_timeouts_total[%s]) > 0' % c.cognitoCycleTimeoutsWindow,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'cognito-exporter cut cycles of {{ $labels.aws_account_id }}/{{ $labels.aws_region }} at their deadline.',
              description: u.fold(|||
                Cycles of account {{ $labels.aws_account_id }}, region
                {{ $labels.aws_region }} on {{ $labels.instance }} were still running
                at poll.cycle_timeout in %(last)s and ended as failed.
              ||| % { last: u.last(c.cognitoCycleTimeoutsWindow) }),
            },
          }),

          alert('CognitoExporterTargetConflict', {
            expr: 'cognito_exporter_target_conflicts > 0',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Two targets of cognito-exporter are the same account {{ $labels.aws_account_id }}/{{ $labels.aws_region }}.',
              description: u.fold(|||
                {{ $value }} target(s) on {{ $labels.instance }} resolved to account
                {{ $labels.aws_account_id }}, region {{ $labels.aws_region }}, which
                another target already polls; they publish nothing, so their filters
                are not applied.
              |||),
            },
          }),
        ],
      },

      {
        name: 'cognito-exporter.api',
        rules: [
          alert('CognitoExporterThrottled', {
            expr: |||
              (
                sum by (job, instance, aws_account_id, aws_region, operation) (
                  rate(cognito_exporter_api_errors_total{exception=~"TooManyRequestsException|ThrottlingException"}[%(window)s])
                )
                /
                sum by (job, instance, aws_account_id, aws_region, operation) (
                  rate(cognito_exporter_api_requests_total[%(window)s])
                )
              ) > %(ratio)g
            ||| % { window: c.cognitoApiRateWindow, ratio: c.cognitoThrottledRatio },
            'for': c.cognitoThrottledFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: "AWS throttles the exporter's {{ $labels.operation }} calls to {{ $labels.aws_account_id }}/{{ $labels.aws_region }}.",
              description: u.fold(|||
                {{ $value | humanizePercentage }} of {{ $labels.operation }} requests
                to account {{ $labels.aws_account_id }}, region {{ $labels.aws_region }}
                have been throttled for %(for)s. The exporter shares the account's
                Cognito API quota with the applications that use it.
              ||| % { 'for': u.words(c.cognitoThrottledFor) }),
            },
          }),

          // rate over 15m stays above 0 for 15m after a single error; `for: 30m`
          // therefore needs errors at least every 15 minutes for half an hour.
          alert('CognitoExporterApiErrors', {
            expr: |||
              sum by (job, instance, aws_account_id, aws_region, operation, exception) (
                rate(cognito_exporter_api_errors_total{exception!~"TooManyRequestsException|ThrottlingException"}[%(window)s])
              ) > 0
            ||| % { window: c.cognitoApiRateWindow },
            'for': c.cognitoApiErrorsFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: "cognito-exporter's {{ $labels.operation }} calls fail with {{ $labels.exception }}.",
              description: u.fold(|||
                {{ $labels.operation }} requests to account {{ $labels.aws_account_id }},
                region {{ $labels.aws_region }} have kept failing with
                {{ $labels.exception }} for %(for)s
                ({{ $value | humanize }} errors per second).
              ||| % { 'for': u.words(c.cognitoApiErrorsFor) }),
            },
          }),
        ],
      },

      {
        name: 'cognito-exporter.exporter',
        rules: [
          alert('CognitoExporterDown', {
            expr: 'up{%(cognitoExporterSelector)s} == 0' % c,
            'for': c.cognitoExporterDownFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus cannot scrape cognito-exporter on {{ $labels.instance }}.',
              description: u.fold(|||
                Scrapes of {{ $labels.instance }} (job {{ $labels.job }}) have failed
                for %(for)s. Cognito logging alerts cannot fire while it is down.
              ||| % { 'for': u.words(c.cognitoExporterDownFor) }),
            },
          }),

          // absent() sees the whole job gone. A sharded fleet can also lose a
          // single replica from service discovery (a pod stuck Pending, the
          // StatefulSet scaled below --total-shards) while the others stay: no
          // `up` series says so, but the shard count the others export does.
          // That replica's targets are then polled by no one.
          alert('CognitoExporterAbsent', {
            expr: |||
              absent(up{%(cognitoExporterSelector)s})
              or
              (
                max by (job, namespace) (cognito_exporter_total_shards{%(cognitoExporterSelector)s})
                - count by (job, namespace) (up{%(cognitoExporterSelector)s})
                > 0
              )
            ||| % c,
            'for': c.cognitoExporterAbsentFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Prometheus is missing cognito-exporter targets.',
              description: u.fold(|||
                For %(for)s, job %(job)s has had no target at all, or
                fewer targets than its replicas' --total-shards: an exporter is not
                deployed, or service discovery (ServiceMonitor, PodMonitor, scrape
                config) no longer finds it. Cognito logging of its targets is
                unmonitored.
              ||| % { 'for': u.words(c.cognitoExporterAbsentFor), job: c.cognitoExporterJob }),
            },
          }),
        ],
      },

      {
        name: 'cognito-exporter.fleet',
        rules: [
          alert('CognitoExporterConfigReloadFailed', {
            expr: 'cognito_exporter_config_last_reload_successful == 0',
            'for': c.cognitoConfigReloadFailedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'cognito-exporter on {{ $labels.instance }} could not reload its configuration.',
              description: u.fold(|||
                The last configuration reload of {{ $labels.instance }} (SIGHUP or
                /-/reload) failed at least %(for)s ago and none has succeeded
                since: the changes made to the configuration are not in effect.
              ||| % { 'for': u.words(c.cognitoConfigReloadFailedFor) }),
            },
          }),

          // Discovery lists the organization every refresh_interval (10m by
          // default). Exporters younger than cognitoDiscoveryFailingAfter are
          // left alone: their first discovery may not have succeeded yet.
          alert('CognitoExporterDiscoveryFailing', {
            expr: |||
              (time() - cognito_exporter_discovery_last_success_timestamp_seconds > %(after)d)
              and on (job, instance)
              (time() - process_start_time_seconds > %(after)d)
            ||| % { after: u.seconds(c.cognitoDiscoveryFailingAfter) },
            'for': c.cognitoDiscoveryFailingFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: "cognito-exporter on {{ $labels.instance }} has not listed the organization's accounts for %s."
                       % u.words(c.cognitoDiscoveryFailingAfter),
              description: u.fold(|||
                The last successful discovery of the organization's accounts by
                {{ $labels.instance }} was {{ $value | humanizeDuration }} ago.
                Accounts that joined the organization since are not polled.
              |||),
            },
          }),

          // Each target belongs to one shard out of --total-shards. Replicas that
          // disagree on the total, or two replicas with one ordinal, poll some
          // targets twice and others not at all. A single unsharded exporter
          // (one shard) may run twice during a rollout: that is no fault.
          alert('CognitoExporterShardsMisconfigured', {
            expr: |||
              count by (job, namespace) (
                count_values by (job, namespace) ("total_shards", cognito_exporter_total_shards{%(cognitoExporterSelector)s})
              ) > 1
              or
              (
                count_values by (job, namespace) ("shard", cognito_exporter_shard_ordinal{%(cognitoExporterSelector)s}) > 1
                and on (job, namespace)
                max by (job, namespace) (cognito_exporter_total_shards{%(cognitoExporterSelector)s}) > 1
              )
            ||| % c,
            'for': c.cognitoShardsMisconfiguredFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: "cognito-exporter's replicas do not divide the targets between them.",
              description: u.fold(|||
                {{ if $labels.shard }}{{ $value }} replicas of job {{ $labels.job }}
                run shard {{ $labels.shard }}{{ else }}The replicas of job
                {{ $labels.job }} disagree on --total-shards ({{ $value }} different
                values){{ end }}: some targets are polled twice and others by no one.
              |||),
            },
          }),
        ],
      },
    ],
  },
}
