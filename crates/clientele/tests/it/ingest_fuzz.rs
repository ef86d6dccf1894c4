//! Fuzzing the ingest entry point: arbitrary bytes, and byte mutations of a valid CSV
//! (truncation, inserted quotes, NUL bytes, invalid UTF-8, a huge field, gzip magic), written
//! to a file and read by `ingest::scan`, `customers::aggregate` and `rejected_rows`. Every input
//! must end in a table or an error with a message, never a panic or a hang.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use clientele::customers;
use clientele::ingest::{self, CsvReaderChoice, IngestOptions};
use clientele::rows::RowPolicy;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Longest a case may take (debug build, shared machine).
const CASE_LIMIT: Duration = Duration::from_secs(60);

const VALID: &str = "customer_id,order_id,order_date,amount,note\n\
    1,10,2024-01-05 10:00:00,10.50,plain\n\
    1,10,2024-01-05 10:00:00,2.25,\"with, comma\"\n\
    2,11,2024-01-06 11:30:00,-3.5,\"two\nlines\"\n\
    3,12,2024-01-07 09:00:00,7,\"a \"\"quoted\"\" word\"\n\
    4,13,2024-01-08 12:00:00,1e3,x\n";

/// One change to the valid file.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Overwrite(usize, u8),
    HugeField(usize),
    GzipMagic,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let len = VALID.len();
    prop_oneof![
        (0..len).prop_map(Mutation::Truncate),
        (
            0..len,
            prop_oneof![
                Just(b"\"".to_vec()),
                Just(vec![0u8]),
                Just(vec![0xff, 0xfe]),
                Just(b"\xc3".to_vec()),
                Just(b",".to_vec()),
                Just(b"\n".to_vec()),
                Just(b"\r".to_vec()),
                Just(b"\xEF\xBB\xBF".to_vec()),
                proptest::collection::vec(any::<u8>(), 1..8),
            ]
        )
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (0..len, any::<u8>()).prop_map(|(at, b)| Mutation::Overwrite(at, b)),
        (0..len).prop_map(Mutation::HugeField),
        Just(Mutation::GzipMagic),
    ]
}

fn mutate(mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = VALID.as_bytes().to_vec();
    for m in mutations {
        match m {
            Mutation::Truncate(at) => bytes.truncate(*at),
            Mutation::Insert(at, more) => {
                let at = (*at).min(bytes.len());
                bytes.splice(at..at, more.iter().copied());
            }
            Mutation::Overwrite(at, b) => {
                if let Some(x) = bytes.get_mut(*at) {
                    *x = *b;
                }
            }
            Mutation::HugeField(at) => {
                let at = (*at).min(bytes.len());
                bytes.splice(at..at, std::iter::repeat_n(b'x', 3 << 20));
            }
            Mutation::GzipMagic => bytes.splice(0..0, [0x1f, 0x8b]).for_each(drop),
        }
    }
    bytes
}

/// Reads `bytes` as `name` through the entry points, on a thread bounded by [`CASE_LIMIT`].
fn ingest(name: &'static str, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let (send, receive) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let outcome = std::panic::catch_unwind(|| {
            let mut messages = Vec::new();
            for reader in [CsvReaderChoice::Auto, CsvReaderChoice::Polars] {
                let mut options = IngestOptions::default();
                options.csv.reader = reader;
                let result = ingest::scan(&path, &options).and_then(|tx| {
                    let policy = RowPolicy::default();
                    let table = customers::aggregate(&tx, &policy)?;
                    assert!(table.reconciliation.balances());
                    let rejected =
                        tx.rejected_rows(&policy)?
                            .collect()
                            .map_err(|e| clientele::Error::Polars {
                                context: "rejected rows".into(),
                                error: e,
                            })?;
                    assert_eq!(rejected.height() as u64, table.reconciliation.rejected_rows());
                    Ok(())
                });
                if let Err(e) = result {
                    messages.push(e.to_string());
                }
            }
            messages
        });
        let _ = send.send(outcome);
    });
    match receive.recv_timeout(CASE_LIMIT) {
        Ok(Ok(messages)) => {
            for message in messages {
                prop_assert!(!message.trim().is_empty(), "an error without a message");
                prop_assert!(message.len() < 2_000, "a message of {} bytes", message.len());
            }
            Ok(())
        }
        Ok(Err(_)) => Err(TestCaseError::fail("a panic (see the message above)")),
        Err(_) => Err(TestCaseError::fail(format!(
            "no answer after {:?}: a hang",
            started.elapsed()
        ))),
    }
}

fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn arbitrary_bytes_end_in_a_table_or_an_error() {
    let bytes = proptest::collection::vec(any::<u8>(), 0..400);
    runner(150).run(&bytes, |b| ingest("fuzz.csv", b)).unwrap();
}

#[test]
fn mutated_csv_ends_in_a_table_or_an_error() {
    let mutations = proptest::collection::vec(mutation(), 1..4);
    runner(150)
        .run(&mutations, |m| ingest("fuzz.csv", mutate(&m)))
        .unwrap();
}
