//! The command connector running a real program (a shell script written by the test
//! that records its argument vector and environment): no shell between the playbook
//! and the program, hostile values stay single arguments and never become options,
//! timeouts kill the whole process group.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rampart_respond::action::{
    Connector, ConnectorConfig, Connectors, OutcomeStatus, RenderContext, Secrets,
};
use rampart_respond::playbook::ActionSpec;
use rampart_respond::RespondError;

const SECRET: &str = "do-not-leak-4711";

/// A program recording each call into `dir/calls/<pid>.{args,env}`, then doing what
/// its first argument says (`ok`, `fail`, `retry`, `sleep`, `loud`).
fn recorder(dir: &Path) -> PathBuf {
    let path = dir.join("recorder.sh");
    let calls = dir.join("calls");
    std::fs::create_dir_all(&calls).unwrap();
    let script = format!(
        r#"#!/bin/sh
calls='{calls}'
for a in "$@"; do printf '%s\0' "$a"; done > "$calls/$$.args"
env > "$calls/$$.env"
case "$1" in
  fail) echo "cannot do it" >&2; exit 3 ;;
  retry) exit 75 ;;
  sleep) sleep 30 & echo $! > "$calls/grandchild.pid"; wait ;;
  loud) i=0; while [ $i -lt 2000 ]; do echo "line $i of output {SECRET}"; i=$((i+1)); done ;;
esac
echo "done $RAMPART_IDEMPOTENCY_KEY"
"#,
        calls = calls.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The argument vectors of every call so far (in no particular order).
fn calls(dir: &Path) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.join("calls")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "args") {
            let bytes = std::fs::read(&path).unwrap();
            let args = bytes
                .split(|b| *b == 0)
                .map(|a| String::from_utf8(a.to_vec()).unwrap())
                .collect::<Vec<_>>();
            let args = args[..args.len().saturating_sub(1)].to_vec();
            let env = std::fs::read_to_string(path.with_extension("env")).unwrap();
            out.push((args, env));
        }
    }
    out
}

fn connectors(dir: &Path) -> Connectors {
    let mut secrets = Secrets::new();
    secrets.insert("edr", SECRET).unwrap();
    Connectors::new(
        ConnectorConfig {
            commands: BTreeMap::from([("edr-isolate".to_owned(), recorder(dir))]),
            ..ConnectorConfig::default()
        },
        secrets,
    )
    .unwrap()
}

fn hostile() -> Vec<String> {
    [
        "; rm -rf /",
        "$(id)",
        "`id`",
        "--output=/etc/passwd",
        "a\nb\r\nc",
        "-rf",
        "' \" \\ * ? ~ | & > <",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn context() -> RenderContext {
    RenderContext {
        run_id: "run-1".to_owned(),
        subject_id: "inc-9".to_owned(),
        inputs: BTreeMap::from([
            ("host".to_owned(), vec!["WS-01".to_owned()]),
            ("evil".to_owned(), hostile()),
        ]),
    }
}

/// An action as a playbook writes it (YAML, read through its JSON form as the
/// playbook loader does: serde_yaml would want enum tags).
fn action(yaml: &str) -> ActionSpec {
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    serde_json::from_value(value).unwrap()
}

#[test]
fn hostile_values_stay_single_arguments_after_a_literal_double_dash() {
    let dir = tempfile::tempdir().unwrap();
    let connectors = connectors(dir.path());
    let mut args = vec![
        "ok".to_owned(),
        "--host={{ inputs.host }}".to_owned(),
        "--".to_owned(),
    ];
    args.extend((0..hostile().len()).map(|i| format!("{{{{ inputs.evil[{i}] }}}}")));
    let spec = ActionSpec::Command(rampart_respond::playbook::CommandAction {
        program: "edr-isolate".to_owned(),
        args,
    });
    let request = connectors
        .prepare("pb", "isolate", &spec, &context())
        .unwrap();
    let outcome = connectors.send(&request, Duration::from_secs(10));
    assert_eq!(outcome.status, OutcomeStatus::Done, "{outcome:?}");
    assert_eq!(outcome.summary, "exit 0");
    assert_eq!(
        outcome.response.as_deref(),
        Some(format!("done {}\n", request.idempotency_key).as_str())
    );

    let calls = calls(dir.path());
    assert_eq!(calls.len(), 1);
    let (argv, env) = &calls[0];
    let mut expected = vec!["ok".to_owned(), "--host=WS-01".to_owned(), "--".to_owned()];
    expected.extend(hostile());
    assert_eq!(argv, &expected);
    // A clean environment: the key and a fixed PATH, nothing of the responder's.
    let mut names: Vec<&str> = env
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .filter(|name| !["PWD", "SHLVL", "_", "OLDPWD"].contains(name))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["PATH", "RAMPART_IDEMPOTENCY_KEY"], "{env}");
    assert!(env.contains(&format!(
        "RAMPART_IDEMPOTENCY_KEY={}",
        request.idempotency_key
    )));

    // The dry run quotes every argument, so a newline cannot forge a line.
    let shown = connectors.dry_run(&request);
    assert!(shown.starts_with(&format!(
        "exec edr-isolate = {}\n",
        dir.path().join("recorder.sh").display()
    )));
    assert!(shown.contains("argv[8] = \"a\\nb\\r\\nc\"\n"), "{shown}");
    assert!(shown.contains(&format!(
        "env RAMPART_IDEMPOTENCY_KEY={}",
        request.idempotency_key
    )));
}

#[test]
fn values_that_would_read_as_options_nul_and_secrets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let connectors = connectors(dir.path());
    for (yaml, why) in [
        ("command: { program: edr-isolate, args: ['{{ inputs.evil[3] }}'] }", "option"),
        ("command: { program: edr-isolate, args: ['{{ inputs.evil[5] }}', '--'] }", "option"),
        ("command: { program: edr-isolate, args: ['-x{{ inputs.evil[5] }}', '{{ inputs.nul }}'] }", "NUL"),
        ("command: { program: edr-isolate, args: ['--token', '{{ secret.edr }}'] }", "secret"),
    ] {
        let mut context = context();
        context
            .inputs
            .insert("nul".to_owned(), vec!["a\0b".to_owned()]);
        let error = connectors
            .prepare("pb", "s", &action(yaml), &context)
            .unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, RespondError::Render { .. }), "{yaml}: {text}");
        assert!(text.contains(why), "{yaml}: {text}");
    }
    // A program off the allow-list, even by path.
    for program in ["rm", "/bin/sh", "../recorder.sh"] {
        let spec = action(&format!("command: {{ program: '{program}', args: [x] }}"));
        let error = connectors
            .prepare("pb", "s", &spec, &context())
            .unwrap_err();
        assert!(matches!(error, RespondError::NotAllowed { .. }), "{error}");
    }
    assert!(calls(dir.path()).is_empty());
    // An allow-list entry must be an absolute path.
    let relative = Connectors::new(
        ConnectorConfig {
            commands: BTreeMap::from([("x".to_owned(), PathBuf::from("bin/x"))]),
            ..ConnectorConfig::default()
        },
        Secrets::new(),
    );
    assert!(relative.is_err());
}

#[test]
fn exit_status_timeout_and_output_decide_the_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let connectors = connectors(dir.path());
    let send = |first: &str, timeout: Duration| {
        let spec = action(&format!(
            "command: {{ program: edr-isolate, args: [{first}] }}"
        ));
        let request = connectors.prepare("pb", first, &spec, &context()).unwrap();
        connectors.send(&request, timeout)
    };

    let failed = send("fail", Duration::from_secs(10));
    assert_eq!(failed.status, OutcomeStatus::Failed);
    assert_eq!(failed.summary, "exit 3");
    assert_eq!(failed.response.as_deref(), Some("cannot do it\n"));
    assert_eq!(
        send("retry", Duration::from_secs(10)).status,
        OutcomeStatus::Retry
    );

    // Output past the cap is read (the program is never blocked) and cut; secrets
    // redacted.
    let loud = send("loud", Duration::from_secs(10));
    assert_eq!(loud.status, OutcomeStatus::Done);
    let response = loud.response.unwrap();
    assert!(response.len() <= 4096 + "[…]".len() && response.ends_with("[…]"));
    assert!(response.contains("[secret:edr]") && !response.contains(SECRET));

    // At the timeout the program and its children are killed (the margin lets the
    // script start its child on a loaded machine).
    let started = Instant::now();
    let slow = send("sleep", Duration::from_millis(1500));
    assert_eq!(slow.status, OutcomeStatus::Retry);
    assert!(slow.summary.contains("timed out"), "{}", slow.summary);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let pid = std::fs::read_to_string(dir.path().join("calls/grandchild.pid")).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // Gone, or a zombie waiting for a reaper: either way no longer running.
        let state = std::fs::read_to_string(&stat).ok();
        let dead = state.as_deref().is_none_or(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        });
        if dead {
            break;
        }
        assert!(Instant::now() < deadline, "grandchild {pid} still runs");
        std::thread::sleep(Duration::from_millis(20));
    }
}
