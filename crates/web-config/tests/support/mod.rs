//! The harness of `tests/web_config.rs`: certificates made with rcgen, a stand-in for a
//! server built on the `web_config` API, and an HTTPS (or plain HTTP) client.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, SanType,
    SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;
use web_config::{ServerInfo, WebSecurity};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

pub(crate) const PASSWORD: &str = "correct horse";

/// The name the test server gives itself, hence its basic-auth realm.
pub(crate) const SERVER_NAME: &str = "demo-exporter";

pub(crate) fn server_info() -> ServerInfo {
    ServerInfo::new(SERVER_NAME)
}

/// A certificate authority that can sign server and client certificates.
pub(crate) struct Ca {
    pub(crate) cert: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("CA cert");
        Self {
            cert,
            issuer: Issuer::new(params, key),
        }
    }

    /// PEM of a certificate for `sans` and of its key.
    pub(crate) fn issue(
        &self,
        sans: &[&str],
        usage: ExtendedKeyUsagePurpose,
        serial: u64,
    ) -> (String, String) {
        self.issue_with(sans, usage, serial, |_| {})
    }

    pub(crate) fn issue_with(
        &self,
        sans: &[&str],
        usage: ExtendedKeyUsagePurpose,
        serial: u64,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let sans: Vec<String> = sans.iter().map(|s| (*s).to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("params");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.extended_key_usages = vec![usage];
        params.serial_number = Some(SerialNumber::from(serial));
        adjust(&mut params);
        let cert = params.signed_by(&key, &self.issuer).expect("cert");
        (cert.pem(), key.serialize_pem())
    }

    /// A client config trusting this CA, optionally presenting a client certificate.
    pub(crate) fn client(&self, identity: Option<&(String, String)>) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.cert.der().clone())
            .expect("CA is a valid anchor");
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(roots);
        let config = match identity {
            None => builder.with_no_client_auth(),
            Some((cert_pem, key_pem)) => {
                use rustls::pki_types::pem::PemObject;
                let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).expect("cert");
                let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes()).expect("key");
                builder
                    .with_client_auth_cert(vec![cert], PrivateKeyDer::from(key))
                    .expect("client cert")
            }
        };
        Arc::new(config)
    }
}

/// A directory with a CA, a server certificate for localhost (serial 1) and `web.yml`.
pub(crate) struct Setup {
    dir: tempfile::TempDir,
    pub(crate) ca: Ca,
}

impl Setup {
    pub(crate) fn new() -> Self {
        let setup = Self {
            dir: tempfile::tempdir().expect("tempdir"),
            ca: Ca::new("test CA"),
        };
        setup.write("ca.crt", &setup.ca.cert.pem());
        setup.server_cert(1, &[]);
        setup
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write");
    }

    pub(crate) fn server_cert(&self, serial: u64, extra_sans: &[&str]) {
        let mut sans = vec!["localhost"];
        sans.extend_from_slice(extra_sans);
        let (cert, key) = self
            .ca
            .issue(&sans, ExtendedKeyUsagePurpose::ServerAuth, serial);
        self.write("server.crt", &cert);
        self.write("server.key", &key);
    }

    /// Writes `web.yml`: TLS with the server certificate, plus `extra` YAML.
    pub(crate) fn config(&self, extra: &str) -> PathBuf {
        let yaml =
            format!("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n{extra}");
        self.write("web.yml", &yaml);
        self.path("web.yml")
    }

    pub(crate) async fn serve(&self, extra: &str) -> (WebSecurity, Server) {
        let security =
            WebSecurity::from_file(&self.config(extra), &server_info()).expect("valid web config");
        let server = Server::start(security.clone()).await;
        (security, server)
    }

    /// Serves `web.yml` holding only `yaml`: plain HTTP unless it has a TLS section.
    pub(crate) async fn serve_plain(&self, yaml: &str) -> (WebSecurity, Server) {
        self.write("web.yml", yaml);
        let security = WebSecurity::from_file(&self.path("web.yml"), &server_info())
            .expect("valid web config");
        let server = Server::start(security.clone()).await;
        (security, server)
    }
}

/// The test's stand-in for an exporter's HTTP server.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Server {
    pub(crate) async fn start(security: WebSecurity) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            loop {
                let stream = tokio::select! {
                    () = stop.cancelled() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                };
                tokio::spawn(serve_connection(security.clone(), stream));
            }
        });
        Self { addr, shutdown }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn serve_connection(security: WebSecurity, stream: TcpStream) {
    let service = {
        let security = security.clone();
        service_fn(move |req: Request<Incoming>| {
            let security = security.clone();
            async move { Ok::<_, Infallible>(respond(&security, &req).await) }
        })
    };
    match security.tls_acceptor() {
        Some(acceptor) => {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            // The protocol the handshake agreed on by ALPN decides, as in a real server.
            if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                let _ = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            } else {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            }
        }
        None => {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    }
}

async fn respond(security: &WebSecurity, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let mut response = match security.authorize(req.headers()).await {
        Ok(()) => Response::new(Full::new(Bytes::from_static(b"ok\n"))),
        Err(rejection) => rejection.into_response(Response::new(Full::new(Bytes::from_static(
            b"401 unauthorized\n",
        )))),
    };
    let extra = security.response_headers();
    response
        .headers_mut()
        .extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    response
}

/// What a client saw.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) head: String,
    pub(crate) body: String,
    /// The server's certificate; `None` over plain HTTP.
    pub(crate) peer_cert: Option<CertificateDer<'static>>,
}

impl Reply {
    pub(crate) fn status(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or_default()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One HTTPS GET; `Err` carries the TLS or I/O failure.
pub(crate) async fn get(
    addr: SocketAddr,
    client: Arc<ClientConfig>,
    user: Option<(&str, &str)>,
) -> Result<Reply, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").expect("server name");
    let mut tls = TlsConnector::from(client)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let peer_cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .expect("server sent a certificate")[0]
        .clone();
    let (head, body) = exchange(&mut tls, user).await?;
    Ok(Reply {
        head,
        body,
        peer_cert: Some(peer_cert),
    })
}

/// One plain HTTP GET; `Err` carries the I/O failure.
pub(crate) async fn get_plain(
    addr: SocketAddr,
    user: Option<(&str, &str)>,
) -> Result<Reply, String> {
    let mut tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (head, body) = exchange(&mut tcp, user).await?;
    Ok(Reply {
        head,
        body,
        peer_cert: None,
    })
}

/// Sends `GET /metrics` (with basic credentials for `user`) and reads the whole answer:
/// its head and its body.
async fn exchange(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    user: Option<(&str, &str)>,
) -> Result<(String, String), String> {
    let auth = user.map_or(String::new(), |(u, p)| {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        format!("Authorization: Basic {token}\r\n")
    });
    let request =
        format!("GET /metrics HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw).await
        && raw.is_empty()
    {
        return Err(format!("read: {e}"));
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP response: {text:?}"))?;
    Ok((head.to_owned(), body.to_owned()))
}

pub(crate) fn serial_and_sans(cert: &CertificateDer<'_>) -> (u64, Vec<String>) {
    let (_, parsed) = X509Certificate::from_der(cert).expect("X.509");
    let serial = u64::try_from(parsed.serial.clone()).expect("small serial");
    let sans = parsed
        .subject_alternative_name()
        .expect("SAN parses")
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some((*d).to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    (serial, sans)
}
