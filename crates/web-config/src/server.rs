//! [`ServerInfo`]: what the program serving the file decides and the file does not: its
//! name in messages, the basic-auth realm, the protocols it speaks (offered by ALPN).

use http::HeaderValue;

/// ALPN protocol ID of HTTP/2, left out when the file says `http2: false`.
pub(crate) const H2: &[u8] = b"h2";

/// ALPN protocol ID of HTTP/1.1.
const HTTP_1_1: &[u8] = b"http/1.1";

/// What the server using this crate says about itself. Given to [`load`](crate::load)
/// and [`WebSecurity::from_file`](crate::WebSecurity::from_file); reloads keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    name: String,
    challenge: HeaderValue,
    alpn: Vec<Vec<u8>>,
}

impl ServerInfo {
    /// A server called `name` (`my-exporter`): the name appears in messages ("not
    /// supported by my-exporter") and is the basic-auth realm. It speaks HTTP/2 and
    /// HTTP/1.1, as a Go exporter does: on TLS, ALPN offers `h2` then `http/1.1`, or only
    /// `http/1.1` when the file says `http_server_config.http2: false`. Such a server
    /// serves HTTP/2 on a connection that negotiated `h2` (see
    /// [`WebSecurity::offers_http2`](crate::WebSecurity::offers_http2)).
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            challenge: challenge(&name),
            name,
            alpn: vec![H2.to_vec(), HTTP_1_1.to_vec()],
        }
    }

    /// Sends `realm` in the `WWW-Authenticate: Basic realm="…"` challenge instead of the
    /// name. Quotes and backslashes are escaped; control characters are left out.
    pub fn with_realm(mut self, realm: &str) -> Self {
        self.challenge = challenge(realm);
        self
    }

    /// The protocols offered by ALPN on TLS connections, most preferred first, for a
    /// server that does not speak both HTTP/2 and HTTP/1.1 (the default offers `h2`
    /// then `http/1.1`): `vec![b"http/1.1".to_vec()]` for one that speaks HTTP/1.1
    /// only. A file with `http_server_config.http2: false` removes `h2`.
    pub fn with_alpn_protocols(mut self, protocols: Vec<Vec<u8>>) -> Self {
        self.alpn = protocols;
        self
    }

    /// The name given to [`ServerInfo::new`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `WWW-Authenticate` value of every 401.
    pub(crate) fn challenge(&self) -> &HeaderValue {
        &self.challenge
    }

    /// The ALPN protocols to offer, given the file's `http2` setting.
    pub(crate) fn alpn(&self, http2: bool) -> Vec<Vec<u8>> {
        self.alpn
            .iter()
            .filter(|p| http2 || p.as_slice() != H2)
            .cloned()
            .collect()
    }
}

/// `Basic realm="<realm>"`, the realm as an HTTP quoted-string.
fn challenge(realm: &str) -> HeaderValue {
    let mut value = String::from("Basic realm=\"");
    for c in realm.chars().filter(|c| !c.is_control()) {
        if matches!(c, '"' | '\\') {
            value.push('\\');
        }
        value.push(c);
    }
    value.push('"');
    HeaderValue::from_str(&value).expect("a header value once control characters are removed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_realm_is_the_name_unless_set_and_is_quoted() {
        let info = ServerInfo::new("my-exporter");
        assert_eq!(info.name(), "my-exporter");
        assert_eq!(info.challenge(), "Basic realm=\"my-exporter\"");
        let info = info.with_realm("a \"b\" \\ c\n\u{7f}é");
        assert_eq!(
            info.challenge().as_bytes(),
            "Basic realm=\"a \\\"b\\\" \\\\ cé\"".as_bytes()
        );
    }

    #[test]
    fn alpn_offers_h2_then_http1_unless_http2_is_false_or_the_server_says_otherwise() {
        let info = ServerInfo::new("x");
        assert_eq!(info.alpn(true), [b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(info.alpn(false), [b"http/1.1".to_vec()]);
        let info = info.with_alpn_protocols(vec![b"http/1.1".to_vec()]);
        assert_eq!(info.alpn(true), [b"http/1.1".to_vec()]);
        assert_eq!(info.alpn(false), [b"http/1.1".to_vec()]);
    }
}
