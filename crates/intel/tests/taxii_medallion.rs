//! The TAXII client against OASIS's reference TAXII 2.1 server, `medallion` (the pip
//! package; `.ci/run` installs it), started by each test on a free port with its
//! memory backend holding the objects of OASIS's example STIX bundles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/medallion.rs"]
mod medallion;

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use medallion::{bundle_objects, date_added, ids_of_type, Medallion, COLLECTION, PASSWORD, USER};
use rampart_intel::taxii::{Auth, Client, ClientConfig, Error};
use rampart_intel::ObservableKind;

fn client(config: ClientConfig) -> Client {
    Client::new(
        Auth::Basic {
            user: USER.into(),
            password: PASSWORD.into(),
        },
        config,
    )
}

#[test]
fn polls_every_indicator_of_a_collection() {
    let objects = bundle_objects("threat-reports/apt1.json");
    let server = Medallion::start(&objects);
    let client = client(ClientConfig::default());

    let collections = client.collections(&server.discovery()).unwrap();
    assert_eq!(collections.len(), 1);
    assert_eq!(collections[0].id, COLLECTION);
    assert_eq!(collections[0].title, "OASIS examples");
    assert!(collections[0].can_read);

    // The discovery URL leads to the default API root.
    let root = client.resolve_api_root(&server.discovery()).unwrap();
    assert_eq!(root, server.api_root());
    assert_eq!(client.resolve_api_root(&root).unwrap(), root);
    let poll = client.poll(&root, COLLECTION, None).unwrap();
    assert!(poll.complete, "{:?}", poll.diagnostics);
    assert!(poll.diagnostics.is_empty(), "{:?}", poll.diagnostics);
    assert_eq!(poll.pages, 1);
    assert_eq!(poll.objects.len(), objects.len());
    assert_eq!(
        poll.collection_url,
        format!("{}collections/{COLLECTION}/", server.api_root())
    );
    // The cursor is the date the last object was added.
    let last = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
        + chrono::Duration::seconds(objects.len() as i64 - 1);
    assert_eq!(poll.cursor.as_deref(), Some(date_added(last).as_str()));

    let feed = poll.into_feed();
    assert_eq!(
        feed.source,
        format!("taxii:{}collections/{COLLECTION}/", server.api_root())
    );
    // Twelve indicators, two of them on X.509 certificates, which Rampart does not
    // match: left out, each with a diagnostic.
    let indicator_ids: BTreeSet<String> = feed.indicators.iter().map(|i| i.id.clone()).collect();
    let x509: BTreeSet<String> = objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .filter(|o| o["pattern"].as_str().unwrap().contains("x509-certificate"))
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(x509.len(), 2);
    let expected: BTreeSet<String> = ids_of_type(&objects, "indicator")
        .difference(&x509)
        .cloned()
        .collect();
    assert_eq!(indicator_ids, expected);
    let unsupported: BTreeSet<String> = feed
        .diagnostics
        .iter()
        .filter(|d| d.kind == rampart_intel::DiagnosticKind::UnsupportedPattern)
        .map(|d| d.location.clone())
        .collect();
    assert_eq!(unsupported.len(), 2, "{:?}", feed.diagnostics);
    assert!(unsupported
        .iter()
        .all(|l| x509.iter().any(|id| l.contains(id.as_str()))));
    let values: BTreeSet<(ObservableKind, String)> = feed
        .indicators
        .iter()
        .flat_map(|i| i.all_of.iter().map(|o| (o.kind, o.value.clone())))
        .collect();
    assert!(values.contains(&(ObservableKind::Domain, "hugesoft.org".into())));
    assert!(values.contains(&(ObservableKind::Ip, "223.166.0.0/15".into())));
    assert!(values.contains(&(
        ObservableKind::Md5,
        "001dd76872d80801692ff942308c64e6".into()
    )));
    assert!(feed.indicators.iter().all(|i| i.source == feed.source));
}

#[test]
fn pages_through_a_small_limit() {
    let objects = bundle_objects("threat-reports/apt1.json");
    let server = Medallion::start(&objects);
    let client = client(ClientConfig {
        page_limit: Some(5),
        ..ClientConfig::default()
    });
    let poll = client.poll(&server.api_root(), COLLECTION, None).unwrap();
    assert!(poll.complete, "{:?}", poll.diagnostics);
    assert_eq!(poll.pages, objects.len().div_ceil(5));
    let received: Vec<&str> = poll
        .objects
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(received, expected, "every object once, in the order added");
    let last = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
        + chrono::Duration::seconds(objects.len() as i64 - 1);
    assert_eq!(poll.cursor.as_deref(), Some(date_added(last).as_str()));
}

#[test]
fn polls_incrementally_from_the_cursor() {
    let objects = bundle_objects("threat-reports/apt1.json");
    let server = Medallion::start(&objects);
    let client = client(ClientConfig {
        page_limit: Some(50),
        ..ClientConfig::default()
    });
    let first = client.poll(&server.api_root(), COLLECTION, None).unwrap();
    assert_eq!(first.objects.len(), objects.len());
    let cursor = first.cursor.clone().unwrap();

    // Nothing new: an empty, complete poll that keeps the cursor.
    let idle = client
        .poll(&server.api_root(), COLLECTION, Some(&cursor))
        .unwrap();
    assert!(idle.complete);
    assert!(idle.objects.is_empty());
    assert_eq!(idle.cursor.as_deref(), Some(cursor.as_str()));

    let added = bundle_objects("indicators-for-C2-with-COA.json");
    server.add(&added);
    let second = client
        .poll(&server.api_root(), COLLECTION, Some(&cursor))
        .unwrap();
    assert!(second.complete, "{:?}", second.diagnostics);
    let received: BTreeSet<String> = second
        .objects
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = added
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        received, expected,
        "only the objects added since the cursor"
    );
    let new_cursor = second.cursor.clone().unwrap();
    assert!(new_cursor > cursor, "{new_cursor} after {cursor}");

    let feed = second.into_feed();
    let indicator_ids: BTreeSet<String> = feed.indicators.iter().map(|i| i.id.clone()).collect();
    assert_eq!(indicator_ids, ids_of_type(&added, "indicator"));
    assert!(feed.indicators.iter().any(|i| i.all_of[0]
        == rampart_intel::Observable {
            kind: ObservableKind::Sha256,
            value: "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c".into(),
        }));

    let after = client
        .poll(&server.api_root(), COLLECTION, Some(&new_cursor))
        .unwrap();
    assert!(after.objects.is_empty());
}

#[test]
fn a_wrong_password_is_a_clear_error() {
    let server = Medallion::start(&bundle_objects("indicator-for-c2-ip-address.json"));
    let client = Client::new(
        Auth::Basic {
            user: USER.into(),
            password: "wrong".into(),
        },
        ClientConfig::default(),
    );
    let error = client
        .poll(&server.api_root(), COLLECTION, None)
        .unwrap_err();
    assert!(
        matches!(error, Error::Denied { status: 401, .. }),
        "{error:?}"
    );
    let message = rampart_event::error_chain(&error);
    assert!(message.contains("refused access"), "{message}");
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(
        !message.contains("wrong"),
        "no password in messages: {message}"
    );

    let error = client.collections(&server.discovery()).unwrap_err();
    assert!(
        matches!(error, Error::Denied { status: 401, .. }),
        "{error:?}"
    );
}

#[test]
fn an_unknown_collection_is_the_servers_error() {
    let server = Medallion::start(&bundle_objects("indicator-for-c2-ip-address.json"));
    let error = client(ClientConfig::default())
        .poll(&server.api_root(), "no-such-collection", None)
        .unwrap_err();
    assert!(
        matches!(error, Error::Status { status: 404, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("no-such-collection"), "{message}");
}
