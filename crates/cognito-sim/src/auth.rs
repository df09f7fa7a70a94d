//! Reads who is calling from a SigV4 `Authorization` header. Signatures are not checked:
//! the simulator needs the access key (to find the account) and the region (to find the
//! namespace), nothing more.

use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::error::{ApiError, ErrorCode};

/// The access key and region named by a request's credential scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caller {
    pub(crate) access_key: String,
    pub(crate) region: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
///
/// SigV4a scopes (`AKID/DATE/SERVICE/aws4_request`) carry no region; theirs comes from
/// `X-Amz-Region-Set`, as AWS reads it.
pub(crate) fn caller(headers: &HeaderMap) -> Result<Caller, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::new(
            ErrorCode::MissingAuthenticationTokenException,
            ErrorCode::MissingAuthenticationTokenException.default_message(),
        ));
    };
    let incomplete = |why: &str| ApiError::new(ErrorCode::IncompleteSignatureException, why);
    let value = value
        .to_str()
        .map_err(|_| incomplete("Authorization header is not ASCII"))?;
    let scope = value
        .split([' ', ','])
        .find_map(|part| part.strip_prefix("Credential="))
        .ok_or_else(|| incomplete("Authorization header requires 'Credential' parameter."))?;
    let parts: Vec<&str> = scope.split('/').collect();
    let (access_key, region) = match parts.as_slice() {
        [key, _date, region, _service, "aws4_request"] => (*key, (*region).to_owned()),
        [key, _date, _service, "aws4_request"] => {
            let set = headers
                .get("x-amz-region-set")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| incomplete("SigV4a request without X-Amz-Region-Set"))?;
            let first = set.split(',').next().unwrap_or_default().trim();
            (*key, first.to_owned())
        }
        _ => {
            return Err(incomplete(
                "Credential scope is not KEY/DATE/REGION/SERVICE/aws4_request",
            ));
        }
    };
    if access_key.is_empty() || region.is_empty() || region == "*" {
        return Err(incomplete("Credential scope names no access key or region"));
    }
    Ok(Caller {
        access_key: access_key.to_owned(),
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(auth).expect("ascii"));
        h
    }

    #[test]
    fn reads_key_and_region_from_the_scope() {
        let h = headers(
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/eu-west-1/cognito-idp/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abc",
        );
        let c = caller(&h).expect("valid");
        assert_eq!(c.access_key, "AKIDTEST");
        assert_eq!(c.region, "eu-west-1");
    }

    #[test]
    fn sigv4a_takes_the_region_set() {
        let mut h = headers("AWS4-ECDSA-P256-SHA256 Credential=AKID/20261123/sts/aws4_request");
        h.insert("x-amz-region-set", HeaderValue::from_static("ap-south-1"));
        assert_eq!(caller(&h).expect("valid").region, "ap-south-1");
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        let err = caller(&HeaderMap::new()).expect_err("missing");
        assert_eq!(err.code, ErrorCode::MissingAuthenticationTokenException);
        let err = caller(&headers("AWS4-HMAC-SHA256 Signature=abc")).expect_err("no scope");
        assert_eq!(err.code, ErrorCode::IncompleteSignatureException);
        let err = caller(&headers("AWS4-HMAC-SHA256 Credential=AKID/x")).expect_err("short");
        assert_eq!(err.code, ErrorCode::IncompleteSignatureException);
    }
}
