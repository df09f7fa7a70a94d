//! `ListUserPools` paging, and the paging under Organizations' lists (whose tokens are
//! their own, see `organizations`). A page resumes after the sequence number of the last
//! item it returned, so items created or deleted between pages neither repeat nor shift
//! the rest. The `ListUserPools` `NextToken` is opaque to clients and bound to its
//! account and region. A token may carry a tag after the position, which changes nothing
//! but the token: the `endless_token` fault tags each token it makes with its request's
//! ID, so that no two are the same.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::error::{ApiError, Violations};
use super::validation::opt_str;

const TOKEN_PREFIX: &str = "lup1";

/// A validated `ListUserPools` request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub(crate) max_results: usize,
    /// Resume after this sequence number; `None` starts at the beginning.
    pub(crate) after: Option<u64>,
}

/// Checks `MaxResults` (required, 1–60) and decodes `NextToken`.
pub(crate) fn parse_request(
    input: &Value,
    account: &str,
    region: &str,
) -> Result<PageRequest, ApiError> {
    let mut v = Violations::default();
    let max_results = match input.get("MaxResults") {
        None | Some(Value::Null) => {
            v.null("maxResults");
            0
        }
        Some(Value::Number(n)) => {
            let n = n
                .as_i64()
                .ok_or_else(|| ApiError::serialization("MaxResults must be an integer"))?;
            if n < 1 {
                v.constraint("maxResults", n, "have value greater than or equal to 1");
            } else if n > 60 {
                v.constraint("maxResults", n, "have value less than or equal to 60");
            }
            usize::try_from(n).unwrap_or(0)
        }
        Some(_) => return Err(ApiError::serialization("MaxResults must be an integer")),
    };
    let token = opt_str(input, "NextToken")?;
    if let Some(t) = token
        && (t.is_empty() || t.len() > 131_072)
    {
        v.constraint("nextToken", t, "have length between 1 and 131072");
    }
    v.into_result()?;
    let after = token
        .map(|t| decode_token(t, account, region))
        .transpose()?;
    Ok(PageRequest { max_results, after })
}

pub(crate) fn encode_token(account: &str, region: &str, after: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}:{account}:{region}:{after}"))
}

/// A token for the same position as [`encode_token`]'s, told apart by `tag` (which must
/// not contain `:`).
pub(crate) fn encode_tagged_token(account: &str, region: &str, after: u64, tag: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}:{account}:{region}:{after}:{tag}"))
}

fn decode_token(token: &str, account: &str, region: &str) -> Result<u64, ApiError> {
    let invalid = || ApiError::invalid_parameter("Invalid NextToken");
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut parts = raw.split(':');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some(TOKEN_PREFIX), Some(a), Some(r), Some(seq), _tag, None)
            if a == account && r == region =>
        {
            seq.parse().map_err(|_| invalid())
        }
        _ => Err(invalid()),
    }
}

/// At most `max` items after `after`, and the position to resume from if more remain.
pub(crate) fn page<T: Clone>(
    items: &BTreeMap<u64, T>,
    after: Option<u64>,
    max: usize,
) -> (Vec<T>, Option<u64>) {
    page_where(items, after, max, |_| true)
}

/// [`page`] over the items `keep` selects: Organizations lists the children of one
/// parent out of the whole tree.
pub(crate) fn page_where<T: Clone>(
    items: &BTreeMap<u64, T>,
    after: Option<u64>,
    max: usize,
    keep: impl Fn(&T) -> bool,
) -> (Vec<T>, Option<u64>) {
    let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
    let mut rest = items
        .range((start, std::ops::Bound::Unbounded))
        .filter(|(_, item)| keep(item));
    let mut out = Vec::with_capacity(max.min(items.len()));
    let mut last = None;
    for (seq, item) in rest.by_ref().take(max) {
        out.push(item.clone());
        last = Some(*seq);
    }
    let next = if rest.next().is_some() { last } else { None };
    (out, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    fn items(seqs: &[u64]) -> BTreeMap<u64, u64> {
        seqs.iter().map(|s| (*s, *s * 10)).collect()
    }

    #[test]
    fn pages_cover_every_item_once() {
        let all = items(&[1, 2, 3, 5, 8]);
        let (p1, next) = page(&all, None, 2);
        assert_eq!((p1, next), (vec![10, 20], Some(2)));
        let (p2, next) = page(&all, Some(2), 2);
        assert_eq!((p2, next), (vec![30, 50], Some(5)));
        let (p3, next) = page(&all, Some(5), 2);
        assert_eq!((p3, next), (vec![80], None));
    }

    #[test]
    fn filtered_pages_skip_what_is_not_kept() {
        let all = items(&[1, 2, 3, 4, 5, 6]);
        let even = |v: &u64| v.is_multiple_of(20);
        let (p1, next) = page_where(&all, None, 2, even);
        assert_eq!((p1, next), (vec![20, 40], Some(4)));
        assert_eq!(page_where(&all, next, 2, even), (vec![60], None));
        assert_eq!(page_where(&all, Some(6), 2, even), (vec![], None));
    }

    #[test]
    fn an_exact_fit_has_no_next_page() {
        let all = items(&[1, 2]);
        assert_eq!(page(&all, None, 2), (vec![10, 20], None));
        assert_eq!(page(&items(&[]), None, 5), (vec![], None));
    }

    #[test]
    fn deletion_between_pages_skips_nothing() {
        let mut all = items(&[1, 2, 3, 4]);
        let (_, next) = page(&all, None, 2);
        all.remove(&2);
        all.remove(&3);
        assert_eq!(page(&all, next, 2), (vec![40], None));
    }

    #[test]
    fn max_results_is_required_and_bounded() {
        let ok = parse_request(&json!({"MaxResults": 60}), "1", "r").expect("valid");
        assert_eq!(
            ok,
            PageRequest {
                max_results: 60,
                after: None
            }
        );
        for bad in [
            json!({}),
            json!({"MaxResults": 0}),
            json!({"MaxResults": 61}),
        ] {
            let err = parse_request(&bad, "1", "r").expect_err("invalid");
            assert_eq!(err.code, ErrorCode::InvalidParameterException);
            assert!(err.message.contains("maxResults"), "{}", err.message);
        }
        let err = parse_request(&json!({"MaxResults": "5"}), "1", "r").expect_err("type");
        assert_eq!(err.code, ErrorCode::SerializationException);
    }

    #[test]
    fn tokens_round_trip_only_in_their_namespace() {
        let token = encode_token("123456789012", "eu-west-1", 42);
        let input = json!({"MaxResults": 10, "NextToken": token});
        let req = parse_request(&input, "123456789012", "eu-west-1").expect("valid");
        assert_eq!(req.after, Some(42));
        for (account, region) in [("123456789012", "us-east-1"), ("999999999999", "eu-west-1")] {
            let err = parse_request(&input, account, region).expect_err("foreign token");
            assert_eq!(err.message, "Invalid NextToken");
        }
        let tagged = encode_tagged_token("123456789012", "eu-west-1", 42, "r-1");
        assert_ne!(tagged, token);
        let input = json!({"MaxResults": 10, "NextToken": tagged});
        let req = parse_request(&input, "123456789012", "eu-west-1").expect("valid");
        assert_eq!(req.after, Some(42));
        let garbage = json!({"MaxResults": 10, "NextToken": "not a token!"});
        assert!(parse_request(&garbage, "1", "r").is_err());
    }
}
