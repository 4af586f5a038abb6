//! Reading D3FEND (Turtle, 2.5 MB source ontology) and ENGAGE, and inferring
//! countermeasures.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use rampart_defense::d3fend::Ontology;
use rampart_defense::engage::Engage;
use std::hint::black_box;
use std::time::Duration;

fn parse(c: &mut Criterion) {
    let ttl = rampart_testkit::data_path("mitre-d3fend/d3fend-protege.ttl");
    let engage = rampart_testkit::data_path("mitre-engage/Data/json");
    let mut group = c.benchmark_group("defense");
    // The machine is shared: few samples, short runs.
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("d3fend from turtle", |b| {
        b.iter(|| black_box(Ontology::from_ttl_file(&ttl).unwrap()))
    });
    group.bench_function("engage from json", |b| {
        b.iter(|| black_box(Engage::from_dir(&engage).unwrap()))
    });
    let ontology = Ontology::from_ttl_file(&ttl).unwrap();
    group.bench_function("countermeasures of every attack technique", |b| {
        b.iter(|| {
            for technique in ontology.attack_techniques() {
                black_box(ontology.countermeasures(&technique.id));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
