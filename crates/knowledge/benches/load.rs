//! Loading ATT&CK Enterprise 18.1: from the gzip bundle, from the decompressed JSON,
//! the whole knowledge graph from sources, and the whole graph from its cache.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use rampart_knowledge::{build_matrix, load_matrix, read_maybe_gzip, Domain, Knowledge};
use std::hint::black_box;
use std::time::Duration;

fn load(c: &mut Criterion) {
    let data = rampart_testkit::data_dir();
    let enterprise = data.join("mitre-attack/enterprise-attack-18.1.json.gz");
    let mut group = c.benchmark_group("enterprise-18.1");
    // The machine is shared: few samples, short runs.
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));

    group.bench_function("gunzip+parse+build", |b| {
        b.iter(|| black_box(load_matrix(Domain::Enterprise, &enterprise).unwrap()))
    });
    let json = read_maybe_gzip(&enterprise).unwrap();
    group.bench_function("parse+build (decompressed 50.7 MB)", |b| {
        b.iter(|| black_box(build_matrix(Domain::Enterprise, &enterprise, &json).unwrap()))
    });

    let files = rampart_refdata::discover(&data).unwrap();
    group.bench_function("knowledge from sources (3 domains, D3FEND, ENGAGE)", |b| {
        b.iter(|| black_box(Knowledge::from_files(&files).unwrap()))
    });
    let cache = tempfile::tempdir().unwrap();
    Knowledge::load_cached(&files, cache.path()).unwrap();
    group.bench_function("knowledge from cache", |b| {
        b.iter(|| black_box(Knowledge::load_cached(&files, cache.path()).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
