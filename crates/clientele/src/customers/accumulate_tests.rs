//! Tests of the accumulator: ids, order keys and the customer-level frame.

use super::*;

#[test]
fn integer_ids_small_negative_and_huge_all_map_back() {
    let mut ids = IntIds::default();
    let samples = [5i64, 0, -3, 1 << 40, 2, i64::MAX, 3_000_000, i64::MIN];
    for (i, id) in samples.iter().enumerate() {
        assert_eq!(ids.get(*id), None);
        ids.insert(*id, i as u32, i + 1);
    }
    for (i, id) in samples.iter().enumerate() {
        assert_eq!(ids.get(*id), Some(i as u32), "id {id}");
    }
    assert_eq!(ids.get(1), None);
    assert_eq!(ids.get(4), None);
    // Sparse ids go to the map: the vector stays bounded by the customers seen.
    assert!(ids.direct.len() <= 1 << 21, "{}", ids.direct.len());
    assert_eq!(
        ids.map.len(),
        5,
        "-3, 2^40, i64::MAX, 3,000,000 (beyond 2^20 slots), i64::MIN"
    );
    assert!(ids.direct_order().is_none(), "some ids are in the map");
}

#[test]
fn direct_ids_come_out_sorted_without_a_sort() {
    let mut ids = IntIds::default();
    for (i, id) in [7i64, 3, 9, 0].iter().enumerate() {
        ids.insert(*id, i as u32, i + 1);
    }
    let (order, sorted) = ids.direct_order().expect("all direct");
    assert_eq!(sorted, vec![0, 3, 7, 9]);
    assert_eq!(order, vec![3, 1, 0, 2]);
}

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
