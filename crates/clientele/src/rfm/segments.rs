//! Named segments from RFM scores: a rules table, checked to cover every score cell.
//!
//! Rules come from TOML (the built-in table is `default_segments.toml`):
//!
//! ```toml
//! scale = 5              # optional: the scale the numbers below are on (default: the bins)
//!
//! [[segment]]
//! name = "Champions"
//! r = 5                  # a score, a range "4-5", a list [4, 5] or "1,3"
//! fm = "4-5"             # also: f, m, score (= r + f + m); a missing key matches any score
//! description = "..."    # optional
//! ```
//!
//! The first rule that matches a cell names its segment. [`SegmentRules::check`] enumerates all
//! `bins³` cells: a cell no rule matches is an error, and a rule that never names any cell
//! (it matches nothing, or only cells earlier rules take) is reported as a warning.

use std::collections::BTreeSet;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, PolarsContext, Result};

/// The built-in segment rules as TOML, as [`SegmentRules::builtin`] reads them: a starting point
/// for rules of one's own (`clientele rules --show-builtin`).
pub const BUILTIN_RULES_TOML: &str = include_str!("default_segments.toml");

/// The ten segments of the R package rfm 0.3 (`rfm_segment` with the bounds of its README),
/// then "Others": the default rules of `--preset rfm-r` ([`SegmentRules::rfm_r`]).
pub const RFM_R_RULES_TOML: &str = include_str!("rfm_r_segments.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    scale: Option<u8>,
    #[serde(rename = "segment", default)]
    segments: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    r: Option<ScoreSet>,
    f: Option<ScoreSet>,
    m: Option<ScoreSet>,
    fm: Option<ScoreSet>,
    score: Option<ScoreSet>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ScoreSet {
    One(i64),
    List(Vec<i64>),
    Text(String),
}

impl ScoreSet {
    fn values(&self) -> std::result::Result<BTreeSet<i64>, String> {
        match self {
            ScoreSet::One(v) => Ok(BTreeSet::from([*v])),
            ScoreSet::List(vs) => Ok(vs.iter().copied().collect()),
            ScoreSet::Text(text) => {
                let mut out = BTreeSet::new();
                for part in text.split(',').map(str::trim) {
                    let parse = |s: &str| {
                        s.trim().parse::<i64>().map_err(|_| {
                            format!("{text:?} is not a score, range (\"4-5\") or list (\"1,3\")")
                        })
                    };
                    match part.split_once('-') {
                        Some((a, b)) => {
                            let (a, b) = (parse(a)?, parse(b)?);
                            if a > b {
                                return Err(format!("range {part:?} runs backwards"));
                            }
                            out.extend(a..=b);
                        }
                        None => {
                            out.insert(parse(part)?);
                        }
                    }
                }
                Ok(out)
            }
        }
    }
}

/// One rule: the score sets it matches, `None` meaning any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Segment name.
    pub name: String,
    /// What the segment means, for reports.
    pub description: Option<String>,
    r: Option<BTreeSet<i64>>,
    f: Option<BTreeSet<i64>>,
    m: Option<BTreeSet<i64>>,
    fm: Option<BTreeSet<i64>>,
    score: Option<BTreeSet<i64>>,
}

impl Rule {
    fn matches(&self, cell: Levels) -> bool {
        let ok = |set: &Option<BTreeSet<i64>>, v: i64| set.as_ref().is_none_or(|s| s.contains(&v));
        ok(&self.r, cell.r)
            && ok(&self.f, cell.f)
            && ok(&self.m, cell.m)
            && ok(&self.fm, cell.fm)
            && ok(&self.score, cell.score)
    }
}

/// An unchecked rules table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentRules {
    /// Where the rules came from.
    pub origin: String,
    /// The scale rule numbers are on; `None` means the number of bins.
    pub scale: Option<u8>,
    /// The rules, in order.
    pub rules: Vec<Rule>,
}

impl Default for SegmentRules {
    fn default() -> Self {
        Self::builtin()
    }
}

impl SegmentRules {
    /// The built-in rules (documented in docs/segments.md).
    pub fn builtin() -> Self {
        Self::from_toml_str(BUILTIN_RULES_TOML, "built-in rules").expect("the built-in rules parse")
    }

    /// R rfm's segments ([`RFM_R_RULES_TOML`]).
    pub fn rfm_r() -> Self {
        Self::from_toml_str(RFM_R_RULES_TOML, "R rfm's segments").expect("R rfm's rules parse")
    }

    /// Parses rules from TOML text; `origin` names them in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Rules`] for TOML errors, unknown keys, bad score sets or an empty table.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self> {
        let error = |detail: String| Error::Rules {
            origin: origin.to_string(),
            detail,
        };
        let file: RulesFile = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        if file.segments.is_empty() {
            return Err(error("no [[segment]] rules".into()));
        }
        let mut rules = Vec::with_capacity(file.segments.len());
        for (i, spec) in file.segments.into_iter().enumerate() {
            let set = |s: &Option<ScoreSet>, key: &str| -> Result<Option<BTreeSet<i64>>> {
                s.as_ref()
                    .map(|s| s.values())
                    .transpose()
                    .map_err(|e| error(format!("rule {} ({:?}), key {key}: {e}", i + 1, spec.name)))
            };
            if spec.name.trim().is_empty() {
                return Err(error(format!("rule {} has an empty name", i + 1)));
            }
            rules.push(Rule {
                r: set(&spec.r, "r")?,
                f: set(&spec.f, "f")?,
                m: set(&spec.m, "m")?,
                fm: set(&spec.fm, "fm")?,
                score: set(&spec.score, "score")?,
                name: spec.name,
                description: spec.description,
            });
        }
        Ok(SegmentRules {
            origin: origin.to_string(),
            scale: file.scale,
            rules,
        })
    }

    /// Reads rules from a TOML file.
    ///
    /// # Errors
    ///
    /// I/O errors, and those of [`SegmentRules::from_toml_str`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Checks the rules against `bins` scores per measure and builds the cell → segment map.
    ///
    /// # Errors
    ///
    /// [`Error::Rules`] when a rule number lies outside the scale, or cells are left without a
    /// segment (they are listed).
    pub fn check(&self, bins: usize) -> Result<SegmentMap> {
        let bins = bins as i64;
        let scale = self.scale.map_or(bins, i64::from);
        let error = |detail: String| Error::Rules {
            origin: self.origin.clone(),
            detail,
        };
        self.check_bounds(scale)?;
        let mut names: Vec<String> = Vec::new();
        let mut rule_segment = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            let index = names.iter().position(|n| *n == rule.name).unwrap_or_else(|| {
                names.push(rule.name.clone());
                names.len() - 1
            });
            rule_segment.push(index);
        }
        let Coverage {
            cells,
            uncovered,
            wins,
            matches,
        } = self.cover(bins, scale, &rule_segment);
        if !uncovered.is_empty() {
            let shown: Vec<&str> = uncovered.iter().take(30).map(String::as_str).collect();
            return Err(error(format!(
                "{} of {} score cells (RFM) match no rule: {}{}; add rules for them or a last catch-all rule with no conditions",
                uncovered.len(),
                cells.len(),
                shown.join(", "),
                if uncovered.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            )));
        }
        let warnings = self.unused_rule_warnings(&wins, &matches);
        let descriptions = names
            .iter()
            .map(|name| {
                self.rules
                    .iter()
                    .find(|r| r.name == *name)
                    .and_then(|r| r.description.clone())
            })
            .collect();
        Ok(SegmentMap {
            origin: self.origin.clone(),
            bins: bins as usize,
            names,
            descriptions,
            cells,
            warnings,
        })
    }

    /// Every rule's numbers within the scale (a score sum within 3..=3·scale).
    fn check_bounds(&self, scale: i64) -> Result<()> {
        let error = |detail: String| Error::Rules {
            origin: self.origin.clone(),
            detail,
        };
        if scale < 2 {
            return Err(error(format!("scale must be at least 2, got {scale}")));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let bounds = [
                ("r", &rule.r, 1, scale),
                ("f", &rule.f, 1, scale),
                ("m", &rule.m, 1, scale),
                ("fm", &rule.fm, 1, scale),
                ("score", &rule.score, 3, 3 * scale),
            ];
            for (key, set, lo, hi) in bounds {
                if let Some(bad) = set.as_ref().and_then(|s| s.iter().find(|v| **v < lo || **v > hi)) {
                    return Err(error(format!(
                        "rule {} ({:?}): {key} = {bad} is outside {lo}..={hi}",
                        i + 1,
                        rule.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// The winning rule of every cell (R, F, M in 1..=bins), the cells no rule matches, and
    /// per rule the cells it wins and the cells it matches.
    fn cover(&self, bins: i64, scale: i64, rule_segment: &[usize]) -> Coverage {
        let mut cells = Vec::with_capacity((bins * bins * bins) as usize);
        let mut uncovered = Vec::new();
        let mut wins = vec![0usize; self.rules.len()];
        let mut matches = vec![0usize; self.rules.len()];
        for r in 1..=bins {
            for f in 1..=bins {
                for m in 1..=bins {
                    let levels = Levels::of(r, f, m, bins, scale);
                    let mut winner = None;
                    for (i, rule) in self.rules.iter().enumerate() {
                        if rule.matches(levels) {
                            matches[i] += 1;
                            if winner.is_none() {
                                winner = Some(i);
                                wins[i] += 1;
                            }
                        }
                    }
                    match winner {
                        Some(i) => cells.push(rule_segment[i]),
                        None => {
                            uncovered.push(format!("{r}{f}{m}"));
                            cells.push(usize::MAX);
                        }
                    }
                }
            }
        }
        Coverage {
            cells,
            uncovered,
            wins,
            matches,
        }
    }

    /// A warning for every rule that never applies, saying why.
    fn unused_rule_warnings(&self, wins: &[usize], matches: &[usize]) -> Vec<String> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(i, _)| wins[*i] == 0)
            .map(|(i, rule)| {
                if matches[i] == 0 {
                    format!("rule {} ({:?}) matches no score cell", i + 1, rule.name)
                } else {
                    format!(
                        "rule {} ({:?}) never applies: earlier rules take all {} cells it matches",
                        i + 1,
                        rule.name,
                        matches[i]
                    )
                }
            })
            .collect()
    }
}

/// Which rule wins each cell, and how often each rule matches and wins.
struct Coverage {
    cells: Vec<usize>,
    uncovered: Vec<String>,
    wins: Vec<usize>,
    matches: Vec<usize>,
}

/// A cell's values on the rules' scale.
#[derive(Debug, Clone, Copy)]
struct Levels {
    r: i64,
    f: i64,
    m: i64,
    fm: i64,
    score: i64,
}

impl Levels {
    fn of(r: i64, f: i64, m: i64, bins: i64, scale: i64) -> Levels {
        let level = |s: i64| {
            if scale == bins {
                s
            } else {
                // round(1 + (s - 1)(scale - 1)/(bins - 1)), halves up, in integers
                let num = (s - 1) * (scale - 1);
                let den = bins - 1;
                1 + (2 * num + den) / (2 * den)
            }
        };
        let (r, f, m) = (level(r), level(f), level(m));
        Levels {
            r,
            f,
            m,
            fm: (f + m + 1) / 2,
            score: r + f + m,
        }
    }
}

/// The checked cell → segment map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentMap {
    /// Where the rules came from.
    pub origin: String,
    /// Scores per measure.
    pub bins: usize,
    /// Segment names in rule order (each once).
    pub names: Vec<String>,
    /// Each segment's description, if its first rule has one.
    pub descriptions: Vec<Option<String>>,
    cells: Vec<usize>,
    /// Rules that never name a cell.
    pub warnings: Vec<String>,
}

impl SegmentMap {
    /// The index (into [`SegmentMap::names`]) of the segment of a score cell.
    ///
    /// # Panics
    ///
    /// If a score is outside `1..=bins`.
    pub fn segment_index(&self, r: u8, f: u8, m: u8) -> usize {
        let b = self.bins;
        let (r, f, m) = (r as usize, f as usize, m as usize);
        assert!(
            (1..=b).contains(&r) && (1..=b).contains(&f) && (1..=b).contains(&m),
            "score outside 1..={b}"
        );
        self.cells[((r - 1) * b + (f - 1)) * b + (m - 1)]
    }

    /// The segment name of a score cell.
    pub fn segment_of(&self, r: u8, f: u8, m: u8) -> &str {
        &self.names[self.segment_index(r, f, m)]
    }

    /// The whole map as a frame `r_score, f_score, m_score, rfm_cell, segment` (`bins³` rows),
    /// for joining in lazy queries or documenting.
    ///
    /// # Errors
    ///
    /// Only if polars cannot build the frame.
    pub fn cell_frame(&self) -> Result<DataFrame> {
        let b = self.bins as u8;
        let (mut r, mut f, mut m, mut cell, mut seg) = (vec![], vec![], vec![], vec![], vec![]);
        for ri in 1..=b {
            for fi in 1..=b {
                for mi in 1..=b {
                    r.push(ri);
                    f.push(fi);
                    m.push(mi);
                    cell.push(format!("{ri}{fi}{mi}"));
                    seg.push(self.segment_of(ri, fi, mi).to_string());
                }
            }
        }
        df!(
            "r_score" => r,
            "f_score" => f,
            "m_score" => m,
            "rfm_cell" => cell,
            "segment" => seg,
        )
        .context(|| "building the segment cell table".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_cover_every_cell_for_every_bin_count() {
        for bins in 2..=9 {
            let map = SegmentRules::builtin().check(bins).unwrap();
            assert_eq!(map.cells.len(), bins * bins * bins);
            assert!(map.cells.iter().all(|c| *c < map.names.len()));
            if bins == 5 {
                assert!(map.warnings.is_empty(), "{:?}", map.warnings);
                assert_eq!(map.names.len(), 11);
            }
        }
    }

    #[test]
    fn builtin_examples() {
        let map = SegmentRules::builtin().check(5).unwrap();
        assert_eq!(map.segment_of(5, 5, 5), "Champions");
        assert_eq!(map.segment_of(5, 5, 4), "Champions"); // fm = (5 + 4 + 1) / 2 = 5
        assert_eq!(map.segment_of(1, 1, 1), "Lost");
        assert_eq!(map.segment_of(2, 1, 2), "Hibernating");
        assert_eq!(map.segment_of(1, 5, 5), "Can't Lose Them");
        assert_eq!(map.segment_of(5, 1, 1), "New Customers");
        assert_eq!(map.segment_of(3, 3, 3), "Need Attention");
    }

    #[test]
    fn first_match_wins_and_shadowed_rules_are_reported() {
        let text = r#"
            [[segment]]
            name = "High"
            r = "2-3"
            [[segment]]
            name = "Shadowed"
            r = 3
            [[segment]]
            name = "Rest"
        "#;
        let map = SegmentRules::from_toml_str(text, "t.toml")
            .unwrap()
            .check(3)
            .unwrap();
        assert_eq!(map.segment_of(3, 1, 1), "High");
        assert_eq!(map.segment_of(1, 3, 3), "Rest");
        assert_eq!(map.warnings.len(), 1);
        assert!(map.warnings[0].contains("Shadowed"), "{:?}", map.warnings);
    }

    #[test]
    fn uncovered_cells_are_listed() {
        let text = "[[segment]]\nname = \"Top\"\nr = 3\n";
        let err = SegmentRules::from_toml_str(text, "t.toml")
            .unwrap()
            .check(3)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("t.toml: 18 of 27 score cells"), "{text}");
        assert!(text.contains("111"), "{text}");
    }

    #[test]
    fn unknown_keys_and_bad_sets_are_errors() {
        let err = SegmentRules::from_toml_str("[[segment]]\nname = \"x\"\nrecency = 3\n", "t").unwrap_err();
        assert!(err.to_string().contains("recency"), "{err}");
        let err = SegmentRules::from_toml_str("[[segment]]\nname = \"x\"\nr = \"5-3\"\n", "t").unwrap_err();
        assert!(err.to_string().contains("backwards"), "{err}");
        let rules = SegmentRules::from_toml_str("[[segment]]\nname = \"x\"\nr = 7\n", "t").unwrap();
        assert!(rules.check(5).unwrap_err().to_string().contains("outside 1..=5"));
    }

    #[test]
    fn levels_map_other_bin_counts_onto_the_scale() {
        let l = |s, bins| Levels::of(s, 1, 1, bins, 5).r;
        assert_eq!((1..=3).map(|s| l(s, 3)).collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!((1..=4).map(|s| l(s, 4)).collect::<Vec<_>>(), [1, 2, 4, 5]);
        assert_eq!((1..=2).map(|s| l(s, 2)).collect::<Vec<_>>(), [1, 5]);
    }

    #[test]
    fn cell_frame_lists_every_cell() {
        let map = SegmentRules::builtin().check(3).unwrap();
        let frame = map.cell_frame().unwrap();
        assert_eq!(frame.height(), 27);
    }
}
