// Recording rules: logging coverage, feature plans and policy compliance, by
// account and region. The dashboard reads them.
//
// A sharded fleet (--shard, --total-shards) exports each (account, region)
// target from one replica only, and a second replica or Prometheus scrape job
// may export a pool twice: every rule first folds a pool's series into one with
// `max by`, and never adds one replica's numbers to another's.
{
  prometheusRules+:: {
    groups+: [
      {
        name: 'cognito-exporter.coverage',
        rules: [
          // 1 when the pool delivers the source's logs to at least one destination
          // of any kind. `max by` also folds duplicate series from replicas or a
          // second Prometheus scrape job into one per pool.
          {
            record: 'aws_account_id_aws_region_pool_source:cognito_log_destination_configured:max',
            expr: |||
              max by (aws_account_id, aws_region, pool, source) (cognito_log_destination_configured)
            |||,
          },
          // Fraction (0..1) of pools that deliver each source's logs somewhere.
          {
            record: 'aws_account_id_aws_region_source:cognito_log_destination_configured:ratio',
            expr: |||
              avg by (aws_account_id, aws_region, source) (
                aws_account_id_aws_region_pool_source:cognito_log_destination_configured:max
              )
            |||,
          },
          {
            record: 'aws_account_id_aws_region_source:cognito_pools_with_log_destination:sum',
            expr: |||
              sum by (aws_account_id, aws_region, source) (
                aws_account_id_aws_region_pool_source:cognito_log_destination_configured:max
              )
            |||,
          },
          {
            record: 'aws_account_id_aws_region_source:cognito_pools_without_log_destination:sum',
            expr: |||
              sum by (aws_account_id, aws_region, source) (
                1 - aws_account_id_aws_region_pool_source:cognito_log_destination_configured:max
              )
            |||,
          },
          // Fraction (0..1) of pools that deliver each source's logs to each kind
          // of destination (cloudwatch_logs, s3, firehose).
          {
            record: 'aws_account_id_aws_region_source_kind:cognito_log_destination_configured:ratio',
            expr: |||
              avg by (aws_account_id, aws_region, source, kind) (
                max by (aws_account_id, aws_region, pool, source, kind) (cognito_log_destination_configured)
              )
            |||,
          },
          {
            record: 'aws_account_id_aws_region:cognito_user_pools:count',
            expr: |||
              count by (aws_account_id, aws_region) (
                max by (aws_account_id, aws_region, pool) (cognito_user_pool_info)
              )
            |||,
          },
          // Pools on each feature plan (LITE, ESSENTIALS, PLUS, or a value the
          // exporter does not know), and in each threat protection mode.
          {
            record: 'aws_account_id_aws_region_plan:cognito_user_pools:count',
            expr: |||
              sum by (aws_account_id, aws_region, plan) (
                max by (aws_account_id, aws_region, pool, plan) (cognito_user_pool_feature_plan)
              )
            |||,
          },
          {
            record: 'aws_account_id_aws_region_mode:cognito_user_pools:count',
            expr: |||
              sum by (aws_account_id, aws_region, mode) (
                max by (aws_account_id, aws_region, pool, mode) (cognito_user_pool_threat_protection)
              )
            |||,
          },
          // Pools that meet, and that break, each policy rule (policy.rules) among
          // those it selects.
          {
            record: 'aws_account_id_aws_region_rule:cognito_pools_policy_compliant:sum',
            expr: |||
              sum by (aws_account_id, aws_region, rule) (
                max by (aws_account_id, aws_region, pool, rule) (cognito_pool_policy_compliant)
              )
            |||,
          },
          {
            record: 'aws_account_id_aws_region_rule:cognito_pools_policy_noncompliant:sum',
            expr: |||
              sum by (aws_account_id, aws_region, rule) (
                1 - max by (aws_account_id, aws_region, pool, rule) (cognito_pool_policy_compliant)
              )
            |||,
          },
        ],
      },
    ],
  },
}
