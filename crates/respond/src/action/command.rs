//! The command connector: an allow-listed program run with an argument vector.
//!
//! - Only programs the configuration names (name → absolute path) run; a playbook
//!   names the entry, never a path.
//! - `std::process::Command`, never a shell: each argument reaches the program as
//!   one `argv` entry, whatever it holds (`;`, `$(…)`, backticks, newlines).
//! - A clean environment: `RAMPART_IDEMPOTENCY_KEY` and a fixed `PATH`, nothing of the
//!   responder's (which may hold `RAMPART_SECRET_*`). Standard input is empty.
//! - Standard output and error are kept up to [`super::RESPONSE_CAP`] (the rest read
//!   and dropped, so the program never blocks on a full pipe), secrets redacted.
//! - At the timeout the program's whole process group is killed (it runs in a group of
//!   its own), so a script's children go with it.
//! - Exit status 0 is done; 75 (`EX_TEMPFAIL`) asks for a retry; any other fails.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::{Connector, Outcome, OutcomeStatus, PreparedRequest, RequestDetail, Secrets};
use super::{IDEMPOTENCY_ENV, RESPONSE_CAP};
use crate::RespondError;

/// The `PATH` a command gets: the system's directories, nothing of the responder's.
pub const COMMAND_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The exit status that asks for a retry (sysexits' `EX_TEMPFAIL`).
pub const EXIT_RETRY: i32 = 75;

/// Runs allow-listed programs.
#[derive(Debug)]
pub struct CommandConnector {
    programs: BTreeMap<String, PathBuf>,
    secrets: Arc<Secrets>,
}

impl CommandConnector {
    /// A connector for the allow-list `programs` (every path absolute).
    pub fn new(
        programs: &BTreeMap<String, PathBuf>,
        secrets: Arc<Secrets>,
    ) -> Result<CommandConnector, RespondError> {
        for (name, path) in programs {
            if !path.is_absolute() {
                return Err(RespondError::Config {
                    message: format!(
                        "command {name:?}: program path {} is not absolute",
                        path.display()
                    ),
                });
            }
        }
        Ok(CommandConnector {
            programs: programs.clone(),
            secrets,
        })
    }

    fn run(&self, request: &PreparedRequest, timeout: Duration) -> Result<Outcome, String> {
        let RequestDetail::Command { program, args } = &request.detail else {
            return Err("not a command request".to_owned());
        };
        let path = self
            .programs
            .get(program)
            .ok_or_else(|| format!("program {program:?} is not on the command allow-list"))?;
        if args.iter().any(|arg| arg.contains('\0')) {
            return Err("an argument holds NUL".to_owned());
        }
        let mut command = Command::new(path);
        command
            .args(args)
            .env_clear()
            .env(IDEMPOTENCY_ENV, &request.idempotency_key)
            .env("PATH", COMMAND_PATH)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt as _;
            command.process_group(0);
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot run {}: {error}", path.display()))?;
        // A little past the cap, so that a secret straddling it is still redacted whole.
        let keep = RESPONSE_CAP + self.secrets.longest_form() + 1;
        let stdout = capture(child.stdout.take(), keep);
        let stderr = capture(child.stderr.take(), keep);
        let status = wait(&mut child, timeout);
        // The readers end when the group's last writer is gone; a descendant that left
        // the group and kept the pipe open is not waited for past a grace period.
        let grace = Duration::from_secs(1);
        let (stdout, stdout_cut) = stdout.recv_timeout(grace).unwrap_or_default();
        let (stderr, stderr_cut) = stderr.recv_timeout(grace).unwrap_or_default();
        let mut response = String::new();
        response.push_str(&String::from_utf8_lossy(&stdout));
        if !stderr.is_empty() {
            if !response.is_empty() && !response.ends_with('\n') {
                response.push('\n');
            }
            response.push_str(&String::from_utf8_lossy(&stderr));
        }
        let response = cap(self.secrets.redact(&response), stdout_cut || stderr_cut);
        let response = (!response.is_empty()).then_some(response);
        Ok(match status {
            None => Outcome {
                status: OutcomeStatus::Retry,
                summary: format!("timed out after {}s, killed", timeout.as_secs_f64()),
                response,
                retry_after: None,
            },
            Some(Err(error)) => Outcome {
                status: OutcomeStatus::Failed,
                summary: format!("cannot wait for {}: {error}", path.display()),
                response,
                retry_after: None,
            },
            Some(Ok(status)) => {
                let (state, summary) = match status.code() {
                    Some(0) => (OutcomeStatus::Done, "exit 0".to_owned()),
                    Some(EXIT_RETRY) => (OutcomeStatus::Retry, format!("exit {EXIT_RETRY}")),
                    Some(code) => (OutcomeStatus::Failed, format!("exit {code}")),
                    None => (
                        OutcomeStatus::Failed,
                        format!(
                            "ended by a signal after {:.1}s",
                            started.elapsed().as_secs_f64()
                        ),
                    ),
                };
                Outcome {
                    status: state,
                    summary,
                    response,
                    retry_after: None,
                }
            }
        })
    }
}

impl Connector for CommandConnector {
    fn send(&self, request: &PreparedRequest, timeout: Duration) -> Outcome {
        self.run(request, timeout)
            .unwrap_or_else(|message| Outcome {
                status: OutcomeStatus::Failed,
                summary: self.secrets.redact(&message),
                response: None,
                retry_after: None,
            })
    }
}

/// Reads a pipe to its end on a thread, keeping its first `keep` bytes; whether
/// anything was dropped.
fn capture(
    pipe: Option<impl Read + Send + 'static>,
    keep: usize,
) -> mpsc::Receiver<(Vec<u8>, bool)> {
    let (send, receive) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        thread::spawn(move || {
            let mut kept = Vec::new();
            let mut dropped = false;
            let mut buffer = [0u8; 8192];
            loop {
                match pipe.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = keep.saturating_sub(kept.len());
                        dropped |= n > room;
                        kept.extend_from_slice(&buffer[..n.min(room)]);
                    }
                }
            }
            let _ = send.send((kept, dropped));
        });
    } else {
        let _ = send.send((Vec::new(), false));
    }
    receive
}

/// `text` cut to the cap, marked when anything was left out.
fn cap(text: String, cut: bool) -> String {
    if text.len() <= RESPONSE_CAP && !cut {
        return text;
    }
    let mut end = RESPONSE_CAP.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}[…]", &text[..end])
}

/// Waits for `child` until `timeout`; at the timeout kills its process group and
/// returns `None`.
fn wait(child: &mut Child, timeout: Duration) -> Option<std::io::Result<std::process::ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(Ok(status)),
            Ok(None) => {}
            Err(error) => return Some(Err(error)),
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(child);
            let _ = child.wait();
            return None;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{killpg, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(child.id()) {
            // The child leads its own group (`process_group(0)`), so its id is the
            // group's.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let _ = child.kill();
}
