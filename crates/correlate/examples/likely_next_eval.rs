//! Leave-one-out evaluation of likely-next rankings over the ATT&CK Enterprise groups
//! and campaigns of the data directory (the highest version found), printed as the
//! Markdown table BENCHMARKS.md quotes, with the cost of one prediction.
//!
//! `cargo run -p rampart-correlate --example likely_next_eval [DATA_DIR]` (the figures
//! in BENCHMARKS.md were taken in the dev profile; `--release` only makes it faster)

use rampart_correlate::evaluation::{leave_one_out, Observed, Ranker};
use rampart_correlate::next_predictor_from;
use rampart_knowledge::Knowledge;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let data_dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let knowledge = match rampart_refdata::discover(&data_dir)
        .map_err(|e| e.to_string())
        .and_then(|files| Knowledge::from_files(&files).map_err(|e| e.to_string()))
    {
        Ok(knowledge) => knowledge,
        Err(error) => {
            eprintln!("cannot load ATT&CK from {}: {error}", data_dir.display());
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let predictor = next_predictor_from(&knowledge);
    let indexed = started.elapsed();
    println!(
        "ATT&CK Enterprise {}: {} groups and campaigns, indexed in {:.1} ms\n",
        knowledge.enterprise().version,
        predictor.actors().len(),
        indexed.as_secs_f64() * 1e3
    );
    for observed in [Observed::KillChainPrefix, Observed::AllOthers] {
        let started = Instant::now();
        let evaluation = leave_one_out(&predictor, observed, &Ranker::ALL, 10);
        let elapsed = started.elapsed();
        println!(
            "{observed:?}: {} actors, {} cases ({:.2} s for {} rankings)\n",
            evaluation.actors,
            evaluation.cases,
            elapsed.as_secs_f64(),
            Ranker::ALL.len()
        );
        println!("| ranking | hit@10 | × baseline |");
        println!("|---|---:|---:|");
        let baseline = evaluation.hit_rate(Ranker::OldCooccurrence);
        for ranker in Ranker::ALL {
            let rate = evaluation.hit_rate(ranker);
            println!(
                "| {} | {:.3} | {:.2} |",
                ranker.label(),
                rate,
                if baseline > 0.0 { rate / baseline } else { 0.0 }
            );
        }
        println!();
    }
    let observed: Vec<String> = [
        "T1566.001",
        "T1204.002",
        "T1059.001",
        "T1003.001",
        "T1021.002",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let covered = HashSet::new();
    let rounds = 1000;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(predictor.predict(&observed, &covered, 10));
    }
    println!(
        "one prediction (5 observed, top 10 explained): {:.1} µs",
        started.elapsed().as_secs_f64() * 1e6 / rounds as f64
    );
    ExitCode::SUCCESS
}
