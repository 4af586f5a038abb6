//! A real rsyslog as the sender: a private instance (its own config, socket, work
//! folder and pid file in a temp dir) takes lines from `logger` on its own Unix socket
//! and forwards each three ways, as a Linux host's rsyslog would forward to a SIEM:
//! TCP with octet counting and the RFC 5424 template, TCP with LF framing and the
//! traditional forward template, and UDP with RFC 3164. Every copy must arrive parsed
//! alike, and a SigmaHQ rule must fire on it.

use super::Keep;
use rampart_detect::{Engine, LogsourceMap};
use rampart_event::{Event, Value};
use rampart_ingest::syslog::{listen_tcp, listen_udp, ListenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where Debian installs rsyslogd (`RAMPART_RSYSLOGD` overrides).
fn rsyslogd() -> PathBuf {
    std::env::var_os("RAMPART_RSYSLOGD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/rsyslogd"))
}

/// The rsyslog child, killed when dropped (a failing test leaves no daemon behind).
struct Rsyslog {
    child: Child,
    socket: PathBuf,
}

impl Rsyslog {
    fn start(dir: &Path, tcp_port: u16, udp_port: u16) -> Rsyslog {
        let socket = dir.join("log.sock");
        let config = format!(
            r#"global(workDirectory="{dir}" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{socket}" CreatePath="on")
action(type="omfwd" target="127.0.0.1" port="{tcp_port}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="{tcp_port}" protocol="tcp" template="RSYSLOG_ForwardFormat")
action(type="omfwd" target="127.0.0.1" port="{udp_port}" protocol="udp" template="RSYSLOG_TraditionalForwardFormat")
"#,
            dir = dir.display(),
            socket = socket.display(),
        );
        let config_path = dir.join("rsyslog.conf");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(rsyslogd())
            .arg("-n")
            .arg("-f")
            .arg(&config_path)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", rsyslogd().display()));
        let rsyslog = Rsyslog { child, socket };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !rsyslog.socket.exists() {
            assert!(Instant::now() < deadline, "rsyslogd made no socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        rsyslog
    }

    /// Logs one line through rsyslog's socket, as a program on the host would.
    fn log(&self, tag: &str, priority: &str, line: &str) {
        let status = Command::new("logger")
            .arg("--socket")
            .arg(&self.socket)
            .args(["-t", tag, "-p", priority, "--", line])
            .status()
            .expect("logger runs");
        assert!(status.success(), "logger failed: {status}");
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text<'a>(event: &'a Event, name: &str) -> &'a str {
    event.get(name).and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn rsyslog_forwards_over_tcp_and_udp_and_rules_fire() {
    let keep = Arc::new(Keep::default());
    let tcp = listen_tcp("127.0.0.1:0", ListenOptions::default(), keep.clone()).unwrap();
    let udp = listen_udp("127.0.0.1:0", ListenOptions::default(), keep.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rsyslog = Rsyslog::start(dir.path(), tcp.local_addr().port(), udp.local_addr().port());

    rsyslog.log(
        "sshd",
        "auth.err",
        "error: Corrupted MAC on input. [preauth]",
    );
    rsyslog.log(
        "audisp-syslog",
        "user.info",
        "type=EXECVE msg=audit(1714651081.512:873): argc=1 a0=\"whoami\"",
    );
    let events = keep.wait_for(Duration::from_secs(20), |events| events.len() >= 6);
    assert_eq!(events.len(), 6, "{events:#?}");
    assert_eq!(tcp.stats().connections, 2);
    assert_eq!(udp.stats().messages, 2);

    let rules = [
        rampart_testkit::data_path("sigma/rules/linux/builtin/sshd/lnx_sshd_susp_ssh.yml"),
        rampart_testkit::data_path("sigma/rules/linux/auditd/execve/lnx_auditd_user_discovery.yml"),
    ];
    let (set, diagnostics) = rampart_sigma::load_rules(&rules);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let mut scratch = engine.scratch();
    let host = events[0].meta.computer.clone();
    assert!(host.is_some());
    for event in &events {
        // Same host, whichever way it came.
        assert_eq!(event.meta.computer, host);
        let mut fired = Vec::new();
        engine.scan(event, &mut scratch, &mut |alert| {
            fired.push(alert.rule_title)
        });
        match text(event, "AppName") {
            "sshd" => {
                assert_eq!(event.meta.channel.as_deref(), Some("Linux/sshd"));
                assert_eq!(text(event, "Facility"), "auth");
                assert_eq!(text(event, "Severity"), "err");
                assert_eq!(
                    text(event, "Message"),
                    "error: Corrupted MAC on input. [preauth]"
                );
                assert_eq!(fired, ["Suspicious OpenSSH Daemon Error"]);
            }
            "audisp-syslog" => {
                assert_eq!(event.meta.channel.as_deref(), Some("Linux/auditd"));
                assert_eq!(
                    (text(event, "type"), text(event, "a0")),
                    ("EXECVE", "whoami")
                );
                assert_eq!(
                    event.meta.timestamp.map(|t| t.timestamp()),
                    Some(1_714_651_081)
                );
                assert_eq!(fired, ["System Owner or User Discovery - Linux"]);
            }
            other => panic!("unexpected program {other:?}: {event:?}"),
        }
    }
    let sources: Vec<&str> = events.iter().map(|e| e.meta.source.as_ref()).collect();
    assert_eq!(
        sources
            .iter()
            .filter(|s| s.starts_with("syslog tcp "))
            .count(),
        4
    );
    assert_eq!(
        sources
            .iter()
            .filter(|s| s.starts_with("syslog udp "))
            .count(),
        2
    );
    drop(rsyslog);
    tcp.shutdown();
    udp.shutdown();
    assert!(keep.diagnostics().is_empty(), "{:?}", keep.diagnostics());
}
