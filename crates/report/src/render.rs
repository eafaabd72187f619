//! The report as tables: aligned text for a terminal, Markdown, CSV; and JSON.

use std::fmt::Write;

use crate::model::*;

/// Output formats for the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal.
    Text,
    /// GitHub-flavoured Markdown tables.
    Markdown,
    /// CSV, one block per table, each after a `# name` line.
    Csv,
    /// The JSON contract of `docs/REPORT.md`.
    Json,
}

/// One table: a name (stable, for CSV and tests), a title, headers and text cells.
#[derive(Debug, Clone)]
pub struct Table {
    /// Stable short name (`ports`, `daily`, …).
    pub name: &'static str,
    /// Human title.
    pub title: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
    /// Which columns are numbers (right-aligned).
    pub numeric: Vec<bool>,
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn pct(x: f64) -> String {
    format!("{x:.1}")
}

fn port_text(proto: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{p}/{proto}"),
        None => proto.to_string(),
    }
}

/// Hours as compact ranges: `[2, 3, 4, 9]` → `02-04, 09`.
pub fn hour_ranges(hours: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < hours.len() {
        let start = hours[i];
        let mut end = start;
        while i + 1 < hours.len() && hours[i + 1] == end + 1 {
            i += 1;
            end = hours[i];
        }
        out.push(if start == end {
            format!("{start:02}")
        } else {
            format!("{start:02}-{end:02}")
        });
        i += 1;
    }
    out.join(", ")
}

/// The report's tables, in the seed's order.
pub fn tables(r: &Report) -> Vec<Table> {
    let main = &r.parameters.port;
    let mut t = vec![
        Table {
            name: "totals",
            title: "Totals".into(),
            headers: strs(&["connections", "sources", "first", "last"]),
            rows: vec![vec![
                r.totals.connections.to_string(),
                r.totals.sources.to_string(),
                r.totals.first.clone().unwrap_or_default(),
                r.totals.last.clone().unwrap_or_default(),
            ]],
            numeric: vec![true, true, false, false],
        },
        Table {
            name: "ports",
            title: "Connections per destination port (table 1)".into(),
            headers: strs(&["port", "connections", "share %", "sources"]),
            rows: r
                .ports
                .iter()
                .map(|p| {
                    vec![
                        port_text(&p.proto, p.port),
                        p.connections.to_string(),
                        pct(p.share_pct),
                        p.sources.to_string(),
                    ]
                })
                .collect(),
            numeric: vec![false, true, true, true],
        },
        Table {
            name: "daily",
            title: format!("Connections per day to {main} (figure 1)"),
            headers: strs(&["date", "connections"]),
            rows: r
                .daily
                .iter()
                .map(|d| vec![d.date.clone(), d.connections.to_string()])
                .collect(),
            numeric: vec![false, true],
        },
    ];
    let s = &r.daily_summary;
    let day = |d: &Option<DayCount>| {
        d.as_ref().map_or((String::new(), String::new()), |d| {
            (d.date.clone(), d.connections.to_string())
        })
    };
    let (max_d, max_n) = day(&s.max);
    let (min_d, min_n) = day(&s.min);
    t.push(Table {
        name: "daily_summary",
        title: format!("Daily connections to {main}: mean, busiest and quietest day"),
        headers: strs(&[
            "mean",
            "busiest day",
            "connections",
            "quietest day",
            "connections",
        ]),
        rows: vec![vec![format!("{:.1}", s.mean), max_d, max_n, min_d, min_n]],
        numeric: vec![true, false, true, false, true],
    });
    t.push(Table {
        name: "multi_port_sources",
        title: format!(
            "Sources that hit {main} and {} (table 2)",
            if r.parameters.also.is_empty() {
                "another named port".to_string()
            } else {
                r.parameters.also.join(" or ")
            }
        ),
        headers: strs(&["source", "country", "connections", "ports"]),
        rows: r
            .multi_port_sources
            .iter()
            .map(|m| {
                vec![
                    m.src.clone(),
                    m.country.clone().unwrap_or_else(|| "-".into()),
                    m.connections.to_string(),
                    m.ports
                        .iter()
                        .map(|p| format!("{} {}", port_text(&p.proto, p.port), p.connections))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect(),
        numeric: vec![false, false, true, false],
    });
    t.push(Table {
        name: "activity",
        title: "Activity windows (hours of the day, report's zone)".into(),
        headers: strs(&["source", "days active", "hours/day", "hours by port"]),
        rows: r
            .activity
            .iter()
            .map(|a| {
                vec![
                    a.src.clone(),
                    a.days_active.to_string(),
                    format!("{:.1}", a.hours_per_day),
                    a.hours
                        .iter()
                        .map(|(port, h)| format!("{port}: {}", hour_ranges(h)))
                        .collect::<Vec<_>>()
                        .join("; "),
                ]
            })
            .collect(),
        numeric: vec![false, true, true, false],
    });
    t.push(Table {
        name: "os",
        title: format!("Operating systems of {main} connections (table 3)"),
        headers: strs(&["os", "connections", "share %"]),
        rows: r
            .os
            .iter()
            .map(|o| vec![o.os.clone(), o.connections.to_string(), pct(o.share_pct)])
            .collect(),
        numeric: vec![false, true, true],
    });
    if let Some(countries) = &r.countries {
        t.push(Table {
            name: "countries",
            title: "Countries of sources".into(),
            headers: strs(&["country", "sources", "connections"]),
            rows: countries
                .iter()
                .map(|c| {
                    vec![
                        c.country.clone(),
                        c.sources.to_string(),
                        c.connections.to_string(),
                    ]
                })
                .collect(),
            numeric: vec![false, true, true],
        });
    }
    t
}

/// The hour-by-day grid of one source as text: one row per day, one column per hour, a
/// letter per port (legend below), `.` for a quiet hour.
pub fn activity_grid_text(a: &Activity) -> String {
    let ports: Vec<&String> = a.hours.keys().collect();
    let letter = |p: &str| {
        ports
            .iter()
            .position(|q| q.as_str() == p)
            .map_or('?', |i| (b'A' + (i % 26) as u8) as char)
    };
    let mut days: Vec<&str> = a.grid.iter().map(|c| c.date.as_str()).collect();
    days.dedup();
    let mut out = String::new();
    let _ = writeln!(out, "{}  hour 0         1         2", " ".repeat(10));
    let _ = writeln!(out, "{}       012345678901234567890123", " ".repeat(10));
    for day in days {
        let mut row = ['.'; 24];
        for c in a.grid.iter().filter(|c| c.date == day) {
            row[c.hour as usize % 24] = letter(&c.port);
        }
        let _ = writeln!(out, "{day}       {}", row.iter().collect::<String>());
    }
    for p in &ports {
        let _ = writeln!(out, "  {} = {}", letter(p), p);
    }
    out
}

/// Renders the whole report in `format`.
pub fn render(r: &Report, format: Format) -> String {
    if format == Format::Json {
        return serde_json::to_string_pretty(r).unwrap_or_default() + "\n";
    }
    let mut out = String::new();
    for t in tables(r) {
        match format {
            Format::Text => {
                text_table(&mut out, &t);
                if t.name == "activity" {
                    for a in &r.activity {
                        let _ = writeln!(out, "Activity of {} (hour by day)", a.src);
                        out.push_str(&activity_grid_text(a));
                        out.push('\n');
                    }
                }
            }
            Format::Markdown => md_table(&mut out, &t),
            Format::Csv => csv_table(&mut out, &t),
            Format::Json => {}
        }
    }
    out
}

/// One table in a table format (text, Markdown or CSV; JSON gives an array of objects).
pub fn table(t: &Table, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Text => text_table(&mut out, t),
        Format::Markdown => md_table(&mut out, t),
        Format::Csv => csv_table(&mut out, t),
        Format::Json => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> = t
                .rows
                .iter()
                .map(|r| {
                    t.headers
                        .iter()
                        .zip(r)
                        .map(|(h, c)| (h.clone(), serde_json::Value::from(c.as_str())))
                        .collect()
                })
                .collect();
            out = serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n";
        }
    }
    out
}

fn text_table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "{}", t.title);
    let mut widths: Vec<usize> = t.headers.iter().map(|h| h.chars().count()).collect();
    for row in &t.rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            s.push(' ');
            if t.numeric[i] {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(pad));
                }
            }
            s.push(' ');
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(
        out,
        "{}",
        line(t.headers.iter().map(String::as_str).collect())
    );
    let _ = writeln!(
        out,
        "  {}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    );
    if t.rows.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for row in &t.rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    out.push('\n');
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn md_table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "### {}\n", t.title);
    let _ = writeln!(out, "| {} |", t.headers.join(" | "));
    let _ = writeln!(
        out,
        "|{}|",
        t.numeric
            .iter()
            .map(|n| if *n { "---:" } else { "---" })
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| md_escape(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "# {}", t.name);
    let _ = writeln!(
        out,
        "{}",
        t.headers
            .iter()
            .map(|h| csv_cell(h))
            .collect::<Vec<_>>()
            .join(",")
    );
    for row in &t.rows {
        let _ = writeln!(
            out,
            "{}",
            row.iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_collapse_into_ranges() {
        assert_eq!(hour_ranges(&[2, 3, 4, 9, 11, 12]), "02-04, 09, 11-12");
        assert_eq!(hour_ranges(&[]), "");
        assert_eq!(hour_ranges(&[23]), "23");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_cell("23/tcp 5, 6379/tcp 2"), "\"23/tcp 5, 6379/tcp 2\"");
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
