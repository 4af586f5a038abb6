#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Leave-one-out evaluation on the real ATT&CK Enterprise groups and campaigns: the
//! conditioned, forward ranking must find the hidden technique at least twice as often
//! as the old co-occurrence ranking, on the same cases.

use rampart_correlate::evaluation::{leave_one_out, Observed, Ranker};
use rampart_correlate::next_predictor_from;
use rampart_knowledge::Knowledge;

#[test]
fn hit_at_10_is_at_least_twice_the_old_ranking() {
    let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
    let knowledge = Knowledge::from_files(&files).unwrap();
    let predictor = next_predictor_from(&knowledge);
    let evaluation = leave_one_out(
        &predictor,
        Observed::KillChainPrefix,
        &[Ranker::Conditioned, Ranker::OldCooccurrence],
        10,
    );
    // Most of ATT&CK's groups and campaigns name three or more host-visible techniques.
    assert!(evaluation.actors > 150, "{evaluation:?}");
    assert!(evaluation.cases > 3000, "{evaluation:?}");
    let ranked = evaluation.hit_rate(Ranker::Conditioned);
    let baseline = evaluation.hit_rate(Ranker::OldCooccurrence);
    assert!(baseline > 0.0, "{evaluation:?}");
    assert!(
        ranked >= 2.0 * baseline,
        "hit@10 {ranked:.3} vs old {baseline:.3}: {evaluation:?}"
    );
}
