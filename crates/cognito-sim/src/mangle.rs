//! Damaged answers for the malformed-response, pagination and connection faults: what a
//! client gets when a proxy, a network, a newer API version or a buggy service
//! misbehaves.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt as _};
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderValue};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};

use super::body::Body;
use super::cognito::Scope;
use super::faults::EnumField;
use super::pagination;

/// A load balancer's error page, as clients meet it in front of real services.
pub(crate) fn html_502() -> Bytes {
    Bytes::from_static(
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
          <center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
    )
}

/// The first half of a body (never all of it).
pub(crate) fn truncate(body: Bytes) -> Bytes {
    let keep = body.len() / 2;
    body.slice(..keep)
}

/// A body that sends `after` bytes of `body`, then fails, which makes hyper drop the
/// connection; `Content-Length` announces the whole body so the client knows it was cut.
pub(crate) fn reset_after(body: Bytes, after: usize, headers: &mut HeaderMap) -> Body {
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    let head = body.slice(..after.min(body.len().saturating_sub(1)));
    let first = stream::iter([Ok(Frame::data(head))]);
    let then_fail = stream::once(async {
        // Pending for a moment lets hyper flush the partial body before the failure.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(io::Error::other("injected connection reset"))
    });
    BodyExt::boxed(StreamBody::new(first.chain(then_fail)))
}

/// Replaces `LogLevel` with `DEBUG` or `EventSource` with `userDebugEvents` in every log
/// configuration of the answer; or a described pool's `UserPoolTier` with `PLATINUM`, or
/// its `AdvancedSecurityMode` with `QUARANTINE` (add-ons made when there were none).
pub(crate) fn unknown_enum(answer: &mut Value, field: EnumField, scope: &Scope<'_>) {
    let (name, value) = match field {
        EnumField::LogLevel => ("LogLevel", "DEBUG"),
        EnumField::EventSource => ("EventSource", "userDebugEvents"),
        EnumField::UserPoolTier => {
            if let Some(pool) = answer.get_mut("UserPool").and_then(Value::as_object_mut) {
                pool.insert("UserPoolTier".to_owned(), json!("PLATINUM"));
            }
            return;
        }
        EnumField::AdvancedSecurityMode => {
            if let Some(pool) = answer.get_mut("UserPool").and_then(Value::as_object_mut) {
                pool.insert(
                    "UserPoolAddOns".to_owned(),
                    json!({"AdvancedSecurityMode": "QUARANTINE"}),
                );
            }
            return;
        }
    };
    if let Some(configs) = configurations(answer, scope) {
        for config in configs.iter_mut().filter_map(Value::as_object_mut) {
            config.insert(name.to_owned(), json!(value));
        }
    }
}

/// Removes member `field` wherever it occurs in the answer.
pub(crate) fn missing_field(answer: &mut Value, field: &str, scope: &Scope<'_>) {
    // Make sure a log-delivery answer has configurations for a field to be missing from.
    let _ = configurations(answer, scope);
    remove_everywhere(answer, field);
}

/// Removes every element `field` (`<field>...</field>` or `<field/>`) from an XML
/// answer. The simulator's XML has no attributes on these elements and no CDATA.
pub(crate) fn missing_xml_element(xml: &str, field: &str) -> String {
    let (open, close, empty) = (
        format!("<{field}>"),
        format!("</{field}>"),
        format!("<{field}/>"),
    );
    let mut out = xml.replace(&empty, "");
    while let Some(start) = out.find(&open) {
        let Some(end) = out[start..].find(&close).map(|e| start + e + close.len()) else {
            break;
        };
        out.replace_range(start..end, "");
    }
    out
}

/// Gives a `ListUserPools` answer a `NextToken` back to the first page: the same token
/// each time.
pub(crate) fn looping_token(answer: &mut Value, scope: &Scope<'_>) {
    answer["NextToken"] = json!(pagination::encode_token(scope.account, scope.region, 0));
}

/// Gives a `ListUserPools` answer a `NextToken` back to the first page, tagged with
/// `tag` (the request's ID), so that no two are the same.
pub(crate) fn endless_token(answer: &mut Value, scope: &Scope<'_>, tag: &str) {
    answer["NextToken"] = json!(pagination::encode_tagged_token(
        scope.account,
        scope.region,
        0,
        tag
    ));
}

fn remove_everywhere(value: &mut Value, field: &str) {
    match value {
        Value::Object(map) => {
            map.remove(field);
            map.values_mut().for_each(|v| remove_everywhere(v, field));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| remove_everywhere(v, field)),
        _ => {}
    }
}

/// The `LogConfigurations` of a log-delivery answer, with one made up if it had none,
/// so that damage to them is always visible.
fn configurations<'v>(answer: &'v mut Value, scope: &Scope<'_>) -> Option<&'v mut Vec<Value>> {
    let configs = answer
        .get_mut("LogDeliveryConfiguration")?
        .get_mut("LogConfigurations")?
        .as_array_mut()?;
    if configs.is_empty() {
        let arn = format!(
            "arn:aws:logs:{}:{}:log-group:/aws/cognito/injected",
            scope.region, scope.account
        );
        configs.push(json!({
            "LogLevel": "ERROR",
            "EventSource": "userNotification",
            "CloudWatchLogsConfiguration": {"LogGroupArn": arn},
        }));
    }
    Some(configs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCOPE: Scope<'static> = Scope {
        account: "123456789012",
        region: "us-east-1",
    };

    fn answer(configs: Value) -> Value {
        json!({"LogDeliveryConfiguration": {"UserPoolId": "p", "LogConfigurations": configs}})
    }

    #[test]
    fn unknown_enums_replace_every_configuration_value() {
        let mut a = answer(json!([{"LogLevel": "INFO", "EventSource": "userAuthEvents"}]));
        unknown_enum(&mut a, EnumField::EventSource, &SCOPE);
        let c = &a["LogDeliveryConfiguration"]["LogConfigurations"][0];
        assert_eq!(
            (c["EventSource"].as_str(), c["LogLevel"].as_str()),
            (Some("userDebugEvents"), Some("INFO"))
        );
        let mut empty = answer(json!([]));
        unknown_enum(&mut empty, EnumField::LogLevel, &SCOPE);
        assert_eq!(
            empty["LogDeliveryConfiguration"]["LogConfigurations"][0]["LogLevel"],
            "DEBUG"
        );
    }

    #[test]
    fn missing_fields_vanish_everywhere() {
        let mut a = json!({"UserPools": [{"Id": "a", "Name": "n"}, {"Id": "b"}]});
        missing_field(&mut a, "Id", &SCOPE);
        assert_eq!(a, json!({"UserPools": [{"Name": "n"}, {}]}));
        let mut empty = answer(json!([]));
        missing_field(&mut empty, "LogLevel", &SCOPE);
        let c = &empty["LogDeliveryConfiguration"]["LogConfigurations"][0];
        assert!(c.get("LogLevel").is_none() && c.get("EventSource").is_some());
    }

    #[test]
    fn missing_xml_elements_vanish_everywhere() {
        let xml = "<R><Result><Arn>a</Arn><Account>1</Account></Result><Account/></R>";
        assert_eq!(
            missing_xml_element(xml, "Account"),
            "<R><Result><Arn>a</Arn></Result></R>"
        );
        assert_eq!(missing_xml_element(xml, "UserId"), xml);
    }

    #[test]
    fn page_tokens_lead_back_to_the_start() {
        let mut a = json!({"UserPools": []});
        looping_token(&mut a, &SCOPE);
        let looping = a["NextToken"].clone();
        looping_token(&mut a, &SCOPE);
        assert_eq!(a["NextToken"], looping, "the same token each time");
        endless_token(&mut a, &SCOPE, "r-1");
        let first = a["NextToken"].clone();
        endless_token(&mut a, &SCOPE, "r-2");
        assert_ne!(a["NextToken"], first, "a new token each time");
        for token in [&looping, &first] {
            let input = json!({"MaxResults": 60, "NextToken": token});
            let page = pagination::parse_request(&input, SCOPE.account, SCOPE.region)
                .expect("a valid token");
            assert_eq!(page.after, Some(0), "back to the first page");
        }
    }

    #[test]
    fn truncation_always_cuts() {
        assert_eq!(
            truncate(Bytes::from_static(b"{\"a\":1}")),
            Bytes::from_static(b"{\"a")
        );
        assert!(truncate(Bytes::from_static(b"{")).is_empty());
    }
}
