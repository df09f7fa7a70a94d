//! Answers missing what the exporter cannot do without. The SDK fills a required member
//! it did not receive with a default when it deserializes (an absent `LogConfigurations`
//! becomes an empty list, an absent `UserPoolId` an empty string), so its output cannot
//! tell "nothing configured" from "not said"; and it leaves optional members the
//! exporter relies on (`UserPools`, a pool's `Id`, `Account`) to the caller. An
//! interceptor therefore looks at each answer of the operations the exporter calls, the
//! raw body where the output cannot tell, and turns one that lacks a member into a
//! failed attempt: classified `malformed_response` like any unreadable answer, counted
//! by the attempt recorder, retried by the SDK, and never read as a confident "nothing".

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    FinalizerInterceptorContextMut, Output,
};
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

/// What an answer lacks: the error a failed attempt carries.
#[derive(Debug, thiserror::Error)]
#[error("{operation} answered without {member}")]
pub(crate) struct MissingMember {
    operation: &'static str,
    /// The member's path in the answer, `[]` standing for every element of a list.
    member: &'static str,
}

/// The members each answer must carry, by path: `a.b` is member `b` of member `a`, and
/// `a[].b` member `b` of every element of list `a`. A list may be empty; an absent
/// member, a `null` or an empty string is missing. The model requires the members of
/// `LogDeliveryConfigurationType` and `LogConfigurationType` listed here; the others it
/// leaves optional, but an answer without them says nothing the exporter can use.
fn required(operation: &str) -> (&'static str, &'static [&'static str]) {
    match operation {
        "ListUserPools" => ("ListUserPools", &["UserPools", "UserPools[].Id"]),
        "DescribeUserPool" => ("DescribeUserPool", &["UserPool"]),
        "GetLogDeliveryConfiguration" => (
            "GetLogDeliveryConfiguration",
            &[
                "LogDeliveryConfiguration",
                "LogDeliveryConfiguration.UserPoolId",
                "LogDeliveryConfiguration.LogConfigurations",
                "LogDeliveryConfiguration.LogConfigurations[].LogLevel",
                "LogDeliveryConfiguration.LogConfigurations[].EventSource",
            ],
        ),
        // Discovery: an answer without its list must not read as an organization with
        // no accounts, which would stop polling every one of them.
        "ListAccounts" => ("ListAccounts", &["Accounts", "Accounts[].Id"]),
        "ListAccountsForParent" => ("ListAccountsForParent", &["Accounts", "Accounts[].Id"]),
        "ListOrganizationalUnitsForParent" => (
            "ListOrganizationalUnitsForParent",
            &["OrganizationalUnits", "OrganizationalUnits[].Id"],
        ),
        // Destination checks: a listing without its groups must not read as a group
        // that is gone, nor a description without its status as a stream not active.
        "DescribeLogGroups" => (
            "DescribeLogGroups",
            &["logGroups", "logGroups[].logGroupName"],
        ),
        "DescribeDeliveryStream" => (
            "DescribeDeliveryStream",
            &[
                "DeliveryStreamDescription",
                "DeliveryStreamDescription.DeliveryStreamStatus",
            ],
        ),
        _ => ("", &[]),
    }
}

/// Fails every successful attempt whose answer lacks a required member.
#[derive(Debug)]
pub(super) struct RequiredMembers;

impl Intercept for RequiredMembers {
    fn name(&self) -> &'static str {
        "RequiredMembers"
    }

    // Runs before any `read_after_attempt`, so the attempt recorder and the retry
    // strategy both see the failure this makes.
    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(name) = cfg.load::<Metadata>().map(Metadata::name) else {
            return Ok(());
        };
        let missing = match (context.output_or_error(), context.response()) {
            (Some(Ok(output)), Some(response)) => lacks(name, response.body().bytes(), output),
            _ => None,
        };
        if let (Some(missing), Some(slot)) = (missing, context.output_or_error_mut()) {
            *slot = Err(OrchestratorError::response(Box::new(missing)));
        }
        Ok(())
    }
}

/// The first member the answer to `operation` lacks: `body` is the raw answer, `output`
/// what the SDK made of it.
fn lacks(operation: &str, body: Option<&[u8]>, output: &Output) -> Option<MissingMember> {
    if operation == "GetCallerIdentity" {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
        // The output keeps an absent `Account` absent: no need for the XML body.
        let account = output
            .downcast_ref::<GetCallerIdentityOutput>()
            .and_then(GetCallerIdentityOutput::account);
        return account.is_none_or(str::is_empty).then_some(MissingMember {
            operation: "GetCallerIdentity",
            member: "Account",
        });
    }
    let (operation, paths) = required(operation);
    if paths.is_empty() {
        return None;
    }
    // The SDK reads these bodies whole before deserializing; a body it could parse that
    // does not parse here is as unusable as one missing a member.
    let answer = body.and_then(|b| serde_json::from_slice::<Value>(b).ok());
    let first_missing = match &answer {
        Some(answer) => paths.iter().find(|path| !present(answer, path)).copied(),
        None => Some("a JSON body"),
    };
    first_missing.map(|member| MissingMember { operation, member })
}

/// Whether `path` (see [`required`]) is present in `value`.
fn present(value: &Value, path: &str) -> bool {
    let (step, rest) = path.split_once('.').unwrap_or((path, ""));
    let (name, every) = match step.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (step, false),
    };
    let member = match value.get(name) {
        None | Some(Value::Null) => return false,
        Some(Value::String(s)) if s.is_empty() => return false,
        Some(member) => member,
    };
    match (every, rest) {
        (false, "") => true,
        (false, rest) => present(member, rest),
        (true, rest) => member.as_array().is_some_and(|items| {
            items
                .iter()
                .all(|item| rest.is_empty() || present(item, rest))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(operation: &str, answer: &Value) -> Option<&'static str> {
        let body = answer.to_string();
        lacks(operation, Some(body.as_bytes()), &Output::doesnt_matter()).map(|m| m.member)
    }

    #[test]
    fn an_empty_list_is_an_answer_and_an_absent_one_is_not() {
        let get = "GetLogDeliveryConfiguration";
        let empty =
            json!({"LogDeliveryConfiguration": {"UserPoolId": "p", "LogConfigurations": []}});
        assert_eq!(check(get, &empty), None);
        let absent = json!({"LogDeliveryConfiguration": {"UserPoolId": "p"}});
        assert_eq!(
            check(get, &absent),
            Some("LogDeliveryConfiguration.LogConfigurations")
        );
        assert_eq!(check(get, &json!({})), Some("LogDeliveryConfiguration"));
        let null = json!({"LogDeliveryConfiguration": null});
        assert_eq!(check(get, &null), Some("LogDeliveryConfiguration"));
        let no_level = json!({"LogDeliveryConfiguration": {"UserPoolId": "p",
            "LogConfigurations": [{"EventSource": "userNotification"}]}});
        assert_eq!(
            check(get, &no_level),
            Some("LogDeliveryConfiguration.LogConfigurations[].LogLevel")
        );
    }

    #[test]
    fn a_listing_needs_its_pools_and_their_ids() {
        let list = "ListUserPools";
        assert_eq!(check(list, &json!({"UserPools": []})), None);
        assert_eq!(check(list, &json!({"NextToken": "t"})), Some("UserPools"));
        let no_id = json!({"UserPools": [{"Id": "a", "Name": "n"}, {"Name": "m"}]});
        assert_eq!(check(list, &no_id), Some("UserPools[].Id"));
        let empty_id = json!({"UserPools": [{"Id": "", "Name": "n"}]});
        assert_eq!(check(list, &empty_id), Some("UserPools[].Id"));
        assert_eq!(check("DescribeUserPool", &json!({})), Some("UserPool"));
        assert_eq!(check("CreateUserPool", &json!({})), None);
    }

    #[test]
    fn destination_checks_need_their_groups_and_the_stream_status() {
        let groups = "DescribeLogGroups";
        assert_eq!(check(groups, &json!({"logGroups": []})), None);
        assert_eq!(check(groups, &json!({})), Some("logGroups"));
        let unnamed = json!({"logGroups": [{"arn": "a"}]});
        assert_eq!(check(groups, &unnamed), Some("logGroups[].logGroupName"));
        let stream = "DescribeDeliveryStream";
        let active = json!({"DeliveryStreamDescription": {"DeliveryStreamStatus": "ACTIVE"}});
        assert_eq!(check(stream, &active), None);
        let no_status = json!({"DeliveryStreamDescription": {"DeliveryStreamName": "s"}});
        assert_eq!(
            check(stream, &no_status),
            Some("DeliveryStreamDescription.DeliveryStreamStatus")
        );
        // HeadBucket answers have no body to look in.
        assert_eq!(
            lacks("HeadBucket", None, &Output::doesnt_matter()).map(|m| m.member),
            None
        );
    }

    #[test]
    fn an_unparsable_body_lacks_everything() {
        let got = lacks("ListUserPools", Some(b"<html>"), &Output::doesnt_matter());
        assert_eq!(got.map(|m| m.member), Some("a JSON body"));
        let got = lacks("ListUserPools", None, &Output::doesnt_matter());
        assert_eq!(
            got.map(|m| m.to_string()).as_deref(),
            Some("ListUserPools answered without a JSON body")
        );
    }

    #[test]
    fn an_identity_needs_its_account() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
        let anonymous = Output::erase(GetCallerIdentityOutput::builder().arn("a").build());
        let got = lacks("GetCallerIdentity", Some(b"<xml/>"), &anonymous);
        assert_eq!(got.map(|m| m.member), Some("Account"));
        let known = Output::erase(
            GetCallerIdentityOutput::builder()
                .account("123456789012")
                .build(),
        );
        assert!(lacks("GetCallerIdentity", None, &known).is_none());
    }
}
