//! Which service and protocol a request speaks, and the operation it names: told by the
//! `X-Amz-Target` prefix (Cognito, Organizations, CloudWatch Logs, Firehose), by an `s3`
//! credential scope without one (S3, see [`super::s3`]), or by a form body (STS).

use std::collections::HashMap;

use http::HeaderValue;
use http::header::CONTENT_TYPE;
use http::request::Parts;

use super::{firehose, logs, s3};

const JSON_TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
const ORGANIZATIONS_TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";

/// How a request is spoken, and so how its answer and errors are shaped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// Cognito: AWS JSON 1.1.
    Json,
    /// Organizations: AWS JSON 1.1 too, its own operations.
    OrganizationsJson,
    /// STS: AWS Query.
    Query,
    /// CloudWatch Logs: AWS JSON 1.1.
    LogsJson,
    /// Firehose: AWS JSON 1.1.
    FirehoseJson,
    /// S3: REST-XML, the operation named by the method and path.
    S3,
}

impl Protocol {
    pub(crate) fn is_json(self) -> bool {
        matches!(
            self,
            Protocol::Json
                | Protocol::OrganizationsJson
                | Protocol::LogsJson
                | Protocol::FirehoseJson
        )
    }
}

/// The protocol, the operation (empty when none is named) and, for STS, the form
/// parameters; for S3, `Bucket`.
pub(crate) fn recognise(parts: &Parts, body: &[u8]) -> (Protocol, String, HashMap<String, String>) {
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let form =
        header(CONTENT_TYPE).is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let target = header(http::HeaderName::from_static("x-amz-target"));
    match target {
        None if s3::is_s3(&parts.headers) => {
            let (op, bucket) = s3::operation(&parts.method, parts.uri.path(), parts.uri.query());
            let params = HashMap::from([("Bucket".to_owned(), bucket)]);
            (Protocol::S3, op.to_owned(), params)
        }
        Some(t) => {
            let prefixes = [
                (ORGANIZATIONS_TARGET_PREFIX, Protocol::OrganizationsJson),
                (logs::TARGET_PREFIX, Protocol::LogsJson),
                (firehose::TARGET_PREFIX, Protocol::FirehoseJson),
            ];
            let found = prefixes
                .into_iter()
                .find_map(|(prefix, protocol)| t.strip_prefix(prefix).map(|op| (protocol, op)));
            let (protocol, op) = found.unwrap_or_else(|| {
                (
                    Protocol::Json,
                    t.strip_prefix(JSON_TARGET_PREFIX).unwrap_or(t),
                )
            });
            (protocol, op.to_owned(), HashMap::new())
        }
        None if form => {
            let params: HashMap<String, String> =
                form_urlencoded::parse(body).into_owned().collect();
            let action = params.get("Action").cloned().unwrap_or_default();
            (Protocol::Query, action, params)
        }
        None => (Protocol::Json, String::new(), HashMap::new()),
    }
}
