//! The SMTP test peer: Python's `aiosmtpd` (`pip install aiosmtpd`) with its `Mailbox`
//! handler, delivering every message into a maildir.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A real SMTP server on `127.0.0.1`, stopped when dropped.
#[derive(Debug)]
pub struct SmtpPeer {
    child: Child,
    addr: SocketAddr,
    maildir: PathBuf,
}

/// One delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailMessage {
    /// Header fields, in order (folded lines joined).
    pub headers: Vec<(String, String)>,
    /// The body (after the blank line), line ends as LF.
    pub body: String,
}

impl MailMessage {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl SmtpPeer {
    /// Starts `aiosmtpd` on a free port, delivering into `dir/maildir`; waits until it
    /// accepts connections.
    ///
    /// # Panics
    /// When `python3 -m aiosmtpd` cannot start or does not listen within 20 s.
    pub fn start(dir: &Path) -> SmtpPeer {
        SmtpPeer::spawn(dir, None)
    }

    /// Like [`SmtpPeer::start`], but offering STARTTLS with `ca`'s `localhost`
    /// certificate and refusing mail before it.
    pub fn start_starttls(dir: &Path, ca: &super::TestCa) -> SmtpPeer {
        SmtpPeer::spawn(dir, Some(ca.write_server_files(dir)))
    }

    /// Like [`SmtpPeer::start`], but requiring SMTP AUTH (PLAIN or LOGIN) as `user`
    /// with `password` before mail (over plain SMTP: a loopback test only).
    pub fn start_with_auth(dir: &Path, user: &str, password: &str) -> SmtpPeer {
        let maildir = dir.join("maildir");
        let port = free_port();
        let child = Command::new("python3")
            .arg("-c")
            .arg(AUTH_SERVER)
            .arg(port.to_string())
            .arg(&maildir)
            .arg(user)
            .arg(password)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        SmtpPeer::wait_listening(child, port, maildir)
    }

    fn spawn(dir: &Path, tls: Option<(PathBuf, PathBuf)>) -> SmtpPeer {
        let maildir = dir.join("maildir");
        let port = free_port();
        let mut command = Command::new("python3");
        command
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"));
        if let Some((chain, key)) = &tls {
            command.arg("--tlscert").arg(chain).arg("--tlskey").arg(key);
        }
        let child = command
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        SmtpPeer::wait_listening(child, port, maildir)
    }

    fn wait_listening(mut child: Child, port: u16, maildir: PathBuf) -> SmtpPeer {
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                panic!("aiosmtpd ended ({status}): {stderr}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpPeer {
            child,
            addr,
            maildir,
        }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every delivered message, in file-name order.
    pub fn messages(&self) -> Vec<MailMessage> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                files.extend(
                    entries
                        .filter_map(|entry| entry.ok())
                        .map(|entry| entry.path()),
                );
            }
        }
        files.sort();
        files
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .map(|bytes| parse(&String::from_utf8_lossy(&bytes)))
            .collect()
    }

    /// Waits until at least `count` messages were delivered, up to `timeout`.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<MailMessage> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now (the server binds it right after).
fn free_port() -> u16 {
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// aiosmtpd with an authenticator: port, maildir, user, password as arguments.
const AUTH_SERVER: &str = r#"
import sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult
port, maildir, user, password = sys.argv[1:5]
def authenticate(server, session, envelope, mechanism, data):
    ok = data.login == user.encode() and data.password == password.encode()
    return AuthResult(success=ok, handled=False)
controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port),
                        authenticator=authenticate, auth_required=True,
                        auth_require_tls=False)
controller.start()
threading.Event().wait()
"#;

fn parse(text: &str) -> MailMessage {
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    MailMessage {
        headers,
        body: body.to_owned(),
    }
}
