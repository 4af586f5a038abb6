//! Response runs and the hash-chained audit, on real store files: the state machine's
//! moves, resuming after a runner died, approvals by role, cancel, compensation, and
//! the chain catching edits made behind the triggers' back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use rampart_store::{
    ApprovalPolicy, Decision, NewResponseRun, NewResponseStep, ResponseRunState, Role, RunMode,
    SqliteStore, StepOutcome, StepPolicy, StepResult, StepState, GENESIS_HASH,
};
use serde_json::json;
use std::path::Path;

fn policy(approval: Option<ApprovalPolicy>) -> StepPolicy {
    StepPolicy {
        timeout_ms: 1_000,
        attempts: 3,
        backoff_ms: 100,
        max_backoff_ms: 1_000,
        approval,
    }
}

fn step(id: &str, target: &str, approval: Option<ApprovalPolicy>) -> NewResponseStep {
    NewResponseStep {
        step_id: id.to_owned(),
        title: format!("do {id}"),
        d3fend: "D3-PT".to_owned(),
        request: json!({ "connector": "http", "target": target, "step": id }),
        idempotency_key: format!("rampart-{id}"),
        target: target.to_owned(),
        policy: policy(approval),
    }
}

fn new_run(mode: RunMode) -> NewResponseRun {
    NewResponseRun {
        playbook_id: "contain".to_owned(),
        playbook_digest: "d".repeat(64),
        playbook: json!({ "id": "contain" }),
        subject_kind: "incident".to_owned(),
        subject_id: "INC-1".to_owned(),
        inputs: json!({ "host": ["WS1"] }),
        mode,
        started_by: "alice".to_owned(),
    }
}

fn create(store: &mut SqliteStore, mode: RunMode, steps: Vec<NewResponseStep>) -> i64 {
    store
        .create_response_run(&new_run(mode), |_| Ok::<_, String>(steps))
        .unwrap()
        .unwrap()
}

fn claim_all(
    store: &mut SqliteStore,
    at: chrono::DateTime<Utc>,
) -> Vec<rampart_store::ClaimedStep> {
    let targets: Vec<(String, usize)> = store
        .response_queue_targets()
        .unwrap()
        .into_iter()
        .map(|(t, _)| (t, 100))
        .collect();
    store.claim_response_steps(at, &targets).unwrap()
}

fn done(run: i64, index: u32) -> StepOutcome {
    StepOutcome {
        run,
        index,
        result: StepResult::Done,
        outcome: json!({ "status": "done", "summary": "HTTP 200" }),
    }
}

fn state_of(store: &SqliteStore, run: i64) -> (ResponseRunState, Vec<StepState>) {
    let detail = store.response_run(run).unwrap().unwrap();
    (
        detail.run.state,
        detail.steps.iter().map(|s| s.state).collect(),
    )
}

#[test]
fn a_run_moves_through_retry_approval_and_finishes_with_a_verified_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let approval = ApprovalPolicy {
        role: Role::Analyst,
        timeout_ms: None,
        default: Decision::Reject,
    };
    let run = create(
        &mut store,
        RunMode::Live,
        vec![
            step("a", "http://peer:1", None),
            step("b", "http://peer:1", Some(approval)),
        ],
    );
    assert_eq!(
        state_of(&store, run),
        (
            ResponseRunState::Running,
            vec![StepState::Queued, StepState::Pending]
        )
    );

    // The intent is committed by the claim: the step is in flight with attempt 1.
    let claimed = claim_all(&mut store, Utc::now());
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].attempt, claimed[0].resend), (1, false));
    assert!(
        claim_all(&mut store, Utc::now()).is_empty(),
        "claimed twice"
    );

    // A retry waits for its time.
    let later = Utc::now() + Duration::seconds(60);
    store
        .record_step_outcomes(&[StepOutcome {
            run,
            index: 0,
            result: StepResult::Retry(later),
            outcome: json!({ "status": "retry", "summary": "HTTP 503" }),
        }])
        .unwrap();
    assert!(claim_all(&mut store, Utc::now()).is_empty());
    let again = claim_all(&mut store, later);
    assert_eq!(again[0].attempt, 2);
    store.record_step_outcomes(&[done(run, 0)]).unwrap();
    assert_eq!(
        state_of(&store, run),
        (
            ResponseRunState::AwaitingApproval,
            vec![StepState::Done, StepState::AwaitingApproval]
        )
    );
    assert!(claim_all(&mut store, later).is_empty());

    // A viewer may not decide; an analyst may, by step id.
    let refused = store
        .decide_response_step(run, "1", Decision::Approve, "eve", Role::Viewer, None)
        .unwrap_err();
    assert!(refused.to_string().contains("store"), "{refused}");
    store
        .decide_response_step(
            run,
            "b",
            Decision::Approve,
            "bob",
            Role::Analyst,
            Some("ok"),
        )
        .unwrap();
    let claimed = claim_all(&mut store, Utc::now());
    assert_eq!(claimed[0].index, 1);
    store.record_step_outcomes(&[done(run, 1)]).unwrap();
    let detail = store.response_run(run).unwrap().unwrap();
    assert_eq!(detail.run.state, ResponseRunState::Succeeded);
    assert_eq!(detail.approvals.len(), 1);
    assert_eq!(detail.approvals[0].actor, "bob");
    assert_eq!(detail.approvals[0].role, Role::Analyst);

    let actions: Vec<String> = store
        .audit_chain_of(&format!("run {run}"), 100)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "run.created",
            "step.intent",
            "step.retry",
            "step.intent",
            "step.outcome",
            "step.awaiting_approval",
            "approval",
            "step.intent",
            "step.outcome",
            "run.finished"
        ]
    );
    let report = store.verify_audit_chain().unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries, 10);
    assert_eq!(report.head.count, 10);
}

#[test]
fn a_step_in_flight_when_the_runner_died_is_sent_again_with_its_key_and_a_done_one_never() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let run;
    {
        let mut store = SqliteStore::open(&path).unwrap();
        run = create(
            &mut store,
            RunMode::Live,
            vec![step("a", "t1", None), step("b", "t1", None)],
        );
        claim_all(&mut store, Utc::now());
        store.record_step_outcomes(&[done(run, 0)]).unwrap();
        let second = claim_all(&mut store, Utc::now());
        assert_eq!(second[0].index, 1);
        // The runner dies here: intent committed, outcome not.
    }
    let mut store = SqliteStore::open(&path).unwrap();
    assert!(claim_all(&mut store, Utc::now()).is_empty());
    assert_eq!(store.requeue_in_flight().unwrap(), 1);
    let resent = claim_all(&mut store, Utc::now());
    assert_eq!(resent.len(), 1, "only the step without an outcome");
    assert_eq!(resent[0].index, 1);
    assert_eq!(resent[0].idempotency_key, "rampart-b");
    assert!(resent[0].resend);
    assert_eq!(resent[0].attempt, 1, "a resend is not a new attempt");
    store.record_step_outcomes(&[done(run, 1)]).unwrap();
    assert_eq!(state_of(&store, run).0, ResponseRunState::Succeeded);
    assert!(store.verify_audit_chain().unwrap().ok());
}

#[test]
fn approvals_time_out_to_their_default_and_rejection_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let approval = |default| ApprovalPolicy {
        role: Role::Admin,
        timeout_ms: Some(1_000),
        default,
    };
    let approved = create(
        &mut store,
        RunMode::Live,
        vec![step("a", "t", Some(approval(Decision::Approve)))],
    );
    let rejected = create(
        &mut store,
        RunMode::Live,
        vec![
            step("a", "t", Some(approval(Decision::Reject))),
            step("b", "t", None),
        ],
    );
    assert_eq!(store.expire_approvals(Utc::now()).unwrap(), 0);
    assert!(store.next_approval_deadline().unwrap().is_some());
    let refused =
        store.decide_response_step(approved, "0", Decision::Approve, "bob", Role::Analyst, None);
    assert!(refused.is_err(), "an analyst is below admin");
    assert_eq!(
        store
            .expire_approvals(Utc::now() + Duration::seconds(2))
            .unwrap(),
        2
    );
    assert_eq!(
        state_of(&store, approved),
        (ResponseRunState::Running, vec![StepState::Queued])
    );
    assert_eq!(
        state_of(&store, rejected),
        (
            ResponseRunState::Rejected,
            vec![StepState::Rejected, StepState::Skipped]
        )
    );
    let decisions = store.response_run(rejected).unwrap().unwrap().approvals;
    assert_eq!(decisions[0].actor, "rampart");
    assert_eq!(decisions[0].reason.as_deref(), Some("timeout"));
    assert!(store.verify_audit_chain().unwrap().ok());
}

#[test]
fn cancel_stops_a_run_and_compensation_undoes_its_done_steps() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let run = create(
        &mut store,
        RunMode::Live,
        vec![
            step("isolate", "t", None),
            step("lock", "t", None),
            step("notify", "t", None),
        ],
    );
    claim_all(&mut store, Utc::now());
    store.record_step_outcomes(&[done(run, 0)]).unwrap();
    let in_flight = claim_all(&mut store, Utc::now());
    assert!(
        store
            .compensate_response_run(run, "alice", &[step("undo", "t", None)])
            .is_err(),
        "an unfinished run is not compensated"
    );
    store
        .cancel_response_run(run, "alice", Some("wrong host"))
        .unwrap();
    assert!(store.cancel_response_run(run, "alice", None).is_err());
    // The step being sent at the cancel still gets its outcome recorded.
    store
        .record_step_outcomes(&[done(run, in_flight[0].index)])
        .unwrap();
    assert_eq!(
        state_of(&store, run),
        (
            ResponseRunState::Cancelled,
            vec![StepState::Done, StepState::Done, StepState::Cancelled]
        )
    );
    assert!(claim_all(&mut store, Utc::now()).is_empty());

    store
        .compensate_response_run(
            run,
            "alice",
            &[step("unlock", "t", None), step("release", "t", None)],
        )
        .unwrap();
    assert_eq!(state_of(&store, run).0, ResponseRunState::Compensating);
    for index in [3, 4] {
        let claimed = claim_all(&mut store, Utc::now());
        assert_eq!(claimed[0].index, index);
        store.record_step_outcomes(&[done(run, index)]).unwrap();
    }
    assert_eq!(state_of(&store, run).0, ResponseRunState::Compensated);
    assert!(store
        .compensate_response_run(run, "alice", &[step("again", "t", None)])
        .is_err());
    assert!(store.verify_audit_chain().unwrap().ok());
}

#[test]
fn a_dry_run_records_its_requests_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let run = create(
        &mut store,
        RunMode::DryRun,
        vec![step("a", "t", None), step("b", "t", None)],
    );
    let detail = store.response_run(run).unwrap().unwrap();
    assert_eq!(detail.run.state, ResponseRunState::Previewed);
    assert!(detail.steps.iter().all(|s| s.state == StepState::Previewed));
    assert_eq!(detail.steps[1].request["step"], "b");
    assert!(store.response_queue_targets().unwrap().is_empty());
    // A failing preparation leaves nothing behind.
    let failed = store
        .create_response_run(&new_run(RunMode::Live), |_| {
            Err::<Vec<NewResponseStep>, _>("bad template")
        })
        .unwrap();
    assert_eq!(failed, Err("bad template"));
    assert_eq!(store.response_runs(&Default::default()).unwrap().len(), 1);
}

/// A store with a chain of a few entries, closed (its WAL folded into the file).
fn chained_store(path: &Path) -> u64 {
    let mut store = SqliteStore::open(path).unwrap();
    for _ in 0..3 {
        create(
            &mut store,
            RunMode::DryRun,
            vec![step("a", "t", None), step("b", "t", None)],
        );
    }
    let report = store.verify_audit_chain().unwrap();
    assert!(report.ok());
    report.entries
}

/// Opens the file behind the store's back, drops the triggers, and runs `sql`.
fn tamper(path: &Path, sql: &str) {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch("DROP TRIGGER audit_chain_no_update; DROP TRIGGER audit_chain_no_delete;")
        .unwrap();
    db.execute_batch(sql).unwrap();
}

fn problems(path: &Path) -> Vec<String> {
    let store = SqliteStore::open(path).unwrap();
    store
        .verify_audit_chain()
        .unwrap()
        .problems
        .into_iter()
        .map(|p| format!("{}: {}", p.seq, p.problem))
        .collect()
}

#[test]
fn the_chain_catches_edits_removals_reorders_and_truncation_behind_the_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    let entries = chained_store(&base);
    assert_eq!(entries, 9);
    let copy = |name: &str| {
        let path = dir.path().join(name);
        std::fs::copy(&base, &path).unwrap();
        path
    };

    // The triggers refuse changes made through SQL as it is.
    let db = rusqlite::Connection::open(&base).unwrap();
    assert!(db
        .execute("UPDATE audit_chain SET actor = 'x' WHERE seq = 1", [])
        .is_err());
    assert!(db
        .execute("DELETE FROM audit_chain WHERE seq = 9", [])
        .is_err());
    drop(db);

    let edited = copy("edited.db");
    tamper(
        &edited,
        "UPDATE audit_chain SET detail = '{\"step\":\"c\"}' WHERE seq = 5;",
    );
    let found = problems(&edited);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("5: its hash does not match"),
        "{found:?}"
    );

    let removed = copy("removed.db");
    tamper(&removed, "DELETE FROM audit_chain WHERE seq = 4;");
    let found = problems(&removed);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("5: sequence number 5 where 4")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("5: does not link")),
        "{found:?}"
    );

    // Two entries swapped (content moved, numbers kept).
    let swapped = copy("swapped.db");
    tamper(
        &swapped,
        "UPDATE audit_chain SET seq = -2 WHERE seq = 2;
         UPDATE audit_chain SET seq = 2 WHERE seq = 3;
         UPDATE audit_chain SET seq = 3 WHERE seq = -2;",
    );
    let found = problems(&swapped);
    assert!(found.iter().any(|p| p.starts_with("2: ")), "{found:?}");
    assert!(found.iter().any(|p| p.starts_with("3: ")), "{found:?}");

    // The last entries removed: a valid shorter chain, but not the head's.
    let truncated = copy("truncated.db");
    tamper(&truncated, "DELETE FROM audit_chain WHERE seq >= 8;");
    let found = problems(&truncated);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("the head records 9 entries, the chain has 7"),
        "{found:?}"
    );

    // ... and with the head rewritten to match, only an anchor kept elsewhere tells.
    let rolled_back = copy("rolled_back.db");
    tamper(
        &rolled_back,
        "DELETE FROM audit_chain WHERE seq >= 8;
         UPDATE audit_head SET count = 7, hash = (SELECT hash FROM audit_chain WHERE seq = 7);",
    );
    let store = SqliteStore::open(&rolled_back).unwrap();
    let report = store.verify_audit_chain().unwrap();
    assert!(report.ok());
    let anchor = SqliteStore::open(&base)
        .unwrap()
        .audit_chain_head()
        .unwrap();
    assert_ne!(report.head, anchor);
    assert_ne!(anchor.hash, GENESIS_HASH);
}
