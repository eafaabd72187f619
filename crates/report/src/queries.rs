//! The report's SQL files (`crates/report/sql/`), and their parameters.
//!
//! The files are plain, portable SQL over a table `events` (see [`crate::table`]); they run
//! unchanged on DataFusion here, on DuckDB in the cross-check test, and on a distributed
//! engine later. Parameters are written `${name}` and replaced by the runner with values it
//! built itself from validated numbers and addresses — never with text from the input.

use std::net::IpAddr;

use crate::model::PortSpec;

/// One SQL file.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    /// Its name (the file name without `.sql`).
    pub name: &'static str,
    /// Its text, with `${…}` parameters.
    pub sql: &'static str,
}

macro_rules! queries {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("`sql/", stringify!($name), ".sql`")]
            pub const $name: Query = Query {
                name: stringify!($name),
                sql: include_str!(concat!("../sql/", stringify!($name), ".sql")),
            };
        )*
        /// Every query, `connections` (which the others read) first.
        pub const ALL: &[Query] = &[$($name),*];
    };
}

#[allow(non_upper_case_globals)]
mod files {
    use super::Query;
    queries!(
        connections,
        totals,
        ports,
        days,
        daily,
        multi_port,
        activity,
        os,
        sources
    );
}
pub use files::*;

/// Values for the `${…}` parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// The main port.
    pub main: PortSpec,
    /// The other named ports.
    pub also: Vec<PortSpec>,
    /// Sources for the activity query.
    pub sources: Vec<IpAddr>,
}

impl Params {
    /// `query`'s text with its parameters replaced.
    pub fn render(&self, query: &Query) -> String {
        let also = if self.also.is_empty() {
            "FALSE".to_string()
        } else {
            self.also
                .iter()
                .map(|p| format!("(proto = {} AND dport = {})", p.proto, p.port))
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        let source_list = if self.sources.is_empty() {
            // A value no `src` can hold keeps `IN (…)` valid and empty.
            "''".to_string()
        } else {
            self.sources
                .iter()
                .map(|ip| format!("'{ip}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        query
            .sql
            .replace("${main_proto}", &self.main.proto.to_string())
            .replace("${main_port}", &self.main.port.to_string())
            .replace("${also_predicate}", &also)
            .replace("${sources}", &source_list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_is_replaced() {
        let p = Params {
            main: "23/tcp".parse().unwrap(),
            also: vec!["53413/udp".parse().unwrap(), "6379/tcp".parse().unwrap()],
            sources: vec!["203.0.113.9".parse().unwrap()],
        };
        for q in ALL {
            let sql = p.render(q);
            assert!(!sql.contains("${"), "{}: {sql}", q.name);
        }
        assert!(p
            .render(&multi_port)
            .contains("(proto = 17 AND dport = 53413) OR (proto = 6 AND dport = 6379)"));
        assert!(p.render(&activity).contains("IN ('203.0.113.9')"));
    }
}
