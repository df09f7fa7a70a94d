//! STS over the AWS Query protocol: `GetCallerIdentity` and `AssumeRole`, form-encoded in,
//! XML out, errors as `<ErrorResponse>`. Cognito's exception codes (from faults and shared
//! checks) are translated to the codes STS itself uses.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;
use std::time::Duration;

use http::StatusCode;
use regex::Regex;

use super::credentials::Identity;
use super::error::{ApiError, ErrorCode, Violations};
use super::ids::iso8601;
use super::state::SimState;

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

// ASCII classes: IAM names are ASCII, and Unicode `\w` under a counted repetition
// compiles to a needlessly large automaton.
static ROLE_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[A-Za-z0-9_+=,.@-]+/)*([A-Za-z0-9_+=,.@-]{1,64})$")
        .expect("static regex is valid")
});
static SESSION_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_+=,.@-]{2,64}$").expect("static regex is valid"));
static EXTERNAL_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_+=,.@:/-]+$").expect("static regex is valid"));

/// The account of the role an `AssumeRole` request names, if its ARN is readable: fault
/// rules and stats attribute the request to it.
pub(crate) fn role_account(params: &HashMap<String, String>) -> Option<String> {
    let arn = params.get("RoleArn")?;
    ROLE_ARN.captures(arn).map(|c| c[1].to_owned())
}

/// Runs STS action `action` for `caller`; the answer is the XML document.
pub(crate) fn call(
    state: &SimState,
    caller: &Identity,
    action: &str,
    params: &HashMap<String, String>,
    request_id: &str,
) -> Result<String, ApiError> {
    match action {
        "GetCallerIdentity" => Ok(format!(
            "<GetCallerIdentityResponse xmlns=\"{XMLNS}\">\n  <GetCallerIdentityResult>\n    \
             <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  \
             </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}\
             </RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
            escape(&caller.arn),
            escape(&caller.user_id),
            escape(&caller.account)
        )),
        "AssumeRole" => assume_role(state, caller, params, request_id),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Could not find operation {action} for version 2011-06-15"),
        )),
    }
}

fn assume_role(
    state: &SimState,
    caller: &Identity,
    params: &HashMap<String, String>,
    request_id: &str,
) -> Result<String, ApiError> {
    let mut v = Violations::default();
    let arn = params.get("RoleArn");
    let session = params.get("RoleSessionName");
    let role = match arn {
        None => {
            v.null("roleArn");
            None
        }
        Some(arn) => ROLE_ARN
            .captures(arn)
            .map(|c| (c[1].to_owned(), c[2].to_owned()))
            .or_else(|| {
                v.constraint(
                    "roleArn",
                    arn,
                    "be an IAM role ARN: arn:aws:iam::ACCOUNT:role/NAME",
                );
                None
            }),
    };
    match session {
        None => v.null("roleSessionName"),
        Some(s) if !SESSION_NAME.is_match(s) => {
            v.constraint(
                "roleSessionName",
                s,
                r"satisfy regular expression pattern: [\w+=,.@-]{2,64}",
            );
        }
        Some(_) => {}
    }
    if let Some(id) = params.get("ExternalId")
        && !((2..=1224).contains(&id.len()) && EXTERNAL_ID.is_match(id))
    {
        v.constraint(
            "externalId",
            id,
            r"satisfy regular expression pattern: [\w+=,.@:/-]{2,1224}",
        );
    }
    let duration = match params.get("DurationSeconds") {
        None => None,
        Some(d) => match d.parse::<u64>() {
            Ok(secs @ 900..=43_200) => Some(Duration::from_secs(secs)),
            _ => {
                v.constraint("durationSeconds", d, "be an integer between 900 and 43200");
                None
            }
        },
    };
    v.into_result()?;
    let (Some((account, role_name)), Some(session)) = (role, session) else {
        return Err(ApiError::invalid_parameter(
            "RoleArn and RoleSessionName are required",
        ));
    };
    if state.org.refuses(&account) {
        // What STS says when the role's trust policy does not let the caller in.
        return Err(ApiError::new(
            ErrorCode::AccessDeniedException,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                caller.arn,
                arn.map(String::as_str).unwrap_or_default()
            ),
        ));
    }
    let issued = state
        .keys
        .assume_role(&account, &role_name, session, duration);
    let mut xml = String::with_capacity(1024);
    let _ = write!(
        xml,
        "<AssumeRoleResponse xmlns=\"{XMLNS}\">\n  <AssumeRoleResult>\n    <AssumedRoleUser>\n      \
         <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n    \
         <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}\
         </SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}\
         </Expiration>\n    </Credentials>\n    <PackedPolicySize>0</PackedPolicySize>\n  \
         </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  \
         </ResponseMetadata>\n</AssumeRoleResponse>\n",
        escape(&issued.identity.user_id),
        escape(&issued.identity.arn),
        issued.access_key_id,
        issued.secret_access_key,
        issued.session_token,
        iso8601(issued.expiration),
    );
    Ok(xml)
}

/// The STS code, status and fault type standing for a Cognito-side error code.
pub(crate) fn translate(code: ErrorCode) -> (&'static str, StatusCode, &'static str) {
    use ErrorCode as C;
    let (sts, status) = match code {
        // The destination services' and feature-plan codes never come from STS.
        C::InvalidParameterException
        | C::SerializationException
        | C::InvalidInputException
        | C::InvalidArgumentException
        | C::FeatureUnavailableInTierException
        | C::ResourceAlreadyExistsException
        | C::ResourceInUseException => ("ValidationError", StatusCode::BAD_REQUEST),
        C::InternalErrorException | C::ServiceException => {
            ("InternalFailure", StatusCode::INTERNAL_SERVER_ERROR)
        }
        C::TooManyRequestsException | C::ThrottlingException => {
            ("Throttling", StatusCode::BAD_REQUEST)
        }
        C::NotAuthorizedException
        | C::AccessDeniedException
        | C::AWSOrganizationsNotInUseException => ("AccessDenied", StatusCode::FORBIDDEN),
        C::ResourceNotFoundException | C::ParentNotFoundException => {
            ("NoSuchEntity", StatusCode::NOT_FOUND)
        }
        C::UnrecognizedClientException => ("InvalidClientTokenId", StatusCode::FORBIDDEN),
        C::ExpiredTokenException => ("ExpiredToken", StatusCode::BAD_REQUEST),
        C::UnknownOperationException => ("InvalidAction", StatusCode::BAD_REQUEST),
        C::MissingAuthenticationTokenException => {
            ("MissingAuthenticationToken", StatusCode::FORBIDDEN)
        }
        C::IncompleteSignatureException => ("IncompleteSignature", StatusCode::BAD_REQUEST),
    };
    let fault_type = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    (sts, status, fault_type)
}

/// The `<ErrorResponse>` document for `err`, with its status and STS code.
pub(crate) fn error_response(
    err: &ApiError,
    request_id: &str,
) -> (StatusCode, &'static str, String) {
    let (code, status, fault_type) = translate(err.code);
    let body = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>{fault_type}</Type>\n    \
         <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}\
         </RequestId>\n</ErrorResponse>\n",
        escape(&err.message)
    );
    (status, code, body)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn assume_role_validates_like_sts() {
        let s = SimState::new("123456789012".into(), 0, Duration::from_secs(3600));
        let caller = s.keys.identity("AKID").expect("static");
        let bad = params(&[
            ("RoleArn", "arn:aws:iam::12:role/x"),
            ("RoleSessionName", "a"),
        ]);
        let err = call(&s, &caller, "AssumeRole", &bad, "rid").expect_err("invalid");
        assert!(
            err.message.starts_with("2 validation errors"),
            "{}",
            err.message
        );
        assert_eq!(translate(err.code).0, "ValidationError");
        let arn = "arn:aws:iam::210987654321:role/team/reader";
        let ok = params(&[
            ("RoleArn", arn),
            ("RoleSessionName", "poll"),
            ("ExternalId", "xyz"),
        ]);
        assert_eq!(role_account(&ok).as_deref(), Some("210987654321"));
        let xml = call(&s, &caller, "AssumeRole", &ok, "rid").expect("valid");
        assert!(xml.contains("<Arn>arn:aws:sts::210987654321:assumed-role/reader/poll</Arn>"));
        assert!(xml.contains("<AccessKeyId>ASIA"));
        let err = call(&s, &caller, "GetSessionToken", &ok, "rid").expect_err("unknown");
        assert_eq!(translate(err.code).0, "InvalidAction");
        s.refuse_assume_role("210987654321", true);
        let err = call(&s, &caller, "AssumeRole", &ok, "rid").expect_err("refused");
        assert_eq!(translate(err.code).0, "AccessDenied");
        assert!(
            err.message
                .contains("sts:AssumeRole on resource: arn:aws:iam::210987654321")
        );
        s.refuse_assume_role("210987654321", false);
        assert!(call(&s, &caller, "AssumeRole", &ok, "rid").is_ok());
    }

    #[test]
    fn errors_are_query_shaped_and_escaped() {
        let err = ApiError::new(ErrorCode::AccessDeniedException, "no <way>");
        let (status, code, body) = error_response(&err, "rid");
        assert_eq!((status, code), (StatusCode::FORBIDDEN, "AccessDenied"));
        assert!(body.contains("<Type>Sender</Type>"));
        assert!(body.contains("<Message>no &lt;way&gt;</Message>"));
        let (status, _, body) = error_response(
            &ApiError::new(ErrorCode::InternalErrorException, "x"),
            "rid",
        );
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("<Type>Receiver</Type>"));
    }
}
