//! The renderings of a job's [`Summary`]: a Markdown document and a self-contained HTML page
//! with charts, and the Markdown tables of its parts.

mod clv_html;
mod evaluation;
pub mod html;
mod markdown;

use crate::summary::Summary;

pub use self::markdown::{abc_markdown, clusters_markdown, clv_markdown, migration_markdown, rows_markdown};

impl Summary {
    /// The summary as a Markdown document.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// The summary as a self-contained HTML page with charts.
    pub fn to_html(&self) -> String {
        html::render(self)
    }
}
