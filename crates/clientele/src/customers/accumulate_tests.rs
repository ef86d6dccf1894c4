//! Tests of the accumulator: ids, order keys and the customer-level frame.

use super::*;

fn batch(customers: Column, orders: Column, amounts: &[i64]) -> DataFrame {
    let n = amounts.len();
    let ts: Vec<i64> = (0..n as i64).map(|i| i * 86_400_000_000).collect();
    DataFrame::new(
        n,
        vec![
            customers.with_name(CUSTOMER_ID.into()),
            Column::new(TS.into(), ts)
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                .unwrap(),
            Column::new(AMOUNT_MICROS.into(), amounts),
            orders.with_name(ORDER_KEY.into()),
            Column::new(STATUS.into(), vec![RowStatus::Used.code(); n]),
        ],
    )
    .unwrap()
}

fn frequencies(frame: &DataFrame) -> Vec<(String, i64)> {
    let ids = frame
        .column(CUSTOMER_ID)
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    let freq = frame.column("frequency").unwrap().i64().unwrap().clone();
    ids.str()
        .unwrap()
        .iter()
        .zip(freq.iter())
        .map(|(i, f)| (i.unwrap().to_string(), f.unwrap()))
        .collect()
}

#[test]
fn shared_repeated_negative_and_text_orders_count_once_per_customer() {
    let mut acc = Accumulator::new(false);
    // Customer 1: orders 10 (two lines, then again later), -1, 10 again; customer 2 shares
    // order 10 and has a return (no order counted); customer 3 has a huge key.
    let customers = Column::new("c".into(), [1i64, 1, 2, 1, 1, 2, 1, 3, 3]);
    let orders = Column::new("o".into(), [10i64, 10, 10, 11, -1, 12, 10, 1 << 40, 1 << 40]);
    acc.add(&batch(customers, orders, &[5, 5, 5, 5, 5, -5, 5, 1, 1]))
        .unwrap();
    let frame = acc.finish(&DataType::Int64).unwrap().customers;
    assert_eq!(
        frequencies(&frame),
        vec![("1".into(), 3), ("2".into(), 1), ("3".into(), 1)]
    );
    assert_eq!(frame.column(CUSTOMER_ID).unwrap().dtype(), &DataType::Int64);
}

#[test]
fn text_ids_stay_integers_until_one_is_not_and_then_keep_their_text() {
    let mut acc = Accumulator::new(true);
    let orders = || Column::new("o".into(), ["1", "01", "1", "x-order-with-a-long-name"]);
    acc.add(&batch(
        Column::new("c".into(), ["20", "20", "3", "3"]),
        orders(),
        &[1, 1, 1, 1],
    ))
    .unwrap();
    let mut all_integers = Accumulator::new(true);
    all_integers
        .add(&batch(
            Column::new("c".into(), ["20", "20", "3", "3"]),
            orders(),
            &[1, 1, 1, 1],
        ))
        .unwrap();
    let frame = all_integers.finish(&DataType::String).unwrap().customers;
    assert_eq!(frame.column(CUSTOMER_ID).unwrap().dtype(), &DataType::Int64);
    assert_eq!(frequencies(&frame), vec![("3".into(), 2), ("20".into(), 2)]);

    acc.add(&batch(
        Column::new("c".into(), ["007", "3"]),
        orders().head(Some(2)),
        &[1, 1],
    ))
    .unwrap();
    let frame = acc.finish(&DataType::String).unwrap().customers;
    assert_eq!(frame.column(CUSTOMER_ID).unwrap().dtype(), &DataType::String);
    assert_eq!(
        frequencies(&frame),
        vec![("007".into(), 1), ("20".into(), 2), ("3".into(), 3)],
        "text order, ids sorted as text; \"1\" and \"01\" are different orders"
    );
}

/// A xorshift generator of numbers below `n`, from `seed`.
fn below(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed | 1;
    move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    }
}

/// Batches of classified rows with every kind of id and row the shards must agree on: integer
/// ids beyond the direct slots, negative ids, a switch to text ids, shared and repeated
/// orders, wide keys, returns and excluded rows.
fn mixed_batches(text: bool, seed: u64) -> Vec<DataFrame> {
    let mut next = below(seed);
    (0..6)
        .map(|b| {
            let n = 3_000;
            let mut customers = Vec::with_capacity(n);
            let mut orders = Vec::with_capacity(n);
            let mut amounts = Vec::with_capacity(n);
            let mut status = Vec::with_capacity(n);
            for _ in 0..n {
                let c = match next(10) {
                    0 => 5_000_000 + next(50) as i64,
                    1 => -(next(20) as i64),
                    _ => next(700) as i64,
                };
                customers.push(c);
                orders.push(match next(8) {
                    0 => (1i64 << 40) + next(30) as i64,
                    1 => next(40) as i64,
                    _ => c * 13 + next(4) as i64,
                });
                amounts.push(next(10_000) as i64 - 500);
                status.push(match next(20) {
                    0 => RowStatus::Excluded(crate::rows::ExclusionReason::AfterAsOf).code(),
                    _ => RowStatus::Used.code(),
                });
            }
            let customers = match (text, b) {
                (false, _) => Column::new("c".into(), customers),
                (true, _) => Column::new(
                    "c".into(),
                    customers
                        .iter()
                        .enumerate()
                        .map(|(i, c)| match (b, i % 97) {
                            (4.., 0) => format!("x{c}"),
                            _ => c.to_string(),
                        })
                        .collect::<Vec<_>>(),
                ),
            };
            let mut frame = batch(customers, Column::new("o".into(), orders), &amounts);
            frame.with_column(Column::new(STATUS.into(), status)).unwrap();
            frame
        })
        .collect()
}

#[test]
fn the_result_is_the_same_whatever_the_number_of_shards() {
    use crate::cohorts::CohortPeriod;
    use crate::customers::periods::PeriodRequest;
    for text in [false, true] {
        let run = |shards: usize| {
            let mut acc = Accumulator::with_shards(text, shards)
                .with_periods(Some(PeriodRequest {
                    last_day: Some(10_000),
                    weeks: false,
                }))
                .with_cohorts(Some(CohortPeriod::Month))
                .with_stats(Some(true));
            for batch in mixed_batches(text, 7) {
                acc.add(&batch).unwrap();
            }
            let counts: Vec<(u8, u64)> = acc.status_counts().collect();
            let id_dtype = if text { DataType::String } else { DataType::Int64 };
            (counts, acc.finish(&id_dtype).unwrap())
        };
        let (counts, one) = run(1);
        for shards in [2, 3, 4] {
            let (other_counts, other) = run(shards);
            assert_eq!(counts, other_counts);
            assert!(
                one.customers.equals_missing(&other.customers),
                "{shards} shards, text {text}"
            );
            assert!(
                one.periods
                    .as_ref()
                    .unwrap()
                    .equals_missing(other.periods.as_ref().unwrap()),
                "{shards} shards"
            );
            assert_eq!(one.period_status_counts, other.period_status_counts);
            assert_eq!(one.cohorts, other.cohorts);
            assert_eq!(one.stats, other.stats);
        }
        assert!(one.customers.height() > 700, "{}", one.customers.height());
        let ids = one.customers.column(CUSTOMER_ID).unwrap().dtype().clone();
        assert_eq!(ids, if text { DataType::String } else { DataType::Int64 });
    }
}

#[test]
fn many_direct_customers_come_out_in_id_order_with_their_rows() {
    // Enough customers for many ranges of blocks in the merge (each range counts its customers,
    // then writes them), with gaps of whole blocks and of single ids, rows in a shuffled order.
    let mut next = below(11);
    let ids: Vec<i64> = (0..400_000i64)
        .filter(|id| id % 7 != 3 && !(100_000..100_640).contains(id) && id % 100_000 != 99)
        .collect();
    let mut rows: Vec<i64> = ids.iter().flat_map(|id| [*id; 2]).collect();
    for i in (1..rows.len()).rev() {
        rows.swap(i, next(i as u64 + 1) as usize);
    }
    for shards in [1, 2, 4] {
        let mut acc = Accumulator::with_shards(false, shards);
        for part in rows.chunks(100_000) {
            let amounts: Vec<i64> = part.iter().map(|id| id * 10).collect();
            let orders = Column::new("o".into(), part.iter().map(|id| id * 3).collect::<Vec<_>>());
            acc.add(&batch(Column::new("c".into(), part), orders, &amounts))
                .unwrap();
        }
        let table = acc.finish(&DataType::Int64).unwrap().customers;
        let got: Vec<i64> = table
            .column(CUSTOMER_ID)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(got, ids, "{shards} shards");
        let money: Vec<i64> = table
            .column("net_micros")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let expected: Vec<i64> = ids.iter().map(|id| id * 20).collect();
        assert_eq!(money, expected, "{shards} shards: each customer's own records");
    }
}

#[test]
fn numbered_text_ids_are_their_numbers_and_meet_no_other_id() {
    // Most rows have one numbering (`C` and 9 digits), which the accumulator then takes.
    let mut ids = vec![
        "C000000042",
        "42",
        "C000000007",
        "C42",
        "D000000042",
        "C999999999",
        "C000000042",
        "7",
        "C0000000042",
        "x",
        "C000000007",
        "-42",
    ];
    let more: Vec<String> = (100..110).map(|n| format!("C000000{n}")).collect();
    ids.extend(more.iter().map(String::as_str));
    let orders: Vec<i64> = (0..ids.len() as i64).collect();
    let amounts = vec![1i64; ids.len()];
    let numbered_batch = batch(
        Column::new("c".into(), ids.as_slice()),
        Column::new("o".into(), orders.as_slice()),
        &amounts,
    );
    for shards in [1, 2, 4] {
        let mut numbered = Accumulator::with_shards(true, shards);
        numbered.add(&numbered_batch).unwrap();
        assert!(
            numbered.router.numbering.is_some(),
            "the first id chose a numbering"
        );
        // The same rows after a first row of plain text: no numbering.
        let mut plain = Accumulator::with_shards(true, shards);
        plain
            .add(&batch(
                Column::new("c".into(), ["plain"]),
                Column::new("o".into(), [-1i64]),
                &[1],
            ))
            .unwrap();
        plain.add(&numbered_batch).unwrap();
        assert!(plain.router.numbering.is_none());
        let numbered = numbered.finish(&DataType::String).unwrap().customers;
        let plain = plain.finish(&DataType::String).unwrap().customers;
        let plain = plain
            .filter(
                &plain
                    .column(CUSTOMER_ID)
                    .unwrap()
                    .str()
                    .unwrap()
                    .not_equal("plain"),
            )
            .unwrap();
        assert!(
            numbered.equals_missing(&plain),
            "{shards} shards\n{numbered}\n{plain}"
        );
        let mut expected: Vec<(String, i64)> = [
            ("-42", 1),
            ("42", 1),
            ("7", 1),
            ("C0000000042", 1),
            ("C000000007", 2),
            ("C000000042", 2),
        ]
        .iter()
        .map(|(id, f)| (id.to_string(), *f))
        .collect();
        expected.extend(more.iter().map(|id| (id.clone(), 1)));
        expected.extend(
            [("C42", 1), ("C999999999", 1), ("D000000042", 1), ("x", 1)]
                .iter()
                .map(|(id, f)| (id.to_string(), *f)),
        );
        assert_eq!(frequencies(&numbered), expected);
    }
}

#[test]
fn the_numbering_is_the_one_most_first_rows_have() {
    let add = |ids: &[&str]| {
        let mut acc = Accumulator::with_shards(true, 2);
        let orders: Vec<i64> = (0..ids.len() as i64).collect();
        let amounts = vec![1i64; ids.len()];
        acc.add(&batch(
            Column::new("c".into(), ids),
            Column::new("o".into(), orders),
            &amounts,
        ))
        .unwrap();
        acc.router.numbering
    };
    // An odd first id does not decide.
    let most = ["TEST-1", "C0001", "C0002", "C0003", "D0004"];
    assert_eq!(add(&most), crate::rows::ids::Numbering::of("C0009"));
    // Half the rows or fewer: no numbering (canonical integers count against it).
    assert_eq!(add(&["C0001", "7", "C0002", "x"]), None);
}

#[test]
fn money_columns_no_output_needs_are_not_built_and_the_rest_are_unchanged() {
    let rows = || {
        batch(
            Column::new("c".into(), [1i64, 2, 1, 3, 2]),
            Column::new("o".into(), [7i64, 8, 9, 10, 11]),
            &[5_000_000, 2_000_000, -1_000_000, 3_000_000, 4_000_000],
        )
    };
    let finish = |only: Option<&[String]>| {
        let mut acc = Accumulator::new(false).for_columns(only);
        acc.add(&rows()).unwrap();
        acc.finish(&DataType::Int64).unwrap().customers
    };
    let all = finish(None);
    let scores = ["recency_days", "frequency", "monetary"].map(String::from);
    let pruned = finish(Some(&scores));
    let names = |frame: &DataFrame| -> Vec<String> {
        frame.get_column_names().iter().map(|n| n.to_string()).collect()
    };
    assert!(names(&all).contains(&"returned_micros".to_string()));
    assert_eq!(
        names(&pruned),
        [
            "customer_id",
            "first_ts",
            "last_ts",
            "frequency",
            "net_micros",
            "transactions"
        ]
    );
    assert!(pruned.equals_missing(&all.select(names(&pruned)).unwrap()));
    let with_returns = finish(Some(&["returns_value".to_string()]));
    assert!(names(&with_returns).contains(&"returned_micros".to_string()));
    assert!(!names(&with_returns).contains(&"gross_micros".to_string()));
}

/// A log grouped by customer (each customer's rows together, order keys in no order, repeated,
/// shared, wide), where `back` rows of customers seen before come back after row `back_at`:
/// its rows in batches of 37 (runs split by batches), and each customer's distinct purchase
/// orders.
fn grouped_log(seed: u64, back_at: usize, back: usize) -> (Vec<DataFrame>, Vec<(String, i64)>) {
    let mut next = below(seed);
    let mut rows: Vec<(i64, i64, i64)> = Vec::new();
    let mut customers: Vec<i64> = (0..400i64).map(|i| i * 3 - 40).collect();
    customers.extend([1 << 33, (1 << 33) + 1]);
    for c in &customers {
        for _ in 0..1 + next(8) {
            let order = match next(10) {
                0 => (1i64 << 40) + next(3) as i64,
                1 => next(5) as i64,
                _ => c.rem_euclid(1 << 20) * 10 + next(6) as i64,
            };
            rows.push((*c, order, next(1_000) as i64 - 100));
        }
    }
    let back: Vec<(i64, i64, i64)> = (0..back)
        .map(|_| {
            let (c, order, _) = rows[next(back_at as u64) as usize];
            let order = if next(2) == 0 { order } else { order + 1 };
            (c, order, next(1_000) as i64 - 100)
        })
        .collect();
    rows.splice(back_at..back_at, back);
    let mut distinct = std::collections::BTreeMap::<i64, std::collections::BTreeSet<i64>>::new();
    for (c, order, amount) in &rows {
        let orders = distinct.entry(*c).or_default();
        if *amount >= 0 {
            orders.insert(*order);
        }
    }
    let expected = distinct
        .into_iter()
        .map(|(c, orders)| (c.to_string(), orders.len() as i64))
        .collect();
    let batches = rows
        .chunks(37)
        .map(|chunk| {
            let ids: Vec<i64> = chunk.iter().map(|r| r.0).collect();
            let orders: Vec<i64> = chunk.iter().map(|r| r.1).collect();
            let amounts: Vec<i64> = chunk.iter().map(|r| r.2).collect();
            batch(
                Column::new("c".into(), ids),
                Column::new("o".into(), orders),
                &amounts,
            )
        })
        .collect();
    (batches, expected)
}

#[test]
fn orders_counted_by_runs_or_owners_are_each_customers_distinct_orders() {
    // No comeback, a few (counted as pairs), many (the runs break: the owners count).
    for (seed, back_at, back, by_runs) in [(3, 0, 0, true), (5, 900, 4, true), (7, 700, 300, false)] {
        let (batches, expected) = grouped_log(seed, back_at, back);
        for shards in [1, 2, 4] {
            let mut acc = Accumulator::with_shards(false, shards);
            for batch in &batches {
                acc.add(batch).unwrap();
            }
            let runs = acc.shards.iter().filter(|s| s.counts_by_runs()).count();
            assert_eq!(runs, if by_runs { shards } else { 0 }, "seed {seed}");
            let frame = acc.finish(&DataType::Int64).unwrap().customers;
            assert_eq!(
                frequencies(&frame),
                expected,
                "seed {seed}, {back} back at {back_at}, {shards} shards"
            );
        }
    }
}
