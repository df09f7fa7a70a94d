//! [`ServerInfo`]: what the program serving the file decides and the file does not: its
//! name in messages, the basic-auth realm, the protocols offered by ALPN.

use http::HeaderValue;

/// ALPN protocol ID of HTTP/2, left out when the file says `http2: false`.
const H2: &[u8] = b"h2";

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
    /// supported by my-exporter") and is the basic-auth realm. By ALPN the server offers
    /// `http/1.1` only.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            challenge: challenge(&name),
            name,
            alpn: vec![b"http/1.1".to_vec()],
        }
    }

    /// Sends `realm` in the `WWW-Authenticate: Basic realm="…"` challenge instead of the
    /// name. Quotes and backslashes are escaped; control characters are left out.
    pub fn with_realm(mut self, realm: &str) -> Self {
        self.challenge = challenge(realm);
        self
    }

    /// The protocols offered by ALPN on TLS connections, most preferred first (the
    /// default is `http/1.1` only). Offer `h2` only when the server speaks HTTP/2 on
    /// the connection; a file with `http_server_config.http2: false` removes it.
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
    fn http2_false_removes_h2_from_alpn() {
        let info = ServerInfo::new("x");
        assert_eq!(info.alpn(true), [b"http/1.1".to_vec()]);
        let info = info.with_alpn_protocols(vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(info.alpn(true), [b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(info.alpn(false), [b"http/1.1".to_vec()]);
    }
}
