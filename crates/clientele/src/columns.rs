//! How the columns of a user's export map to clientele's roles.
//!
//! A transaction needs a customer id, a timestamp and an amount; an order id is optional.
//! The amount can instead be `quantity × unit price`. Any role can be named explicitly;
//! roles left unnamed are detected from the input's header by common names, compared
//! case-insensitively and ignoring spaces, underscores, hyphens and dots
//! (`CustomerID`, `customer_id` and `Customer ID` all match `customerid`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Names tried, in order, for the customer id column (normalized: lower case, no separators).
pub const CUSTOMER_NAMES: &[&str] = &[
    "customerid",
    "customer",
    "custid",
    "customerno",
    "customernumber",
    "customercode",
    "clientid",
    "client",
    "userid",
    "memberid",
    "buyerid",
    "accountid",
    "shopperid",
];

/// Names tried, in order, for the timestamp column.
pub const TIME_NAMES: &[&str] = &[
    "invoicedate",
    "orderdate",
    "orderdatetime",
    "purchasedate",
    "transactiondate",
    "transactiondatetime",
    "saledate",
    "date",
    "datetime",
    "timestamp",
    "time",
    "ordertime",
    "createdat",
    "txdate",
];

/// Names tried, in order, for the order id column.
pub const ORDER_NAMES: &[&str] = &[
    "invoiceno",
    "invoice",
    "invoiceid",
    "invoicenumber",
    "orderid",
    "order",
    "orderno",
    "ordernumber",
    "transactionid",
    "receiptid",
    "receiptno",
    "basketid",
];

/// Names tried, in order, for the amount column.
pub const AMOUNT_NAMES: &[&str] = &[
    "amount",
    "revenue",
    "sales",
    "salesamount",
    "totalamount",
    "lineamount",
    "linetotal",
    "totalprice",
    "total",
    "dollarvalue",
    "value",
    "spend",
    "netamount",
];

/// Names tried, in order, for the quantity column.
pub const QUANTITY_NAMES: &[&str] = &["quantity", "qty", "units", "numberofunits", "itemcount"];

/// Names tried, in order, for the unit price column.
pub const PRICE_NAMES: &[&str] = &["unitprice", "price", "itemprice", "priceeach", "unitcost"];

/// The user's column names for each role; `None` means "detect it".
///
/// ```
/// use clientele::Columns;
///
/// let columns = Columns::default().customer("CustomerID").quantity_times_price("Quantity", "UnitPrice");
/// let resolved = columns.resolve(
///     "orders.csv",
///     &["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"],
/// )?;
/// assert_eq!(resolved.order.as_deref(), Some("InvoiceNo"));
/// # Ok::<(), clientele::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Columns {
    /// Customer id column.
    pub customer: Option<String>,
    /// Timestamp column.
    pub time: Option<String>,
    /// Amount column (exclusive with quantity and price).
    pub amount: Option<String>,
    /// Quantity column, multiplied by `price` to give the amount.
    pub quantity: Option<String>,
    /// Unit price column, multiplied by `quantity` to give the amount.
    pub price: Option<String>,
    /// Order id column.
    pub order: Option<String>,
    /// Set when the user asked for no order column even if one could be detected.
    pub no_order: bool,
}

impl Columns {
    /// Names the customer id column.
    pub fn customer(mut self, name: impl Into<String>) -> Self {
        self.customer = Some(name.into());
        self
    }

    /// Names the timestamp column.
    pub fn time(mut self, name: impl Into<String>) -> Self {
        self.time = Some(name.into());
        self
    }

    /// Names the amount column.
    pub fn amount(mut self, name: impl Into<String>) -> Self {
        self.amount = Some(name.into());
        self
    }

    /// Computes the amount as `quantity × price` from these two columns.
    pub fn quantity_times_price(mut self, quantity: impl Into<String>, price: impl Into<String>) -> Self {
        self.quantity = Some(quantity.into());
        self.price = Some(price.into());
        self
    }

    /// Names the order id column.
    pub fn order(mut self, name: impl Into<String>) -> Self {
        self.order = Some(name.into());
        self
    }

    /// Uses no order column: frequency then counts distinct purchase days.
    pub fn without_order(mut self) -> Self {
        self.order = None;
        self.no_order = true;
        self
    }

    /// Maps every role to one of `available` (the input's column names).
    ///
    /// # Errors
    ///
    /// [`Error::ColumnNotFound`] when a named column is missing, [`Error::MissingColumn`] when a
    /// required role cannot be detected, [`Error::UnsupportedInput`] for contradictory settings
    /// (an amount column and quantity × price both given, or only one of quantity and price).
    pub fn resolve<S: AsRef<str>>(&self, source_name: &str, available: &[S]) -> Result<ResolvedColumns> {
        let available: Vec<&str> = available.iter().map(|s| s.as_ref()).collect();
        let finder = Finder {
            source_name,
            available: &available,
        };
        let customer = finder.required(&self.customer, "customer id", CUSTOMER_NAMES, "--customer")?;
        let time = finder.required(&self.time, "timestamp", TIME_NAMES, "--time")?;
        let order = if self.no_order {
            None
        } else {
            finder.optional(&self.order, "order id", ORDER_NAMES)?
        };
        let amount = self.resolve_amount(&finder)?;
        Ok(ResolvedColumns {
            customer,
            time,
            amount,
            order,
        })
    }

    fn resolve_amount(&self, finder: &Finder<'_>) -> Result<AmountColumns> {
        let explicit_product = self.quantity.is_some() || self.price.is_some();
        if self.amount.is_some() && explicit_product {
            return Err(Error::UnsupportedInput {
                source_name: finder.source_name.to_string(),
                detail: "give either an amount column or quantity and price columns, not both".into(),
            });
        }
        if let Some(amount) = &self.amount {
            return Ok(AmountColumns::Amount(finder.named(amount, "amount")?));
        }
        if explicit_product {
            let quantity = finder.required(&self.quantity, "quantity", QUANTITY_NAMES, "--quantity")?;
            let price = finder.required(&self.price, "unit price", PRICE_NAMES, "--price")?;
            return Ok(AmountColumns::QuantityTimesPrice { quantity, price });
        }
        if let Some(amount) = finder.detect(AMOUNT_NAMES) {
            return Ok(AmountColumns::Amount(amount));
        }
        match (finder.detect(QUANTITY_NAMES), finder.detect(PRICE_NAMES)) {
            (Some(quantity), Some(price)) => Ok(AmountColumns::QuantityTimesPrice { quantity, price }),
            _ => Err(Error::MissingColumn {
                source_name: finder.source_name.to_string(),
                role: "amount",
                tried: format!(
                    "{}, or quantity ({}) with unit price ({})",
                    AMOUNT_NAMES.join(", "),
                    QUANTITY_NAMES.join(", "),
                    PRICE_NAMES.join(", ")
                ),
                available: list_columns(finder.available),
                flag: "--amount, or --quantity and --price",
            }),
        }
    }
}

/// The columns chosen for each role, as they are named in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedColumns {
    /// Customer id column.
    pub customer: String,
    /// Timestamp column.
    pub time: String,
    /// Where the amount comes from.
    pub amount: AmountColumns,
    /// Order id column, if any.
    pub order: Option<String>,
}

impl ResolvedColumns {
    /// Every input column the job reads, in a stable order.
    pub fn input_columns(&self) -> Vec<String> {
        let mut names = vec![self.customer.clone(), self.time.clone()];
        match &self.amount {
            AmountColumns::Amount(a) => names.push(a.clone()),
            AmountColumns::QuantityTimesPrice { quantity, price } => {
                names.push(quantity.clone());
                names.push(price.clone());
            }
        }
        if let Some(order) = &self.order {
            names.push(order.clone());
        }
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
        names
    }
}

/// Where a transaction's amount comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountColumns {
    /// One column holds the amount.
    Amount(String),
    /// The amount is `quantity × price`.
    QuantityTimesPrice {
        /// Quantity column.
        quantity: String,
        /// Unit price column.
        price: String,
    },
}

impl std::fmt::Display for AmountColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AmountColumns::Amount(a) => write!(f, "{a}"),
            AmountColumns::QuantityTimesPrice { quantity, price } => write!(f, "{quantity} × {price}"),
        }
    }
}

/// Lower-cases a column name and drops spaces, underscores, hyphens and dots.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Refuses a header that names a column twice, naming both (1-based) positions. A name can come
/// twice as it is (a whitespace-separated file, a Parquet schema) or as polars' CSV reader
/// renames a repeat: the second `x` becomes `x_duplicated_0`, the third `x_duplicated_1`.
///
/// # Errors
///
/// [`Error::UnsupportedInput`] for the first repeated name.
pub(crate) fn check_unique_names(source_name: &str, names: &[&str]) -> Result<()> {
    let mut first_at = std::collections::HashMap::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        if let Some(i) = first_at.insert(*name, j) {
            return Err(duplicate(source_name, name, i, j));
        }
    }
    for (j, name) in names.iter().enumerate() {
        if let Some((base, n)) = name.rsplit_once("_duplicated_")
            && n.parse::<usize>().is_ok()
            && let Some(i) = first_at.get(base)
        {
            return Err(duplicate(source_name, base, *i, j));
        }
    }
    Ok(())
}

fn duplicate(source_name: &str, name: &str, i: usize, j: usize) -> Error {
    Error::UnsupportedInput {
        source_name: source_name.to_string(),
        detail: format!(
            "the header names column {} twice (columns {} and {}); rename one",
            crate::format::quote(name),
            i + 1,
            j + 1
        ),
    }
}

struct Finder<'a> {
    source_name: &'a str,
    available: &'a [&'a str],
}

impl Finder<'_> {
    fn detect(&self, candidates: &[&str]) -> Option<String> {
        candidates.iter().find_map(|candidate| {
            self.available
                .iter()
                .find(|name| normalize_name(name) == *candidate)
                .map(|name| name.to_string())
        })
    }

    fn named(&self, name: &str, role: &'static str) -> Result<String> {
        if self.available.contains(&name) {
            return Ok(name.to_string());
        }
        // Accept a name that differs only in case or separators, if it is unambiguous.
        let wanted = normalize_name(name);
        let matches: Vec<&&str> = self
            .available
            .iter()
            .filter(|a| normalize_name(a) == wanted)
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.to_string()),
            _ => Err(Error::ColumnNotFound {
                source_name: self.source_name.to_string(),
                column: name.to_string(),
                role,
                available: list_columns(self.available),
            }),
        }
    }

    fn required(
        &self,
        given: &Option<String>,
        role: &'static str,
        candidates: &[&str],
        flag: &'static str,
    ) -> Result<String> {
        match given {
            Some(name) => self.named(name, role),
            None => self.detect(candidates).ok_or_else(|| Error::MissingColumn {
                source_name: self.source_name.to_string(),
                role,
                tried: candidates.join(", "),
                available: list_columns(self.available),
                flag,
            }),
        }
    }

    fn optional(
        &self,
        given: &Option<String>,
        role: &'static str,
        candidates: &[&str],
    ) -> Result<Option<String>> {
        match given {
            Some(name) => self.named(name, role).map(Some),
            None => Ok(self.detect(candidates)),
        }
    }
}

/// The input's column names for a message: a long name quoted and cut, at most 100 names.
fn list_columns(names: &[&str]) -> String {
    const SHOWN: usize = 100;
    let mut listed: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| {
            if n.chars().count() > crate::format::QUOTE_LIMIT {
                crate::format::quote(n)
            } else {
                n.to_string()
            }
        })
        .collect();
    if names.len() > SHOWN {
        listed.push(format!("and {} more", names.len() - SHOWN));
    }
    listed.join(", ")
}

/// Names of the `btyd_*` columns of a customer table with the buy-till-you-die fields
/// (written by [`crate::sql::BtydSql`], read by [`crate::customers::pre_aggregated`] and
/// [`crate::clv::summary`]).
pub mod btyd_cols {
    /// First purchase period (a date: the day, or the Monday of the week).
    pub const FIRST_PERIOD: &str = "btyd_first_period";
    /// Last purchase period up to the calibration end.
    pub const LAST_PERIOD: &str = "btyd_last_period";
    /// Purchase periods up to the calibration end.
    pub const PERIODS: &str = "btyd_periods";
    /// Value of the purchase periods after the first, up to the calibration end, micro-units.
    pub const REPEAT_MICROS: &str = "btyd_repeat_micros";
    /// Purchase periods in the holdout window.
    pub const HOLDOUT_PERIODS: &str = "btyd_holdout_periods";
    /// Their value, micro-units.
    pub const HOLDOUT_MICROS: &str = "btyd_holdout_micros";
    /// The calibration end used.
    pub const CALIBRATION_END: &str = "btyd_calibration_end";
    /// The holdout end used (null without a holdout).
    pub const HOLDOUT_END: &str = "btyd_holdout_end";
    /// `day` or `week`.
    pub const PERIOD: &str = "btyd_period";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_online_retail_columns() {
        let header = [
            "InvoiceNo",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Country",
        ];
        let resolved = Columns::default().resolve("x", &header).unwrap();
        assert_eq!(resolved.customer, "CustomerID");
        assert_eq!(resolved.time, "InvoiceDate");
        assert_eq!(resolved.order.as_deref(), Some("InvoiceNo"));
        assert_eq!(
            resolved.amount,
            AmountColumns::QuantityTimesPrice {
                quantity: "Quantity".into(),
                price: "UnitPrice".into()
            }
        );
    }

    #[test]
    fn spaces_case_and_underscores_are_ignored() {
        let resolved = Columns::default()
            .resolve("x", &["Customer ID", "Order Date", "Sales"])
            .unwrap();
        assert_eq!(resolved.customer, "Customer ID");
        assert_eq!(resolved.time, "Order Date");
        assert_eq!(resolved.amount, AmountColumns::Amount("Sales".into()));
        assert_eq!(resolved.order, None);
    }

    #[test]
    fn an_amount_column_wins_over_quantity_and_price() {
        let resolved = Columns::default()
            .resolve("x", &["customer_id", "date", "quantity", "price", "amount"])
            .unwrap();
        assert_eq!(resolved.amount, AmountColumns::Amount("amount".into()));
    }

    #[test]
    fn missing_role_names_the_file_the_role_and_the_columns() {
        let err = Columns::default()
            .resolve("orders.csv", &["who", "date", "amount"])
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("orders.csv"), "{text}");
        assert!(text.contains("customer id"), "{text}");
        assert!(text.contains("who, date, amount"), "{text}");
        assert!(text.contains("--customer"), "{text}");
    }

    #[test]
    fn explicit_names_must_exist() {
        let err = Columns::default()
            .customer("client")
            .resolve("o.csv", &["customer_id", "date", "amount"])
            .unwrap_err();
        assert!(matches!(err, Error::ColumnNotFound { ref column, .. } if column == "client"));
        // Case and separators may differ from the header.
        let resolved = Columns::default()
            .customer("CUSTOMER ID")
            .resolve("o.csv", &["customer_id", "date", "amount"])
            .unwrap();
        assert_eq!(resolved.customer, "customer_id");
    }

    #[test]
    fn amount_and_product_together_is_an_error() {
        let err = Columns::default()
            .amount("amount")
            .quantity_times_price("q", "p")
            .resolve("o.csv", &["customer_id", "date", "amount", "q", "p"])
            .unwrap_err();
        assert!(err.to_string().contains("not both"));
    }

    #[test]
    fn without_order_ignores_a_detectable_order_column() {
        let resolved = Columns::default()
            .without_order()
            .resolve("o.csv", &["customer_id", "date", "amount", "order_id"])
            .unwrap();
        assert_eq!(resolved.order, None);
    }
}
