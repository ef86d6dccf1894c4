use super::model::block_customers;
use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn i64s(frame: &DataFrame, name: &str) -> Vec<i64> {
    frame
        .column(name)
        .unwrap()
        .as_materialized_series()
        .to_physical_repr()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

fn f64s(frame: &DataFrame, name: &str) -> Vec<f64> {
    frame
        .column(name)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

#[test]
fn exact_rows_customers_and_orders() {
    let params = GenerateParams::new(2_000, 30_000).seed(3).check().unwrap();
    let frame = generate_frame(&params).unwrap();
    assert_eq!(frame.height(), 30_000);
    let names: Vec<&str> = frame.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, COLUMNS);
    assert_eq!(
        frame.column(ORDER_DATE).unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Microseconds, None)
    );

    let customers = i64s(&frame, CUSTOMER_ID);
    let mut seen = vec![false; 2_000];
    for &c in &customers {
        assert!((1..=2_000).contains(&c));
        seen[(c - 1) as usize] = true;
    }
    assert!(seen.iter().all(|&s| s), "every customer has a row");

    // An order id belongs to one customer and one timestamp, and ids are 1..=orders.
    let orders = i64s(&frame, ORDER_ID);
    let micros = i64s(&frame, ORDER_DATE);
    let amounts = f64s(&frame, AMOUNT);
    let mut by_order = std::collections::HashMap::new();
    for i in 0..frame.height() {
        let entry = by_order.entry(orders[i]).or_insert((customers[i], micros[i], 0));
        assert_eq!((entry.0, entry.1), (customers[i], micros[i]));
        entry.2 += 1;
    }
    let n_orders = by_order.len() as i64;
    assert!(by_order.keys().all(|&o| (1..=n_orders).contains(&o)));
    assert!(by_order.values().all(|&(_, _, lines)| lines <= 5));

    let start = date(2022, 1, 1)
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros();
    let end = date(2024, 12, 31)
        .and_hms_opt(23, 59, 59)
        .unwrap()
        .and_utc()
        .timestamp_micros();
    assert!(
        micros
            .iter()
            .all(|&t| (start..=end).contains(&t) && t % 1_000_000 == 0)
    );

    assert!(amounts.iter().all(|a| a.is_finite() && *a != 0.0));
    assert!(
        amounts
            .iter()
            .all(|a| ((a * 100.0).round() - a * 100.0).abs() < 1e-6)
    );
    let returns = amounts.iter().filter(|&&a| a < 0.0).count();
    assert!(returns > 100 && returns < 1_500, "{returns} return lines");
    // A return line is alone in its order.
    for i in 0..frame.height() {
        if amounts[i] < 0.0 {
            assert_eq!(by_order[&orders[i]].2, 1);
        }
    }

    // Rows are chronological within a block (2,000 customers fit one block here).
    assert!(micros.windows(2).all(|w| w[0] <= w[1]));
    assert!(orders.windows(2).all(|w| w[0] <= w[1]));

    let dir = tempfile::tempdir().unwrap();
    let log = write(&params, &dir.path().join("log.csv"), OutputFormat::Csv, 1).unwrap();
    assert_eq!(log.rows, 30_000);
    assert_eq!(log.customers, 2_000);
    assert_eq!(log.orders, n_orders as u64);
    assert_eq!(log.return_rows, returns as u64);
    let total: f64 = amounts.iter().sum();
    assert!((log.total_amount - total).abs() < 1e-6 * total.abs().max(1.0));
}

#[test]
fn same_parameters_same_output_whatever_the_threads() {
    let params = GenerateParams::new(40_000, 70_000).seed(11).check().unwrap();
    // Several blocks, so threads really work in parallel.
    assert!(block_customers(40_000, 70_000) < 40_000);
    let one = in_pool(1, || generate_frame(&params).unwrap());
    let four = in_pool(4, || generate_frame(&params).unwrap());
    assert!(one.equals(&four));

    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    in_pool(1, || write(&params, &a, OutputFormat::Csv, 1).unwrap());
    in_pool(3, || write(&params, &b, OutputFormat::Csv, 1).unwrap());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let other = generate_frame(&GenerateParams::new(40_000, 70_000).seed(12).check().unwrap()).unwrap();
    assert_eq!(other.height(), 70_000);
    assert!(!one.equals(&other));
}

#[test]
fn revenue_is_heavy_tailed() {
    let params = GenerateParams::new(3_000, 40_000).check().unwrap();
    let frame = generate_frame(&params).unwrap();
    let mut revenue = vec![0.0; 3_000];
    for (c, a) in i64s(&frame, CUSTOMER_ID).into_iter().zip(f64s(&frame, AMOUNT)) {
        revenue[(c - 1) as usize] += a;
    }
    revenue.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = revenue.iter().sum();
    let top: f64 = revenue[..600].iter().sum();
    assert!(top / total > 0.5, "top 20 % hold {:.1} %", 100.0 * top / total);
    let amounts = f64s(&frame, AMOUNT);
    let largest = amounts.iter().copied().fold(0.0, f64::max);
    let mut sorted = amounts.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!((5.0..100.0).contains(&median), "median line {median}");
    assert!(largest > 20.0 * median, "largest line {largest}");
}

#[test]
fn parquet_parts_concatenate_to_the_frame() {
    let params = GenerateParams::new(500, 9_001).seed(5).check().unwrap();
    let frame = generate_frame(&params).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("parts");
    let log = write(&params, &out, OutputFormat::Parquet, 3).unwrap();
    assert_eq!(log.files.len(), 3);
    let mut read: Option<DataFrame> = None;
    for (i, file) in log.files.iter().enumerate() {
        assert_eq!(file, &out.join(format!("part-{i:05}.parquet")));
        let part = ParquetReader::new(std::fs::File::open(file).unwrap())
            .finish()
            .unwrap();
        assert!(part.height() == 3_000 || part.height() == 3_001);
        read = Some(match read {
            None => part,
            Some(mut all) => {
                all.vstack_mut(&part).unwrap();
                all
            }
        });
    }
    assert!(read.unwrap().equals(&frame));
    // Nothing but the parts is left in the directory.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);
}

#[test]
fn csv_and_ndjson_round_trip() {
    let params = GenerateParams::new(300, 5_000)
        .seed(9)
        .period(date(2023, 6, 1), date(2023, 8, 31))
        .return_rate(0.2)
        .check()
        .unwrap();
    let frame = generate_frame(&params).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let csv_dir = dir.path().join("csv");
    let log = write(&params, &csv_dir, OutputFormat::Csv, 2).unwrap();
    let mut text = String::new();
    for (i, file) in log.files.iter().enumerate() {
        let part = std::fs::read_to_string(file).unwrap();
        let mut lines = part.lines();
        assert_eq!(lines.next(), Some("customer_id,order_id,order_date,amount"));
        if i == 0 {
            text.push_str("customer_id,order_id,order_date,amount\n");
        }
        for line in lines {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4);
            assert_eq!(fields[2].len(), 19, "{line}");
            assert_eq!(fields[3].split('.').nth(1).map(str::len), Some(2), "{line}");
            text.push_str(line);
            text.push('\n');
        }
    }
    let schema = Schema::from_iter([Field::new(
        ORDER_DATE.into(),
        DataType::Datetime(TimeUnit::Microseconds, None),
    )]);
    let read = CsvReadOptions::default()
        .with_schema_overwrite(Some(Arc::new(schema)))
        .into_reader_with_file_handle(std::io::Cursor::new(text.into_bytes()))
        .finish()
        .unwrap();
    assert!(read.equals(&frame), "{read}\n{frame}");

    let json = dir.path().join("log.json");
    let log = write(&params, &json, OutputFormat::Ndjson, 1).unwrap();
    assert_eq!(log.files, vec![json.clone()]);
    let text = std::fs::read_to_string(&json).unwrap();
    assert_eq!(text.lines().count(), 5_000);
    assert!(text.starts_with("{\"customer_id\":"), "{}", &text[..80]);
}

#[test]
fn invalid_parameters_are_named() {
    let err = GenerateParams::new(10, 9).check().unwrap_err();
    assert!(
        matches!(err, ParamError::OutOfRange { name: "rows", .. }),
        "{err}"
    );
    let err = GenerateParams::new(0, 9).check().unwrap_err();
    assert!(
        matches!(
            err,
            ParamError::OutOfRange {
                name: "customers",
                ..
            }
        ),
        "{err}"
    );
    let day = date(2023, 1, 1);
    let err = GenerateParams::new(1, 9).period(day, day).check().unwrap_err();
    assert!(matches!(err, ParamError::OutOfRange { name: "end", .. }), "{err}");
    let err = GenerateParams::new(1, 9)
        .period(day, date(2022, 1, 1))
        .check()
        .unwrap_err();
    assert!(matches!(err, ParamError::OutOfRange { name: "end", .. }), "{err}");
    for rate in [-0.1, 0.5, f64::NAN] {
        let err = GenerateParams::new(1, 9).return_rate(rate).check().unwrap_err();
        assert!(
            matches!(
                err,
                ParamError::OutOfRange {
                    name: "return_rate",
                    ..
                }
            ),
            "{err}"
        );
    }
    let params = GenerateParams::new(5, 5).return_rate(0.0).check().unwrap();
    let frame = generate_frame(&params).unwrap();
    assert_eq!(frame.height(), 5);
    let dir = tempfile::tempdir().unwrap();
    assert!(write(&params, dir.path(), OutputFormat::Csv, 6).is_err());
    assert!(write(&params, dir.path(), OutputFormat::Csv, 0).is_err());
}
