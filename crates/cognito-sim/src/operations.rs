//! The operations the simulator serves, by service: what the API recognises and what
//! fault rules may name. Catch-all fault rules reach only Cognito's.

/// The Cognito operations the simulator serves.
pub(crate) const COGNITO_OPERATIONS: [&str; 7] = [
    "ListUserPools",
    "DescribeUserPool",
    "CreateUserPool",
    "UpdateUserPool",
    "DeleteUserPool",
    "GetLogDeliveryConfiguration",
    "SetLogDeliveryConfiguration",
];

/// The STS actions the simulator serves. Fault rules reach them only by name.
pub(crate) const STS_OPERATIONS: [&str; 2] = ["GetCallerIdentity", "AssumeRole"];

/// The Organizations operations the simulator serves. Fault rules reach them only by
/// name, so a rule for "every operation" does not break an exporter's account discovery.
pub(crate) const ORGANIZATIONS_OPERATIONS: [&str; 5] = [
    "DescribeOrganization",
    "ListRoots",
    "ListAccounts",
    "ListAccountsForParent",
    "ListOrganizationalUnitsForParent",
];

/// The CloudWatch Logs operations the simulator serves. Fault rules reach them, like
/// Firehose's and S3's, only by name.
pub(crate) const LOGS_OPERATIONS: [&str; 3] =
    ["CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups"];

/// The Firehose operations the simulator serves.
pub(crate) const FIREHOSE_OPERATIONS: [&str; 3] = [
    "CreateDeliveryStream",
    "DeleteDeliveryStream",
    "DescribeDeliveryStream",
];

/// The operations of the services a destination check calls, which fault rules reach
/// only by name; S3's take only the faults that decide an answer before it is made.
pub(crate) fn destination_operation(op: &str) -> bool {
    LOGS_OPERATIONS.contains(&op)
        || FIREHOSE_OPERATIONS.contains(&op)
        || super::s3::OPERATIONS.contains(&op)
}

/// Whether a fault rule may name `op`: `*`, or any operation the simulator serves.
pub(crate) fn known_operation(op: &str) -> bool {
    op == "*"
        || COGNITO_OPERATIONS.contains(&op)
        || STS_OPERATIONS.contains(&op)
        || ORGANIZATIONS_OPERATIONS.contains(&op)
        || destination_operation(op)
}
