//! The e-mail connector against a real SMTP server (Python's `aiosmtpd`, started by the
//! test, delivering into a maildir): headers, body, `Message-ID` from the idempotency
//! key, hostile values kept out of the header block.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use rampart_respond::action::email::message_id;
use rampart_respond::action::{
    Connector, ConnectorConfig, Connectors, HttpConfig, OutcomeStatus, RenderContext, Secrets,
    SmtpConfig, SmtpTls,
};
use rampart_respond::playbook::ActionSpec;
use rampart_respond::testing::{SmtpPeer, TestCa};

fn smtp(port: u16) -> SmtpConfig {
    SmtpConfig {
        relay: "127.0.0.1".to_owned(),
        port: Some(port),
        from: "Rampart <rampart@soc.example>".to_owned(),
        tls: SmtpTls::None,
        auth_secret: None,
    }
}

/// An action as a playbook writes it (YAML, read through its JSON form as the
/// playbook loader does: serde_yaml would want enum tags).
fn action(yaml: &str) -> ActionSpec {
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    serde_json::from_value(value).unwrap()
}

fn context() -> RenderContext {
    RenderContext {
        run_id: "run-3".to_owned(),
        subject_id: "inc-12".to_owned(),
        inputs: BTreeMap::from([
            ("user".to_owned(), vec!["alice".to_owned()]),
            (
                "evil".to_owned(),
                vec!["pwned\r\nBcc: attacker@evil.example\r\nX-Injected: yes".to_owned()],
            ),
            (
                "body".to_owned(),
                vec!["line\n.\nafter a lone dot\n".to_owned()],
            ),
        ]),
    }
}

#[test]
fn a_message_arrives_once_with_its_headers_body_and_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let peer = SmtpPeer::start(dir.path());
    let connectors = Connectors::new(
        ConnectorConfig {
            smtp: Some(smtp(peer.addr().port())),
            ..ConnectorConfig::default()
        },
        Secrets::new(),
    )
    .unwrap();
    let spec = action(
        r#"
email:
  to: [soc@corp.example, '{{ inputs.user }}@corp.example']
  subject: 'Incident {{ incident.id }}: {{ inputs.evil }}'
  body: "Run {{ run.id }} locked {{ inputs.user }}.\n{{ inputs.body }}"
"#,
    );
    let request = connectors.prepare("pb", "mail", &spec, &context()).unwrap();
    assert_eq!(
        request.target,
        format!("smtp://127.0.0.1:{}", peer.addr().port())
    );
    let outcome = connectors.send(&request, Duration::from_secs(10));
    assert_eq!(outcome.status, OutcomeStatus::Done, "{outcome:?}");
    assert!(outcome.summary.starts_with("250"), "{}", outcome.summary);

    let messages = peer.wait_for(1, Duration::from_secs(10));
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    let id = message_id(&request.idempotency_key);
    assert_eq!(message.header("message-id"), Some(id.as_str()));
    assert_eq!(
        message.header("from"),
        Some("Rampart <rampart@soc.example>")
    );
    assert_eq!(
        message.header("to"),
        Some("soc@corp.example, alice@corp.example")
    );
    // The subject's line breaks became spaces: no header was injected, no Bcc added.
    assert_eq!(
        message.header("subject"),
        Some("Incident inc-12: pwned  Bcc: attacker@evil.example  X-Injected: yes")
    );
    assert!(message.header("x-injected").is_none() && message.header("bcc").is_none());
    // aiosmtpd records the envelope recipients: only the two addressed.
    assert_eq!(
        message.header("x-rcptto"),
        Some("soc@corp.example, alice@corp.example")
    );
    assert_eq!(
        message.body.trim_end(),
        "Run run-3 locked alice.\nline\n.\nafter a lone dot"
    );

    // The dry run shows envelope and message as they go out.
    let shown = connectors.dry_run(&request);
    assert!(
        shown.contains("MAIL FROM:<rampart@soc.example>\n"),
        "{shown}"
    );
    assert!(shown.contains("RCPT TO:<alice@corp.example>\n"));
    assert!(shown.contains(&format!("Message-ID: {id}\n")));
}

#[test]
fn relays_are_checked_and_an_absent_one_is_retried() {
    // Plain SMTP only to a loopback relay.
    let mut remote = smtp(25);
    remote.relay = "mail.example".to_owned();
    let error = Connectors::new(
        ConnectorConfig {
            smtp: Some(remote),
            ..ConnectorConfig::default()
        },
        Secrets::new(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("loopback"), "{error}");

    // Nobody listening: may pass later.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let connectors = Connectors::new(
        ConnectorConfig {
            smtp: Some(smtp(port)),
            ..ConnectorConfig::default()
        },
        Secrets::new(),
    )
    .unwrap();
    let spec = action("email: { to: [soc@corp.example], subject: s, body: b }");
    let request = connectors.prepare("pb", "m", &spec, &context()).unwrap();
    let outcome = connectors.send(&request, Duration::from_secs(5));
    assert_eq!(outcome.status, OutcomeStatus::Retry, "{outcome:?}");

    // A recipient that is not one address is refused before anything is sent.
    let spec = action("email: { to: ['{{ inputs.evil }}'], subject: s, body: b }");
    assert!(connectors.prepare("pb", "m", &spec, &context()).is_err());
    // No relay configured: an e-mail step cannot be prepared.
    let none = Connectors::new(ConnectorConfig::default(), Secrets::new()).unwrap();
    let spec = action("email: { to: [soc@corp.example], subject: s, body: b }");
    assert!(none.prepare("pb", "m", &spec, &context()).is_err());
}

#[test]
fn starttls_is_required_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let peer = SmtpPeer::start_starttls(dir.path(), &ca);
    let spec = action("email: { to: [soc@corp.example], subject: 'over TLS', body: hello }");
    let config = |ca_file| ConnectorConfig {
        smtp: Some(SmtpConfig {
            relay: "localhost".to_owned(),
            port: Some(peer.addr().port()),
            from: "rampart@soc.example".to_owned(),
            tls: SmtpTls::Starttls,
            auth_secret: None,
        }),
        http: HttpConfig {
            ca_file,
            insecure: false,
        },
        ..ConnectorConfig::default()
    };

    // The private CA is not trusted by default: nothing is delivered.
    let untrusting = Connectors::new(config(None), Secrets::new()).unwrap();
    let request = untrusting.prepare("pb", "m", &spec, &context()).unwrap();
    let outcome = untrusting.send(&request, Duration::from_secs(10));
    assert_eq!(outcome.status, OutcomeStatus::Failed, "{outcome:?}");
    assert!(peer.messages().is_empty());

    let trusting =
        Connectors::new(config(Some(ca.write_ca_file(dir.path()))), Secrets::new()).unwrap();
    let outcome = trusting.send(&request, Duration::from_secs(10));
    assert_eq!(outcome.status, OutcomeStatus::Done, "{outcome:?}");
    let messages = peer.wait_for(1, Duration::from_secs(10));
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].header("subject"), Some("over TLS"));
    let id = message_id(&request.idempotency_key);
    assert_eq!(messages[0].header("message-id"), Some(id.as_str()));
}

#[test]
fn smtp_auth_comes_from_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let peer = SmtpPeer::start_with_auth(dir.path(), "mailer", "pa:ss w0rd");
    let spec = action("email: { to: [soc@corp.example], subject: authed, body: hello }");
    let connectors = |pair: &str| {
        let mut secrets = Secrets::new();
        secrets.insert("smtp", pair).unwrap();
        let mut config = smtp(peer.addr().port());
        config.auth_secret = Some("smtp".to_owned());
        Connectors::new(
            ConnectorConfig {
                smtp: Some(config),
                ..ConnectorConfig::default()
            },
            secrets,
        )
        .unwrap()
    };

    let wrong = connectors("mailer:guess");
    let request = wrong.prepare("pb", "m", &spec, &context()).unwrap();
    let outcome = wrong.send(&request, Duration::from_secs(10));
    assert_eq!(outcome.status, OutcomeStatus::Failed, "{outcome:?}");
    assert!(!outcome.summary.contains("guess"), "{}", outcome.summary);
    assert!(peer.messages().is_empty());

    let right = connectors("mailer:pa:ss w0rd");
    let outcome = right.send(&request, Duration::from_secs(10));
    assert_eq!(outcome.status, OutcomeStatus::Done, "{outcome:?}");
    let messages = peer.wait_for(1, Duration::from_secs(10));
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].header("subject"), Some("authed"));
}
