//! The S3 operations (REST-XML, path-style addressing: `http://HOST/BUCKET`) a
//! destination check needs: `CreateBucket` (`PUT /BUCKET`), `HeadBucket`
//! (`HEAD /BUCKET`), `DeleteBucket` (`DELETE /BUCKET`).
//!
//! S3 shares the port with the JSON and Query services. A request is S3's when it has no
//! `X-Amz-Target` and its SigV4 credential scope names the service `s3`
//! (`KEY/DATE/REGION/s3/aws4_request`), which every S3 client sends; the method and path
//! then name the operation. Buckets are global by name, each with an owner account and a
//! region: a request signed for another region is redirected (301 with
//! `x-amz-bucket-region`, as S3 does), a bucket of another account is refused (403).

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::cognito::Scope;
use super::destinations::bucket_arn;
use super::error::{ApiError, ErrorCode};
use super::state::SimState;

/// The S3 operations the simulator serves.
pub(crate) const OPERATIONS: [&str; 3] = ["CreateBucket", "HeadBucket", "DeleteBucket"];

/// Whether a request is for S3: no `X-Amz-Target`, and an `s3` credential scope.
pub(crate) fn is_s3(headers: &HeaderMap) -> bool {
    if headers.contains_key("x-amz-target") {
        return false;
    }
    let Some(auth) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    auth.split([' ', ','])
        .find_map(|part| part.strip_prefix("Credential="))
        .is_some_and(|scope| scope.ends_with("/s3/aws4_request"))
}

/// The operation a method and path name, and the bucket; `unknown` for anything else
/// (objects, listings, bucket sub-resources are not simulated).
pub(crate) fn operation(
    method: &http::Method,
    path: &str,
    query: Option<&str>,
) -> (&'static str, String) {
    let bucket = path.trim_start_matches('/').trim_end_matches('/');
    if bucket.is_empty() || bucket.contains('/') || query.is_some_and(|q| !q.is_empty()) {
        return ("unknown", bucket.to_owned());
    }
    let op = match *method {
        http::Method::PUT => "CreateBucket",
        http::Method::HEAD => "HeadBucket",
        http::Method::DELETE => "DeleteBucket",
        _ => "unknown",
    };
    (op, bucket.to_owned())
}

/// An S3 answer: status, extra headers, body.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
}

/// An S3 error: its code, status and message, and the bucket's region when S3 tells it.
#[derive(Debug)]
pub(crate) struct S3Error {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) region: Option<String>,
}

impl S3Error {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        S3Error {
            status,
            code,
            message: message.into(),
            region: None,
        }
    }

    /// The S3 form of an error found before the operation ran (authentication, faults).
    pub(crate) fn from_api(err: &ApiError) -> Self {
        let (status, code) = match err.code {
            ErrorCode::AccessDeniedException | ErrorCode::MissingAuthenticationTokenException => {
                (StatusCode::FORBIDDEN, "AccessDenied")
            }
            ErrorCode::ResourceNotFoundException => (StatusCode::NOT_FOUND, "NoSuchBucket"),
            ErrorCode::ThrottlingException | ErrorCode::TooManyRequestsException => {
                (StatusCode::SERVICE_UNAVAILABLE, "SlowDown")
            }
            ErrorCode::InternalErrorException | ErrorCode::ServiceException => {
                (StatusCode::INTERNAL_SERVER_ERROR, "InternalError")
            }
            ErrorCode::ExpiredTokenException => (StatusCode::BAD_REQUEST, "ExpiredToken"),
            ErrorCode::UnrecognizedClientException => (StatusCode::FORBIDDEN, "InvalidAccessKeyId"),
            ErrorCode::IncompleteSignatureException => {
                (StatusCode::BAD_REQUEST, "AuthorizationHeaderMalformed")
            }
            ErrorCode::UnknownOperationException => (StatusCode::NOT_IMPLEMENTED, "NotImplemented"),
            other => (StatusCode::BAD_REQUEST, other.as_str()),
        };
        S3Error::new(status, code, err.message.clone())
    }

    /// The answer: an `<Error>` document, or for `HEAD` the status alone.
    pub(crate) fn render(&self, head: bool, bucket: &str, request_id: &str) -> Reply {
        let mut headers = Vec::new();
        if let Some(region) = &self.region {
            headers.push(("x-amz-bucket-region", region.clone()));
        }
        let body = if head {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><BucketName>{}</BucketName><RequestId>{request_id}</RequestId></Error>",
                self.code,
                escape(&self.message),
                escape(bucket),
            ))
        };
        Reply {
            status: self.status,
            headers,
            body,
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn no_such_bucket() -> S3Error {
    S3Error::new(
        StatusCode::NOT_FOUND,
        "NoSuchBucket",
        "The specified bucket does not exist",
    )
}

fn access_denied() -> S3Error {
    S3Error::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
}

/// Runs S3 operation `op` on `bucket`.
pub(crate) fn call(
    state: &SimState,
    scope: &Scope<'_>,
    op: &str,
    bucket: &str,
    body: &[u8],
) -> Result<Reply, S3Error> {
    match op {
        "CreateBucket" => create(state, scope, bucket, body),
        "HeadBucket" | "DeleteBucket" => {
            let region = existing(state, scope, bucket)?;
            let mut headers = vec![("x-amz-bucket-region", region)];
            if op == "HeadBucket" {
                headers.push(("x-amz-access-point-alias", "false".to_owned()));
                return Ok(Reply {
                    status: StatusCode::OK,
                    headers,
                    body: Bytes::new(),
                });
            }
            state.delete_bucket(bucket);
            Ok(Reply {
                status: StatusCode::NO_CONTENT,
                headers: Vec::new(),
                body: Bytes::new(),
            })
        }
        _ => Err(S3Error::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
        )),
    }
}

/// The region of a bucket the caller may act on, or why not.
fn existing(state: &SimState, scope: &Scope<'_>, bucket: &str) -> Result<String, S3Error> {
    let data = state.destinations.lock();
    let found = data.buckets.get(bucket).ok_or_else(no_such_bucket)?;
    let refused = data.refused.contains(&bucket_arn(&found.region, bucket));
    if found.account != scope.account || refused {
        return Err(S3Error {
            region: Some(found.region.clone()),
            ..access_denied()
        });
    }
    if found.region != scope.region {
        return Err(S3Error {
            region: Some(found.region.clone()),
            ..S3Error::new(
                StatusCode::MOVED_PERMANENTLY,
                "PermanentRedirect",
                "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
            )
        });
    }
    Ok(found.region.clone())
}

fn create(
    state: &SimState,
    scope: &Scope<'_>,
    bucket: &str,
    body: &[u8],
) -> Result<Reply, S3Error> {
    let valid = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-']);
    if !valid {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        ));
    }
    let location = location_constraint(body)?;
    let region = match location.as_deref() {
        Some("us-east-1") => {
            return Err(S3Error::new(
                StatusCode::BAD_REQUEST,
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
            ));
        }
        Some(r) => r.to_owned(),
        None => "us-east-1".to_owned(),
    };
    if region != scope.region {
        let message = match &location {
            Some(l) => format!("The {l} location constraint is incompatible for the region specific endpoint this request was sent to."),
            None => "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.".to_owned(),
        };
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "IllegalLocationConstraintException",
            message,
        ));
    }
    match state.create_bucket(scope.account, &region, bucket) {
        Ok(()) => Ok(Reply {
            status: StatusCode::OK,
            headers: vec![("location", format!("/{bucket}"))],
            body: Bytes::new(),
        }),
        Err(super::destinations::BucketTaken::OwnedByYou) => Err(S3Error::new(
            StatusCode::CONFLICT,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
        )),
        Err(super::destinations::BucketTaken::OwnedByOther) => Err(S3Error::new(
            StatusCode::CONFLICT,
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        )),
    }
}

/// `CreateBucketConfiguration.LocationConstraint`, if the body has one.
fn location_constraint(body: &[u8]) -> Result<Option<String>, S3Error> {
    let text = std::str::from_utf8(body).map_err(|_| malformed())?.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.contains("<CreateBucketConfiguration") {
        return Err(malformed());
    }
    let Some(start) = text.find("<LocationConstraint>") else {
        return Ok(None);
    };
    let rest = &text[start + "<LocationConstraint>".len()..];
    let end = rest.find("</LocationConstraint>").ok_or_else(malformed)?;
    let value = rest[..end].trim();
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

fn malformed() -> S3Error {
    S3Error::new(
        StatusCode::BAD_REQUEST,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn s3_is_told_by_its_scope_and_the_path_names_the_operation() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AK/20261130/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x"),
        );
        assert!(is_s3(&h));
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("Logs_20140328.DescribeLogGroups"),
        );
        assert!(!is_s3(&h));
        assert_eq!(
            operation(&http::Method::HEAD, "/b/", None),
            ("HeadBucket", "b".to_owned())
        );
        assert_eq!(operation(&http::Method::GET, "/b", None).0, "unknown");
        assert_eq!(operation(&http::Method::PUT, "/b/key", None).0, "unknown");
        assert_eq!(location_constraint(b"").ok(), Some(None));
        let xml = b"<CreateBucketConfiguration xmlns=\"x\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>";
        assert_eq!(
            location_constraint(xml).ok(),
            Some(Some("eu-west-1".to_owned()))
        );
        assert!(location_constraint(b"<Nope/>").is_err());
    }
}
