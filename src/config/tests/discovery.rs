//! `discovery.organizations`: what a valid section gives, and every problem a bad one
//! reports, each naming its key.

use figment::Jail;

use super::*;

const VALID: &str = "\
discovery:
  organizations:
    role_arn: arn:aws:iam::111111111111:role/org-reader
    external_id: reader-id
    member_role_arn: \"arn:aws:iam::{account_id}:role/cognito-exporter\"
    member_external_id: member-id
    regions: [eu-west-1, us-east-1]
    organizational_units: [ou-ab12-34cd56ef, r-ab12]
    accounts:
      include: '^prod-'
      exclude: sandbox
    pools:
      exclude: '^test'
    refresh_interval: 5m
    endpoint_url: http://127.0.0.1:4566
";

#[test]
fn a_valid_section_gives_every_value_and_no_default_target() {
    Jail::expect_with(|jail| {
        let config = load_in(jail, VALID, &FlagOverrides::default()).expect("valid");
        assert!(
            config.targets.is_empty(),
            "discovery alone: no chain target"
        );
        let d = config.discovery.expect("discovery");
        assert_eq!(d.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(d.organizational_units, ["ou-ab12-34cd56ef", "r-ab12"]);
        assert_eq!(d.refresh_interval, Duration::from_secs(300));
        assert!(d.wants_account("222222222222", "prod-payments"));
        assert!(!d.wants_account("222222222222", "dev-payments"));
        assert!(!d.wants_account("222222222222", "prod-sandbox"));
        let target = d.target("222222222222", "us-east-1");
        assert_eq!(
            target.role_arn.as_deref(),
            Some("arn:aws:iam::222222222222:role/cognito-exporter")
        );
        assert_eq!(target.external_id.as_deref(), Some("member-id"));
        assert_eq!(target.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            target.endpoint_url.as_deref(),
            Some("http://127.0.0.1:4566")
        );
        assert!(target.wants("prod-pool") && !target.wants("test-pool"));
        Ok(())
    });
}

#[test]
fn the_account_filters_match_the_id_too() {
    Jail::expect_with(|jail| {
        let yaml = "discovery:\n  organizations:\n    member_role_arn: 'arn:aws:iam::{account_id}:role/r'\n    regions: [eu-west-1]\n    accounts:\n      include: '^1111'\n";
        let d = load_in(jail, yaml, &FlagOverrides::default())
            .expect("valid")
            .discovery
            .expect("discovery");
        assert_eq!(d.refresh_interval, Duration::from_secs(600), "default 10m");
        assert!(d.wants_account("111122223333", "anything"));
        assert!(!d.wants_account("222233334444", "anything"));
        Ok(())
    });
}

#[test]
fn every_problem_of_a_bad_section_names_its_key() {
    Jail::expect_with(|jail| {
        let yaml = "\
discovery:
  organizations:
    external_id: lonely
    member_role_arn: arn:aws:iam::111111111111:role/fixed
    regions: [eu-west-1, mars-1, eu-west-1]
    organizational_units: [accounting]
    accounts:
      include: '('
    refresh_interval: 0s
    endpoint_url: ftp://x
    typo: 1
";
        let errors = load_in(jail, yaml, &FlagOverrides::default()).expect_err("invalid");
        let text = lines(&errors).join("\n");
        for key in [
            "discovery.organizations.external_id",
            "discovery.organizations.member_role_arn",
            "discovery.organizations.regions[1]",
            "discovery.organizations.regions[2]",
            "discovery.organizations.organizational_units[0]",
            "discovery.organizations.accounts.include",
            "discovery.organizations.refresh_interval",
            "discovery.organizations.endpoint_url",
            "discovery.organizations.typo",
        ] {
            assert!(text.contains(key), "{key} missing from:\n{text}");
        }
        assert!(text.contains("config.yml"), "{text}");
        assert!(text.contains("listed twice"), "{text}");
        assert!(text.contains("{account_id}"), "{text}");
        Ok(())
    });
}

#[test]
fn required_keys_are_named_when_missing() {
    Jail::expect_with(|jail| {
        let errors = load_in(
            jail,
            "discovery:\n  organizations:\n    regions: []\n",
            &FlagOverrides::default(),
        )
        .expect_err("invalid");
        let text = lines(&errors).join("\n");
        assert!(
            text.contains("discovery.organizations.member_role_arn: missing"),
            "{text}"
        );
        assert!(text.contains("discovery.organizations.regions"), "{text}");
        assert!(text.contains("at least one region"), "{text}");
        let errors =
            load_in(jail, "discovery: {}\n", &FlagOverrides::default()).expect_err("invalid");
        assert!(
            lines(&errors)
                .join("\n")
                .contains("discovery.organizations")
        );
        Ok(())
    });
}
