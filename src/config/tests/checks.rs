//! `checks`: its defaults, its values through every layer, and each bad one named.

use figment::Jail;

use super::*;

#[test]
fn destination_checks_are_off_and_hourly_by_default() {
    Jail::expect_with(|jail| {
        let config = load(None, &FlagOverrides::default()).expect("valid");
        assert_eq!(config.checks, ChecksConfig::default());
        assert!(!config.checks.destinations);
        assert_eq!(config.checks.interval, Duration::from_secs(3600));
        // An empty section is no section.
        let config = load_in(jail, "checks:\n", &FlagOverrides::default()).expect("valid");
        assert_eq!(config.checks, ChecksConfig::default());
        Ok(())
    });
}

#[test]
fn checks_come_from_the_file_and_the_environment() {
    Jail::expect_with(|jail| {
        let config = load_in(
            jail,
            "checks:\n  destinations: true\n  interval: 30m\n",
            &FlagOverrides::default(),
        )
        .expect("valid");
        assert!(config.checks.destinations);
        assert_eq!(config.checks.interval, Duration::from_secs(1800));
        jail.set_env("COGNITO_EXPORTER_CHECKS__DESTINATIONS", "false");
        jail.set_env("COGNITO_EXPORTER_CHECKS__INTERVAL", "7d");
        let config = load_in(
            jail,
            "checks:\n  destinations: true\n",
            &FlagOverrides::default(),
        )
        .expect("valid");
        assert!(!config.checks.destinations);
        assert_eq!(config.checks.interval, Duration::from_secs(7 * 24 * 3600));
        Ok(())
    });
}

#[test]
fn every_bad_check_value_names_its_key() {
    Jail::expect_with(|jail| {
        let errors = load_in(
            jail,
            "checks:\n  destinations: yes please\n  interval: 0s\n  colour: red\n",
            &FlagOverrides::default(),
        )
        .expect_err("invalid");
        assert_eq!(
            lines(&errors),
            [
                "config.yml: checks.colour: unknown key (expected one of: destinations, interval)",
                "config.yml: checks.destinations: expected true or false",
                "config.yml: checks.interval: must be above zero",
            ]
        );
        let errors = load_in(
            jail,
            "checks:\n  interval: 31d\n",
            &FlagOverrides::default(),
        )
        .expect_err("too long");
        assert_eq!(
            lines(&errors),
            ["config.yml: checks.interval: expected a duration from 1s to 30d, got \"31d\""]
        );
        let errors = load_in(jail, "checks: [destinations]\n", &FlagOverrides::default())
            .expect_err("not a mapping");
        assert_eq!(lines(&errors), ["config.yml: checks: expected a mapping"]);
        Ok(())
    });
}
