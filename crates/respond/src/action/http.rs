//! The HTTP(S) connector (`ureq`, blocking, one connection pool per responder).
//!
//! - TLS certificates are verified against the web PKI's roots plus the CA
//!   certificates of `ca_file`; turning verification off (`insecure`) is a
//!   configuration choice, never a default.
//! - Redirects are not followed: a redirect would carry the request, its
//!   `Authorization` and its idempotency key to a place the playbook did not name. A 3xx
//!   answer fails the step, naming where it pointed.
//! - 2xx is done; 408, 429, 5xx, refused or broken connections and timeouts may pass
//!   and are retried (a `Retry-After` is handed on); any other answer fails the step.
//! - The answer kept is capped ([`RESPONSE_CAP`]) and has every secret redacted.

use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::prepare::check_url;
use super::template::{fill_secrets, SecretForm};
use super::{Connector, HttpConfig, Outcome, OutcomeStatus, PreparedRequest, RequestDetail};
use super::{Secrets, RESPONSE_CAP};
use crate::RespondError;

/// Sends HTTP requests.
pub struct HttpConnector {
    agent: ureq::Agent,
    secrets: Arc<Secrets>,
}

impl std::fmt::Debug for HttpConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConnector")
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl HttpConnector {
    /// A connector with `config`'s TLS settings, putting in `secrets` when it sends.
    pub fn new(config: &HttpConfig, secrets: Arc<Secrets>) -> Result<HttpConnector, RespondError> {
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .tls_config(tls_config(config)?)
            .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(HttpConnector { agent, secrets })
    }

    fn attempt(&self, request: &PreparedRequest, timeout: Duration) -> Result<Outcome, String> {
        let RequestDetail::Http {
            method,
            url,
            headers,
            body,
        } = &request.detail
        else {
            return Err("not an HTTP request".to_owned());
        };
        let fill = |form: SecretForm, name: &str| -> Result<String, String> {
            let value = self
                .secrets
                .get(name)
                .ok_or_else(|| format!("secret {name:?} is not defined"))?;
            Ok(match form {
                SecretForm::Plain => value.to_owned(),
                SecretForm::Basic => base64::engine::general_purpose::STANDARD.encode(value),
            })
        };
        let url = check_url(&fill_secrets(url, fill)?)?;
        let mut call = self.agent.request_url(method, &url).timeout(timeout);
        for (name, value) in headers {
            let value = fill_secrets(value, fill)?;
            if value.chars().any(|c| c.is_control()) {
                return Err(format!("header {name} holds a control character"));
            }
            call = call.set(name, &value);
        }
        let result = match body {
            Some(body) => call.send_bytes(body.as_bytes()),
            None => call.call(),
        };
        Ok(match result {
            Ok(response) => {
                let status = response.status();
                if (300..400).contains(&status) {
                    let location = response.header("Location").unwrap_or("").to_owned();
                    let text = self.read_capped(response);
                    Outcome {
                        status: OutcomeStatus::Failed,
                        summary: format!("HTTP {status}: redirect to {location:?} not followed"),
                        response: Some(text),
                        retry_after: None,
                    }
                } else {
                    Outcome {
                        status: OutcomeStatus::Done,
                        summary: format!("HTTP {status}"),
                        response: Some(self.read_capped(response)),
                        retry_after: None,
                    }
                }
            }
            Err(ureq::Error::Status(status, response)) => {
                let retry_after = response.header("Retry-After").and_then(parse_retry_after);
                let again = status == 408 || status == 429 || status >= 500;
                Outcome {
                    status: if again {
                        OutcomeStatus::Retry
                    } else {
                        OutcomeStatus::Failed
                    },
                    summary: format!("HTTP {status}"),
                    response: Some(self.read_capped(response)),
                    retry_after,
                }
            }
            Err(ureq::Error::Transport(transport)) => transport_outcome(&transport, timeout),
        })
    }

    /// The body, at most [`RESPONSE_CAP`] bytes of it, secrets redacted. Read a little
    /// past the cap first so that a secret straddling it is still redacted whole.
    fn read_capped(&self, response: ureq::Response) -> String {
        let longest = self.secrets.longest_form();
        let mut bytes = Vec::new();
        let _ = response
            .into_reader()
            .take((RESPONSE_CAP + longest + 1) as u64)
            .read_to_end(&mut bytes);
        let cut = bytes.len() > RESPONSE_CAP;
        let text = self.secrets.redact(&String::from_utf8_lossy(&bytes));
        if cut || text.len() > RESPONSE_CAP {
            let mut end = RESPONSE_CAP.min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}[…]", &text[..end])
        } else {
            text
        }
    }
}

impl Connector for HttpConnector {
    fn send(&self, request: &PreparedRequest, timeout: Duration) -> Outcome {
        let outcome = self
            .attempt(request, timeout)
            .unwrap_or_else(|message| Outcome {
                status: OutcomeStatus::Failed,
                summary: message,
                response: None,
                retry_after: None,
            });
        Outcome {
            summary: self.secrets.redact(&outcome.summary),
            ..outcome
        }
    }
}

/// A connection that failed: TLS and malformed requests will fail again, anything else
/// (refused, reset, DNS, timeout) may pass.
fn transport_outcome(transport: &ureq::Transport, timeout: Duration) -> Outcome {
    use ureq::ErrorKind;
    let mut reason = transport.kind().to_string();
    if let Some(message) = transport.message() {
        reason = format!("{reason}: {message}");
    }
    let mut tls = false;
    let mut timed_out = false;
    let mut source = std::error::Error::source(transport);
    while let Some(error) = source {
        if error.downcast_ref::<rustls::Error>().is_some() {
            tls = true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                timed_out = true;
            }
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                tls = true;
            }
        }
        reason = format!("{reason}: {error}");
        source = error.source();
    }
    let permanent = tls
        || matches!(
            transport.kind(),
            ErrorKind::InvalidUrl
                | ErrorKind::UnknownScheme
                | ErrorKind::BadHeader
                | ErrorKind::InsecureRequestHttpsOnly
                | ErrorKind::InvalidProxyUrl
        );
    Outcome {
        status: if permanent {
            OutcomeStatus::Failed
        } else {
            OutcomeStatus::Retry
        },
        summary: if timed_out {
            format!("timed out after {}s", timeout.as_secs_f64())
        } else if tls {
            format!("TLS: {reason}")
        } else {
            reason
        },
        response: None,
        retry_after: None,
    }
}

/// Whether `error` or one of its causes is a TLS failure (a certificate not trusted,
/// a handshake refused): that will fail again, unlike a broken connection.
pub(crate) fn caused_by_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return true;
            }
        }
        current = error.source();
    }
    false
}

/// The longest wait a peer may ask for; a longer `Retry-After` is taken as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After`: seconds, or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

fn tls_config(config: &HttpConfig) -> Result<Arc<rustls::ClientConfig>, RespondError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|error| RespondError::Config {
            message: format!("TLS: {error}"),
        })?;
    if config.insecure {
        return Ok(Arc::new(
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
                .with_no_client_auth(),
        ));
    }
    Ok(Arc::new(
        builder
            .with_root_certificates(root_store(config.ca_file.as_deref())?)
            .with_no_client_auth(),
    ))
}

/// The web PKI's roots, plus every certificate of `ca_file`.
pub(crate) fn root_store(
    ca_file: Option<&std::path::Path>,
) -> Result<rustls::RootCertStore, RespondError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let bad = |message: String| RespondError::Config {
            message: format!("CA file {}: {message}", path.display()),
        };
        let text = std::fs::read(path).map_err(|source| RespondError::ReadConfig {
            path: path.to_owned(),
            source,
        })?;
        let mut added = 0;
        for certificate in CertificateDer::pem_slice_iter(&text) {
            let certificate = certificate.map_err(|error| bad(error.to_string()))?;
            roots
                .add(certificate)
                .map_err(|error| bad(error.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("holds no PEM certificate".to_owned()));
        }
    }
    Ok(roots)
}

/// Accepts any certificate (signatures on the handshake still checked): only for
/// `insecure`, which a configuration has to ask for by name.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_a_date() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        let wait = parse_retry_after(&soon).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
